"""Scoring a ruleset against labeled comments: per-category precision, recall and F1."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from itertools import tee
from typing import TypeVar

from pydantic import BaseModel, Field, field_validator

from modrules.engine import Moderator
from modrules.model import CATEGORIES, Action, Comment, Thread, Verdict


class LabeledComment(Comment):
    """A comment with the categories a person gave it (an empty list means clean)."""

    categories: list[str] = Field(default_factory=list)

    @field_validator("categories")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [c for c in value if c not in CATEGORIES]
        if unknown:
            raise ValueError(f"unknown categories {unknown}")
        return value


class CategoryScore(BaseModel):
    category: str
    support: int  # comments labeled with it
    predicted: int  # comments the rules put in it
    true_positives: int
    precision: float
    recall: float
    f1: float


class RuleScore(BaseModel):
    rule: str
    category: str
    hits: int
    correct: int  # hits on comments labeled with the rule's category
    precision: float
    shadow: bool


class Highlight(BaseModel):
    """An evidence span inside `Example.text`, and the rule that found it."""

    start: int
    end: int
    rule: str


class Example(BaseModel):
    comment_id: str
    text: str
    labels: list[str]
    predicted: list[str]
    action: Action
    evidence: list[str]
    highlights: list[Highlight] = Field(default_factory=list)


CLEAN = "(clean)"
"""The row of the confusion matrix for comments labeled clean, and the column for comments given no category."""


class Report(BaseModel):
    comments: int
    macro_f1: float
    micro_f1: float
    clean: int
    violating: int
    clean_not_published: float  # share of clean comments the rules did not publish
    violating_published: float  # share of violating comments published untouched
    categories: list[CategoryScore]
    rules: list[RuleScore]
    false_positives: list[Example]
    false_negatives: list[Example]
    # confusion[label][predicted]: comments with that label given that category; CLEAN on either side means none.
    confusion: dict[str, dict[str, int]] = Field(default_factory=dict)


C = TypeVar("C", bound=Comment)


def judged(
    moderator: Moderator,
    comments: Iterable[C],
    threads: Mapping[str, Thread] | None = None,
) -> Iterator[tuple[C, Verdict]]:
    """Each comment with its final verdict. One `moderate_many` over the whole stream (it
    batches ML work itself): cut into pieces, a flash mob spanning two pieces would leave
    the first piece's members unrevised."""
    mine, theirs = tee(comments)
    yield from zip(mine, moderator.moderate_many(theirs, threads=threads or {}), strict=True)


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


def _f1(p: float, r: float) -> float:
    return round(2 * p * r / (p + r), 4) if p + r else 0.0


def evaluate(
    moderator: Moderator,
    labeled: Iterable[LabeledComment],
    threads: Mapping[str, Thread] | None = None,
    examples: int = 10,
) -> Report:
    """Judge every labeled comment and compare the enforced categories with the labels.

    Macro-F1 averages the categories that occur in the labels or the predictions.
    """
    support: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    true_pos: Counter[str] = Counter()
    rule_hits: Counter[str] = Counter()
    rule_correct: Counter[str] = Counter()
    false_pos: list[tuple[float, Example]] = []
    false_neg: list[tuple[float, Example]] = []
    confusion: dict[str, Counter[str]] = {}
    total = clean = violating = clean_blocked = violating_passed = 0
    for comment, verdict in judged(moderator, labeled, threads):
        labels = set(comment.categories)
        guessed = set(verdict.categories)
        total += 1
        if labels:
            violating += 1
            violating_passed += verdict.action is Action.PUBLISH
        else:
            clean += 1
            clean_blocked += verdict.action is not Action.PUBLISH
        support.update(labels)
        predicted.update(guessed)
        true_pos.update(labels & guessed)
        for label in labels or {CLEAN}:
            confusion.setdefault(label, Counter()).update(guessed or {CLEAN})
        for violation in verdict.violations:
            rule_hits[violation.rule] += 1
            rule_correct[violation.rule] += violation.category in labels
        if guessed - labels:
            false_pos.append((_severity(verdict), _example(comment, verdict)))
        if labels - guessed:
            false_neg.append((len(labels - guessed), _example(comment, verdict)))

    categories = []
    for category in CATEGORIES:
        if not support[category] and not predicted[category]:
            continue
        p = _ratio(true_pos[category], predicted[category])
        r = _ratio(true_pos[category], support[category])
        categories.append(
            CategoryScore(
                category=category,
                support=support[category],
                predicted=predicted[category],
                true_positives=true_pos[category],
                precision=p,
                recall=r,
                f1=_f1(p, r),
            )
        )
    macro = round(sum(c.f1 for c in categories) / len(categories), 4) if categories else 0.0
    micro_p = _ratio(sum(true_pos.values()), sum(predicted.values()))
    micro_r = _ratio(sum(true_pos.values()), sum(support.values()))
    by_id = {r.id: r for r in moderator.ruleset.rules}
    rules = [
        RuleScore(
            rule=rule_id,
            category=by_id[rule_id].spec.category,
            hits=hits,
            correct=rule_correct[rule_id],
            precision=_ratio(rule_correct[rule_id], hits),
            shadow=by_id[rule_id].shadow,
        )
        for rule_id, hits in rule_hits.most_common()
    ]
    return Report(
        comments=total,
        macro_f1=macro,
        micro_f1=_f1(micro_p, micro_r),
        clean=clean,
        violating=violating,
        clean_not_published=_ratio(clean_blocked, clean),
        violating_published=_ratio(violating_passed, violating),
        categories=categories,
        rules=rules,
        false_positives=[e for _, e in sorted(false_pos, key=lambda x: -x[0])[:examples]],
        false_negatives=[e for _, e in sorted(false_neg, key=lambda x: -x[0])[:examples]],
        confusion=_ordered_confusion(confusion),
    )


def _ordered_confusion(confusion: Mapping[str, Counter[str]]) -> dict[str, dict[str, int]]:
    # Clause order, clean last, so every rendering of the matrix reads the same way.
    order = {c: i for i, c in enumerate((*CATEGORIES, CLEAN))}
    return {
        label: {p: row[p] for p in sorted(row, key=order.__getitem__)}
        for label, row in sorted(confusion.items(), key=lambda kv: order[kv[0]])
    }


def _severity(verdict: Verdict) -> float:
    # The worst false positives are the ones acted on most strongly.
    return verdict.action.rank + max((v.score for v in verdict.violations), default=0.0)


EXAMPLE_CHARS = 500


def _example(comment: LabeledComment, verdict: Verdict) -> Example:
    enforced = [v for v in verdict.violations if not v.shadow]
    return Example(
        comment_id=comment.id,
        text=comment.text[:EXAMPLE_CHARS],
        labels=sorted(comment.categories),
        predicted=verdict.categories,
        action=verdict.action,
        evidence=[f"{v.rule}: {e.text}" for v in enforced for e in v.evidence[:2]],
        highlights=[
            Highlight(start=e.start, end=min(e.end, EXAMPLE_CHARS), rule=v.rule)
            for v in enforced
            for e in v.evidence
            if e.start < EXAMPLE_CHARS
        ],
    )
