"""The recent-comment window the stateful checks (repetition, rate) look back over.

An in-process index answers every query: remembered comments are rows of numpy arrays
(signature, time, author, thread, incoherence), found through LSH band buckets or by
author (and thread), then filtered and compared a whole candidate list at a time, so a
check costs microseconds even with tens of thousands of comments remembered. New
entries go to the Store in batches (one transaction per `flush_every` comments), and a
new window warms itself from the store, so state carries across runs and a replayed
dump gives the same result.

Time is the comments' `created_at` (seconds since the epoch here), never the wall
clock. The window's clock is the latest `created_at` seen; entries older than the clock
minus the horizon are forgotten. A comment is compared with remembered comments within
the check's window of its *own* time, before or after it, so input out of order is
judged the same as long as what it needs is still remembered (late by more than the
horizon: it sees only what is left).
"""

from __future__ import annotations

import heapq
import struct
from array import array
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np

from modrules.checkers.base import CompileContext, Document, Predicate
from modrules.fingerprint import (
    BANDS,
    NUM_PERM,
    Fingerprint,
    agreements,
    band_keys,
    fingerprint,
    fingerprints,
)
from modrules.store.base import RecentComment, RecentRow, Store, to_us
from modrules.store.memory import MemoryStore

K = TypeVar("K")
ENTRY = "window.entry"
RELATED = "window.related"
Rows = np.ndarray  # row numbers (np.intp) of remembered entries


@dataclass(slots=True, eq=False)
class Entry:
    comment_id: str
    author_id: str
    thread_id: str | None
    at: float
    signature: np.ndarray
    # LSH band keys packed as uint64s (see `keys`): a tuple of 16 Python ints would
    # cost five times the memory, and a window keeps every entry.
    bands: bytes
    incoherence: float
    informative: bool
    # `at` as the store keeps it (integer microseconds), when known exactly: converting
    # back from the float cost more than the write.
    at_us: int | None = None


_FIRST_KEY = struct.Struct("<Q")


def pack_keys(bands: tuple[int, ...]) -> bytes:
    return struct.pack(f"<{len(bands)}Q", *bands)


_KEYS = struct.Struct(f"<{BANDS}Q")


def keys(bands: bytes) -> tuple[int, ...]:
    """The band keys of an entry, as the index's dict keys."""
    if len(bands) == _KEYS.size:
        return _KEYS.unpack(bands)
    return struct.unpack(f"<{len(bands) // 8}Q", bands)


def epoch(at: datetime) -> float:
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).timestamp()


