"""Moderator actions on authors, through the enforcement ledger.

The ledger counts strikes and escalates to blocks by itself; a moderator may also block
an author by hand. That block follows the same standard: the first is restorable, a
second one is permanent."""

from __future__ import annotations

from datetime import UTC, datetime

from modrules.ledger import Ledger, LedgerError
from modrules.store.base import Account, AccountStatus, AuditEvent


def block(ledger: Ledger, author_id: str, actor: str, reason: str, at: datetime | None = None) -> Account:
    when = at or datetime.now(UTC)

    def change(account: Account) -> tuple[Account, list[AuditEvent]]:
        if account.status in (AccountStatus.BLOCKED, AccountStatus.PERMANENTLY_BLOCKED):
            raise LedgerError(f"{author_id} is already blocked")
        account.blocks += 1
        account.blocked_at = when
        account.blocked_until = None  # until a moderator restores it
        account.block_reason = f"blocked by {actor}" + (f": {reason}" if reason else "")
        final = account.blocks >= 2
        account.status = AccountStatus.PERMANENTLY_BLOCKED if final else AccountStatus.BLOCKED
        event = AuditEvent(
            at=when,
            author_id=author_id,
            kind="permanent-block" if final else "block",
            actor=actor,
            reason=reason,
            details={"blocks": account.blocks, "by": "moderator"},
        )
        return account, [event]

    return ledger.store.update_account(author_id, change)


def restore(ledger: Ledger, author_id: str, actor: str, reason: str) -> Account:
    """Lift a first block (RestoreRefused for a permanent one, LedgerError if not blocked)."""
    return ledger.restore(author_id, actor, reason)
