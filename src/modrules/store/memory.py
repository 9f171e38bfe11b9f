"""A store in this process's memory: for tests, one-off runs and the default `check`.

One lock guards everything, so threads sharing a MemoryStore never lose an update;
nothing is shared with other processes and nothing survives the process."""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterable
from datetime import datetime

from modrules.store.base import (
    Account,
    AccountChange,
    AccountStatus,
    AuditEvent,
    RecentComment,
    ReviewItem,
    ReviewStatus,
    Store,
    apply_change,
    copy_account,
    decided,
    review_event,
    utc,
)


class MemoryStore(Store):
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._accounts: dict[str, Account] = {}
        self._audit: list[tuple[datetime, int, AuditEvent]] = []
        self._seq = 0
        self._reviews: dict[str, tuple[int, ReviewItem]] = {}
        # The window: entries by comment id plus indexes by band and by author.
        self._recent: dict[str, RecentComment] = {}
        self._by_band: dict[str, dict[str, None]] = {}
        self._by_author: dict[str, dict[str, None]] = {}
        self._by_time: list[tuple[datetime, str]] = []  # a heap, for pruning oldest first

    # --- accounts and the audit log -------------------------------------------------
    def get_account(self, author_id: str) -> Account:
        with self._lock:
            account = self._accounts.get(author_id)
            return copy_account(account) if account else Account(author_id=author_id)

    def update_account(self, author_id: str, change: AccountChange) -> Account:
        with self._lock:
            current = self._accounts.get(author_id) or Account(author_id=author_id)
            result = apply_change(current, change)
            if result is None:
                return copy_account(current)
            new, events = result
            self._accounts[author_id] = new
            for event in events:
                self._log(event)
            return copy_account(new)

    def accounts(self, status: AccountStatus | None = None) -> list[Account]:
        with self._lock:
            found = [a for a in self._accounts.values() if status is None or a.status == status]
            return [copy_account(a) for a in sorted(found, key=lambda a: a.author_id)]

    def audit_log(self, author_id: str | None = None, limit: int | None = None) -> list[AuditEvent]:
        with self._lock:
            events = sorted(
                (e for e in self._audit if author_id is None or e[2].author_id == author_id),
                key=lambda e: (e[0], e[1]),
            )
        if limit is not None:
            events = events[-limit:] if limit > 0 else []
        return [e[2].model_copy(deep=True) for e in events]

    def _log(self, event: AuditEvent) -> None:
        self._seq += 1
        self._audit.append((utc(event.at), self._seq, event.model_copy(deep=True)))

    # --- the review queue ------------------------------------------------------------
    def enqueue_review(self, item: ReviewItem) -> None:
        with self._lock:
            self._seq += 1
            self._reviews[item.comment.id] = (self._seq, item.model_copy(deep=True))

    def review_queue(
        self, status: ReviewStatus | None = "pending", limit: int = 100
    ) -> list[ReviewItem]:
        with self._lock:
            items = [e for e in self._reviews.values() if status is None or e[1].status == status]
        items.sort(key=lambda e: (utc(e[1].queued_at), e[0]))
        return [item.model_copy(deep=True) for _, item in items[: max(limit, 0)]]

    def get_review(self, comment_id: str) -> ReviewItem | None:
        with self._lock:
            entry = self._reviews.get(comment_id)
            return entry[1].model_copy(deep=True) if entry else None

    def decide_review(
        self, comment_id: str, status: ReviewStatus, actor: str, at: datetime, note: str = ""
    ) -> ReviewItem:
        with self._lock:
            seq, item = self._reviews[comment_id]  # KeyError when not queued, as documented
            item = decided(item, status, actor, at, note)
            self._reviews[comment_id] = (seq, item)
            event = review_event(item)
            if event is not None:
                self._log(event)
            return item.model_copy(deep=True)

    # --- the recent-comment window ---------------------------------------------------
    def add_recent(self, items: Iterable[RecentComment]) -> None:
        with self._lock:
            for item in items:
                self._forget(item.comment_id)
                item = item.model_copy(update={"at": utc(item.at)})
                self._recent[item.comment_id] = item
                for band in item.bands:
                    self._by_band.setdefault(band, {})[item.comment_id] = None
                if item.author_id is not None:
                    self._by_author.setdefault(item.author_id, {})[item.comment_id] = None
                heapq.heappush(self._by_time, (item.at, item.comment_id))

    def recent_by_bands(self, bands: Iterable[str], since: datetime) -> list[RecentComment]:
        since = utc(since)
        with self._lock:
            ids: dict[str, None] = {}
            for band in bands:
                ids.update(self._by_band.get(band, {}))
            found = [self._recent[i] for i in ids]
        return sorted((r for r in found if r.at >= since), key=lambda r: (r.at, r.comment_id))

    def recent_by_author(
        self, author_id: str, since: datetime, thread_id: str | None = None
    ) -> list[RecentComment]:
        since = utc(since)
        with self._lock:
            found = [self._recent[i] for i in self._by_author.get(author_id, {})]
        return sorted(
            (r for r in found if r.at >= since and (thread_id is None or r.thread_id == thread_id)),
            key=lambda r: (r.at, r.comment_id),
        )

    def recent_since(self, since: datetime) -> list[RecentComment]:
        since = utc(since)
        with self._lock:
            found = [r for r in self._recent.values() if r.at >= since]
        return sorted(found, key=lambda r: (r.at, r.comment_id))

    def prune_recent(self, before: datetime) -> int:
        before = utc(before)
        dropped = 0
        with self._lock:
            while self._by_time and self._by_time[0][0] < before:
                at, comment_id = heapq.heappop(self._by_time)
                item = self._recent.get(comment_id)
                # Skip heap entries left behind when a comment was re-added with a new time.
                if item is not None and item.at == at:
                    self._forget(comment_id)
                    dropped += 1
        return dropped

    def _forget(self, comment_id: str) -> None:
        item = self._recent.pop(comment_id, None)
        if item is None:
            return
        for band in item.bands:
            members = self._by_band.get(band)
            if members is not None:
                members.pop(comment_id, None)
                if not members:
                    del self._by_band[band]
        if item.author_id is not None:
            mine = self._by_author.get(item.author_id)
            if mine is not None:
                mine.pop(comment_id, None)
                if not mine:
                    del self._by_author[item.author_id]
