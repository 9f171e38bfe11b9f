"""What every store keeps: accounts and their strikes, the audit log, the review queue,
and the recent-comment window that stateful checks (repetition, rate) look back over.

Three implementations pass one shared test suite: memory, SQLite (the embedded default)
and Redis (shared by several processes or machines). Times are the comments' own
`created_at`, never the wall clock, so a replayed dump gives the same state.
"""

from __future__ import annotations

import struct
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from modrules.model import AccountAction, Comment, Severity, Verdict


class StoreError(RuntimeError):
    """A store that cannot be opened or used (bad URL, server down, corrupt file)."""


def utc(at: datetime) -> datetime:
    """`at` as an aware UTC time; a naive time is taken to be UTC already.

    Stores compare times from many dumps, some naive and some aware, and Python refuses
    to compare the two kinds."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_us(at: datetime) -> int:
    """`at` as integer microseconds since the epoch: exact, sortable, indexable."""
    delta = utc(at) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


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
    # Set when a block ended and the strikes were cleared: the strike is kept (so the
    # same comment and rule are never counted again) but no longer counts.
    cleared_at: datetime | None = None

    def counts_at(self, at: datetime) -> bool:
        """Whether this strike counts towards thresholds at time `at`."""
        if self.cleared_at is not None:
            return False
        return self.expires_at is None or utc(at) < utc(self.expires_at)


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
    # The status a deleted account returns to when restored (a permanent block stays one).
    status_before_delete: AccountStatus | None = None
    block_ended_at: datetime | None = None  # strikes dated before this were cleared with the block
    updated_at: datetime | None = None  # the latest time (by comment time) the ledger saw
    # What this author's comments triggered (warn/block/…), by comment id, so recording a
    # comment again reports the same account action instead of a new one.
    actions: dict[str, AccountAction] = Field(default_factory=dict)


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


RecentRow = tuple[str, str | None, str | None, int, tuple[str, ...], bytes, float]
"""A RecentComment's fields in order (comment_id … incoherence), for `add_recent_rows`,
as the window has them: the time in integer microseconds since the epoch (`to_us`) and
the signature as little-endian uint32s (a MinHash signature's bytes)."""

_UINT32 = "<{}I"


def signature_bytes(signature: tuple[int, ...]) -> bytes:
    """A signature of uint32s as `RecentRow` carries it (struct.error for other ints)."""
    return struct.pack(_UINT32.format(len(signature)), *signature)


def signature_ints(data: bytes) -> tuple[int, ...]:
    """The signature `RecentRow` bytes stand for."""
    return struct.unpack(_UINT32.format(len(data) // 4), data)


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
        """Audit events, oldest first by `at` then by when they were logged (of one
        author, or all); with `limit`, the latest `limit` of them."""

    # --- the review queue ------------------------------------------------------------
    @abstractmethod
    def enqueue_review(self, item: ReviewItem) -> None:
        """Add (or replace, by comment id) a comment awaiting review."""

    @abstractmethod
    def review_queue(
        self, status: ReviewStatus | None = "pending", limit: int = 100
    ) -> list[ReviewItem]:
        """Review items, oldest first."""

    @abstractmethod
    def get_review(self, comment_id: str) -> ReviewItem | None: ...

    @abstractmethod
    def decide_review(
        self, comment_id: str, status: ReviewStatus, actor: str, at: datetime, note: str = ""
    ) -> ReviewItem:
        """Record a moderator's decision (KeyError if the comment is not queued) and log
        it to the audit log (review-approved / review-deleted) in the same transaction."""

    # --- the recent-comment window ---------------------------------------------------
    @abstractmethod
    def add_recent(self, items: Iterable[RecentComment]) -> None:
        """Remember comments for the window (a batch, in one transaction); an entry with
        a comment id already remembered replaces it (a replayed dump adds nothing)."""

    def add_recent_rows(self, rows: Iterable[RecentRow]) -> None:
        """`add_recent` of plain tuples, as the window writes its batches: a store may
        write them without building a model for each (by default it builds them)."""
        self.add_recent(
            RecentComment.model_construct(
                comment_id=r[0],
                author_id=r[1],
                thread_id=r[2],
                at=from_us(r[3]),
                bands=r[4],
                signature=signature_ints(r[5]),
                incoherence=r[6],
            )
            for r in rows
        )

    @abstractmethod
    def recent_by_bands(self, bands: Iterable[str], since: datetime) -> list[RecentComment]:
        """Remembered comments at or after `since` sharing any of the band keys."""

    @abstractmethod
    def recent_by_author(
        self, author_id: str, since: datetime, thread_id: str | None = None
    ) -> list[RecentComment]:
        """An author's remembered comments at or after `since` (in one thread, if given)."""

    @abstractmethod
    def recent_since(self, since: datetime) -> list[RecentComment]:
        """Every remembered comment at or after `since`, oldest first: an engine warms its
        in-process window from this when it starts, so state carries across runs."""

    @abstractmethod
    def prune_recent(self, before: datetime) -> int:
        """Forget window entries older than `before`; how many were dropped."""

    def close(self) -> None:
        """Release connections and files."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def apply_change(
    current: Account, change: AccountChange
) -> tuple[Account, list[AuditEvent]] | None:
    """Run `change` on `current` for an implementation of `update_account`: the account to
    save (version bumped) and its events, or None when nothing changed (nothing to write)."""
    new, events = change(copy_account(current))
    if new.author_id != current.author_id:
        raise StoreError(
            f"an account change may not rename {current.author_id!r} to {new.author_id!r}"
        )
    if not events and {**new.__dict__, "version": 0} == {**current.__dict__, "version": 0}:
        return None
    return new.model_copy(update={"version": current.version + 1}), events


def copy_account(account: Account) -> Account:
    """An independent copy of an account. Strikes are frozen, so the copy shares them and
    only its containers are new: a deep copy grew with the author's whole history."""
    return account.model_copy(
        update={"strikes": list(account.strikes), "actions": dict(account.actions)}
    )


def review_event(item: ReviewItem) -> AuditEvent | None:
    """The audit event a moderator's review decision logs (none for re-opening)."""
    if item.status == "pending" or item.decided_at is None:
        return None
    kind: AuditKind = "review-approved" if item.status == "approved" else "review-deleted"
    return AuditEvent(
        at=item.decided_at,
        author_id=item.comment.author_id or "",
        kind=kind,
        actor=item.decided_by or "modrules",
        reason=item.note,
        details={"comment_id": item.comment.id},
    )


def decided(
    item: ReviewItem, status: ReviewStatus, actor: str, at: datetime, note: str
) -> ReviewItem:
    """`item` with a moderator's decision recorded."""
    return item.model_copy(
        update={"status": status, "decided_by": actor, "decided_at": at, "note": note}
    )
