"""What every store keeps: accounts and their strikes, the audit log, the review queue,
and the recent-comment window that stateful checks (repetition, rate) look back over.

Three implementations pass one shared test suite: memory, SQLite (the embedded default)
and Redis (shared by several processes or machines). Times are the comments' own
`created_at`, never the wall clock, so a replayed dump gives the same state.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from datetime import datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modrules.model import Comment, Severity, Verdict


class StoreError(RuntimeError):
    """A store that cannot be opened or used (bad URL, server down, corrupt file)."""


class AccountStatus(str, Enum):
    ACTIVE = "active"
    BLOCKED = "blocked"  # the first block: a moderator may restore it
    PERMANENTLY_BLOCKED = "permanently-blocked"  # the second block: never restorable
    DELETED = "deleted"  # restorable within 30 days of `deleted_at`


class Strike(BaseModel):
    """One enforced violation counted against an author (one per comment and rule)."""

    model_config = ConfigDict(frozen=True)

    comment_id: str
    rule: str
    category: str
    severity: Severity
    weight: float
    at: datetime
    expires_at: datetime | None = None


class Account(BaseModel):
    """An author's standing. `version` grows with every change (optimistic locking)."""

    author_id: str
    status: AccountStatus = AccountStatus.ACTIVE
    strikes: list[Strike] = Field(default_factory=list)
    blocks: int = 0  # blocks ever imposed; the second one is permanent
    warned_at: datetime | None = None
    blocked_at: datetime | None = None
    blocked_until: datetime | None = None  # None while blocked: until a moderator restores
    block_reason: str | None = None
    deleted_at: datetime | None = None
    version: int = 0


AuditKind = Literal[
    "strike",
    "warn",
    "block",
    "permanent-block",
    "block-expired",
    "restore",
    "restore-refused",
    "appeal",
    "account-deleted",
    "account-restored",
    "review-approved",
    "review-deleted",
]


class AuditEvent(BaseModel):
    """One change to an account or a review decision, with who made it and why."""

    at: datetime
    author_id: str
    kind: AuditKind
    actor: str = "modrules"  # the engine, or the moderator's name
    reason: str = ""
    details: dict[str, Any] = Field(default_factory=dict)


ReviewStatus = Literal["pending", "approved", "deleted"]


class ReviewItem(BaseModel):
    """A held or flagged comment waiting for (or decided by) a moderator."""

    comment: Comment
    verdict: Verdict
    thread_title: str = ""
    status: ReviewStatus = "pending"
    queued_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str = ""


class RecentComment(BaseModel):
    """A comment remembered for the stateful checks' time window."""

    model_config = ConfigDict(frozen=True)

    comment_id: str
    author_id: str | None
    thread_id: str | None
    at: datetime
    # Locality-sensitive keys (e.g. MinHash LSH bands) and the full signature, so near
    # duplicates are found without rescanning the window.
    bands: tuple[str, ...] = ()
    signature: tuple[int, ...] = ()
    # How incoherent the comment looked (0 coherent … 1 gibberish), for flooding.
    incoherence: float = 0.0


AccountChange = Callable[[Account], tuple[Account, list[AuditEvent]]]
"""A pure function of the current account: the new account and the events to log."""


class Store(ABC):
    """Where moderation state lives. Implementations must be safe for several processes
    sharing one SQLite file or one Redis server: no strike lost, none counted twice."""

    # --- accounts and the audit log -------------------------------------------------
    @abstractmethod
    def get_account(self, author_id: str) -> Account:
        """The account (a fresh ACTIVE one, not yet saved, if the author is unknown)."""

    @abstractmethod
    def update_account(self, author_id: str, change: AccountChange) -> Account:
        """Apply `change` atomically (retrying on a concurrent writer), save the account
        and append its audit events in the same transaction; returns the saved account."""

    @abstractmethod
    def accounts(self, status: AccountStatus | None = None) -> list[Account]:
        """Known accounts, optionally only those with a status."""

    @abstractmethod
    def audit_log(self, author_id: str | None = None, limit: int | None = None) -> list[AuditEvent]:
        """Audit events, oldest first (of one author, or all)."""

    # --- the review queue ------------------------------------------------------------
    @abstractmethod
    def enqueue_review(self, item: ReviewItem) -> None:
        """Add (or replace, by comment id) a comment awaiting review."""

    @abstractmethod
    def review_queue(self, status: ReviewStatus | None = "pending", limit: int = 100) -> list[ReviewItem]:
        """Review items, oldest first."""

    @abstractmethod
    def get_review(self, comment_id: str) -> ReviewItem | None: ...

    @abstractmethod
    def decide_review(
        self, comment_id: str, status: ReviewStatus, actor: str, at: datetime, note: str = ""
    ) -> ReviewItem:
        """Record a moderator's decision (KeyError if the comment is not queued)."""

    # --- the recent-comment window ---------------------------------------------------
    @abstractmethod
    def add_recent(self, items: Iterable[RecentComment]) -> None:
        """Remember comments for the window (a batch, in one transaction)."""

    @abstractmethod
    def recent_by_bands(self, bands: Iterable[str], since: datetime) -> list[RecentComment]:
        """Remembered comments at or after `since` sharing any of the band keys."""

    @abstractmethod
    def recent_by_author(
        self, author_id: str, since: datetime, thread_id: str | None = None
    ) -> list[RecentComment]:
        """An author's remembered comments at or after `since` (in one thread, if given)."""

    @abstractmethod
    def prune_recent(self, before: datetime) -> int:
        """Forget window entries older than `before`; how many were dropped."""

    def close(self) -> None:  # noqa: B027 - optional for stores holding no resources
        """Release connections and files."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
