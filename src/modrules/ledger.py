"""The enforcement ledger: strikes, warnings and blocks, as the community standards say.

Each enforced (non-shadow) violation whose action is edit, hold or delete adds one strike
per (comment, rule), weighted by the rule's severity and expiring after a while. Reaching
`warn_at` points warns the author; reaching `block_at` blocks the account. When a first
block ends (its time runs out, judged by comment times, or a moderator restores it) the
strikes are cleared; reaching `block_at` again is the second block, which is permanent and
can never be restored. A moderator may also block by hand (`block`), under the same
standard. Deleted accounts can be restored within `undelete_within`.

Time is the comment's `created_at` (the wall clock only for a comment without one, and
for moderator actions not given a time), so replaying a dump gives the same state.
Out-of-order input: a strike dated before the account's latest change still counts (from
its own time, with its own expiry); a warn or block it triggers is dated at the account's
latest time, and it never re-opens a block that has already ended.

Every change is one atomic `Store.update_account`, so two processes recording the same
verdict count its strikes once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from modrules.model import AccountAction, Action, Comment, Severity, Verdict
from modrules.rules.schema import Enforcement
from modrules.store.base import (
    Account,
    AccountStatus,
    AuditEvent,
    AuditKind,
    Store,
    Strike,
    utc,
)

if TYPE_CHECKING:
    from modrules.rules import Ruleset

STRIKING_ACTIONS = frozenset({Action.EDIT, Action.HOLD, Action.DELETE})


class LedgerError(ValueError):
    """A request the ledger refuses (the message says why)."""


class RestoreRefused(LedgerError):
    """Restoring an account the standards say may not be restored."""


class AppealRequest(BaseModel):
    """A blocked user's request to restore access: subject, user id and explanation."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    subject: str = Field(min_length=1, max_length=200)
    user_id: str = Field(min_length=1, max_length=200)
    explanation: str = Field(min_length=1, max_length=10_000)


@dataclass(frozen=True)
class Outcome:
    """What recording one comment's verdict did to its author's account."""

    account: Account
    account_action: AccountAction
    rejected: bool  # the author was blocked or deleted when the comment was written
    reason: str | None


def wall_clock() -> datetime:
    return datetime.now(UTC)


