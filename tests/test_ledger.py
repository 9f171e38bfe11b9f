"""The enforcement ledger: strikes → warn → block → a second block that is permanent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from modrules import Moderator
from modrules.ledger import AppealRequest, Ledger, LedgerError, RestoreRefused
from modrules.model import AccountAction, Action, Comment, Severity, Verdict, Violation
from modrules.rules.schema import Enforcement, PolicySpec
from modrules.store import AccountStatus, MemoryStore, Store, open_store

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
POLICY = Enforcement(
    strike_weights={Severity.MINOR: 1, Severity.MAJOR: 2, Severity.SEVERE: 4},
    strike_expiry=timedelta(days=30),
    warn_at=3,
    block_at=6,
    first_block=timedelta(days=7),
    undelete_within=timedelta(days=30),
)
SEVERITIES = {"swear": Severity.MINOR, "insult": Severity.MAJOR, "threat": Severity.SEVERE}


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = "memory" if request.param == "memory" else f"sqlite:///{tmp_path / 'ledger.db'}"
    with open_store(url) as opened:
        yield opened


@pytest.fixture
def ledger(store: Store) -> Ledger:
    return Ledger(store, POLICY, SEVERITIES)


def violation(rule: str, action: Action = Action.DELETE, shadow: bool = False) -> Violation:
    return Violation(
        rule=rule, category="profanity", clause=12, action=action, message=rule, shadow=shadow
    )


def post(
    ledger: Ledger,
    cid: str,
    when: datetime,
    *rules: str,
    author: str = "u1",
    action: Action = Action.DELETE,
) -> Verdict:
    comment = Comment(id=cid, text="…", author_id=author, created_at=when)
    verdict = Verdict(
        comment_id=cid,
        action=action if rules else Action.PUBLISH,
        violations=[violation(r, action) for r in rules],
    )
    return ledger.apply(comment, verdict)


def test_escalation_warn_block_then_a_permanent_second_block(ledger: Ledger) -> None:
    assert post(ledger, "c1", day(0), "insult").account_action is AccountAction.NONE  # 2
    warned = post(ledger, "c2", day(1), "swear")  # 3
    assert warned.account_action is AccountAction.WARN
    assert warned.account_reason and "warned" in warned.account_reason
    assert (
        post(ledger, "c3", day(2), "swear").account_action is AccountAction.NONE
    )  # 4, warned once
    blocked = post(ledger, "c4", day(3), "insult", action=Action.HOLD)  # 6
    assert blocked.account_action is AccountAction.BLOCK
    assert blocked.action is Action.HOLD  # the comment that caused the block keeps its own action
    account = ledger.account("u1")
    assert account.status is AccountStatus.BLOCKED and account.blocks == 1
    assert account.blocked_until == day(10)

    # While blocked, any new comment — even a clean one — is deleted with the reason.
    rejected = post(ledger, "c5", day(4))
    assert (rejected.action, rejected.account_action) == (Action.DELETE, AccountAction.BLOCK)
    assert rejected.account_reason and "blocked until 2024-03-11" in rejected.account_reason
    assert ledger.points(ledger.account("u1")) == 6  # a blocked author's comment adds nothing

    # The block ends by comment time; the strikes are cleared.
    clean = post(ledger, "c6", day(11))
    assert (clean.action, clean.account_action) == (Action.PUBLISH, AccountAction.NONE)
    account = ledger.account("u1")
    assert account.status is AccountStatus.ACTIVE and ledger.points(account) == 0

    post(ledger, "c7", day(12), "threat")  # 4: warn again in the new cycle
    final = post(ledger, "c8", day(13), "insult")  # 6: the second block
    assert final.account_action is AccountAction.PERMANENT_BLOCK
    account = ledger.account("u1")
    assert account.status is AccountStatus.PERMANENTLY_BLOCKED and account.blocks == 2
    assert account.blocked_until is None
    years_later = post(ledger, "c9", day(3000))
    assert years_later.account_action is AccountAction.PERMANENT_BLOCK
    assert years_later.action is Action.DELETE
    kinds = [e.kind for e in ledger.history("u1")]
    assert [k for k in kinds if k != "strike"] == [
        "warn",
        "block",
        "block-expired",
        "warn",
        "permanent-block",
    ]


def test_restoring_a_permanent_block_is_refused_and_logged(ledger: Ledger) -> None:
    post(ledger, "c1", day(0), "threat", "insult")  # 6: block
    ledger.restore("u1", "mod-ann", "apologised", at=day(1))
    post(ledger, "c2", day(2), "threat", "insult")  # second block
    with pytest.raises(RestoreRefused, match="never be restored"):
        ledger.restore("u1", "mod-ann", "second chance", at=day(3))
    assert ledger.account("u1").status is AccountStatus.PERMANENTLY_BLOCKED
    refused = ledger.history("u1")[-1]
    assert (refused.kind, refused.actor, refused.details["request"]) == (
        "restore-refused",
        "mod-ann",
        "second chance",
    )


def test_a_moderator_restores_a_first_block_recording_who_when_why(ledger: Ledger) -> None:
    policy = POLICY.model_copy(update={"first_block": None})  # until a moderator restores
    ledger = Ledger(ledger.store, policy, SEVERITIES)
    post(ledger, "c1", day(0), "threat", "insult")
    assert ledger.account("u1").blocked_until is None
    assert post(ledger, "c2", day(400), "swear").action is Action.DELETE  # still blocked
    account = ledger.restore("u1", "mod-bob", "user appealed; first offence", at=day(401))
    assert account.status is AccountStatus.ACTIVE and ledger.points(account, day(401)) == 0
    restore = ledger.history("u1")[-1]
    assert (restore.kind, restore.actor, restore.reason, restore.at) == (
        "restore",
        "mod-bob",
        "user appealed; first offence",
        day(401),
    )
    with pytest.raises(RestoreRefused, match="not blocked"):
        ledger.restore("u1", "mod-bob", "again", at=day(402))


def test_a_moderator_block_lasts_until_restored_and_a_second_is_final(ledger: Ledger) -> None:
    account = ledger.block("u1", "mod-ann", "doxxing in DMs", at=day(0))
    assert (account.status, account.blocked_until, account.blocks) == (
        AccountStatus.BLOCKED,
        None,
        1,
    )
    # No time runs out on a moderator's block: a year later the author is still refused.
    late = post(ledger, "c1", day(365))
    assert (late.action, late.account_action) == (Action.DELETE, AccountAction.BLOCK)
    assert "blocked by mod-ann: doxxing in DMs" in (late.account_reason or "")
    with pytest.raises(LedgerError, match="cannot be blocked"):
        ledger.block("u1", "mod-bob", "again", at=day(366))
    ledger.restore("u1", "mod-bob", "appeal granted", at=day(367))
    assert post(ledger, "c2", day(368)).action is Action.PUBLISH
    # A second block (by hand here; strikes or hand, it is the second) is permanent.
    account = ledger.block("u1", "mod-ann", "did it again", at=day(369))
    assert account.status is AccountStatus.PERMANENTLY_BLOCKED
    with pytest.raises(RestoreRefused, match="never be restored"):
        ledger.restore("u1", "mod-bob", "please", at=day(370))
    events = [(e.kind, e.actor, e.reason) for e in ledger.history("u1")]
    assert events == [
        ("block", "mod-ann", "doxxing in DMs"),
        ("restore", "mod-bob", "appeal granted"),
        ("permanent-block", "mod-ann", "did it again"),
        ("restore-refused", "mod-bob", events[-1][2]),
    ]
    assert ledger.history("u1")[0].details["blocks"] == 1


def test_a_hand_block_after_a_strike_block_is_the_second_and_final(ledger: Ledger) -> None:
    post(ledger, "c1", day(0), "threat", "insult")  # 6 points: the first block
    ledger.restore("u1", "mod-ann", "first offence", at=day(1))
    account = ledger.block("u1", "mod-ann", "threats again", at=day(2))
    assert account.status is AccountStatus.PERMANENTLY_BLOCKED and account.blocks == 2


def test_appeals_carry_subject_user_and_explanation(ledger: Ledger) -> None:
    post(ledger, "c1", day(0), "threat", "insult")
    request = AppealRequest(
        subject="Blocked by mistake", user_id="u1", explanation="It was a quote."
    )
    event = ledger.appeal(request, at=day(1))
    assert event.kind == "appeal" and event.details["restorable"] is True
    logged = ledger.history("u1")[-1]
    assert (
        logged.details["explanation"] == "It was a quote." and logged.reason == "Blocked by mistake"
    )
    assert ledger.account("u1").status is AccountStatus.BLOCKED  # an appeal decides nothing
    for bad in (
        {"subject": "", "user_id": "u1", "explanation": "x"},
        {"subject": "s", "user_id": "u1"},
    ):
        with pytest.raises(ValidationError):
            AppealRequest.model_validate(bad)


def test_strikes_expire_by_comment_time(ledger: Ledger) -> None:
    post(ledger, "c1", day(0), "insult")
    post(ledger, "c2", day(10), "insult")  # 4: warned
    # 31 days after c1 it has expired: 2 + 2 = 4, not a block; the points had fallen
    # below the warning level, so reaching it again warns again.
    assert post(ledger, "c3", day(31), "insult").account_action is AccountAction.WARN
    assert ledger.account("u1").status is AccountStatus.ACTIVE
    assert ledger.points(ledger.account("u1"), day(31)) == 4
    # Within 30 days of c2 and c3, one more major strike blocks.
    assert post(ledger, "c4", day(32), "insult").account_action is AccountAction.BLOCK


def test_a_strike_counts_once_per_comment_and_rule(ledger: Ledger) -> None:
    first = post(ledger, "c1", day(0), "swear", "insult")  # 3: warn
    again = post(ledger, "c1", day(0), "swear", "insult")
    assert first.account_action is again.account_action is AccountAction.WARN  # replay: same answer
    account = ledger.account("u1")
    assert [(s.comment_id, s.rule) for s in account.strikes] == [("c1", "swear"), ("c1", "insult")]
    # A revised verdict of the same comment adds only its new rule.
    post(ledger, "c1", day(0), "swear", "insult", "threat")  # 7: block
    account = ledger.account("u1")
    assert len(account.strikes) == 3 and account.status is AccountStatus.BLOCKED
    assert sum(1 for e in ledger.history("u1") if e.kind == "strike") == 3


def test_only_enforced_removing_actions_strike(ledger: Ledger) -> None:
    comment = Comment(id="c1", text="…", author_id="u1", created_at=day(0))
    verdict = Verdict(
        comment_id="c1",
        action=Action.FLAG,
        violations=[
            violation("threat", Action.FLAG),
            violation("threat-shadow", Action.DELETE, shadow=True),
            violation("swear", Action.EDIT),
        ],
    )
    ledger.apply(comment, verdict)
    assert [s.rule for s in ledger.account("u1").strikes] == ["swear"]
    anonymous = Comment(id="c2", text="…", created_at=day(0))
    assert ledger.apply(anonymous, verdict) == verdict


def test_deleted_accounts_can_be_restored_within_30_days(ledger: Ledger) -> None:
    post(ledger, "c1", day(0), "swear")
    ledger.delete_account("u1", "mod-ann", "asked to leave", at=day(1))
    assert post(ledger, "c2", day(2)).account_reason == "account deleted on 2024-03-02T09:00:00Z"
    account = ledger.undelete("u1", "mod-ann", "came back", at=day(31))  # exactly 30 days
    assert account.status is AccountStatus.ACTIVE and account.deleted_at is None
    ledger.delete_account("u1", "mod-ann", "left again", at=day(40))
    with pytest.raises(RestoreRefused, match="only until 2024-05-10"):
        ledger.undelete("u1", "mod-ann", "too late", at=day(70.01))
    assert ledger.account("u1").status is AccountStatus.DELETED
    assert [e.kind for e in ledger.history("u1")][-4:] == [
        "account-deleted",
        "account-restored",
        "account-deleted",
        "restore-refused",
    ]


def test_undeleting_never_lifts_a_permanent_block(ledger: Ledger) -> None:
    post(ledger, "c1", day(0), "threat", "insult")
    ledger.restore("u1", "mod", "ok", at=day(1))
    post(ledger, "c2", day(2), "threat", "insult")
    ledger.delete_account("u1", "mod", "gone", at=day(3))
    assert (
        ledger.undelete("u1", "mod", "oops", at=day(4)).status is AccountStatus.PERMANENTLY_BLOCKED
    )


def test_a_late_strike_counts_but_never_reopens_an_ended_block(ledger: Ledger) -> None:
    post(ledger, "c1", day(0), "threat", "insult")  # block until day 7
    post(ledger, "c2", day(8))  # the block has ended
    # A comment written during the block arrives late: judged on its own, not rejected,
    # and the ended block stays ended.
    late = post(ledger, "c-late", day(3), "insult")
    assert (late.action, late.account_action) == (Action.DELETE, AccountAction.NONE)
    account = ledger.account("u1")
    assert account.status is AccountStatus.ACTIVE
    assert ledger.points(account, day(8)) == 2  # it counts from its own time
    # A comment older than the block itself, for a blocked author, is not rejected either.
    post(ledger, "d1", day(0), "threat", "insult", author="u2")
    early = post(ledger, "d0", day(-1), author="u2")
    assert (early.action, early.account_action) == (Action.PUBLISH, AccountAction.NONE)


def test_replaying_a_dump_gives_the_same_state(tmp_path: Path) -> None:
    events = [
        ("c1", "u1", 0, ("insult",)),
        ("c2", "u2", 0.5, ("swear",)),
        ("c3", "u1", 1, ("swear", "threat")),
        ("c4", "u1", 2, ()),
        ("c5", "u2", 3, ("threat", "insult")),
        ("c6", "u1", 9, ("threat", "insult")),
    ]

    def replay(store: Store) -> tuple[list[Verdict], list[object]]:
        ledger = Ledger(store, POLICY, SEVERITIES)
        verdicts = [
            post(ledger, cid, day(d), *rules, author=author) for cid, author, d, rules in events
        ]
        state = [a.model_dump() for a in store.accounts()] + [
            e.model_dump() for e in store.audit_log()
        ]
        return verdicts, state

    first = replay(MemoryStore())
    with open_store(f"sqlite:///{tmp_path / 'replay.db'}") as sqlite_store:
        second = replay(sqlite_store)
    assert first == second
    assert [v.account_action for v in first[0]] == [
        AccountAction.NONE,
        AccountAction.NONE,
        AccountAction.BLOCK,
        AccountAction.BLOCK,  # rejected: blocked
        AccountAction.BLOCK,
        AccountAction.PERMANENT_BLOCK,
    ]


def test_policy_yaml_enforcement_section() -> None:
    spec = PolicySpec.model_validate(
        {"enforcement": {"strike_expiry": "90d", "first_block": "none", "undelete_within": "P30D"}}
    )
    assert spec.enforcement.strike_expiry == timedelta(days=90)
    assert spec.enforcement.first_block is None
    assert spec.enforcement.undelete_within == timedelta(days=30)
    assert spec.enforcement.strike_weights[Severity.SEVERE] == 4
    assert PolicySpec().enforcement == Enforcement()
    for bad in ({"warn_at": 9, "block_at": 6}, {"strike_expiry": "soon"}, {"block_at": 0}):
        with pytest.raises(ValidationError):
            PolicySpec.model_validate({"enforcement": bad})


def test_the_engine_applies_the_ledger(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'engine.db'}") as store:
        moderator = Moderator.from_path(store=store)
        rude = "You are a fucking idiot, shut the fuck up."
        verdicts = list(
            moderator.moderate_many(
                {"id": f"c{i}", "text": rude, "author_id": "troll", "created_at": day(i / 24)}
                for i in range(12)
            )
        )
        assert all(v.violations for v in verdicts)
        actions = [v.account_action for v in verdicts]
        assert AccountAction.BLOCK in actions
        first_block = actions.index(AccountAction.BLOCK)
        assert all(a is AccountAction.BLOCK for a in actions[first_block:])
        assert all(v.action is Action.DELETE for v in verdicts[first_block + 1 :])
        assert moderator.ledger is not None
        assert moderator.ledger.account("troll").status is AccountStatus.BLOCKED
        clean = moderator.moderate(
            {"id": "n1", "text": "Nice article.", "author_id": "troll", "created_at": day(1)}
        )
        assert clean.action is Action.DELETE and clean.account_reason
        assert clean.violations == []
        other = moderator.moderate(
            {"id": "n2", "text": "Nice article.", "author_id": "nice", "created_at": day(1)}
        )
        assert (other.action, other.account_action) == (Action.PUBLISH, AccountAction.NONE)
    # Without a store, the same comments carry no account action.
    plain = Moderator.from_path().moderate({"id": "c", "text": rude, "author_id": "troll"})
    assert plain.account_action is AccountAction.NONE and plain.account_reason is None
