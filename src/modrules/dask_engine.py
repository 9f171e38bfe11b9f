"""Judging on a Dask cluster: `modrules check --engine dask`, and Dask collections.

Shards (JSONL or JSONL.gz files) are read by one task each and their lines split by a
stable hash of `author_id` (or `thread_id`, `partition_by="thread"`) into P partitions;
one task per partition judges its lines in input order (shard by shard, line by line)
and writes one verdict shard, `part-00000.jsonl` …, so an author's (or a thread's)
comments are judged in order by one Moderator, exactly as with `--workers` (see
parallel.py for what that keeps exact). Each worker process loads the ruleset (and its
ML models) once and reuses it for every partition it judges; each partition gets a fresh
Moderator over it, so stateful windows never leak between partitions whatever the
scheduling, and the same input gives the same shards on any cluster. With
`--store redis://…` every partition's Moderator shares the store.

Memory: a reading task holds one shard, a judging task its partition's lines (the input
divided by P) — choose `--partitions` so that fits a worker.
"""

from __future__ import annotations

import glob
import math
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from modrules.dumps import read_threads
from modrules.engine import Moderator
from modrules.model import Comment, InputError, Thread
from modrules.parallel import partition
from modrules.rules import Ruleset, load_ruleset
from modrules.runner import (
    CheckSummary,
    JudgedLine,
    ModeratorSpec,
    RawLine,
    Tally,
    raw_lines,
)

_GLOB_CHARS = frozenset("*?[")


class DaskCheck(BaseModel):
    """One `check --engine dask` run."""

    model_config = ConfigDict(frozen=True)

    shards: list[str]
    output_dir: str
    threads_file: str | None = None
    moderator: ModeratorSpec = ModeratorSpec()
    partitions: int | None = None  # default: one per input shard
    scheduler: str | None = None  # default: a local cluster of `workers` processes
    workers: int = 1
    partition_by: Literal["author", "thread"] = "author"  # see parallel.py


def expand_inputs(inputs: Iterable[str]) -> list[str]:
    """Files as given, globs expanded (sorted, so the order is the same on every run)."""
    shards: list[str] = []
    for pattern in inputs:
        if _GLOB_CHARS.intersection(pattern):
            shards.extend(sorted(glob.glob(pattern, recursive=True)))
        elif Path(pattern).exists():
            shards.append(pattern)
        else:
            raise FileNotFoundError(pattern)
    return shards


# --- on the workers: one ruleset per process, a Moderator per partition --------------------

_rulesets: dict[str, Ruleset] = {}
_threads: dict[str | None, dict[str, Thread]] = {}
_lock = threading.Lock()


def _moderator(spec_json: str) -> Moderator:
    spec = ModeratorSpec.model_validate_json(spec_json)
    with _lock:
        ruleset = _rulesets.get(spec_json)
        if ruleset is None:
            for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MODRULES_ML_THREADS"):
                os.environ.setdefault(name, "1")
            ruleset = _rulesets[spec_json] = load_ruleset(spec.rules_dir, disable_ml=spec.no_ml)
    if spec.store is None:
        return Moderator(ruleset)
    from modrules.store import open_store

    return Moderator(ruleset, store=open_store(spec.store))  # type: ignore[call-arg,unused-ignore]


def _thread_map(threads_file: str | None) -> dict[str, Thread]:
    with _lock:
        if threads_file not in _threads:
            _threads[threads_file] = read_threads(threads_file)[0]
        return _threads[threads_file]


def judge_records(
    records: Iterable[RawLine | InputError],
    spec_json: str,
    threads_file: str | None,
    on_error: Callable[[InputError], None],
) -> Iterator[JudgedLine]:
    """One partition's lines judged in order by a fresh Moderator over this process's ruleset."""
    moderator = _moderator(spec_json)

    def valid() -> Iterator[Comment]:
        for item in records:
            record = item if isinstance(item, InputError) else item.parse()
            if isinstance(record, InputError):
                on_error(record)
            else:
                yield record

    with moderator:  # each partition's store connection is closed when it is done
        for verdict in moderator.moderate_many(valid(), threads=_thread_map(threads_file)):
            yield JudgedLine.of(verdict)


def _read_shard(path: str, parts: int, by: str) -> tuple[list[list[RawLine]], list[InputError]]:
    split: list[list[RawLine]] = [[] for _ in range(parts)]
    errors: list[InputError] = []
    for item in raw_lines([path]):
        if isinstance(item, InputError):
            errors.append(item)
        else:
            split[partition(item.raw, item.line, parts, by)].append(item)
    return split, errors


def _judge_shard(
    index: int, pieces: Sequence[list[RawLine]], spec_json: str, threads_file: str | None, output_dir: str
) -> tuple[dict[str, Any], list[InputError]]:
    """Judge partition `index` (its pieces in shard order) into `part-NNNNN.jsonl`."""
    tally = Tally()
    errors: list[InputError] = []
    target = Path(output_dir) / f"part-{index:05d}.jsonl"
    partial = target.with_suffix(".jsonl.partial")  # a retried task never leaves half a shard
    lines = (line for piece in pieces for line in piece)
    with open(partial, "wb") as out:
        for judged in judge_records(lines, spec_json, threads_file, errors.append):
            tally.add(judged)
            out.write(judged.json)
    partial.replace(target)
    return tally.summary(0.0).model_dump(), errors