class Ledger:
    def __init__(
        self,
        store: Store,
        enforcement: Enforcement | None = None,
        severities: Mapping[str, Severity] | None = None,
        default_severity: Severity = Severity.MINOR,
    ) -> None:
        self.store = store
        self.policy = enforcement or Enforcement()
        self._severities = dict(severities or {})
        self._default_severity = default_severity

    @classmethod
    def for_ruleset(cls, store: Store, ruleset: Ruleset) -> Ledger:
        """A ledger with the ruleset's `enforcement:` policy and its rules' severities."""
        policy = ruleset.policy
        return cls(
            store,
            policy.enforcement,
            {rule.id: rule.severity for rule in ruleset.rules},
            policy.defaults.severity,
        )

    # --- reading -----------------------------------------------------------------------
    def account(self, author_id: str) -> Account:
        return self.store.get_account(author_id)

    def history(self, author_id: str, limit: int | None = None) -> list[AuditEvent]:
        return self.store.audit_log(author_id, limit)

    def points(self, account: Account, at: datetime | None = None) -> float:
        """The strike points that count at `at` (default: the account's latest time)."""
        when = at or account.updated_at or wall_clock()
        return sum(s.weight for s in account.strikes if s.counts_at(when))

    # --- comments ----------------------------------------------------------------------
    def record(self, comment: Comment, verdict: Verdict) -> Outcome:
        """Count a judged comment against its author (at most once per comment and rule)."""
        if comment.author_id is None:
            return Outcome(Account(author_id=""), AccountAction.NONE, False, None)
        at = utc(comment.created_at) if comment.created_at else wall_clock()
        if not _strikes_possible(verdict):
            # Most comments are clean: a read, not a write, unless the account is
            # restricted (its block may lapse now, or the comment must be rejected).
            # Unknown authors are not saved, so the store grows with offenders only.
            account = self.store.get_account(comment.author_id)
            if account.status is AccountStatus.ACTIVE:
                action = account.actions.get(comment.id, AccountAction.NONE)
                reason = None if action is AccountAction.NONE else _describe(account, action)
                return Outcome(account, action, False, reason)
        result: list[Outcome] = []

        def change(account: Account) -> tuple[Account, list[AuditEvent]]:
            result.clear()  # the store may retry on a concurrent writer: keep the last run
            events = self._lapse(account, at)
            refusal = None if comment.id in account.actions else _restriction(account, at)
            if refusal is not None:
                action = _block_action(account)
                result.append(Outcome(account, action, True, refusal))
                return account, events
            strikes = self._new_strikes(account, comment, verdict, at)
            action = account.actions.get(comment.id, AccountAction.NONE)
            reason: str | None = None
            if strikes:
                before = self.points(account, max(at, account.updated_at or at))
                account.strikes.extend(strikes)
                events.extend(_strike_event(account, s) for s in strikes)
                escalation = self._escalate(account, at, before)
                if escalation is not None:
                    action, reason, event = escalation
                    account.actions[comment.id] = action
                    events.append(event)
            if account.updated_at is None or at > utc(account.updated_at):
                account.updated_at = at
            if action is not AccountAction.NONE and reason is None:
                reason = _describe(account, action)
            result.append(Outcome(account, action, False, reason))
            return account, events

        saved = self.store.update_account(comment.author_id, change)
        outcome = result[-1]
        return Outcome(saved, outcome.account_action, outcome.rejected, outcome.reason)

    def apply(self, comment: Comment, verdict: Verdict) -> Verdict:
        """`verdict` with the account's say: a blocked author's comment is deleted (its
        violations still listed); otherwise `account_action` is what this comment caused."""
        if comment.author_id is None:
            return verdict
        outcome = self.record(comment, verdict)
        update: dict[str, object] = {
            "account_action": outcome.account_action,
            "account_reason": outcome.reason,
        }
        if outcome.rejected:
            update["action"] = Action.DELETE
            update["edited_text"] = None
        return verdict.model_copy(update=update)

    def _new_strikes(
        self, account: Account, comment: Comment, verdict: Verdict, at: datetime
    ) -> list[Strike]:
        counted = {(s.comment_id, s.rule) for s in account.strikes}
        expiry = self.policy.strike_expiry
        strikes: list[Strike] = []
        for violation in verdict.violations:
            key = (comment.id, violation.rule)
            if violation.shadow or violation.action not in STRIKING_ACTIONS or key in counted:
                continue
            counted.add(key)
            severity = self._severities.get(violation.rule, self._default_severity)
            strikes.append(
                Strike(
                    comment_id=comment.id,
                    rule=violation.rule,
                    category=violation.category,
                    severity=severity,
                    weight=self.policy.strike_weights[severity],
                    at=at,
                    expires_at=at + expiry if expiry is not None else None,
                )
            )
        return strikes

    def _escalate(
        self, account: Account, at: datetime, before: float
    ) -> tuple[AccountAction, str, AuditEvent] | None:
        """Warn or block if the new strikes reached a threshold (only an active account)."""
        if account.status is not AccountStatus.ACTIVE:
            return None  # a late strike of a blocked account: counted, nothing more
        # A late comment's escalation is dated at the account's latest time, not in its past.
        when = max(at, utc(account.updated_at)) if account.updated_at else at
        total = self.points(account, when)
        policy = self.policy
        if total >= policy.block_at:
            account.blocks += 1
            account.blocked_at = when
            account.block_reason = (
                f"{total:g} strike points reached the block threshold of {policy.block_at:g} "
                f"({_rules(account, when)})"
            )
            if account.blocks >= 2:
                account.status = AccountStatus.PERMANENTLY_BLOCKED
                account.blocked_until = None
                action, kind = AccountAction.PERMANENT_BLOCK, _kind("permanent-block")
            else:
                account.status = AccountStatus.BLOCKED
                first = policy.first_block
                account.blocked_until = when + first if first is not None else None
                action, kind = AccountAction.BLOCK, _kind("block")
            reason = _describe(account, action)
            details = {
                "points": total,
                "blocks": account.blocks,
                "until": _iso(account.blocked_until),
            }
            return (
                action,
                reason,
                AuditEvent(
                    at=when, author_id=account.author_id, kind=kind, reason=reason, details=details
                ),
            )
        if before < policy.warn_at <= total:
            account.warned_at = when
            reason = (
                f"warned: {total:g} strike points (a block comes at {policy.block_at:g}; "
                f"{_rules(account, when)})"
            )
            event = AuditEvent(
                at=when,
                author_id=account.author_id,
                kind="warn",
                reason=reason,
                details={"points": total},
            )
            return AccountAction.WARN, reason, event
        return None

    @staticmethod
    def _lapse(account: Account, at: datetime) -> list[AuditEvent]:
        """End a first block whose time ran out by `at`; its strikes are cleared."""
        until = account.blocked_until
        if account.status is not AccountStatus.BLOCKED or until is None or at < utc(until):
            return []
        _end_block(account, utc(until))
        return [
            AuditEvent(
                at=until,
                author_id=account.author_id,
                kind="block-expired",
                reason="the first block's time ran out; strikes cleared",
            )
        ]

    # --- moderators and users -------------------------------------------------------------
    def restore(
        self, author_id: str, actor: str, reason: str, at: datetime | None = None
    ) -> Account:
        """A moderator lifts a first block (recording who, when and why). A second block
        is permanent: restoring it raises RestoreRefused and logs `restore-refused`."""
        when = utc(at) if at else wall_clock()
        refused: list[str] = []

        def change(account: Account) -> tuple[Account, list[AuditEvent]]:
            refused.clear()
            events = self._lapse(account, when)
            if account.status is AccountStatus.PERMANENTLY_BLOCKED:
                why = (
                    f"{author_id} was blocked a second time on {_iso(account.blocked_at)}; "
                    "after a second block access can never be restored"
                )
                refused.append(why)
                events.append(_event(author_id, "restore-refused", when, actor, why, reason))
                return account, events
            if account.status is not AccountStatus.BLOCKED:
                refused.append(f"{author_id} is not blocked (status: {account.status.value})")
                return account, events
            _end_block(account, when)
            events.append(_event(author_id, "restore", when, actor, reason))
            return account, events

        account = self.store.update_account(author_id, change)
        if refused:
            raise RestoreRefused(refused[0])
        return account

    def block(
        self, author_id: str, moderator: str, reason: str, at: datetime | None = None
    ) -> Account:
        """A moderator blocks an author by hand, under the same standard as a block the
        strikes caused: the first lasts until a moderator restores it, a second one is
        permanent and never restorable. Blocking a blocked (or deleted) account raises
        LedgerError; every block is in the audit log with who and why."""
        when = utc(at) if at else wall_clock()
        refused: list[str] = []

        def change(account: Account) -> tuple[Account, list[AuditEvent]]:
            refused.clear()
            events = self._lapse(account, when)
            if account.status is not AccountStatus.ACTIVE:
                refused.append(f"{author_id} cannot be blocked (status: {account.status.value})")
                return account, events
            account.blocks += 1
            account.blocked_at = when
            account.blocked_until = None  # until a moderator restores it
            account.block_reason = f"blocked by {moderator}" + (f": {reason}" if reason else "")
            final = account.blocks >= 2
            account.status = (
                AccountStatus.PERMANENTLY_BLOCKED if final else AccountStatus.BLOCKED
            )
            kind = _kind("permanent-block" if final else "block")
            event = _event(author_id, kind, when, moderator, reason)
            event.details.update({"blocks": account.blocks, "by": "moderator"})
            events.append(event)
            return account, events

        account = self.store.update_account(author_id, change)
        if refused:
            raise LedgerError(refused[0])
        return account

    def appeal(self, request: AppealRequest, at: datetime | None = None) -> AuditEvent:
        """Log a user's request to restore access; moderators decide with `restore`."""
        when = utc(at) if at else wall_clock()
        logged: list[AuditEvent] = []

        def change(account: Account) -> tuple[Account, list[AuditEvent]]:
            logged.clear()
            restorable = account.status is AccountStatus.BLOCKED
            event = AuditEvent(
                at=when,
                author_id=request.user_id,
                kind="appeal",
                actor=request.user_id,
                reason=request.subject,
                details={
                    "subject": request.subject,
                    "explanation": request.explanation,
                    "status": account.status.value,
                    "restorable": restorable,
                },
            )
            logged.append(event)
            return account, [event]

        self.store.update_account(request.user_id, change)
        return logged[-1]

    def delete_account(
        self, author_id: str, actor: str, reason: str, at: datetime | None = None
    ) -> Account:
        when = utc(at) if at else wall_clock()

        def change(account: Account) -> tuple[Account, list[AuditEvent]]:
            if account.status is AccountStatus.DELETED:
                raise LedgerError(f"{author_id} is already deleted")
            account.status_before_delete = account.status
            account.status = AccountStatus.DELETED
            account.deleted_at = when
            return account, [_event(author_id, "account-deleted", when, actor, reason)]

        return self.store.update_account(author_id, change)

    def undelete(
        self, author_id: str, actor: str, reason: str, at: datetime | None = None
    ) -> Account:
        """Restore a deleted account within `undelete_within` of its deletion. It returns
        to the status it had: a permanently blocked account stays permanently blocked."""
        when = utc(at) if at else wall_clock()
        refused: list[str] = []
        limit = self.policy.undelete_within

        def change(account: Account) -> tuple[Account, list[AuditEvent]]:
            refused.clear()
            if account.status is not AccountStatus.DELETED or account.deleted_at is None:
                refused.append(f"{author_id} is not deleted (status: {account.status.value})")
                return account, []
            deadline = utc(account.deleted_at) + limit
            if when > deadline:
                why = (
                    f"{author_id} was deleted on {_iso(account.deleted_at)}; a deleted account "
                    f"can be restored only until {_iso(deadline)}"
                )
                refused.append(why)
                return account, [_event(author_id, "restore-refused", when, actor, why, reason)]
            account.status = account.status_before_delete or AccountStatus.ACTIVE
            account.status_before_delete = None
            account.deleted_at = None
            return account, [_event(author_id, "account-restored", when, actor, reason)]

        account = self.store.update_account(author_id, change)
        if refused:
            raise RestoreRefused(refused[0])
        return account


