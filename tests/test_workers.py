"""`modrules check --workers N`: real worker processes, output identical to one process."""

from __future__ import annotations

import gzip
import json
import pickle
import subprocess
import sys
import threading
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import modrules.parallel
from modrules import Moderator
from modrules.model import Comment, InputError
from modrules.parallel import Packed, _Router, can_fork
from modrules.rules import load_ruleset
from modrules.runner import CheckOptions, ModeratorSpec, run_check
from tests.conftest import FIXTURES, REPO

MODRULES = [sys.executable, "-m", "modrules.cli"]
THREADS = str(FIXTURES / "threads.jsonl")


def run(args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*MODRULES, *args, "--no-ml"], input=stdin, capture_output=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def owned_rules() -> Path:
    """The whole default ruleset: flash mobs of different authors, flooding and the ledger
    included — the stateful part runs in the reading process, so nothing may differ."""
    return REPO / "rules" / "sputnik"


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixtures and the dev set in one dump, with bad lines among them."""
    path = tmp_path_factory.mktemp("dump") / "dump.jsonl"
    rows = (FIXTURES / "comments.jsonl").read_bytes().splitlines()
    rows += (FIXTURES / "dev-comments.jsonl").read_bytes().splitlines()
    rows.insert(3, b"{not json")
    rows.insert(200, json.dumps({"id": "no-text"}).encode())
    rows.insert(400, b"")
    path.write_bytes(b"\n".join(rows) + b"\n")
    return path


@pytest.fixture(scope="module")
def single(dump: Path, owned_rules: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes, bytes]:
    """Verdicts, error records and stderr of the one-process run."""
    out = tmp_path_factory.mktemp("single")
    result = run(["check", str(dump), "--rules", str(owned_rules), "--threads", THREADS, "-o", str(out / "v.jsonl"), "--errors", str(out / "e.jsonl")])
    assert result.returncode == 1, result.stderr.decode()
    return (out / "v.jsonl").read_bytes(), (out / "e.jsonl").read_bytes(), result.stderr


def test_two_workers_write_exactly_the_single_process_output(
    dump: Path, owned_rules: Path, single: tuple[bytes, bytes, bytes], tmp_path: Path
) -> None:
    verdicts, errors, _ = single
    result = run([
        "check", str(dump), "--rules", str(owned_rules), "--threads", THREADS, "--workers", "2",
        "-o", str(tmp_path / "v.jsonl"), "--errors", str(tmp_path / "e.jsonl"),
    ])
    assert result.returncode == 1  # bad lines, reported, the rest judged
    assert (tmp_path / "v.jsonl").read_bytes() == verdicts
    assert (tmp_path / "e.jsonl").read_bytes() == errors
    stderr = result.stderr.decode()
    assert f"{dump}:4: invalid JSON" in stderr
    assert "missing field 'text'" in stderr
    # Many kinds of violation, cross-author flash mobs, floods and the ledger's warnings
    # and blocks: the comparison is not empty.
    assert verdicts.count(b"\n") == 130 + 454
    assert b'"account_action":"warn"' in verdicts and b'"account_action":"block"' in verdicts
    assert b'"category":"flash-mob"' in verdicts and b'"category":"flooding"' in verdicts


def test_workers_read_gzip_and_stdin(
    dump: Path, owned_rules: Path, single: tuple[bytes, bytes, bytes], tmp_path: Path
) -> None:
    gz = tmp_path / "dump.jsonl.gz"
    gz.write_bytes(gzip.compress(dump.read_bytes()))
    rules = ["--rules", str(owned_rules), "--threads", THREADS, "-q"]
    from_gz = run(["check", str(gz), *rules, "--workers", "3"])
    from_stdin = run(["check", "-", *rules, "--workers", "2"], stdin=dump.read_bytes())
    assert from_gz.returncode == from_stdin.returncode == 1
    assert from_gz.stdout == from_stdin.stdout == single[0]


def test_more_workers_than_threads_and_a_tiny_in_flight_cap(tmp_path: Path, make_ruleset) -> None:  # type: ignore[no-untyped-def]
    """Flow control: with at most 3 comments in flight the output is still complete and in order."""
    rules = make_ruleset({"r.yaml": """
        id: shouting
        category: profanity
        clause: 12
        action: flag
        message: "no {match}"
        when:
          lexicon: {words: [darn, heck]}
        examples: {match: ["darn it"], no_match: ["fine"]}
    """})
    dump = tmp_path / "d.jsonl"
    dump.write_text("".join(
        json.dumps({"id": f"c{i}", "thread_id": f"t{i % 7}", "text": "darn" if i % 3 == 0 else "fine"}) + "\n"
        for i in range(300)
    ))
    one = run(["check", str(dump), "--rules", str(rules), "-q"])
    many = run(["check", str(dump), "--rules", str(rules), "-q", "--workers", "4", "--max-in-flight", "3"])
    assert one.returncode == many.returncode == 0, many.stderr.decode()
    assert many.stdout == one.stdout
    assert [json.loads(v)["comment_id"] for v in many.stdout.splitlines()] == [f"c{i}" for i in range(300)]


def test_a_cross_author_flash_mob_and_a_tiny_in_flight_cap(tmp_path: Path) -> None:
    """Members of one mob, all different authors, land in different workers' chunks (at
    most 4 comments in flight): the mob is still found and every verdict is the single
    process's, the early members' revised ones included."""
    from tests.stateful_support import MOB_VARIANTS, comment

    rows = [comment(f"m{i}", f"acct{i}", i, text, f"t{i % 3}") for i, text in enumerate(MOB_VARIANTS)]
    dev = [json.loads(line) for line in (FIXTURES / "dev-comments.jsonl").read_bytes().splitlines()]
    clean = [r["text"] for r in dev if not r["categories"]][:20]  # different, ordinary remarks
    rows += [comment(f"c{i}", f"u{i}", 10 + i, text, "t9") for i, text in enumerate(clean)]
    dump = tmp_path / "d.jsonl"
    dump.write_text("".join(json.dumps(r) + "\n" for r in rows))
    one = run(["check", str(dump), "-q"])
    many = run(["check", str(dump), "-q", "--workers", "3", "--max-in-flight", "4"])
    assert one.returncode == many.returncode == 0, many.stderr.decode()
    assert many.stdout == one.stdout
    verdicts = [json.loads(v) for v in many.stdout.splitlines()]
    assert [v["comment_id"] for v in verdicts] == [r["id"] for r in rows]
    mob = [v for v in verdicts if any(x["category"] == "flash-mob" for x in v["violations"])]
    assert {v["comment_id"] for v in mob} == {f"m{i}" for i in range(len(MOB_VARIANTS))}


def test_a_broken_ruleset_is_a_usage_error_with_workers(tmp_path: Path, make_ruleset) -> None:  # type: ignore[no-untyped-def]
    rules = make_ruleset({"bad.yaml": "id: x\ncategory: not-a-category\n"})
    dump = tmp_path / "d.jsonl"
    dump.write_text(json.dumps({"id": "c1", "text": "hello"}) + "\n")
    result = run(["check", str(dump), "--rules", str(rules), "--workers", "2", "-o", str(tmp_path / "out.jsonl")])
    assert result.returncode == 2
    assert "bad.yaml" in result.stderr.decode()
    assert not (tmp_path / "out.jsonl").exists()  # nothing was written


def test_run_check_library_with_workers(
    dump: Path, owned_rules: Path, single: tuple[bytes, bytes, bytes], tmp_path: Path
) -> None:
    errors: list[InputError] = []
    spec = ModeratorSpec(rules_dir=owned_rules, no_ml=True, store="memory")
    options = CheckOptions(inputs=[str(dump)], threads_file=THREADS, moderator=spec, workers=2)
    summary = run_check(options, str(tmp_path / "v.jsonl"), on_error=errors.append)
    assert (tmp_path / "v.jsonl").read_bytes() == single[0]
    assert summary.judged == 584 and summary.invalid == len(errors) == 2
    assert [e.line for e in errors] == [4, 201]
    assert sum(summary.actions.values()) == 584 and summary.categories.get("profanity", 0) > 0


def test_the_reader_fingerprints_nothing_the_workers_did(
    dump: Path, owned_rules: Path, single: tuple[bytes, bytes, bytes], tmp_path: Path, window_fingerprints: list[int]
) -> None:
    """Workers (forked, or spawned where this process already holds threads or torch, as
    in a full test run) send each comment's window fingerprint back with its findings:
    the reading process computes none."""
    spec = ModeratorSpec(rules_dir=owned_rules, no_ml=True, store="memory")
    options = CheckOptions(inputs=[str(dump)], threads_file=THREADS, moderator=spec, workers=2)
    run_check(options, str(tmp_path / "v.jsonl"))
    assert (tmp_path / "v.jsonl").read_bytes() == single[0]
    assert window_fingerprints and sum(window_fingerprints) == 0  # the preparer ran, with nothing left to do


def test_spawned_workers_with_a_sqlite_store(
    dump: Path, owned_rules: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where workers may not be forked (ML models loaded), they are spawned and build
    their own Moderator: the same verdicts, here with the ledger and window in SQLite."""

    def check(workers: int, name: str) -> bytes:
        spec = ModeratorSpec(rules_dir=owned_rules, no_ml=True, store=f"sqlite:///{tmp_path / name}.db")
        options = CheckOptions(inputs=[str(dump)], threads_file=THREADS, moderator=spec, workers=workers)
        run_check(options, str(tmp_path / f"{name}.jsonl"))
        return (tmp_path / f"{name}.jsonl").read_bytes()

    one = check(1, "one")
    assert one.count(b"\n") == 584 and b'"account_action":"block"' in one
    assert check(2, "forked") == one
    monkeypatch.setattr(modrules.parallel, "can_fork", lambda: False)
    assert check(2, "spawned") == one