class RecentWindow:
    """Remembered comments of the last `horizon` seconds, indexed for the checks."""

    def __init__(
        self,
        store: Store | None,
        horizon: float,
        flush_every: int = 5000,
        max_entries: int = 500_000,
        max_candidates: int = 256,
    ) -> None:
        # A memory store lives and dies with this process, as this window does: there
        # is nothing to write to it or warm up from.
        self.store = None if isinstance(store, MemoryStore) else store
        self.horizon = horizon
        self.flush_every = flush_every
        self.max_entries = max_entries
        self.max_candidates = max_candidates
        self.clock = float("-inf")
        self._rows: dict[str, int] = {}  # comment id → row
        self._entries: list[Entry | None] = []  # row → entry (None: a free row)
        self._free: list[int] = []
        capacity = 1024
        self.signature = np.zeros((capacity, NUM_PERM), dtype=np.uint32)
        self.at = np.zeros(capacity)
        self.thread = np.zeros(capacity, dtype=np.int64)  # process-local hashes of ids
        self.author = np.zeros(capacity, dtype=np.int64)  # the same, of author ids
        self.ids = np.empty(capacity, dtype=object)  # comment ids: a mob's, in one call
        self.incoherence = np.zeros(capacity)
        self.informative = np.zeros(capacity, dtype=bool)
        # Band key → rows, oldest first: a bare row while a bucket holds one (most do: a
        # window of 50,000 comments has 800,000 bucket entries), else an array of int64:
        # ordered, unlike a set, and gathered for numpy by memory copies (a list of
        # Python ints took a conversion per row).
        self._by_band: dict[int, int | array[int]] = {}
        self._by_author: dict[str, dict[int, None]] = {}
        self._by_thread: dict[tuple[str, str | None], dict[int, None]] = {}
        self._by_time: list[tuple[float, int, int]] = []  # (at, serial, row)
        self._serials = np.zeros(capacity, dtype=np.int64)
        self._serial = 0
        self._pending: list[Entry] = []  # not yet written to the store
        self._warm = self.store is None

    def __len__(self) -> int:
        return len(self._rows)

    def use_store(self, store: Store | None) -> None:
        """Write to (and warm up from) `store` from now on."""
        self.flush()
        self.store = None if isinstance(store, MemoryStore) else store
        self._warm = self.store is None

    # --- entries -----------------------------------------------------------------
    def entry(self, doc: Document) -> Entry | None:
        """The comment as the window remembers it (None without author or time)."""
        comment = doc.comment
        if comment.author_id is None or comment.created_at is None:
            return None
        return doc.signal(ENTRY, _make_entry)

    def add(self, entry: Entry) -> None:
        """Remember a judged comment (and queue it for the store)."""
        self._warm_up(entry.at)
        self._insert(entry)
        if self.store is not None:
            self._pending.append(entry)
            if len(self._pending) >= self.flush_every:
                self.flush()
        self.clock = max(self.clock, entry.at)
        self._prune()

    def flush(self) -> None:
        """Write queued entries to the store and let it forget what has left the window."""
        if self.store is None or not self._pending:
            return
        items, self._pending = self._pending, []
        # One conversion for the batch's signatures (per entry, numpy's call overhead was
        # most of the cost), to the bytes a store keeps.
        data = np.stack([e.signature for e in items]).astype("<u4", copy=False).tobytes()
        size = NUM_PERM * 4
        self.store.add_recent_rows(
            [_to_row(e, data[i * size : (i + 1) * size]) for i, e in enumerate(items)]
        )
        self.store.prune_recent(datetime.fromtimestamp(self.clock - self.horizon, UTC))

    # --- queries -----------------------------------------------------------------
    def near(self, entry: Entry, window: float, thread_only: bool, at_least: int = 1) -> Rows:
        """Rows sharing an LSH band with `entry`, within `window` seconds of it (in its
        thread, if asked); its own row excluded. When fewer than `at_least` rows share a
        band at all, whenever posted, it may return none (a caller needing that many has
        no use for them)."""
        self._warm_up(entry.at)
        cap = self.max_candidates
        # A huge bucket (a mob of thousands): its latest entries are enough, and once
        # twice `cap` rows are gathered the other bands would mostly repeat them.
        gathered = array("q")
        for bucket in map(self._by_band.get, keys(entry.bands)):
            if bucket is None:
                continue
            if isinstance(bucket, int):
                gathered.append(bucket)
            else:
                gathered += bucket if len(bucket) <= cap else bucket[-cap:]  # copied in C
            if len(gathered) >= 2 * cap:
                break
        total = len(gathered)  # counting repeats: at least the distinct rows
        if total == 0 or total < at_least:
            return np.zeros(0, dtype=np.intp)
        found = np.frombuffer(gathered, dtype=np.int64)
        found.sort()  # np.unique by hand: its wrapper costs more than the work here
        if total > 1:
            first = np.empty(total, dtype=bool)
            first[0] = True
            np.not_equal(found[1:], found[:-1], out=first[1:])
            found = found[first]
        rows = self._within(found, entry, window, thread_only, self._rows.get(entry.comment_id))
        if len(rows) > cap:  # the ones nearest in time
            rows = rows[np.argsort(np.abs(self.at[rows] - entry.at), kind="stable")[:cap]]
        return rows

    def by_author(self, entry: Entry, window: float, thread_only: bool) -> Rows:
        """Rows of the same author within `window` seconds (in its thread, if asked)."""
        self._warm_up(entry.at)
        if thread_only:
            members = self._by_thread.get((entry.author_id, entry.thread_id))
        else:
            members = self._by_author.get(entry.author_id)
        if not members:
            return np.zeros(0, dtype=np.intp)
        return self._within(
            np.fromiter(members, dtype=np.intp, count=len(members)),
            entry,
            window,
            False,
            self._rows.get(entry.comment_id),
        )

    def author_rows_at_most(self, entry: Entry, thread_only: bool) -> int:
        """An upper bound of `len(by_author(...))`, without numpy: the author's remembered
        comments (in its thread, if asked), whenever posted."""
        self._warm_up(entry.at)
        if thread_only:
            members = self._by_thread.get((entry.author_id, entry.thread_id))
        else:
            members = self._by_author.get(entry.author_id)
        return len(members) if members else 0

    def similarity(self, entry: Entry, rows: Rows) -> np.ndarray:
        """Estimated Jaccard similarity of `entry` to each row."""
        similar: np.ndarray = self.agreements(entry, rows) / NUM_PERM
        return similar

    def agreements(self, entry: Entry, rows: Rows) -> np.ndarray:
        """How many of the NUM_PERM signature values of each row equal `entry`'s (the
        similarity times NUM_PERM, exactly)."""
        same: np.ndarray = agreements(self.signature.take(rows, axis=0) == entry.signature)
        return same

    def comment_ids(self, rows: Rows) -> list[str]:
        found: list[str] = self.ids[rows].tolist()
        return found

    def author_count(self, entry: Entry, rows: Rows) -> int:
        """Distinct authors of `entry` and the rows (by process-local hash)."""
        return len({hash(entry.author_id), *self.author[rows].tolist()})

    def entries(self, rows: Rows) -> list[Entry]:
        found = [self._entries[row] for row in rows.tolist()]
        return [e for e in found if e is not None]

    def _within(
        self, rows: Rows, entry: Entry, window: float, thread_only: bool, own: int | None
    ) -> Rows:
        """`rows` within `window` seconds of `entry` (in its thread, if asked), but `own`."""
        keep = np.abs(self.at.take(rows) - entry.at) <= window
        if thread_only:
            keep &= self.thread.take(rows) == hash(entry.thread_id)
        if own is not None:
            keep &= rows != own
        result: Rows = rows[keep]
        return result

    # --- internals ---------------------------------------------------------------
    def _warm_up(self, at: float) -> None:
        """Load the window before the first comment from the store, once."""
        if self._warm or self.store is None:
            return
        self._warm = True
        since = datetime.fromtimestamp(at - self.horizon, UTC)
        for item in self.store.recent_since(since):
            if item.author_id is not None and item.comment_id not in self._rows:
                self._insert(_from_recent(item))

    def _insert(self, entry: Entry) -> None:
        self._forget(entry.comment_id)
        row = self._free.pop() if self._free else self._grow()
        self._rows[entry.comment_id] = row
        self._entries[row] = entry
        self.signature[row] = entry.signature
        self.at[row] = entry.at
        self.thread[row] = hash(entry.thread_id)
        self.author[row] = hash(entry.author_id)
        self.ids[row] = entry.comment_id
        self.incoherence[row] = entry.incoherence
        self.informative[row] = entry.informative
        by_band = self._by_band
        for band in keys(entry.bands):
            # One look-up for a new key (most are): this row is the bucket.
            bucket = by_band.setdefault(band, row)
            if bucket is row:
                continue
            if isinstance(bucket, int):
                by_band[band] = array("q", (bucket, row))
            else:
                bucket.append(row)
        self._by_author.setdefault(entry.author_id, {})[row] = None
        self._by_thread.setdefault((entry.author_id, entry.thread_id), {})[row] = None
        self._serial += 1
        self._serials[row] = self._serial
        heapq.heappush(self._by_time, (entry.at, self._serial, row))

    def _grow(self) -> int:
        row = len(self._entries)
        self._entries.append(None)
        if row == len(self.at):
            size = 2 * row
            self.signature = _resized(self.signature, size)
            self.at = _resized(self.at, size)
            self.thread = _resized(self.thread, size)
            self.author = _resized(self.author, size)
            self.ids = _resized(self.ids, size)
            self.incoherence = _resized(self.incoherence, size)
            self.informative = _resized(self.informative, size)
            self._serials = _resized(self._serials, size)
        return row

    def _prune(self) -> None:
        cutoff = self.clock - self.horizon
        heap = self._by_time
        while heap and (heap[0][0] < cutoff or len(self._rows) > self.max_entries):
            _, serial, row = heapq.heappop(heap)
            entry = self._entries[row]
            if entry is not None and self._serials[row] == serial:
                self._forget(entry.comment_id)

    def _forget(self, comment_id: str) -> None:
        row = self._rows.pop(comment_id, None)
        if row is None:
            return
        entry = self._entries[row]
        assert entry is not None
        self._entries[row] = None
        self.ids[row] = None
        self._free.append(row)
        by_band = self._by_band
        for band in keys(entry.bands):
            bucket = by_band.get(band)
            if bucket is None:
                continue
            if isinstance(bucket, int):
                del by_band[band]
            else:
                bucket.remove(row)
                if len(bucket) == 1:
                    by_band[band] = bucket[0]
        _drop(self._by_author, entry.author_id, row)
        _drop(self._by_thread, (entry.author_id, entry.thread_id), row)