def _strikes_possible(verdict: Verdict) -> bool:
    """Whether any enforced violation of the verdict could add a strike."""
    return any(not v.shadow and v.action in STRIKING_ACTIONS for v in verdict.violations)


def _restriction(account: Account, at: datetime) -> str | None:
    """Why the author may not post at `at` (blocked or deleted then), or None."""
    status = account.status
    if status is AccountStatus.DELETED and account.deleted_at and at >= utc(account.deleted_at):
        return f"account deleted on {_iso(account.deleted_at)}"
    if status in (AccountStatus.BLOCKED, AccountStatus.PERMANENTLY_BLOCKED):
        if account.blocked_at is not None and at < utc(account.blocked_at):
            return None  # written before the block: judged on its own
        return _describe(account, _block_action(account))
    return None


def _block_action(account: Account) -> AccountAction:
    if account.status is AccountStatus.PERMANENTLY_BLOCKED:
        return AccountAction.PERMANENT_BLOCK
    return AccountAction.BLOCK


def _describe(account: Account, action: AccountAction) -> str:
    if action is AccountAction.PERMANENT_BLOCK:
        head = "account permanently blocked (second block; never restorable)"
    elif action is AccountAction.BLOCK:
        until = account.blocked_until
        head = (
            f"account blocked until {_iso(until)}"
            if until
            else "account blocked until a moderator restores it"
        )
    elif action is AccountAction.WARN:
        head = "account warned"
    else:
        return ""
    if action is AccountAction.WARN or account.block_reason is None:
        return head
    return f"{head}: {account.block_reason}"