def test_no_fork_once_torch_is_loaded_or_threads_run(monkeypatch: pytest.MonkeyPatch) -> None:
    # Whatever earlier tests left in this process (torch imported, server threads).
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert can_fork()
    monkeypatch.setitem(sys.modules, "torch", types.ModuleType("torch"))
    assert not can_fork()
    monkeypatch.delitem(sys.modules, "torch")
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert not can_fork()


def test_a_thread_stays_with_its_worker_while_the_load_allows() -> None:
    router = _Router(2)
    load = [0, 0]
    first = router.route("t1", load)
    load[first] += 10
    other = router.route("t2", load)  # a new thread: the least loaded worker
    assert other != first
    load[other] += 5
    assert [router.route("t1", load) for _ in range(3)] == [first] * 3
    assert router.route("t2", load) == other
    assert router.route(None, load) == other  # no thread: the least loaded
    # Far more outstanding than the other worker: the thread moves, and stays moved.
    load[first] += _Router.SLACK + 100
    assert router.route("t1", load) == other
    load[first] = load[other] = 0
    assert router.route("t1", load) == other


def test_the_router_forgets_the_least_recently_routed_threads() -> None:
    router = _Router(2, remembered=3)
    for thread in ("a", "b", "c", "a", "d"):  # "a" routed again: "b" is the oldest now
        router.route(thread, [0, 0])
    assert list(router.owner) == ["c", "a", "d"]


