"""Judging on a Dask cluster: `modrules check --engine dask`, and Dask collections.

The work splits as with `--workers` (see parallel.py): the **stateless** rules — most of
the work, ML included — run in Dask tasks, `partitions` of them over the shards; the
**stateful** part (the flash-mob and flooding rules over the recent-comment window, their
retroactive revisions, and the account ledger) runs once, in input order, in the process
that drives the run. So the verdicts are byte for byte those of a single-process `check`
over the shards in the order given, whoever posted what, on any cluster and any
scheduling. Each worker process loads the ruleset (and its ML models) once and reuses it
for every task; the store (`--store redis://…` or a SQLite file) is opened by the driving
process only.

Output: one verdict shard per input shard, `part-00000.jsonl` … in input order, so the
shards concatenated are the single-process output. Memory: a task holds one shard's
findings (a few bytes for a clean comment); the driver reads each shard again as it
writes its verdicts, and holds only the window.
"""

from __future__ import annotations

import glob
import math
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any, Self

from pydantic import BaseModel, ConfigDict

from modrules.dumps import read_threads
from modrules.engine import Moderator, Prejudged
from modrules.gc_tuning import batch_gc
from modrules.model import Comment, InputError, Thread
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
    partitions: int | None = None  # stateless tasks (at least one per shard; default: one each)
    scheduler: str | None = None  # default: a local cluster of `workers` processes
    workers: int = 1


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


# --- on the workers: one ruleset per process ----------------------------------------------

_rulesets: dict[str, Ruleset] = {}
_threads: dict[str | None, dict[str, Thread]] = {}
_lock = threading.Lock()


def _ruleset(spec_json: str) -> Ruleset:
    spec = ModeratorSpec.model_validate_json(spec_json)
    with _lock:
        ruleset = _rulesets.get(spec_json)
        if ruleset is None:
            for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MODRULES_ML_THREADS"):
                os.environ.setdefault(name, "1")
            ruleset = _rulesets[spec_json] = load_ruleset(spec.rules_dir, disable_ml=spec.no_ml)
    return ruleset


def _thread_map(threads_file: str | None) -> dict[str, Thread]:
    with _lock:
        if threads_file not in _threads:
            _threads[threads_file] = read_threads(threads_file)[0]
        return _threads[threads_file]


def _prejudge_comments(
    comments: Iterable[Comment], spec_json: str, threads_file: str | None
) -> list[Prejudged | None]:
    """The stateless findings of each comment, in order (None: nothing found), with the
    window fingerprint of each comment the driver's window will remember, so the driver
    does not compute it (it checks each against its comment's text, see `moderate_prejudged`)."""
    moderator = Moderator(_ruleset(spec_json))  # no store: the ledger is the driver's
    threads = _thread_map(threads_file)
    pairs = ((c, threads.get(c.thread_id) if c.thread_id else None) for c in comments)
    return [
        p if p.violations or p.timed_out or p.fingerprint is not None else None
        for p in moderator.prejudge(pairs, fingerprint=True)
    ]


def _prejudge_shard(
    path: str, task: int, tasks: int, spec_json: str, threads_file: str | None
) -> dict[int, Prejudged]:
    """Task `task` of `tasks` over one shard: the valid lines whose index is `task` modulo
    `tasks`; their findings by line number (lines that found nothing are left out)."""
    numbers: list[int] = []
    comments: list[Comment] = []
    valid = 0
    for item in raw_lines([path]):
        if isinstance(item, InputError):
            continue
        record = item.parse()
        if isinstance(record, InputError):
            continue  # the driver reports it
        if valid % tasks == task:
            numbers.append(item.line)
            comments.append(record)
        valid += 1
    found = _prejudge_comments(comments, spec_json, threads_file)
    return {n: p for n, p in zip(numbers, found, strict=True) if p is not None}


# --- the driver: the stateful pass in input order -------------------------------------------