def _end_block(account: Account, at: datetime) -> None:
    account.status = AccountStatus.ACTIVE
    account.block_ended_at = at
    account.strikes = [
        s if s.cleared_at is not None else s.model_copy(update={"cleared_at": at})
        for s in account.strikes
    ]


def _rules(account: Account, at: datetime) -> str:
    counting = [s for s in account.strikes if s.counts_at(at)]
    names = dict.fromkeys(f"{s.rule} ({s.severity.value})" for s in counting)
    return "strikes: " + ", ".join(names)


def _strike_event(account: Account, strike: Strike) -> AuditEvent:
    return AuditEvent(
        at=strike.at,
        author_id=account.author_id,
        kind="strike",
        reason=f"{strike.rule} on comment {strike.comment_id}",
        details={
            "comment_id": strike.comment_id,
            "rule": strike.rule,
            "category": strike.category,
            "severity": strike.severity.value,
            "weight": strike.weight,
            "expires_at": _iso(strike.expires_at),
        },
    )


def _kind(kind: AuditKind) -> AuditKind:
    return kind


def _event(
    author_id: str, kind: AuditKind, at: datetime, actor: str, reason: str, request: str = ""
) -> AuditEvent:
    details = {"request": request} if request else {}
    return AuditEvent.model_validate(
        {
            "at": at,
            "author_id": author_id,
            "kind": kind,
            "actor": actor,
            "reason": reason,
            "details": details,
        }
    )


def _iso(at: datetime | None) -> str | None:
    return utc(at).isoformat().replace("+00:00", "Z") if at else None