def test_threads_are_spread_and_kept_over_a_real_run(
    dump: Path, owned_rules: Path, single: tuple[bytes, bytes, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Which worker got each line: a thread's lines mostly stay together, both workers
    get work, and the output is the one-process output."""
    sent: list[tuple[int, list[int]]] = []
    real_send = modrules.parallel._Pool.send

    def recording(pool: Any, wid: int, chunk: list[Any]) -> None:
        sent.append((wid, [item[0] for item in chunk]))
        real_send(pool, wid, chunk)

    monkeypatch.setattr(modrules.parallel._Pool, "send", recording)
    spec = ModeratorSpec(rules_dir=owned_rules, no_ml=True, store="memory")
    options = CheckOptions(inputs=[str(dump)], threads_file=THREADS, moderator=spec, workers=2)
    run_check(options, str(tmp_path / "v.jsonl"))
    assert (tmp_path / "v.jsonl").read_bytes() == single[0]
    threads: list[str | None] = []
    for line in dump.read_bytes().splitlines():  # sequence numbers count bad lines, not blank ones
        if not line.strip():
            continue
        try:
            threads.append(json.loads(line).get("thread_id"))
        except ValueError:
            threads.append(None)
    worker_of = {seq: wid for wid, seqs in sent for seq in seqs}
    assert {wid for wid, _ in sent} == {0, 1}
    by_thread: dict[str, set[int]] = {}
    for seq, wid in worker_of.items():
        if threads[seq] is not None:
            by_thread.setdefault(threads[seq], set()).add(wid)
    kept = sum(len(workers) == 1 for workers in by_thread.values())
    assert len(by_thread) == 3 and kept == 3  # ~580 lines: never more than SLACK apart


def test_packed_results_survive_the_pipe() -> None:
    """A chunk's findings and fingerprints, packed, pickled and unpacked, are what the
    worker found, by input sequence number."""
    ruleset = load_ruleset(None, disable_ml=True)
    rows = [json.loads(line) for line in (FIXTURES / "dev-comments.jsonl").read_bytes().splitlines()][:120]
    # Every fifth without an author: the window does not remember those, no fingerprint.
    comments = [Comment.model_validate(r | {"author_id": None} if i % 5 == 0 else r) for i, r in enumerate(rows)]
    found = list(Moderator(ruleset).prejudge(((c, None) for c in comments), fingerprint=True))
    seqs = list(range(1000, 1000 + 2 * len(found), 2))
    back = pickle.loads(pickle.dumps(Packed.of(seqs, found))).unpack()
    assert list(back) == seqs
    assert any(p.violations for p in found) and any(p.fingerprint is None for p in found)
    for seq, p in zip(seqs, found, strict=True):
        q = back[seq]
        if not (p.violations or p.timed_out or p.fingerprint):
            assert q is None
            continue
        assert q is not None and (q.violations, q.timed_out, q.text_crc) == (p.violations, p.timed_out, p.text_crc)
        if p.fingerprint is None:
            assert q.fingerprint is None
            continue
        assert q.fingerprint is not None
        assert np.array_equal(q.fingerprint.signature, p.fingerprint.signature)
        assert q.fingerprint.signature.dtype == np.uint32
        assert (q.fingerprint.bands, q.fingerprint.incoherence, q.fingerprint.informative) == (
            p.fingerprint.bands, p.fingerprint.incoherence, p.fingerprint.informative,
        )