def _resized(array: np.ndarray, size: int) -> np.ndarray:
    grown = np.zeros((size, *array.shape[1:]), dtype=array.dtype)
    grown[: len(array)] = array
    return grown


def _drop(index: dict[K, dict[int, None]], key: K, row: int) -> None:
    members = index.get(key)
    if members is not None:
        members.pop(row, None)
        if not members:
            del index[key]


def related(doc: Document) -> set[str]:
    """Ids of earlier comments a stateful check found this one belongs with (a mob, a
    flood): the engine re-judges them, since they may only now be in violation."""
    found: set[str] = doc.signal(RELATED, _no_ids)
    return found


def _no_ids(_: Document) -> set[str]:
    return set()


# A comment's Fingerprint computed elsewhere (a `--workers` worker) and checked against
# its text by the engine: used as it is, not computed again.
FINGERPRINT = "window.fingerprint"


class WindowPreparer:
    """Fingerprints a batch of comments at once (one numpy pass for their signatures)
    before the stateful predicates look at them one by one."""

    def prepare(self, docs: list[Document]) -> None:
        todo = [
            d
            for d in docs
            if d.state is not None
            and d.comment.author_id is not None
            and d.comment.created_at is not None
        ]
        fresh = iter(fingerprints([d.text for d in todo if FINGERPRINT not in d._signals]))
        for doc in todo:
            fp = doc._signals[FINGERPRINT] if FINGERPRINT in doc._signals else next(fresh)
            doc.set_signal(ENTRY, _entry(doc, fp))


