"""`modrules check --workers N`: judge in N processes, write in input order.

The reading process only routes lines: each goes, unparsed, to the worker that owns it
— by a stable hash of `author_id` (the default) or of `thread_id` (then the other one, then
the position, when a line has neither) — so one author's (or thread's) comments are
judged in input order by one Moderator. Each worker builds its Moderator once (ML models
load once per worker, on one thread each), parses and judges its lines, and sends back
verdict lines tagged with their input position; the reader writes them in input order.

What is exactly the single-process output: every stateless rule; and every piece of state
one worker owns whole. By author that is the account ledger (strikes, warn, block — with
any store), flooding (one author in one thread) and one author repeating the same text;
by thread it is per-thread checks only, and an author's strikes are split over workers
(shared through `--store sqlite:///…`/`redis://…`, in the order workers reach them). A
flash mob — several *different* authors — is found among the comments one worker sees.

Memory is bounded: at most `max_in_flight` lines are read but not yet written. A worker
whose Moderator holds verdicts back until a stateful window closes (retroactive flash-mob
revisions) needs later comments of its own to release them; if the cap is reached while
the next verdict to write sits in such a worker and that worker has nothing left to read,
it is told to flush (its held verdicts are final as of then, and a note is printed).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import sys
import traceback
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.context import SpawnProcess
from multiprocessing.queues import Queue
from typing import Any

import orjson

from modrules.model import Comment, InputError
from modrules.runner import CheckOptions, JudgedLine, ModeratorSpec, RawLine

CHUNK = 256  # lines per message each way: fewer, larger pickles
FLUSH = "flush"
_SINGLE_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MODRULES_ML_THREADS")

# Messages from a worker: ("results", wid, [(seq, line | None, error | None), ...]),
# ("idle", wid, last seq read), ("done", wid), ("failed", wid, text, rule issues | None).
Item = tuple[int, JudgedLine | None, InputError | None]


class WorkerError(RuntimeError):
    """A worker process failed or died."""


def partition(raw: bytes, seq: int, workers: int, by: str = "author") -> int:
    """The worker (or shard) for a line: by author (or thread), else the other one, else
    position — a stable hash, the same on every run and machine."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return seq % workers  # an error record either way; any worker reports it
    if not isinstance(data, dict):
        return seq % workers
    for key in ("author_id", "thread_id") if by == "author" else ("thread_id", "author_id"):
        value = data.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return zlib.crc32(f"{key}:{value}".encode()) % workers
    return seq % workers


# --- the worker -------------------------------------------------------------------------


def _worker_main(
    wid: int, spec_json: str, threads_file: str | None, inbox: Queue[Any], outbox: Queue[Any]
) -> None:
    try:
        _one_thread_each()
        from modrules.dumps import read_threads
        from modrules.rules import RulesetError

        try:
            moderator = ModeratorSpec.model_validate_json(spec_json).build()
        except RulesetError as exc:
            outbox.put(("failed", wid, str(exc), exc.issues))
            return
        _one_thread_each()  # torch may have been imported by the build
        threads, _ = read_threads(threads_file)  # the reader reports its errors
        with moderator:  # flushes the window and closes the store at the end
            _Worker(wid, moderator, threads, inbox, outbox).run()
        outbox.put(("done", wid))
    except BaseException:  # noqa: BLE001 - everything goes back to the reader, which raises
        outbox.put(("failed", wid, traceback.format_exc(), None))


def _one_thread_each() -> None:
    """N workers on N cores: no library may start a thread pool of its own."""
    for name in _SINGLE_THREAD_ENV:
        os.environ[name] = "1"
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(1)


class _Worker:
    def __init__(
        self, wid: int, moderator: Any, threads: dict[str, Any], inbox: Queue[Any], outbox: Queue[Any]
    ) -> None:
        self.wid, self.moderator, self.threads = wid, moderator, threads
        self.inbox, self.outbox = inbox, outbox
        self.pending: deque[int] = deque()  # seqs given to moderate_many, not yet judged
        self.out: list[Item] = []
        self.last_read = -1
        self.finished = False

    def run(self) -> None:
        while not self.finished:
            # A flush ends one moderate_many (releasing what it held) and starts the next.
            for verdict in self.moderator.moderate_many(self._feed(), threads=self.threads):
                self.out.append((self.pending.popleft(), JudgedLine.of(verdict), None))
                if len(self.out) >= CHUNK:
                    self._send()
        self._send()

    def _send(self) -> None:
        if self.out:
            self.outbox.put(("results", self.wid, self.out))
            self.out = []

    def _feed(self) -> Iterator[Comment]:
        while True:
            if self.inbox.empty():
                # About to wait: whatever is judged must reach the reader first, and the
                # reader must know this worker holds verdicts only because input stopped.
                self._send()
                if self.pending:
                    self.outbox.put(("idle", self.wid, self.last_read))
            message = self.inbox.get()
            if message is None:
                self.finished = True
                return
            if message == FLUSH:
                return
            for seq, line in message:
                self.last_read = seq
                record = line.parse()
                if isinstance(record, InputError):
                    self.out.append((seq, None, record))
                else:
                    self.pending.append(seq)
                    yield record


