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
of different authors, a flood, strikes and blocks included, with any store. A thread's comments go
to one worker while the load allows (each thread's text is embedded once, not once per
worker), others to the least loaded. Memory is bounded: at most `max_in_flight`
lines are read but not yet judged here.

This process is the bottleneck, so whatever does not need the stream's order is done by
the workers: each comment's window fingerprint comes back with its findings (packed a
chunk at a time). And the ruleset is compiled once: workers are forked from this process
once it is loaded, unless ML models are (their thread pools do not survive a fork; then
each worker is spawned and builds its own).
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import queue
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from typing import Any

import numpy as np

from modrules.engine import Moderator, Prejudged
from modrules.fingerprint import BANDS, NUM_PERM, Fingerprint
from modrules.gc_tuning import batch_gc
from modrules.model import Comment, InputError, Thread
from modrules.rules import Ruleset
from modrules.runner import CheckOptions, JudgedLine, ModeratorSpec, RawLine

CHUNK = 256  # lines per message each way: fewer, larger pickles
_SINGLE_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MODRULES_ML_THREADS")
_NOTHING = Prejudged()

# A line as it travels to a worker: (seq, source, line number, bytes); a tuple pickles
# at a quarter of a RawLine's cost each way.
_Line = tuple[int, str, int, bytes]

# Messages from a worker: ("results", wid, Packed), ("done", wid),
# ("failed", wid, text, rule issues | None).


@dataclass(frozen=True, slots=True)
class Packed:
    """A chunk's results as they travel back: the findings only where there are some, and
    the fingerprints as a few arrays' bytes (an object each would cost the reader a
    pickle object per comment)."""

    seqs: list[int]  # the chunk's comments, in order
    found: list[tuple[int, Prejudged]]  # (index in seqs, findings without fingerprint)
    at: bytes  # int32: the indexes of the comments with a fingerprint
    crcs: bytes  # uint32: their texts' `text_crc`
    signatures: bytes  # uint32 (n, NUM_PERM)
    bands: bytes  # uint64 (n, BANDS): meaningful where informative
    incoherence: bytes  # float64
    informative: bytes  # bool

    @classmethod
    def of(cls, seqs: list[int], prejudged: list[Prejudged]) -> Packed:
        found = [
            (i, Prejudged(p.violations, p.timed_out) if p.fingerprint is not None else p)
            for i, p in enumerate(prejudged)
            if p.violations or p.timed_out
        ]
        with_fp = [(i, p, p.fingerprint) for i, p in enumerate(prejudged) if p.fingerprint is not None]
        n = len(with_fp)
        signatures = np.empty((n, NUM_PERM), dtype=np.uint32)
        bands = np.zeros((n, BANDS), dtype=np.uint64)
        for k, (_, _, fp) in enumerate(with_fp):
            signatures[k] = fp.signature
            if fp.bands:
                bands[k] = fp.bands
        return cls(
            seqs,
            found,
            np.array([i for i, _, _ in with_fp], dtype=np.int32).tobytes(),
            np.array([p.text_crc for _, p, _ in with_fp], dtype=np.uint32).tobytes(),
            signatures.tobytes(),
            bands.tobytes(),
            np.array([fp.incoherence for _, _, fp in with_fp], dtype=np.float64).tobytes(),
            np.array([fp.informative for _, _, fp in with_fp], dtype=bool).tobytes(),
        )

    def unpack(self) -> dict[int, Prejudged | None]:
        """Findings by input sequence number (None: nothing found, no fingerprint)."""
        seqs = self.seqs
        results: dict[int, Prejudged | None] = dict.fromkeys(seqs)
        for i, p in self.found:
            results[seqs[i]] = p
        at = np.frombuffer(self.at, dtype=np.int32).tolist()
        n = len(at)
        if not n:
            return results
        crcs = np.frombuffer(self.crcs, dtype=np.uint32).tolist()
        signatures = np.frombuffer(self.signatures, dtype=np.uint32).reshape(n, NUM_PERM)
        bands = np.frombuffer(self.bands, dtype=np.uint64).reshape(n, BANDS).tolist()
        incoherence = np.frombuffer(self.incoherence, dtype=np.float64).tolist()
        informative = np.frombuffer(self.informative, dtype=bool).tolist()
        for k, i in enumerate(at):
            seq = seqs[i]
            base = results[seq] or _NOTHING
            # Its own copy: a view would keep the whole chunk's array alive with it.
            signature = signatures[k].copy()
            fp = Fingerprint(signature, tuple(bands[k]) if informative[k] else (), incoherence[k], informative[k])
            results[seq] = Prejudged(base.violations, base.timed_out, fp, crcs[k])
        return results


