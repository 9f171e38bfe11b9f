"""One comment judged with the store's say: the rules, then the enforcement ledger
(strikes, warnings, blocks; a blocked author's comment is deleted), then the review
queue for held and flagged comments. Shared by the middleware and the HTTP service."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from modrules.engine import Moderator
from modrules.ledger import Ledger
from modrules.model import AccountAction, Action, Comment, Thread, Verdict
from modrules.store.base import ReviewItem, Store

_REVIEWED = (Action.FLAG, Action.HOLD)
BLOCKING = (AccountAction.BLOCK, AccountAction.PERMANENT_BLOCK)


class Judge:
    def __init__(self, moderator: Moderator, store: Store | None = None) -> None:
        self.moderator = moderator
        own: Store | None = getattr(moderator, "store", None)
        self.store = store or own
        # A Moderator built with a store keeps its own ledger; otherwise we keep one here.
        self.ledger = Ledger.for_ruleset(self.store, moderator.ruleset) if self.store and own is None else None
        # The Moderator's stateful window is not for concurrent writers; the work is CPU
        # bound under the GIL anyway, so one comment at a time loses nothing.
        self._lock = threading.Lock()

    def __call__(
        self,
        comment: Comment,
        thread: Thread | Mapping[str, Any] | None = None,
        parent: Comment | None = None,
    ) -> Verdict:
        with self._lock:
            verdict = self.moderator.moderate(comment, thread=thread, parent=parent)
            if self.ledger is not None:
                verdict = self.ledger.apply(comment, verdict)
            if self.store is not None:
                queue_for_review(self.store, comment, verdict, thread)
        return verdict


def author_refused(verdict: Verdict) -> bool:
    """Whether the author is (now) blocked, so the comment must not appear."""
    return verdict.account_action in BLOCKING


def queue_for_review(
    store: Store, comment: Comment, verdict: Verdict, thread: Thread | Mapping[str, Any] | None
) -> None:
    """Put a held or flagged comment in the store's review queue (others are not queued)."""
    if verdict.action not in _REVIEWED or author_refused(verdict):
        return
    title = thread.title if isinstance(thread, Thread) else str((thread or {}).get("title", ""))
    store.enqueue_review(ReviewItem(comment=comment, verdict=verdict, thread_title=title, queued_at=datetime.now(UTC)))