def _make_entry(doc: Document) -> Entry:
    return _entry(doc, fingerprint(doc.text))


def _entry(doc: Document, fp: Fingerprint) -> Entry:
    comment = doc.comment
    assert comment.author_id is not None and comment.created_at is not None
    at_us = to_us(comment.created_at)
    return Entry(
        comment_id=comment.id,
        author_id=comment.author_id,
        thread_id=comment.thread_id,
        at=at_us / 1_000_000,  # exactly `epoch(created_at)`: both divide the same integer
        at_us=at_us,
        signature=fp.signature,
        bands=pack_keys(fp.bands),
        incoherence=fp.incoherence,
        informative=fp.informative,
    )


def _to_row(entry: Entry, signature: bytes) -> RecentRow:
    # One band key per informative comment goes to the store: it marks the comment
    # informative and lets another process find exact copies, while the write stays
    # one row (or two) per comment; the window rebuilds every band from the signature.
    # A plain tuple, not a RecentComment: a model each costs more than the write.
    return (
        entry.comment_id,
        entry.author_id,
        entry.thread_id,
        to_us(datetime.fromtimestamp(entry.at, UTC)) if entry.at_us is None else entry.at_us,
        (format(_FIRST_KEY.unpack_from(entry.bands)[0], "x"),) if entry.bands else (),
        signature,
        entry.incoherence,
    )


def _from_recent(item: RecentComment) -> Entry:
    signature = np.array(item.signature, dtype=np.uint32)
    if signature.shape != (NUM_PERM,):  # written by another version: never similar
        signature = np.zeros(NUM_PERM, dtype=np.uint32)
    assert item.author_id is not None
    informative = bool(item.bands)  # only informative comments have band keys
    return Entry(
        comment_id=item.comment_id,
        author_id=item.author_id,
        thread_id=item.thread_id,
        at=epoch(item.at),
        at_us=to_us(item.at),
        signature=signature,
        bands=pack_keys(band_keys(signature[None, :])[0]) if informative else b"",
        incoherence=item.incoherence,
        informative=informative,
    )


class WindowPredicate(Predicate):
    """A predicate over the recent-comment window (`repetition`, `rate`): all of them share
    one WindowPreparer, and look back over their config's `window` (seconds)."""

    def __init__(self, config: Any, ctx: CompileContext) -> None:
        super().__init__(config, ctx)
        self._preparer = ctx.shared("window-preparer", WindowPreparer)

    def batch_preparer(self) -> WindowPreparer:
        return self._preparer

    def lookback(self) -> float:
        return float(self.config.window)

    @staticmethod
    def window_entry(doc: Document) -> tuple[RecentWindow, Entry] | None:
        """The window and this comment's entry in it (None: no window, or no author/time)."""
        window: RecentWindow | None = doc.state
        if window is None:
            return None
        entry = window.entry(doc)
        return None if entry is None else (window, entry)