class WorkerError(RuntimeError):
    """A worker process failed or died."""


# --- the worker -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spawned:
    """What a spawned worker builds its Moderator and thread map from (pickled to it)."""

    spec_json: str
    threads_file: str | None


@dataclass(frozen=True)
class _Forked:
    """A forked worker's compiled ruleset and thread map, the reader's (never pickled)."""

    ruleset: Ruleset
    threads: dict[str, Thread]


def _worker_main(wid: int, setup: _Spawned | _Forked, inbox: Queue[Any], outbox: Queue[Any]) -> None:
    try:
        _one_thread_each()
        if isinstance(setup, _Forked):
            moderator, threads = Moderator(setup.ruleset), setup.threads
        else:
            from modrules.dumps import read_threads
            from modrules.rules import RulesetError

            # The store belongs to the stateful part, which the reading process runs.
            spec = ModeratorSpec.model_validate_json(setup.spec_json).model_copy(update={"store": None})
            try:
                moderator = spec.build()
            except RulesetError as exc:
                outbox.put(("failed", wid, str(exc), exc.issues))
                return
            _one_thread_each()  # torch may have been imported by the build
            threads, _ = read_threads(setup.threads_file)  # the reader reports its errors
        with batch_gc():
            while (message := inbox.get()) is not None:
                outbox.put(("results", wid, _prejudge(moderator, threads, message)))
        outbox.put(("done", wid))
    except BaseException:  # noqa: BLE001 - everything goes back to the reader, which raises
        outbox.put(("failed", wid, traceback.format_exc(), None))


def _prejudge(moderator: Moderator, threads: dict[str, Thread], chunk: list[_Line]) -> Packed:
    pairs: list[tuple[Comment, Thread | None]] = []
    for _, source, line, raw in chunk:
        record = RawLine(source, line, raw).parse()
        if isinstance(record, InputError):  # the reader parsed it fine: not the same bytes
            raise WorkerError(f"{source}:{line}: {record.error}")
        pairs.append((record, threads.get(record.thread_id) if record.thread_id else None))
    return Packed.of([item[0] for item in chunk], list(moderator.prejudge(pairs, fingerprint=True)))


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
    procs: list[BaseProcess]
    inboxes: list[Queue[Any]]
    outbox: Queue[Any]
    outstanding: list[int] = field(default_factory=list)  # lines sent, not yet returned
    done: set[int] = field(default_factory=set)

    def send(self, wid: int, chunk: list[_Line]) -> None:
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


def can_fork() -> bool:
    """Whether workers may be forked from this process: on Linux, with no other Python
    thread running and no ML library loaded (torch's thread pools do not survive a fork)."""
    return (
        sys.platform == "linux"
        and "fork" in mp.get_all_start_methods()
        and threading.active_count() == 1
        and "torch" not in sys.modules
    )


