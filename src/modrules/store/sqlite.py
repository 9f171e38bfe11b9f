"""The embedded store: one SQLite file, safe for several processes at once.

WAL lets readers run beside the one writer; every read-modify-write runs inside
`BEGIN IMMEDIATE` (the write lock is taken before reading, so two processes cannot both
read version n and both write n+1), and a busy timeout makes a second writer wait rather
than fail. Times are stored as integer microseconds since the epoch (UTC) so they sort
and index exactly."""

from __future__ import annotations

import json
import sqlite3
import struct
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from modrules.store.base import (
    Account,
    AccountChange,
    AccountStatus,
    AuditEvent,
    RecentComment,
    RecentRow,
    ReviewItem,
    ReviewStatus,
    Store,
    StoreError,
    apply_change,
    decided,
    from_us,
    review_event,
    signature_bytes,
    to_us,
)

SCHEMA_VERSION = 1
_CHUNK = 500  # ids per `IN (...)`: well under SQLite's bound-parameter limit

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    author_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS accounts_status ON accounts (status);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at_us INTEGER NOT NULL,
    author_id TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_author ON audit (author_id, at_us, seq);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at_us, seq);
CREATE TABLE IF NOT EXISTS reviews (
    comment_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    status TEXT NOT NULL,
    queued_us INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reviews_status ON reviews (status, queued_us, seq);
CREATE TABLE IF NOT EXISTS recent (
    comment_id TEXT PRIMARY KEY,
    author_id TEXT,
    thread_id TEXT,
    at_us INTEGER NOT NULL,
    bands TEXT NOT NULL,
    signature BLOB NOT NULL,  -- little-endian uint32s, or JSON text
    incoherence REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS recent_author ON recent (author_id, thread_id, at_us);
CREATE INDEX IF NOT EXISTS recent_at ON recent (at_us);
CREATE TABLE IF NOT EXISTS recent_bands (
    band TEXT NOT NULL,
    comment_id TEXT NOT NULL,
    at_us INTEGER NOT NULL,
    PRIMARY KEY (band, comment_id)
) WITHOUT ROWID;
"""


def _pack(signature: tuple[int, ...]) -> bytes | str:
    # A blob of little-endian uint32s (what MinHash signatures are): a quarter of the
    # JSON text, and no encoder. Other integers, which the interface allows, stay JSON.
    try:
        return signature_bytes(signature)
    except struct.error:
        return json.dumps(signature)


_Row = tuple[str, str | None, str | None, int, tuple[str, ...], bytes | str, float]
"""A `RecentRow` whose signature is what the `signature` column holds (see `_pack`)."""


def _band_list(bands: tuple[str, ...]) -> str:
    """`json.dumps(bands)`, without the encoder for what the window writes (a hex key
    or none): the text `prune_recent`'s json_each and `_recent` read back."""
    if not bands:
        return "[]"
    if len(bands) == 1 and bands[0].isalnum() and bands[0].isascii():
        return f'["{bands[0]}"]'
    return json.dumps(bands)


def _unpack(value: bytes | str) -> tuple[int, ...]:
    if isinstance(value, str):  # written as JSON text by an earlier version
        return tuple(json.loads(value))
    return struct.unpack(f"<{len(value) // 4}I", value)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


class SQLiteStore(Store):
    def __init__(self, path: str | Path, busy_timeout_s: float = 30.0) -> None:
        self.path = str(path)
        # One connection per store, used under a lock: threads may share the store.
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(
                self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
            )
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            if self.path != ":memory:":
                self._enable_wal()
            # NORMAL is durable across application crashes under WAL; only power loss
            # may drop the last transactions.
            self._db.execute("PRAGMA synchronous = NORMAL")
            # The window's indexes take rows in random key order: a page cache of 16 MB
            # (not SQLite's 2 MB) keeps their pages at hand, ~20% off each write.
            self._db.execute("PRAGMA cache_size = -16384")
            self._create_schema()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite store {self.path!r}: {exc}") from exc

    def _enable_wal(self) -> None:
        # Switching a new file to WAL takes an exclusive lock and does not wait on the busy
        # handler: processes opening one new file at once retry instead of failing.
        for attempt in range(100):
            try:
                self._db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 99:
                    raise
                time.sleep(0.02 + 0.01 * attempt)

    def _create_schema(self) -> None:
        # One script in one transaction: processes opening a new file at once agree.
        self._db.executescript(f"BEGIN IMMEDIATE;\n{_SCHEMA}\nCOMMIT;")
        with self._tx() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            elif int(row[0]) > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path!r} has schema version {row[0]}; this modrules knows up to "
                    f"{SCHEMA_VERSION} (upgrade modrules)"
                )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding SQLite's write lock from its first statement."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"SQLite store {self.path!r} is unavailable: {exc}") from exc
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise StoreError(f"SQLite store {self.path!r}: commit failed: {exc}") from exc

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"SQLite store {self.path!r}: {exc}") from exc

    # --- accounts and the audit log -------------------------------------------------
    def get_account(self, author_id: str) -> Account:
        rows = self._read("SELECT data FROM accounts WHERE author_id = ?", (author_id,))
        return self._account(rows[0][0]) if rows else Account(author_id=author_id)

    def update_account(self, author_id: str, change: AccountChange) -> Account:
        with self._tx() as db:
            row = db.execute(
                "SELECT data FROM accounts WHERE author_id = ?", (author_id,)
            ).fetchone()
            current = self._account(row[0]) if row else Account(author_id=author_id)
            result = apply_change(current, change)
            if result is None:
                return current
            new, events = result
            db.execute(
                "INSERT OR REPLACE INTO accounts (author_id, status, version, data) VALUES (?, ?, ?, ?)",
                (author_id, new.status.value, new.version, new.model_dump_json()),
            )
            self._log(db, events)
            return new

    def accounts(self, status: AccountStatus | None = None) -> list[Account]:
        if status is None:
            rows = self._read("SELECT data FROM accounts ORDER BY author_id")
        else:
            rows = self._read(
                "SELECT data FROM accounts WHERE status = ? ORDER BY author_id", (status.value,)
            )
        return [self._account(r[0]) for r in rows]

    def audit_log(self, author_id: str | None = None, limit: int | None = None) -> list[AuditEvent]:
        where = "WHERE author_id = ?" if author_id is not None else ""
        params: list[object] = [author_id] if author_id is not None else []
        if limit is None:
            sql = f"SELECT data FROM audit {where} ORDER BY at_us, seq"
        else:
            # The latest `limit`, returned oldest first.
            sql = (
                f"SELECT data FROM (SELECT data, at_us, seq FROM audit {where} "
                "ORDER BY at_us DESC, seq DESC LIMIT ?) ORDER BY at_us, seq"
            )
            params.append(max(limit, 0))
        return [AuditEvent.model_validate_json(r[0]) for r in self._read(sql, params)]

    def _account(self, data: str) -> Account:
        try:
            return Account.model_validate_json(data)
        except ValidationError as exc:
            raise StoreError(f"SQLite store {self.path!r}: unreadable account: {exc}") from exc

    @staticmethod
    def _log(db: sqlite3.Connection, events: Iterable[AuditEvent]) -> None:
        db.executemany(
            "INSERT INTO audit (at_us, author_id, data) VALUES (?, ?, ?)",
            [(to_us(e.at), e.author_id, e.model_dump_json()) for e in events],
        )

    # --- the review queue ------------------------------------------------------------
    def enqueue_review(self, item: ReviewItem) -> None:
        with self._tx() as db:
            (seq,) = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM reviews").fetchone()
            db.execute(
                "INSERT OR REPLACE INTO reviews (comment_id, seq, status, queued_us, data) "
                "VALUES (?, ?, ?, ?, ?)",
                (item.comment.id, seq, item.status, to_us(item.queued_at), item.model_dump_json()),
            )

    def review_queue(
        self, status: ReviewStatus | None = "pending", limit: int = 100
    ) -> list[ReviewItem]:
        where, params = ("WHERE status = ?", [status]) if status is not None else ("", [])
        rows = self._read(
            f"SELECT data FROM reviews {where} ORDER BY queued_us, seq LIMIT ?",
            [*params, max(limit, 0)],
        )
        return [ReviewItem.model_validate_json(r[0]) for r in rows]

    def get_review(self, comment_id: str) -> ReviewItem | None:
        rows = self._read("SELECT data FROM reviews WHERE comment_id = ?", (comment_id,))
        return ReviewItem.model_validate_json(rows[0][0]) if rows else None

    def decide_review(
        self, comment_id: str, status: ReviewStatus, actor: str, at: datetime, note: str = ""
    ) -> ReviewItem:
        with self._tx() as db:
            row = db.execute(
                "SELECT data FROM reviews WHERE comment_id = ?", (comment_id,)
            ).fetchone()
            if row is None:
                raise KeyError(comment_id)
            item = decided(ReviewItem.model_validate_json(row[0]), status, actor, at, note)
            db.execute(
                "UPDATE reviews SET status = ?, data = ? WHERE comment_id = ?",
                (item.status, item.model_dump_json(), comment_id),
            )
            event = review_event(item)
            if event is not None:
                self._log(db, [event])
            return item

    # --- the recent-comment window ---------------------------------------------------
    def add_recent(self, items: Iterable[RecentComment]) -> None:
        self._add_recent(
            (
                i.comment_id,
                i.author_id,
                i.thread_id,
                to_us(i.at),
                i.bands,
                _pack(i.signature),
                i.incoherence,
            )
            for i in items
        )

    def add_recent_rows(self, items: Iterable[RecentRow]) -> None:
        # The signature's bytes are the blob as stored: nothing to convert.
        self._add_recent(items)

    def _add_recent(self, items: Iterable[_Row]) -> None:
        batch = {item[0]: item for item in items}  # the last of a repeated id wins
        if not batch:
            return
        rows = []
        band_rows: list[tuple[str, str, int]] = []
        for comment_id, author_id, thread_id, at, bands, signature, score in batch.values():
            rows.append((comment_id, author_id, thread_id, at, _band_list(bands), signature, score))
            if bands:
                band_rows.extend((band, comment_id, at) for band in set(bands))
        with self._tx() as db:
            # New ids (nearly always all of them) go straight in; when some were already
            # remembered, they are forgotten (band rows too) and the batch written again.
            added = db.executemany(
                "INSERT OR IGNORE INTO recent VALUES (?, ?, ?, ?, ?, ?, ?)", rows
            ).rowcount
            if added != len(rows):
                self._forget(db, list(batch))
                db.executemany("INSERT INTO recent VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            db.executemany("INSERT INTO recent_bands VALUES (?, ?, ?)", band_rows)

    def recent_by_bands(self, bands: Iterable[str], since: datetime) -> list[RecentComment]:
        keys = list(dict.fromkeys(bands))
        since_us = to_us(since)
        found: dict[str, RecentComment] = {}
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            rows = self._read(
                f"SELECT r.* FROM recent r WHERE r.comment_id IN (SELECT comment_id FROM recent_bands "
                f"WHERE band IN ({marks}) AND at_us >= ?)",
                [*chunk, since_us],
            )
            for row in rows:
                found[row[0]] = self._recent(row)
        return sorted(found.values(), key=lambda r: (r.at, r.comment_id))

    def recent_by_author(
        self, author_id: str, since: datetime, thread_id: str | None = None
    ) -> list[RecentComment]:
        if thread_id is None:
            rows = self._read(
                "SELECT * FROM recent WHERE author_id = ? AND at_us >= ? ORDER BY at_us, comment_id",
                (author_id, to_us(since)),
            )
        else:
            rows = self._read(
                "SELECT * FROM recent WHERE author_id = ? AND thread_id = ? AND at_us >= ? "
                "ORDER BY at_us, comment_id",
                (author_id, thread_id, to_us(since)),
            )
        return [self._recent(r) for r in rows]

    def recent_since(self, since: datetime) -> list[RecentComment]:
        rows = self._read(
            "SELECT * FROM recent WHERE at_us >= ? ORDER BY at_us, comment_id", (to_us(since),)
        )
        return [self._recent(r) for r in rows]

    def prune_recent(self, before: datetime) -> int:
        # One statement a table, inside SQLite: the band rows found by key from each old
        # comment's band list (a primary-key lookup each, whatever the window's size).
        before_us = to_us(before)
        with self._tx() as db:
            db.execute(
                "DELETE FROM recent_bands WHERE (band, comment_id) IN (SELECT j.value, "
                "r.comment_id FROM recent r, json_each(r.bands) j WHERE r.at_us < ?)",
                (before_us,),
            )
            return db.execute("DELETE FROM recent WHERE at_us < ?", (before_us,)).rowcount

    @staticmethod
    def _forget(db: sqlite3.Connection, ids: Sequence[str]) -> None:
        """Drop window entries (and their band rows) by comment id."""
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            old = db.execute(
                f"SELECT comment_id, bands FROM recent WHERE comment_id IN ({marks})", chunk
            ).fetchall()
            if not old:
                continue
            db.executemany(
                "DELETE FROM recent_bands WHERE band = ? AND comment_id = ?",
                [(band, cid) for cid, bands in old for band in set(json.loads(bands))],
            )
            db.executemany("DELETE FROM recent WHERE comment_id = ?", [(cid,) for cid, _ in old])

    @staticmethod
    def _recent(row: Sequence[Any]) -> RecentComment:
        # Rows were validated on the way in; constructing without re-validation keeps
        # window queries cheap (they run for every comment).
        return RecentComment.model_construct(
            comment_id=row[0],
            author_id=row[1],
            thread_id=row[2],
            at=from_us(row[3]),
            bands=tuple(json.loads(row[4])),
            signature=_unpack(row[5]),
            incoherence=row[6],
        )
