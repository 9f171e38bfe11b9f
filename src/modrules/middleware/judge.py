"""One comment judged with the store's say: the rules, then the enforcement ledger
(strikes, warnings, blocks; a blocked author's comment is deleted), then the review
queue for held and flagged comments. Shared by the middleware and the HTTP service.

A later comment can revise earlier verdicts (it completed a flash mob or a flood:
`Moderator.revisions()`). The Judge collects those after each comment and treats them
like fresh verdicts: a revision to hold or flag enters (or updates) the review queue,
a revision to delete (or one whose author is now blocked) closes the comment's queue
item as deleted by `modrules`, so `GET /v1/review?status=deleted` lists comments a
forum already published and must now take down. `on_revision` pushes each one to the
forum as well."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from modrules.engine import Moderator
from modrules.ledger import Ledger
from modrules.model import AccountAction, Action, Comment, Thread, Verdict
from modrules.store.base import ReviewItem, Store

log = logging.getLogger("modrules.middleware")

_REVIEWED = (Action.FLAG, Action.HOLD)
BLOCKING = (AccountAction.BLOCK, AccountAction.PERMANENT_BLOCK)
# Comments remembered so their revisions can be queued with their text: revisions come
# within the stateful rules' window (minutes), so the latest comments are enough.
RECENT_COMMENTS = 20_000
REVISED_BY = "modrules"


@dataclass(frozen=True)
class Revision:
    """An earlier comment's verdict revised by a later comment."""

    comment: Comment
    verdict: Verdict
    thread_title: str


RevisionHook = Callable[[Revision], None]


class Judge:
    def __init__(
        self,
        moderator: Moderator,
        store: Store | None = None,
        on_revision: RevisionHook | None = None,
    ) -> None:
        self.moderator = moderator
        own: Store | None = getattr(moderator, "store", None)
        self.store = store or own
        # A Moderator built with a store keeps its own ledger; otherwise we keep one here.
        self.ledger = Ledger.for_ruleset(self.store, moderator.ruleset) if self.store and own is None else None
        self.on_revision = on_revision
        self._recent: OrderedDict[str, tuple[Comment, str]] = OrderedDict()
        # The Moderator's stateful window is not for concurrent writers; the work is CPU
        # bound under the GIL anyway, so one comment at a time loses nothing.
        self._lock = threading.Lock()

    def __call__(
        self,
        comment: Comment,
        thread: Thread | Mapping[str, Any] | None = None,
        parent: Comment | None = None,
    ) -> Verdict:
        title = _title(thread)
        with self._lock:
            verdict = self.moderator.moderate(comment, thread=thread, parent=parent)
            if self.ledger is not None:
                verdict = self.ledger.apply(comment, verdict)
            if self.store is not None:
                queue_for_review(self.store, comment, verdict, title)
            self._remember(comment, title)
            revisions = self._revisions()
        for revision in revisions:
            self._push(revision)
        return verdict

    def _remember(self, comment: Comment, title: str) -> None:
        recent = self._recent
        recent.pop(comment.id, None)
        recent[comment.id] = (comment, title)
        while len(recent) > RECENT_COMMENTS:
            recent.popitem(last=False)

    def _revisions(self) -> list[Revision]:
        """The revisions this comment caused, enforced and queued (under the lock)."""
        out: list[Revision] = []
        for verdict in self.moderator.revisions():
            known = self._recent.get(verdict.comment_id)
            if known is None:
                continue  # judged before this Judge's memory: nothing to queue it with
            comment, title = known
            if self.ledger is not None:
                verdict = self.ledger.apply(comment, verdict)
            if self.store is not None:
                requeue(self.store, comment, verdict, title)
            out.append(Revision(comment, verdict, title))
        return out

    def _push(self, revision: Revision) -> None:
        if self.on_revision is None:
            return
        try:
            self.on_revision(revision)
        except Exception:  # the forum's hook must not fail the comment being posted
            log.exception("modrules: the on_revision hook failed for %s", revision.comment.id)


def author_refused(verdict: Verdict) -> bool:
    """Whether the author is (now) blocked, so the comment must not appear."""
    return verdict.account_action in BLOCKING


def queue_for_review(
    store: Store, comment: Comment, verdict: Verdict, thread: Thread | Mapping[str, Any] | str | None
) -> None:
    """Put a held or flagged comment in the store's review queue (others are not queued)."""
    if verdict.action not in _REVIEWED or author_refused(verdict):
        return
    title = thread if isinstance(thread, str) else _title(thread)
    store.enqueue_review(ReviewItem(comment=comment, verdict=verdict, thread_title=title, queued_at=datetime.now(UTC)))


def requeue(store: Store, comment: Comment, verdict: Verdict, title: str) -> None:
    """The review queue after a revised verdict: hold/flag enters or updates the item
    (a moderator's earlier approval is re-opened: the comment turned out to be part of
    something); delete closes it as deleted by modrules; publish/edit leave it alone."""
    item = store.get_review(comment.id)
    now = datetime.now(UTC)
    removed = verdict.action is Action.DELETE or author_refused(verdict)
    if not removed and verdict.action not in _REVIEWED:
        return
    if item is not None and item.status == "deleted":
        return  # already taken down: nothing left to decide
    queued_at = item.queued_at if item is not None else now
    store.enqueue_review(
        ReviewItem(comment=comment, verdict=verdict, thread_title=title, queued_at=queued_at)
    )
    if removed:
        rules = ", ".join(dict.fromkeys(v.rule for v in verdict.violations if not v.shadow))
        note = f"revised to {verdict.action.value} by a later comment ({rules or verdict.account_action.value})"
        store.decide_review(comment.id, "deleted", REVISED_BY, now, note)


def _title(thread: Thread | Mapping[str, Any] | None) -> str:
    return thread.title if isinstance(thread, Thread) else str((thread or {}).get("title", ""))
