"""The Dask engine on a real LocalCluster (2 worker processes): exactly the verdicts of the
single-process run — cross-author flash mobs, floods and the ledger included — one verdict
shard per input shard."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

from modrules.dask_engine import (
    DaskCheck,
    expand_inputs,
    judge_bag,
    judge_dataframe,
    run_dask_check,
)
from modrules.model import InputError
from modrules.runner import CheckOptions, ModeratorSpec, run_check
from tests.conftest import FIXTURES, REPO

THREADS = str(FIXTURES / "threads.jsonl")


@pytest.fixture(scope="module")
def owned() -> ModeratorSpec:
    """The whole default ruleset with the ledger on (memory store): the stateful part runs
    in the driving process, so nothing may differ from one process."""
    return ModeratorSpec(rules_dir=REPO / "rules" / "sputnik", no_ml=True, store="memory")


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local:
        yield local


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The fixtures and the dev set as three shards (one gzipped), with a bad line."""
    root = tmp_path_factory.mktemp("shards")
    rows = (FIXTURES / "comments.jsonl").read_bytes().splitlines()
    rows += (FIXTURES / "dev-comments.jsonl").read_bytes().splitlines()
    rows.insert(250, b'{"id": "broken"')
    paths = [root / "a.jsonl", root / "b.jsonl.gz", root / "c.jsonl"]
    for i, path in enumerate(paths):
        data = b"\n".join(rows[i * 200 : (i + 1) * 200]) + b"\n"
        path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return paths


@pytest.fixture(scope="module")
def single(
    shards: list[Path], owned: ModeratorSpec, tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[bytes], list[InputError]]:
    out = tmp_path_factory.mktemp("single") / "v.jsonl"
    errors: list[InputError] = []
    options = CheckOptions(inputs=[str(p) for p in shards], threads_file=THREADS, moderator=owned)
    run_check(options, str(out), on_error=errors.append)
    return out.read_bytes().splitlines(), errors


def test_verdict_shards_hold_exactly_the_single_process_verdicts(
    cluster: LocalCluster,
    shards: list[Path],
    owned: ModeratorSpec,
    single: tuple[list[bytes], list[InputError]],
    tmp_path: Path,
) -> None:
    verdicts, single_errors = single
    errors: list[InputError] = []
    job = DaskCheck(
        shards=[str(p) for p in shards], output_dir=str(tmp_path / "out"), threads_file=THREADS,
        moderator=owned, partitions=5, scheduler=cluster.scheduler_address,
    )
    summary = run_dask_check(job, errors_file=str(tmp_path / "e.jsonl"), on_error=errors.append)
    parts = sorted((tmp_path / "out").glob("part-*"))
    assert [p.name for p in parts] == [f"part-{i:05d}.jsonl" for i in range(3)]  # one per input shard
    seen = [line for part in parts for line in part.read_bytes().splitlines()]
    assert seen == verdicts  # the shards in order are the single-process output, byte for byte
    assert [len(p.read_bytes().splitlines()) for p in parts] == [200, 199, 185]  # shard b's bad line
    assert summary.judged == len(verdicts) == 584 and summary.invalid == 1
    assert errors == single_errors and errors[0].source.endswith("b.jsonl.gz")
    everything = b"".join(seen)
    assert b'"account_action":"warn"' in everything and b'"account_action":"block"' in everything
    assert b'"category":"flash-mob"' in everything and b'"category":"flooding"' in everything


def test_the_driver_fingerprints_nothing_the_tasks_did(
    cluster: LocalCluster,
    shards: list[Path],
    owned: ModeratorSpec,
    single: tuple[list[bytes], list[InputError]],
    tmp_path: Path,
    window_fingerprints: list[int],
) -> None:
    """The tasks send each comment's window fingerprint with its findings: the driver's
    window computes none (the cluster's workers are other processes, not counted)."""
    job = DaskCheck(
        shards=[str(p) for p in shards], output_dir=str(tmp_path / "out"), threads_file=THREADS,
        moderator=owned, partitions=4, scheduler=cluster.scheduler_address,
    )
    run_dask_check(job)
    seen = [line for part in sorted((tmp_path / "out").glob("part-*")) for line in part.read_bytes().splitlines()]
    assert seen == single[0]
    assert window_fingerprints and sum(window_fingerprints) == 0  # the preparer ran, with nothing left to do


def test_the_cli_over_a_glob_with_a_scheduler_address(
    cluster: LocalCluster,
    shards: list[Path],
    owned: ModeratorSpec,
    single: tuple[list[bytes], list[InputError]],
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    pattern = str(shards[0].parent / "*.jsonl*")
    result = subprocess.run(
        [sys.executable, "-m", "modrules.cli", "check", pattern, "--engine", "dask", "--scheduler",
         cluster.scheduler_address, "--threads", THREADS, "--no-ml", "-o", str(out),
         "--rules", str(owned.rules_dir)],
        capture_output=True, timeout=600, check=False,
    )
    assert result.returncode == 1, result.stderr.decode()  # one bad line, reported with its number
    assert "b.jsonl.gz:51" in result.stderr.decode()
    lines = [line for part in sorted(out.glob("part-*.jsonl")) for line in part.read_bytes().splitlines()]
    assert lines == single[0]


def test_usage_errors_of_the_dask_engine(shards: list[Path], tmp_path: Path) -> None:
    base = [sys.executable, "-m", "modrules.cli", "check", str(shards[0]), "--engine", "dask", "--no-ml"]
    assert subprocess.run(base, capture_output=True, timeout=120, check=False).returncode == 2  # no -o DIR
    missing = subprocess.run([*base[:4], str(tmp_path / "none-*.jsonl"), *base[5:], "-o", str(tmp_path / "o")],
                             capture_output=True, timeout=120, check=False)
    assert missing.returncode == 2
    with pytest.raises(FileNotFoundError):
        expand_inputs([str(tmp_path / "absent.jsonl")])


def test_judge_bag_and_dataframe(cluster: LocalCluster, owned: ModeratorSpec, tmp_path: Path) -> None:
    import dask.bag as db
    import pandas as pd

    files = [FIXTURES / "comments.jsonl", FIXTURES / "dev-comments.jsonl"]
    rows = [json.loads(line) for path in files for line in path.read_bytes().splitlines()]
    options = CheckOptions(inputs=[str(p) for p in files], threads_file=THREADS, moderator=owned)
    run_check(options, str(tmp_path / "v.jsonl"))
    expected = {v["comment_id"]: v for v in map(json.loads, (tmp_path / "v.jsonl").read_bytes().splitlines())}
    with Client(cluster.scheduler_address):
        bag = db.from_sequence(rows, npartitions=3)
        result = judge_bag(bag, moderator=owned, threads_file=THREADS)
        assert result.npartitions == bag.npartitions  # partitioned as the input
        verdicts = result.compute()
        assert [v["comment_id"] for v in verdicts] == [r["id"] for r in rows]  # input order
        for verdict in verdicts:
            assert verdict == expected[verdict["comment_id"]]
        assert any(x["category"] == "flash-mob" for v in verdicts for x in v["violations"])

        import dask.dataframe as dd

        frame = dd.from_pandas(pd.DataFrame(rows), npartitions=2)
        from_frame = judge_dataframe(frame, moderator=owned, threads_file=THREADS).compute()
        assert from_frame == verdicts