@contextmanager
def _started(options: CheckOptions, forked: _Forked | None) -> Iterator[_Pool]:
    """N workers: forked with the reader's compiled ruleset (`forked`), or spawned to
    build their own (no fork of a process that may hold threads or models)."""
    ctx = mp.get_context("fork") if forked is not None else mp.get_context("spawn")
    outbox: Queue[Any] = ctx.Queue()
    inboxes: list[Queue[Any]] = [ctx.Queue() for _ in range(options.workers)]
    setup = forked or _Spawned(options.moderator.model_dump_json(), options.threads_file)
    procs: list[BaseProcess] = [
        ctx.Process(
            target=_worker_main,
            args=(wid, setup, inboxes[wid], outbox),
            name=f"modrules-worker-{wid}",
            daemon=True,
        )
        for wid in range(options.workers)
    ]
    if forked is not None:
        # What exists now is shared with the workers: frozen, no collection in either
        # process touches (and so copies) its memory.
        gc.collect()
        gc.freeze()
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
        if forked is not None:
            gc.unfreeze()


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
    processes, the stateful part here. The ruleset is loaded (and the workers forked
    with it, or spawned to load theirs) before any line is read, so a broken ruleset
    fails before any output is touched."""
    from modrules.dumps import read_threads

    ruleset = options.moderator.load()
    threads, thread_errors = read_threads(options.threads_file)
    forked = _Forked(ruleset, threads) if can_fork() else None
    with _started(options, forked) as pool:
        # The store is opened after the fork: it (a connection, a file) stays ours.
        moderator = options.moderator.build(ruleset)
        for error in thread_errors:
            on_error(error)
        with moderator, batch_gc():
            feed = _Feed(pool, threads, options.max_in_flight, on_error)
            for verdict in moderator.moderate_prejudged(feed.items(lines)):
                yield JudgedLine.of(verdict)


class _Router:
    """Which worker judges a comment: the one its thread went to before, so that each
    thread's text is embedded by one worker (its context cache) rather than by all of
    them — unless that worker has more than `SLACK` lines more to do than the least
    loaded, and then the thread moves there. Comments without a thread go to the least
    loaded."""

    SLACK = 2 * CHUNK
    # Threads remembered, the least recently routed forgotten first: memory stays bounded
    # over any dump, and a forgotten thread only costs its text one more embedding.
    REMEMBERED = 100_000

    def __init__(self, workers: int, remembered: int = REMEMBERED) -> None:
        self.workers = workers
        self.remembered = remembered
        self.owner: dict[str, int] = {}

    def route(self, thread_id: str | None, load: list[int]) -> int:
        least = min(range(self.workers), key=load.__getitem__)
        if thread_id is None:
            return least
        owner = self.owner.pop(thread_id, None)  # re-inserted below: most recent last
        if owner is None or load[owner] > load[least] + self.SLACK:
            owner = least
        self.owner[thread_id] = owner
        if len(self.owner) > self.remembered:
            del self.owner[next(iter(self.owner))]
        return owner


class _Feed:
    """Reads lines, sends the valid ones to the workers in chunks (a chunk per worker,
    filled by `_Router`), and hands each comment on with its stateless findings in input
    order (invalid lines reported in their place)."""

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
        workers = len(pool.procs)
        self.chunks: list[list[_Line]] = [[] for _ in range(workers)]
        self.router = _Router(workers)
        self.seq = 0

    def items(self, lines: Iterable[RawLine | InputError]) -> Iterator[tuple[Comment, Thread | None, Prejudged]]:
        source = iter(lines)
        exhausted = False
        while True:
            while not exhausted and len(self.pending) < self.cap and not self._full():
                item = next(source, None)
                if item is None:
                    exhausted = True
                else:
                    self._read(item)
            # Everything goes out before this waits for a result (never for an unsent line).
            flush = exhausted or len(self.pending) >= self.cap
            sent = False
            for wid, chunk in enumerate(self.chunks):
                if chunk and (flush or len(chunk) >= CHUNK):
                    self.pool.send(wid, chunk)
                    self.chunks[wid] = []
                    sent = True
            if sent:
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
            load = [sent + len(chunk) for sent, chunk in zip(self.pool.outstanding, self.chunks, strict=True)]
            wid = self.router.route(record.thread_id, load)
            self.chunks[wid].append((self.seq, item.source, item.line, item.raw))
        self.seq += 1

    def _full(self) -> bool:
        return any(len(chunk) >= CHUNK for chunk in self.chunks)

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
            packed: Packed = message[2]
            self.pool.outstanding[wid] -= len(packed.seqs)
            self.results.update(packed.unpack())
        elif kind == "done":
            self.pool.done.add(wid)
        elif kind == "failed":
            self.pool.done.add(wid)
            if message[3] is not None:
                from modrules.rules import RulesetError

                raise RulesetError(message[3])
            raise WorkerError(f"worker {wid} failed:\n{message[2]}")
