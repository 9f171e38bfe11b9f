"""The shared store: one Redis server for several processes or machines.

Accounts are JSON strings updated with WATCH/MULTI (optimistic: a concurrent writer makes
EXEC fail and the change is re-run on the fresh account). The window lives in sorted sets
scored by time in microseconds: one per LSH band, per author and per author-in-thread,
plus one of everything for pruning. Every key starts with a configurable prefix
(`redis://host:port/0?prefix=modrules:`), so several deployments can share a server."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import ValidationError

from modrules.store.base import (
    Account,
    AccountChange,
    AccountStatus,
    AuditEvent,
    RecentComment,
    ReviewItem,
    ReviewStatus,
    Store,
    StoreError,
    apply_change,
    decided,
    from_us,
    review_event,
    to_us,
)

try:
    import redis
    from redis.exceptions import RedisError, WatchError
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise StoreError(
        "the Redis store needs the redis package: pip install 'modrules[redis]'"
    ) from exc

DEFAULT_PREFIX = "modrules:"
_MAX_RETRIES = 10_000  # optimistic retries before giving up on a hot key
_CHUNK = 1000


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


class RedisStore(Store):
    def __init__(self, client: redis.Redis, prefix: str = DEFAULT_PREFIX) -> None:
        # Any: redis-py annotates replies as bytes | str | …; this client decodes to str.
        self._r: Any = client
        self.prefix = prefix
        try:
            self._r.ping()
        except RedisError as exc:
            raise StoreError(f"cannot reach Redis store: {exc}") from exc

    @classmethod
    def from_url(cls, url: str) -> RedisStore:
        """`redis://host:port/db?prefix=…` (other query options go to redis-py)."""
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        prefix = query.pop("prefix", DEFAULT_PREFIX)
        plain = urlunsplit(parts._replace(query=urlencode(query)))
        try:
            client = redis.Redis.from_url(plain, decode_responses=True, socket_timeout=30)
        except (ValueError, RedisError) as exc:
            raise StoreError(f"bad Redis URL {url!r}: {exc}") from exc
        return cls(client, prefix)

    def close(self) -> None:
        self._r.close()

    # Keys: authors, threads and bands are length-prefixed so no id can forge another's key.
    def _k(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def _account_key(self, author_id: str) -> str:
        return self._k("account", author_id)

    def _audit_key(self, author_id: str | None) -> str:
        return self._k("audit") if author_id is None else self._k("audit-of", author_id)

    def _band_key(self, band: str) -> str:
        return self._k("band", band)

    def _author_key(self, author_id: str, thread_id: str | None = None) -> str:
        if thread_id is None:
            return self._k("by-author", f"{len(author_id)}", author_id)
        return self._k("by-author-thread", f"{len(author_id)}", author_id, thread_id)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except RedisError as exc:
            raise StoreError(f"Redis store: {exc}") from exc

    def _optimistic(self, attempt: Any) -> Any:
        """Run `attempt(pipe)` until its EXEC is not beaten by a concurrent writer."""
        with self._errors():
            for tries in range(_MAX_RETRIES):
                with self._r.pipeline(transaction=True) as pipe:
                    try:
                        return attempt(pipe)
                    except WatchError:
                        # Jitter so two hot writers do not collide in lockstep.
                        time.sleep(random.uniform(0, 0.001 * min(tries + 1, 20)))
            raise StoreError("Redis store: too many concurrent writers on one key")

    # --- accounts and the audit log -------------------------------------------------
    def get_account(self, author_id: str) -> Account:
        with self._errors():
            data = self._r.get(self._account_key(author_id))
        return self._account(data) if data else Account(author_id=author_id)

    def update_account(self, author_id: str, change: AccountChange) -> Account:
        key = self._account_key(author_id)

        def attempt(pipe: Any) -> Account:
            pipe.watch(key)
            data = pipe.get(key)
            current = self._account(data) if data else Account(author_id=author_id)
            result = apply_change(current, change)
            if result is None:
                pipe.unwatch()
                return current
            new, events = result
            seqs = [self._r.incr(self._k("seq")) for _ in events]
            pipe.multi()
            pipe.set(key, new.model_dump_json())
            pipe.sadd(self._k("accounts"), author_id)
            self._log(pipe, events, seqs)
            pipe.execute()
            return new

        account: Account = self._optimistic(attempt)
        return account

    def accounts(self, status: AccountStatus | None = None) -> list[Account]:
        with self._errors():
            ids = sorted(self._r.smembers(self._k("accounts")))
            found: list[Account] = []
            for chunk in _chunks(ids):
                for data in self._r.mget([self._account_key(i) for i in chunk]):
                    if data:
                        found.append(self._account(data))
        return [a for a in found if status is None or a.status == status]

    def audit_log(self, author_id: str | None = None, limit: int | None = None) -> list[AuditEvent]:
        key = self._audit_key(author_id)
        with self._errors():
            if limit is None:
                members = self._r.zrange(key, 0, -1)
            else:
                members = (
                    self._r.zrange(key, 0, max(limit, 0) - 1, desc=True)[::-1] if limit > 0 else []
                )
        # Members are "<seq, zero-padded>|<json>": equal times sort in logging order.
        return [AuditEvent.model_validate_json(m.split("|", 1)[1]) for m in members]

    def _log(self, pipe: Any, events: Sequence[AuditEvent], seqs: Sequence[int]) -> None:
        for event, seq in zip(events, seqs, strict=True):
            member = f"{seq:020d}|{event.model_dump_json()}"
            score = to_us(event.at)
            pipe.zadd(self._audit_key(None), {member: score})
            pipe.zadd(self._audit_key(event.author_id), {member: score})

    def _account(self, data: str) -> Account:
        try:
            return Account.model_validate_json(data)
        except ValidationError as exc:
            raise StoreError(f"Redis store: unreadable account: {exc}") from exc

    # --- the review queue ------------------------------------------------------------
    # Each item is a JSON string {"seq": n, "item": …}; sorted sets per status (and one of
    # all) hold "<seq>|<comment id>" scored by queue time.
    def _review_key(self, comment_id: str) -> str:
        return self._k("review", comment_id)

    def _queue_key(self, status: ReviewStatus | None) -> str:
        return self._k("reviews", status or "all")

    def enqueue_review(self, item: ReviewItem) -> None:
        key = self._review_key(item.comment.id)

        def attempt(pipe: Any) -> None:
            pipe.watch(key)
            old = pipe.get(key)
            seq = self._r.incr(self._k("seq"))
            pipe.multi()
            if old:
                self._unqueue(pipe, item.comment.id, json.loads(old))
            self._put_review(pipe, seq, item)
            pipe.execute()

        self._optimistic(attempt)

    def _put_review(self, pipe: Any, seq: int, item: ReviewItem) -> None:
        stored = {"seq": seq, "item": item.model_dump(mode="json")}
        pipe.set(self._review_key(item.comment.id), json.dumps(stored))
        member = f"{seq:020d}|{item.comment.id}"
        score = to_us(item.queued_at)
        pipe.zadd(self._queue_key(item.status), {member: score})
        pipe.zadd(self._queue_key(None), {member: score})

    def _unqueue(self, pipe: Any, comment_id: str, stored: dict[str, Any]) -> None:
        member = f"{stored['seq']:020d}|{comment_id}"
        pipe.zrem(self._queue_key(stored["item"]["status"]), member)
        pipe.zrem(self._queue_key(None), member)

    def review_queue(
        self, status: ReviewStatus | None = "pending", limit: int = 100
    ) -> list[ReviewItem]:
        if limit <= 0:
            return []
        with self._errors():
            members = self._r.zrange(self._queue_key(status), 0, limit - 1)
            ids = [m.split("|", 1)[1] for m in members]
            found = self._r.mget([self._review_key(i) for i in ids]) if ids else []
        return [ReviewItem.model_validate(json.loads(d)["item"]) for d in found if d]

    def get_review(self, comment_id: str) -> ReviewItem | None:
        with self._errors():
            data = self._r.get(self._review_key(comment_id))
        return ReviewItem.model_validate(json.loads(data)["item"]) if data else None

    def decide_review(
        self, comment_id: str, status: ReviewStatus, actor: str, at: datetime, note: str = ""
    ) -> ReviewItem:
        key = self._review_key(comment_id)

        def attempt(pipe: Any) -> ReviewItem:
            pipe.watch(key)
            data = pipe.get(key)
            if not data:
                pipe.unwatch()
                raise KeyError(comment_id)
            stored = json.loads(data)
            item = decided(ReviewItem.model_validate(stored["item"]), status, actor, at, note)
            event = review_event(item)
            seqs = [self._r.incr(self._k("seq"))] if event else []
            pipe.multi()
            self._unqueue(pipe, comment_id, stored)
            self._put_review(pipe, stored["seq"], item)
            if event is not None:
                self._log(pipe, [event], seqs)
            pipe.execute()
            return item

        item: ReviewItem = self._optimistic(attempt)
        return item

    # --- the recent-comment window ---------------------------------------------------
    def add_recent(self, items: Iterable[RecentComment]) -> None:
        batch = {item.comment_id: item for item in items}  # the last of a repeated id wins
        if not batch:
            return
        ids = list(batch)
        with self._errors():
            old = self._load_recent(ids)
            with self._r.pipeline(transaction=True) as pipe:
                self._unindex(pipe, old)
                entries: dict[str, str] = {}
                for item in batch.values():
                    at = to_us(item.at)
                    entries[item.comment_id] = json.dumps(
                        [
                            item.comment_id,
                            item.author_id,
                            item.thread_id,
                            at,
                            item.bands,
                            item.signature,
                            item.incoherence,
                        ]
                    )
                    for key in self._index_keys(item):
                        pipe.zadd(key, {item.comment_id: at})
                pipe.hset(self._k("recent"), mapping=entries)
                pipe.execute()

    def _index_keys(self, item: RecentComment) -> list[str]:
        keys = [self._k("recent-at")]
        keys.extend(self._band_key(b) for b in set(item.bands))
        if item.author_id is not None:
            keys.append(self._author_key(item.author_id))
            if item.thread_id is not None:
                keys.append(self._author_key(item.author_id, item.thread_id))
        return keys

    def _unindex(self, pipe: Any, old: Sequence[RecentComment]) -> None:
        for item in old:
            for key in self._index_keys(item):
                pipe.zrem(key, item.comment_id)

    def _load_recent(self, ids: Sequence[str]) -> list[RecentComment]:
        found: list[RecentComment] = []
        for chunk in _chunks(ids):
            for data in self._r.hmget(self._k("recent"), list(chunk)):
                if data:
                    found.append(self._recent(data))
        return found

    def _members_since(self, keys: Sequence[str], since: datetime) -> list[RecentComment]:
        since_us = to_us(since)
        with self._errors():
            with self._r.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.zrangebyscore(key, since_us, "+inf")
                results = pipe.execute()
            ids = list(dict.fromkeys(cid for members in results for cid in members))
            found = self._load_recent(ids)
        # An index entry can outlive a replaced comment for a moment; trust the entry.
        return sorted(
            (r for r in found if to_us(r.at) >= since_us), key=lambda r: (r.at, r.comment_id)
        )

    def recent_by_bands(self, bands: Iterable[str], since: datetime) -> list[RecentComment]:
        return self._members_since([self._band_key(b) for b in dict.fromkeys(bands)], since)

    def recent_by_author(
        self, author_id: str, since: datetime, thread_id: str | None = None
    ) -> list[RecentComment]:
        return self._members_since([self._author_key(author_id, thread_id)], since)

    def recent_since(self, since: datetime) -> list[RecentComment]:
        return self._members_since([self._k("recent-at")], since)

    def prune_recent(self, before: datetime) -> int:
        with self._errors():
            ids = self._r.zrangebyscore(self._k("recent-at"), "-inf", f"({to_us(before)}")
            old = self._load_recent(ids)
            for chunk_start in range(0, len(old), _CHUNK):
                chunk = old[chunk_start : chunk_start + _CHUNK]
                with self._r.pipeline(transaction=True) as pipe:
                    self._unindex(pipe, chunk)
                    pipe.hdel(self._k("recent"), *[r.comment_id for r in chunk])
                    pipe.execute()
            # Index members whose entry was already gone.
            self._r.zremrangebyscore(self._k("recent-at"), "-inf", f"({to_us(before)}")
        return len(old)

    @staticmethod
    def _recent(data: str) -> RecentComment:
        cid, author, thread, at, bands, signature, incoherence = json.loads(data)
        return RecentComment.model_construct(
            comment_id=cid,
            author_id=author,
            thread_id=thread,
            at=from_us(at),
            bands=tuple(bands),
            signature=tuple(signature),
            incoherence=incoherence,
        )