def run_dask_check(
    job: DaskCheck,
    *,
    errors_file: str | None = None,
    on_error: Callable[[InputError], None] | None = None,
) -> CheckSummary:
    """Judge the shards on a cluster; verdict shards in `job.output_dir`, invalid lines
    (in shard and line order) to `on_error` and `errors_file`."""
    import time

    from dask.delayed import delayed
    from distributed import Client, LocalCluster

    from modrules.dumps import error_json

    started = time.perf_counter()
    _moderator(job.moderator.model_dump_json())  # a broken ruleset fails here, before the cluster
    Path(job.output_dir).mkdir(parents=True, exist_ok=True)
    parts = job.partitions or max(1, len(job.shards))
    spec_json = job.moderator.model_dump_json()
    reads = [delayed(_read_shard, nout=2, pure=True)(path, parts, job.partition_by) for path in job.shards]
    judged = [
        delayed(_judge_shard, nout=2, pure=True)(
            p, [split[p] for split, _ in reads], spec_json, job.threads_file, job.output_dir
        )
        for p in range(parts)
    ]
    cluster = (
        None
        if job.scheduler
        else LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=job.workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
    )
    try:
        with Client(job.scheduler or cluster) as client:  # type: ignore[no-untyped-call]
            results, read_errors = client.compute(
                [judged, [errors for _, errors in reads]], sync=True
            )
    finally:
        if cluster is not None:
            cluster.close()
    tally = Tally()
    errors: list[InputError] = []
    for summary, judge_errors in results:
        tally.merge(CheckSummary.model_validate(summary))
        errors.extend(judge_errors)
    for shard_errors in read_errors:
        errors.extend(shard_errors)
    order = {path: i for i, path in enumerate(job.shards)}
    errors.sort(key=lambda e: (order.get(e.source, len(order)), e.line))
    tally.invalid = len(errors)
    if on_error is not None:
        for error in errors:
            on_error(error)
    if errors_file:
        Path(errors_file).write_bytes(b"".join(error_json(error) for error in errors))
    return tally.summary(time.perf_counter() - started)


# --- Dask collections ------------------------------------------------------------------------


def judge_bag(
    comments: Any,
    *,
    moderator: ModeratorSpec | None = None,
    threads_file: str | None = None,
    partitions: int | None = None,
    partition_by: Literal["author", "thread"] = "author",
) -> Any:
    """A Dask bag of comments (dicts or `Comment`s) → a bag of verdicts (dicts, the JSON
    contract's fields), repartitioned by author (or thread): each output partition holds
    the verdicts of the authors it owns, in input order. Invalid comments become
    `{"comment_id": …, "error": …}` records instead of verdicts."""
    import dask.bag as db
    from dask.delayed import delayed

    spec_json = (moderator or ModeratorSpec()).model_dump_json()
    pieces = comments.to_delayed()
    parts = partitions or max(1, len(pieces))
    split = [delayed(_split_comments, nout=parts, pure=True)(piece, parts, partition_by) for piece in pieces]
    judged = [
        delayed(_judge_comments, pure=True)([s[p] for s in split], spec_json, threads_file)
        for p in range(parts)
    ]
    return db.from_delayed(judged)  # type: ignore[no-untyped-call]


def judge_dataframe(
    frame: Any,
    *,
    moderator: ModeratorSpec | None = None,
    threads_file: str | None = None,
    partitions: int | None = None,
    partition_by: Literal["author", "thread"] = "author",
) -> Any:
    """A Dask dataframe with the comment columns (`id`, `text`, `thread_id`, …) → a bag
    of verdicts, as `judge_bag`."""
    return judge_bag(
        frame.to_bag(format="dict"),
        moderator=moderator,
        threads_file=threads_file,
        partitions=partitions,
        partition_by=partition_by,
    )


def _split_comments(items: Iterable[Any], parts: int, by: str) -> list[list[dict[str, Any]]]:
    import orjson

    split: list[list[dict[str, Any]]] = [[] for _ in range(parts)]
    for position, item in enumerate(items):
        data = item.model_dump(mode="json") if isinstance(item, Comment) else dict(item)
        data = {k: _plain(v) for k, v in data.items()}
        split[partition(orjson.dumps(data, default=str), position, parts, by)].append(data)
    return split


def _plain(value: Any) -> Any:
    """Dataframe cells as JSON values: missing ones (NaN/NA/None) as null."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if type(value).__name__ in ("NAType", "NaTType"):  # pandas' missing values
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _judge_comments(
    pieces: Sequence[list[dict[str, Any]]], spec_json: str, threads_file: str | None
) -> list[dict[str, Any]]:
    import orjson

    out: list[dict[str, Any]] = []
    records = (
        RawLine("<bag>", n, orjson.dumps(data, default=str))
        for n, data in enumerate((d for piece in pieces for d in piece), start=1)
    )

    def error(record: InputError) -> None:
        out.append({"comment_id": None, "line": record.line, "error": record.error})

    for judged in judge_records(records, spec_json, threads_file, error):
        out.append(orjson.loads(judged.json))
    return out
