"""Moderation state: accounts, strikes, the audit log, the review queue and the
recent-comment window, behind one `Store` interface.

`open_store(url)` picks the implementation from a URL:

- ``memory`` — in this process only (the default; nothing persists);
- ``sqlite:///path/to/state.db`` (or a bare path ending ``.db``/``.sqlite``/``.sqlite3``)
  — the embedded default for persistent state, safe for several processes;
- ``redis://host:port/db?prefix=modrules:`` — shared by processes or machines
  (needs the ``modrules[redis]`` extra).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from modrules.store.base import (
    Account,
    AccountChange,
    AccountStatus,
    AuditEvent,
    AuditKind,
    RecentComment,
    ReviewItem,
    ReviewStatus,
    Store,
    StoreError,
    Strike,
)
from modrules.store.memory import MemoryStore

__all__ = [
    "Account",
    "AccountChange",
    "AccountStatus",
    "AuditEvent",
    "AuditKind",
    "MemoryStore",
    "RecentComment",
    "ReviewItem",
    "ReviewStatus",
    "Store",
    "StoreError",
    "Strike",
    "open_store",
    "sqlite_path",
]

_SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def sqlite_path(url: str) -> str | None:
    """The database path a URL names if it is an SQLite one (`:memory:` allowed), else None."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if not path:
            raise StoreError(f"{url!r}: no database path after sqlite:///")
        # sqlite:////abs/path keeps its leading slash; sqlite:///rel/path is relative.
        return path
    if url.startswith("sqlite:"):
        raise StoreError(
            f"{url!r}: write SQLite URLs as sqlite:///relative.db or sqlite:////abs.db"
        )
    if "://" not in url and url.lower().endswith(_SQLITE_SUFFIXES):
        return url
    return None


def open_store(url: str) -> Store:
    """Open the store a URL names; StoreError for an unknown or unusable one."""
    url = url.strip()
    if url in ("memory", "memory://", "mem"):
        return MemoryStore()
    path = sqlite_path(url)
    if path is not None:
        from modrules.store.sqlite import SQLiteStore

        if path != ":memory:":
            parent = Path(path).expanduser().parent
            if not parent.is_dir():
                raise StoreError(f"{url!r}: directory {str(parent)!r} does not exist")
        return SQLiteStore(path)
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("redis", "rediss", "unix"):
        from modrules.store.redis import RedisStore

        return RedisStore.from_url(url)
    raise StoreError(
        f"unknown store {url!r}: use 'memory', 'sqlite:///PATH.db' (or a path ending .db) "
        "or 'redis://HOST:PORT/DB'"
    )
