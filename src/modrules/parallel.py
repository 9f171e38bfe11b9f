"""`modrules check --workers N`: judge in N processes, write exactly one process's output.

Judging splits in two (see `Moderator.prejudge` and `Moderator.moderate_prejudged`):

- the **stateless** rules — every rule that reads one comment (and its thread) alone: the
  patterns, word lists, links, personal data, language, ML — are most of the work, and
  any process can do them. N worker processes each build a Moderator once (ML models load
  once per worker, on one thread each) and judge the chunks of lines they are given;
- the **stateful** part — the flash-mob and flooding rules over the recent-comment window,
  their retroactive revisions, and the account ledger — runs here, in the reading process,
  over the comments in input order, exactly as one process runs it.

So the verdicts are byte for byte those of `--workers 1`, whoever posted what: a flash mob
of different authors, a flood, strikes and blocks included, with any store. Chunks go to
the worker with the least work outstanding. Memory is bounded: at most `max_in_flight`
lines are read but not yet judged here.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import sys
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.context import SpawnProcess
from multiprocessing.queues import Queue
from typing import Any

from modrules.engine import Moderator, Prejudged
from modrules.gc_tuning import batch_gc
from modrules.model import Comment, InputError, Thread
from modrules.runner import CheckOptions, JudgedLine, ModeratorSpec, RawLine

CHUNK = 256  # lines per message each way: fewer, larger pickles
_SINGLE_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MODRULES_ML_THREADS")
_NOTHING = Prejudged()

# Messages from a worker: ("results", wid, [(seq, Prejudged | None), ...]) — None: the
# stateless rules found nothing —, ("done", wid), ("failed", wid, text, rule issues | None).


class WorkerError(RuntimeError):
    """A worker process failed or died."""


# --- the worker -------------------------------------------------------------------------


def _worker_main(
    wid: int, spec_json: str, threads_file: str | None, inbox: Queue[Any], outbox: Queue[Any]
) -> None:
    try:
        _one_thread_each()
        from modrules.dumps import read_threads
        from modrules.rules import RulesetError

        # The store belongs to the stateful part, which the reading process runs.
        spec = ModeratorSpec.model_validate_json(spec_json).model_copy(update={"store": None})
        try:
            moderator = spec.build()
        except RulesetError as exc:
            outbox.put(("failed", wid, str(exc), exc.issues))
            return
        _one_thread_each()  # torch may have been imported by the build
        threads, _ = read_threads(threads_file)  # the reader reports its errors
        with batch_gc():
            while (message := inbox.get()) is not None:
                outbox.put(("results", wid, _prejudge(moderator, threads, message)))
        outbox.put(("done", wid))
    except BaseException:  # noqa: BLE001 - everything goes back to the reader, which raises
        outbox.put(("failed", wid, traceback.format_exc(), None))


def _prejudge(
    moderator: Moderator, threads: dict[str, Thread], chunk: list[tuple[int, RawLine]]
) -> list[tuple[int, Prejudged | None]]:
    pairs: list[tuple[Comment, Thread | None]] = []
    for _, line in chunk:
        record = line.parse()
        if isinstance(record, InputError):  # the reader parsed it fine: not the same bytes
            raise WorkerError(f"{line.source}:{line.line}: {record.error}")
        pairs.append((record, threads.get(record.thread_id) if record.thread_id else None))
    found = moderator.prejudge(pairs)
    return [(seq, p if p.violations or p.timed_out else None) for (seq, _), p in zip(chunk, found, strict=True)]


def _one_thread_each() -> None:
    """N workers on N cores: no library may start a thread pool of its own."""
    for name in _SINGLE_THREAD_ENV:
        os.environ[name] = "1"
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(1)


# --- the reader -------------------------------------------------------------------------


@dataclass
class _Pool:
    procs: list[SpawnProcess]
    inboxes: list[Queue[Any]]
    outbox: Queue[Any]
    outstanding: list[int] = field(default_factory=list)  # lines sent, not yet returned
    done: set[int] = field(default_factory=set)

    def send(self, chunk: list[tuple[int, RawLine]]) -> None:
        """To the worker with the least work outstanding."""
        wid = min(range(len(self.procs)), key=self.outstanding.__getitem__)
        self.outstanding[wid] += len(chunk)
        self.inboxes[wid].put(chunk)

    def receive(self) -> Any:
        """The next message; a worker that died without a word is an error, not a hang."""
        while True:
            try:
                return self.outbox.get(timeout=1.0)
            except queue.Empty:
                for wid, proc in enumerate(self.procs):
                    if wid not in self.done and not proc.is_alive():
                        raise WorkerError(f"worker {wid} died (exit code {proc.exitcode})") from None


@contextmanager
def _started(options: CheckOptions) -> Iterator[_Pool]:
    ctx = mp.get_context("spawn")  # no fork of a process that may hold threads or models
    outbox: Queue[Any] = ctx.Queue()
    inboxes: list[Queue[Any]] = [ctx.Queue() for _ in range(options.workers)]
    spec = options.moderator.model_dump_json()
    procs = [
        ctx.Process(
            target=_worker_main,
            args=(wid, spec, options.threads_file, inboxes[wid], outbox),
            name=f"modrules-worker-{wid}",
            daemon=True,
        )
        for wid in range(options.workers)
    ]
    with _environment({name: "1" for name in _SINGLE_THREAD_ENV}):
        # Set before the child imports numpy or torch, whose thread pools read them once.
        for proc in procs:
            proc.start()
    pool = _Pool(procs, inboxes, outbox, outstanding=[0] * len(procs))
    try:
        yield pool
    finally:
        for inbox in inboxes:
            inbox.put(None)
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=10)
        for box in [*inboxes, outbox]:
            box.cancel_join_thread()  # unread messages must not block our exit
            box.close()


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def judge_parallel(
    options: CheckOptions,
    lines: Iterable[RawLine | InputError],
    on_error: Callable[[InputError], None],
) -> Iterator[JudgedLine]:
    """Judged lines in input order: the stateless rules in `options.workers` worker
    processes, the stateful part here. The Moderator is built (while the workers build
    theirs) before any line is read, so a broken ruleset fails before any output is
    touched."""
    from modrules.dumps import read_threads

    with _started(options) as pool:
        moderator = options.moderator.build()
        threads, thread_errors = read_threads(options.threads_file)
        for error in thread_errors:
            on_error(error)
        with moderator, batch_gc():
            feed = _Feed(pool, threads, options.max_in_flight, on_error)
            for verdict in moderator.moderate_prejudged(feed.items(lines)):
                yield JudgedLine.of(verdict)


class _Feed:
    """Reads lines, sends the valid ones to the workers in chunks, and hands each comment
    on with its stateless findings in input order (invalid lines reported in their place)."""

    def __init__(
        self,
        pool: _Pool,
        threads: dict[str, Thread],
        cap: int,
        on_error: Callable[[InputError], None],
    ) -> None:
        self.pool, self.threads, self.cap, self.on_error = pool, threads, cap, on_error
        self.pending: deque[tuple[int, Comment | InputError]] = deque()  # read, in order
        self.results: dict[int, Prejudged | None] = {}
        self.chunk: list[tuple[int, RawLine]] = []
        self.seq = 0

    def items(self, lines: Iterable[RawLine | InputError]) -> Iterator[tuple[Comment, Thread | None, Prejudged]]:
        source = iter(lines)
        exhausted = False
        while True:
            while not exhausted and len(self.pending) < self.cap and len(self.chunk) < CHUNK:
                item = next(source, None)
                if item is None:
                    exhausted = True
                else:
                    self._read(item)
            if self.chunk and (exhausted or len(self.chunk) >= CHUNK or len(self.pending) >= self.cap):
                self.pool.send(self.chunk)
                self.chunk = []
                self._poll()  # take what is back already, so judging here keeps pace
            yield from self._ready()
            if exhausted and not self.pending:
                return
            if (exhausted or len(self.pending) >= self.cap) and not self._head_ready():
                self._receive()

    def _read(self, item: RawLine | InputError) -> None:
        record = item if isinstance(item, InputError) else item.parse()
        self.pending.append((self.seq, record))
        if not isinstance(record, InputError):
            assert isinstance(item, RawLine)
            self.chunk.append((self.seq, item))
        self.seq += 1

    def _head_ready(self) -> bool:
        return bool(self.pending) and (
            isinstance(self.pending[0][1], InputError) or self.pending[0][0] in self.results
        )

    def _ready(self) -> Iterator[tuple[Comment, Thread | None, Prejudged]]:
        while self._head_ready():
            seq, record = self.pending.popleft()
            if isinstance(record, InputError):
                self.on_error(record)
                continue
            found = self.results.pop(seq) or _NOTHING
            thread = self.threads.get(record.thread_id) if record.thread_id else None
            yield record, thread, found

    def _poll(self) -> None:
        while True:
            try:
                message = self.pool.outbox.get_nowait()
            except queue.Empty:
                return
            self._take(message)

    def _receive(self) -> None:
        self._take(self.pool.receive())

    def _take(self, message: Any) -> None:
        kind, wid = message[0], message[1]
        if kind == "results":
            self.pool.outstanding[wid] -= len(message[2])
            self.results.update(message[2])
        elif kind == "done":
            self.pool.done.add(wid)
        elif kind == "failed":
            self.pool.done.add(wid)
            if message[3] is not None:
                from modrules.rules import RulesetError

                raise RulesetError(message[3])
            raise WorkerError(f"worker {wid} failed:\n{message[2]}")