# --- the reader -------------------------------------------------------------------------


@dataclass
class _Pool:
    procs: list[SpawnProcess]
    inboxes: list[Queue[Any]]
    outbox: Queue[Any]
    chunks: list[list[tuple[int, RawLine]]] = field(default_factory=list)
    last_sent: list[int] = field(default_factory=list)  # last seq routed to each worker
    idle_at: list[int] = field(default_factory=list)  # last seq a waiting worker had read
    done: set[int] = field(default_factory=set)

    def send(self, wid: int) -> None:
        if self.chunks[wid]:
            self.inboxes[wid].put(self.chunks[wid])
            self.chunks[wid] = []

    def send_all(self) -> None:
        for wid in range(len(self.procs)):
            self.send(wid)

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
    pool = _Pool(procs, inboxes, outbox)
    pool.chunks = [[] for _ in procs]
    pool.last_sent = [-1] * len(procs)
    pool.idle_at = [-1] * len(procs)
    try:
        yield pool
    finally:
        for proc in procs:
            if proc.is_alive() and proc.pid is not None and len(pool.done) < len(procs):
                proc.terminate()
        for proc in procs:
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
    """Judged lines in input order, from `options.workers` worker processes."""
    from modrules.dumps import read_threads

    _, thread_errors = read_threads(options.threads_file)
    for error in thread_errors:
        on_error(error)
    with _started(options) as pool:
        yield from _Reorder(pool, options.max_in_flight, options.partition_by, on_error).run(lines)


class _Reorder:
    """Routes lines to workers and writes results back in input order."""

    def __init__(
        self, pool: _Pool, cap: int, by: str, on_error: Callable[[InputError], None]
    ) -> None:
        self.pool, self.cap, self.by, self.on_error = pool, cap, by, on_error
        self.workers = len(pool.procs)
        self.next_seq = 0  # the next line to hand out
        self.head = 0  # the next line to write
        self.owner: deque[int] = deque()  # worker of each line from head on
        self.results: dict[int, Item] = {}
        self.flushed_at = -1
        self.warned = False

    def run(self, lines: Iterable[RawLine | InputError]) -> Iterator[JudgedLine]:
        pool = self.pool
        for item in lines:
            if isinstance(item, InputError):
                # A read error (truncated gzip) has no line to judge: it keeps its place.
                self.owner.append(-1)
                self.results[self.next_seq] = (self.next_seq, None, item)
                self.next_seq += 1
            else:
                wid = partition(item.raw, self.next_seq, self.workers, self.by)
                pool.chunks[wid].append((self.next_seq, item))
                pool.last_sent[wid] = self.next_seq
                self.owner.append(wid)
                self.next_seq += 1
                if len(pool.chunks[wid]) >= CHUNK:
                    pool.send(wid)
            yield from self._ready()
            while self.next_seq - self.head >= self.cap:
                yield from self._wait()
        pool.send_all()
        for inbox in pool.inboxes:
            inbox.put(None)
        while len(pool.done) < self.workers or self.head < self.next_seq:
            yield from self._wait(ending=True)

    def _ready(self) -> Iterator[JudgedLine]:
        """Write every result that is next in order."""
        while self.head in self.results:
            _, line, error = self.results.pop(self.head)
            self.owner.popleft()
            self.head += 1
            if error is not None:
                self.on_error(error)
            if line is not None:
                yield line

    def _wait(self, ending: bool = False) -> Iterator[JudgedLine]:
        pool = self.pool
        pool.send_all()  # a worker may be waiting for a part-filled chunk
        message = pool.receive()
        kind, wid = message[0], message[1]
        if kind == "results":
            for item in message[2]:
                self.results[item[0]] = item
        elif kind == "idle":
            pool.idle_at[wid] = message[2]
        elif kind == "done":
            pool.done.add(wid)
        elif kind == "failed":
            pool.done.add(wid)
            if message[3] is not None:
                from modrules.rules import RulesetError

                raise RulesetError(message[3])
            raise WorkerError(f"worker {wid} failed:\n{message[2]}")
        yield from self._ready()
        if not ending:
            self._unstick()

    def _unstick(self) -> None:
        """At the cap, the next line to write may sit in a worker that holds verdicts until
        later comments of its own arrive; if it has read all it was given, flush it."""
        if self.next_seq - self.head < self.cap or self.head in self.results or not self.owner:
            return
        wid = self.owner[0]
        if wid < 0 or self.pool.idle_at[wid] != self.pool.last_sent[wid] or self.flushed_at == self.head:
            return
        self.flushed_at = self.head
        if not self.warned:
            self.warned = True
            print(
                f"note: more than {self.cap:,} comments were held for stateful windows; "
                "workers flushed early (raise --max-in-flight to keep every revision)",
                file=sys.stderr,
            )
        self.pool.inboxes[wid].put(FLUSH)