def run_dask_check(
    job: DaskCheck,
    *,
    errors_file: str | None = None,
    on_error: Callable[[InputError], None] | None = None,
) -> CheckSummary:
    """Judge the shards on a cluster; verdict shards in `job.output_dir`, invalid lines
    (in shard and line order) to `on_error` and `errors_file`."""
    import time

    from distributed import Client, LocalCluster

    from modrules.dumps import error_json

    started = time.perf_counter()
    worker_spec = job.moderator.model_copy(update={"store": None}).model_dump_json()
    moderator = job.moderator.build()  # a broken ruleset or store fails here, before the cluster
    threads = _thread_map(job.threads_file)
    out_dir = Path(job.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    per_shard = max(1, math.ceil((job.partitions or len(job.shards)) / max(1, len(job.shards))))
    tally = Tally()
    errors: list[InputError] = []

    def report(error: InputError) -> None:
        errors.append(error)
        if on_error is not None:
            on_error(error)

    cluster = None
    try:
        if not job.scheduler:
            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=job.workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
        with Client(job.scheduler or cluster) as client, batch_gc():  # type: ignore[no-untyped-call]
            futures = [
                [
                    client.submit(
                        _prejudge_shard, path, task, per_shard, worker_spec, job.threads_file, pure=False
                    )
                    for task in range(per_shard)
                ]
                for path in job.shards
            ]
            writer = _ShardWriter(out_dir, len(job.shards))
            with writer:
                feed = _shard_feed(job.shards, futures, threads, report, writer.expect)
                for verdict in moderator.moderate_prejudged(feed):
                    judged = JudgedLine.of(verdict)
                    tally.add(judged)
                    writer.write(judged.json)
    finally:
        moderator.close()  # the window flushed to the store, the store closed
        if cluster is not None:
            cluster.close()
    tally.invalid = len(errors)
    if errors_file:
        Path(errors_file).write_bytes(b"".join(error_json(error) for error in errors))
    return tally.summary(time.perf_counter() - started)


def _shard_feed(
    shards: Sequence[str],
    futures: Sequence[Sequence[Any]],
    threads: dict[str, Thread],
    report: Callable[[InputError], None],
    expect: Callable[[int], None],
) -> Iterator[tuple[Comment, Thread | None, Prejudged]]:
    """Each shard's comments in order with their findings, as its tasks finish."""
    for index, (path, tasks) in enumerate(zip(shards, futures, strict=True)):
        found: dict[int, Prejudged] = {}
        for future in tasks:
            found.update(future.result())
        for item in raw_lines([path]):
            record = item if isinstance(item, InputError) else item.parse()
            if isinstance(record, InputError):
                report(record)
                continue
            assert isinstance(item, RawLine)
            expect(index)
            thread = threads.get(record.thread_id) if record.thread_id else None
            yield record, thread, found.get(item.line, _NOTHING)


_NOTHING = Prejudged()


class _ShardWriter:
    """Writes verdicts, which come in input order, to the shard each comment came from;
    every input shard gets its file, empty if it held no valid comment."""

    def __init__(self, out_dir: Path, shards: int) -> None:
        self.out_dir, self.shards = out_dir, shards
        self.owners: deque[int] = deque()  # the shard of each comment fed, not yet written
        self.stack = ExitStack()
        self.index = -1
        self.stream: IO[bytes] | None = None

    def expect(self, shard: int) -> None:
        self.owners.append(shard)

    def write(self, line: bytes) -> None:
        shard = self.owners.popleft()
        while self.index < shard:
            self._next()
        assert self.stream is not None
        self.stream.write(line)

    def _next(self) -> None:
        self.stack.close()
        self.index += 1
        self.stream = self.stack.enter_context(open(self._partial(self.index), "wb"))  # noqa: SIM115 - the stack closes it

    def _partial(self, index: int) -> Path:
        # A run that stops half-way never leaves a complete-looking shard.
        return self.out_dir / f"part-{index:05d}.jsonl.partial"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is not None:
            self.stack.close()
            return
        while self.index < self.shards - 1:
            self._next()
        self.stack.close()
        for index in range(self.shards):
            self._partial(index).replace(self.out_dir / f"part-{index:05d}.jsonl")


# --- Dask collections ------------------------------------------------------------------------


def judge_bag(
    comments: Any,
    *,
    moderator: ModeratorSpec | None = None,
    threads_file: str | None = None,
) -> Any:
    """A Dask bag of comments (dicts or `Comment`s) → a bag of verdicts (dicts, the JSON
    contract's fields), partitioned as the input, each partition in input order: the
    verdicts of one `moderate_many` over the whole bag. The stateless rules run in one
    task per partition; the stateful part (window, revisions, ledger) in one task over
    the whole collection in order, so it must fit one worker (a dump larger than that:
    `check --engine dask`, which streams). Invalid comments become
    `{"comment_id": …, "error": …}` records instead of verdicts."""
    import dask.bag as db
    from dask.delayed import delayed

    spec_json = (moderator or ModeratorSpec()).model_dump_json()
    worker_spec = (moderator or ModeratorSpec()).model_copy(update={"store": None}).model_dump_json()
    pieces = comments.to_delayed()
    parsed = [delayed(_parse_partition, pure=True)(piece) for piece in pieces]
    found = [delayed(_prejudge_partition, pure=True)(p, worker_spec, threads_file) for p in parsed]
    final = delayed(_stateful_pass, pure=True)(parsed, found, spec_json, threads_file)
    return db.from_delayed([delayed(_nth, pure=True)(final, i) for i in range(len(pieces))])  # type: ignore[no-untyped-call]


def judge_dataframe(
    frame: Any,
    *,
    moderator: ModeratorSpec | None = None,
    threads_file: str | None = None,
) -> Any:
    """A Dask dataframe with the comment columns (`id`, `text`, `thread_id`, …) → a bag
    of verdicts, as `judge_bag`."""
    return judge_bag(frame.to_bag(format="dict"), moderator=moderator, threads_file=threads_file)


Parsed = list[Comment | dict[str, Any]]  # a comment, or an error record in its place


def _parse_partition(items: Iterable[Any]) -> Parsed:
    import orjson

    out: Parsed = []
    for position, item in enumerate(items, start=1):
        if isinstance(item, Comment):
            out.append(item)
            continue
        data = {k: _plain(v) for k, v in dict(item).items()}
        record = RawLine("<bag>", position, orjson.dumps(data, default=str)).parse()
        if isinstance(record, InputError):
            out.append({"comment_id": data.get("id"), "line": record.line, "error": record.error})
        else:
            out.append(record)
    return out


def _prejudge_partition(parsed: Parsed, spec_json: str, threads_file: str | None) -> list[Prejudged | None]:
    return _prejudge_comments((c for c in parsed if isinstance(c, Comment)), spec_json, threads_file)


def _stateful_pass(
    parsed: Sequence[Parsed], found: Sequence[list[Prejudged | None]], spec_json: str, threads_file: str | None
) -> list[list[dict[str, Any]]]:
    import orjson

    spec = ModeratorSpec.model_validate_json(spec_json)
    moderator = Moderator(_ruleset(spec_json))
    if spec.store is not None:
        from modrules.store import open_store

        moderator = Moderator(moderator.ruleset, store=open_store(spec.store))  # type: ignore[call-arg,unused-ignore]
    threads = _thread_map(threads_file)
    out: list[list[dict[str, Any]]] = [[] for _ in parsed]
    slots: deque[tuple[int, int]] = deque()  # (partition, index) of each comment fed

    def feed() -> Iterator[tuple[Comment, Thread | None, Prejudged]]:
        for p, (items, findings) in enumerate(zip(parsed, found, strict=True)):
            comments = iter(findings)
            for item in items:
                if isinstance(item, Comment):
                    slots.append((p, len(out[p])))
                    out[p].append({})
                    thread = threads.get(item.thread_id) if item.thread_id else None
                    yield item, thread, next(comments) or _NOTHING
                else:
                    out[p].append(item)

    with moderator:
        for verdict in moderator.moderate_prejudged(feed()):
            p, i = slots.popleft()
            out[p][i] = orjson.loads(JudgedLine.of(verdict).json)
    return out


def _nth(parts: list[list[dict[str, Any]]], index: int) -> list[dict[str, Any]]:
    return parts[index]


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
