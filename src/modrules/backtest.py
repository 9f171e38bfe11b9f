"""What a rule change would do, and what shadow rules would do, on a dump of real comments.

`diff` judges every comment with two rulesets and reports the verdicts that change;
`shadow` judges with one ruleset and reports what its `mode: shadow` rules would have
done had they been enforced. Both answer "what will this change do" before it is made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from itertools import tee

from pydantic import BaseModel, Field

from modrules.engine import Moderator
from modrules.evaluation import EXAMPLE_CHARS, Highlight, judged
from modrules.model import Action, Comment, Thread, Verdict, Violation
from modrules.policy import resolve_action


class Change(BaseModel):
    """One comment whose verdict differs between the old and the new rules."""

    comment_id: str
    text: str
    old_action: Action
    new_action: Action
    old_categories: list[str]
    new_categories: list[str]
    rules_added: list[str]  # enforced rules that fire only with the new rules
    rules_removed: list[str]  # enforced rules that fired only with the old rules
    evidence: list[str]  # what the new rules found (or, for a removal, what the old ones had found)
    highlights: list[Highlight] = Field(default_factory=list)


class Transition(BaseModel):
    """All the changes from one action to another (publish -> delete, ...)."""

    old_action: Action
    new_action: Action
    count: int
    examples: list[Change]


class CategoryShift(BaseModel):
    category: str
    before: int  # comments put in it by the old rules
    after: int  # ... by the new rules
    gained: int  # comments newly put in it
    lost: int  # comments no longer put in it


class RuleShift(BaseModel):
    rule: str
    before: int  # enforced hits with the old rules
    after: int
    status: str  # "added", "removed", "now shadow", "now enforced" or "changed" (different hits)


class DiffReport(BaseModel):
    old_rules: str
    new_rules: str
    comments: int
    changed: int  # verdicts whose action or categories differ
    action_changed: int
    stricter: int  # the new action is stronger
    looser: int
    transitions: list[Transition]  # by count, most common first; same-action ones list category-only changes
    categories: list[CategoryShift]
    rules: list[RuleShift]


def _enforced(verdict: Verdict) -> list[Violation]:
    return [v for v in verdict.violations if not v.shadow]


def _highlights(violations: Iterable[Violation]) -> list[Highlight]:
    return [
        Highlight(start=e.start, end=min(e.end, EXAMPLE_CHARS), rule=v.rule)
        for v in violations
        for e in v.evidence
        if e.start < EXAMPLE_CHARS
    ]


def _change(comment: Comment, old: Verdict, new: Verdict) -> Change:
    old_rules = {v.rule for v in _enforced(old)}
    new_rules = {v.rule for v in _enforced(new)}
    shown = [v for v in _enforced(new) if v.rule not in old_rules] or [
        v for v in _enforced(old) if v.rule not in new_rules
    ]
    return Change(
        comment_id=comment.id,
        text=comment.text[:EXAMPLE_CHARS],
        old_action=old.action,
        new_action=new.action,
        old_categories=old.categories,
        new_categories=new.categories,
        rules_added=sorted(new_rules - old_rules),
        rules_removed=sorted(old_rules - new_rules),
        evidence=[f"{v.rule}: {e.text}" for v in shown for e in v.evidence[:2]],
        highlights=_highlights(shown),
    )


def _both(
    old: Moderator, new: Moderator, comments: Iterable[Comment], threads: Mapping[str, Thread] | None
) -> Iterator[tuple[Comment, Verdict, Verdict]]:
    # One stream each (they batch themselves; the dump is never all in memory): cut into
    # pieces, a flash mob spanning two would leave the first piece's members unrevised.
    mine, for_old, for_new = tee(comments, 3)
    olds = old.moderate_many(for_old, threads=threads or {})
    news = new.moderate_many(for_new, threads=threads or {})
    yield from zip(mine, olds, news, strict=True)


def diff(
    old: Moderator,
    new: Moderator,
    comments: Iterable[Comment],
    threads: Mapping[str, Thread] | None = None,
    examples: int = 5,
    old_name: str = "old",
    new_name: str = "new",
) -> DiffReport:
    """Judge every comment with both rulesets and summarise the verdicts that change."""
    total = changed = action_changed = stricter = looser = 0
    transitions: Counter[tuple[Action, Action]] = Counter()
    shown: dict[tuple[Action, Action], list[Change]] = {}
    before: Counter[str] = Counter()
    after: Counter[str] = Counter()
    gained: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    hits_before: Counter[str] = Counter()
    hits_after: Counter[str] = Counter()
    for comment, old_verdict, new_verdict in _both(old, new, comments, threads):
        total += 1
        old_cats, new_cats = set(old_verdict.categories), set(new_verdict.categories)
        before.update(old_cats)
        after.update(new_cats)
        gained.update(new_cats - old_cats)
        lost.update(old_cats - new_cats)
        hits_before.update(v.rule for v in _enforced(old_verdict))
        hits_after.update(v.rule for v in _enforced(new_verdict))
        if old_verdict.action is new_verdict.action and old_cats == new_cats:
            continue
        changed += 1
        if old_verdict.action is not new_verdict.action:
            action_changed += 1
            stricter += new_verdict.action.rank > old_verdict.action.rank
            looser += new_verdict.action.rank < old_verdict.action.rank
        key = (old_verdict.action, new_verdict.action)
        transitions[key] += 1
        if len(shown.setdefault(key, [])) < examples:
            shown[key].append(_change(comment, old_verdict, new_verdict))
    old_modes = {r.id: r.shadow for r in old.ruleset.rules}
    new_modes = {r.id: r.shadow for r in new.ruleset.rules}
    rules = [
        RuleShift(rule=rule, before=hits_before[rule], after=hits_after[rule], status=status)
        for rule in sorted(old_modes.keys() | new_modes.keys())
        if (status := _rule_status(old_modes.get(rule), new_modes.get(rule), hits_before[rule], hits_after[rule]))
    ]
    return DiffReport(
        old_rules=old_name,
        new_rules=new_name,
        comments=total,
        changed=changed,
        action_changed=action_changed,
        stricter=stricter,
        looser=looser,
        transitions=[
            Transition(old_action=a, new_action=b, count=n, examples=shown[(a, b)])
            for (a, b), n in transitions.most_common()
        ],
        categories=[
            CategoryShift(category=c, before=before[c], after=after[c], gained=gained[c], lost=lost[c])
            for c in sorted(set(before) | set(after))
            if gained[c] or lost[c]
        ],
        rules=sorted(rules, key=lambda r: -abs(r.after - r.before)),
    )


def _rule_status(old_shadow: bool | None, new_shadow: bool | None, before: int, after: int) -> str:
    """How a rule changed ("" when it did not, as far as this dump shows); None: not in that ruleset."""
    if old_shadow is None:
        return "added" + (" (shadow)" if new_shadow else "")
    if new_shadow is None:
        return "removed"
    if old_shadow != new_shadow:
        return "now shadow" if new_shadow else "now enforced"
    return "changed" if before != after else ""


class ShadowExample(BaseModel):
    comment_id: str
    text: str
    action: Action  # the verdict actually given
    would_be: Action  # the verdict had the shadow rule been enforced
    evidence: list[str]
    highlights: list[Highlight] = Field(default_factory=list)


class ShadowRule(BaseModel):
    rule: str
    category: str
    action: Action  # what the rule would do when it fires
    hits: int
    share: float  # of the comments judged
    would_change: int  # hits where enforcing it would change the verdict's action
    overlaps: int  # hits on comments that enforced rules already put in the same category
    transitions: dict[str, int]  # "publish->delete": count, for the hits that would change the action
    examples: list[ShadowExample]


class ShadowReport(BaseModel):
    comments: int
    shadow_rules: int  # rules in mode: shadow (all of them, hits or not)
    would_change: int  # comments whose action would change if every shadow rule were enforced
    rules: list[ShadowRule]  # every shadow rule, most hits first


def shadow(
    moderator: Moderator,
    comments: Iterable[Comment],
    threads: Mapping[str, Thread] | None = None,
    examples: int = 5,
) -> ShadowReport:
    """What the ruleset's shadow rules would have done on these comments, had they been enforced."""
    rules = {r.id: r for r in moderator.ruleset.rules if r.shadow}
    precedence = moderator.precedence
    hits: Counter[str] = Counter()
    changes: Counter[str] = Counter()
    overlaps: Counter[str] = Counter()
    transitions: dict[str, Counter[str]] = {rule: Counter() for rule in rules}
    shown: dict[str, list[ShadowExample]] = {rule: [] for rule in rules}
    total = any_change = 0
    for comment, verdict in judged(moderator, comments, threads):
        total += 1
        enforced = _enforced(verdict)
        shadows = [v for v in verdict.violations if v.shadow]
        if not shadows:
            continue
        promoted = [v.model_copy(update={"shadow": False}) for v in shadows]
        any_change += resolve_action([*enforced, *promoted], precedence) is not verdict.action
        categories = {v.category for v in enforced}
        for violation, alone in zip(shadows, promoted, strict=True):
            would_be = resolve_action([*enforced, alone], precedence)
            hits[violation.rule] += 1
            overlaps[violation.rule] += violation.category in categories
            if would_be is not verdict.action:
                changes[violation.rule] += 1
                transitions[violation.rule][f"{verdict.action.value}->{would_be.value}"] += 1
            # Examples that would change the verdict come first: they are the ones to read.
            if len(shown[violation.rule]) < examples or would_be is not verdict.action:
                _keep(shown[violation.rule], _shadow_example(comment, verdict, violation, would_be), examples)
    report = [
        ShadowRule(
            rule=rule_id,
            category=rule.spec.category,
            action=rule.spec.action,
            hits=hits[rule_id],
            share=round(hits[rule_id] / total, 4) if total else 0.0,
            would_change=changes[rule_id],
            overlaps=overlaps[rule_id],
            transitions=dict(transitions[rule_id].most_common()),
            examples=sorted(shown[rule_id], key=lambda e: e.would_be is e.action),  # changes first
        )
        for rule_id, rule in rules.items()
    ]
    return ShadowReport(
        comments=total,
        shadow_rules=len(rules),
        would_change=any_change,
        rules=sorted(report, key=lambda r: (-r.hits, r.rule)),
    )


def _keep(kept: list[ShadowExample], example: ShadowExample, limit: int) -> None:
    if len(kept) < limit:
        kept.append(example)
        return
    # Full: replace an example that changes nothing by one that does.
    for i, old in enumerate(kept):
        if old.would_be is old.action:
            kept[i] = example
            return


def _shadow_example(comment: Comment, verdict: Verdict, violation: Violation, would_be: Action) -> ShadowExample:
    return ShadowExample(
        comment_id=comment.id,
        text=comment.text[:EXAMPLE_CHARS],
        action=verdict.action,
        would_be=would_be,
        evidence=[f"{violation.rule}: {e.text}" for e in violation.evidence[:3]],
        highlights=_highlights([violation]),
    )
