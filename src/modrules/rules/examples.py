"""Running each rule's own examples: `match` must fire the rule, `no_match` must not.

A stateful example (`sequence:`) is a small stream judged in a fresh window: every
comment is remembered first, then the rule is evaluated on each, so the verdicts are
the final (retroactive) ones the CLI would print.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from modrules.model import Comment, Thread
from modrules.rules.loader import Rule
from modrules.rules.schema import Example
from modrules.window import RELATED, RecentWindow

if TYPE_CHECKING:
    from modrules.engine import Moderator


@dataclass(frozen=True)
class ExampleOutcome:
    rule: str
    file: str
    line: int
    kind: Literal["match", "no_match"]
    text: str
    passed: bool
    skipped: str | None = None  # why the rule could not run here
    evidence: tuple[str, ...] = ()


def run_rule_examples(moderator: Moderator, rule: Rule) -> list[ExampleOutcome]:
    outcomes: list[ExampleOutcome] = []
    kinds: tuple[tuple[Literal["match", "no_match"], list[Example]], ...] = (
        ("match", rule.spec.examples.match),
        ("no_match", rule.spec.examples.no_match),
    )
    for kind, examples in kinds:
        for index, example in enumerate(examples):
            if rule.unavailable is not None:
                outcomes.append(
                    ExampleOutcome(rule.id, rule.file, rule.line, kind, example.text, True, rule.unavailable)
                )
                continue
            if example.sequence is not None:
                outcomes.append(_run_sequence(moderator, rule, kind, index, example))
                continue
            thread = None
            if example.thread is not None:
                # Only what the example states: an unset language must not count as stated.
                thread = Thread(id="example-thread", **example.thread.model_dump(exclude_unset=True))
            parent = None
            if example.parent is not None:
                parent = Comment(id="example-parent", text=example.parent, thread_id="example-thread")
            comment = Comment(
                id=f"{rule.id}/{kind}/{index}",
                text=example.text,
                thread_id="example-thread" if thread is not None else None,
                parent_id="example-parent" if parent is not None else None,
            )
            violation = moderator.evaluate_rule(rule, moderator.document(comment, thread, parent))
            fired = violation is not None
            outcomes.append(
                ExampleOutcome(
                    rule=rule.id,
                    file=rule.file,
                    line=rule.line,
                    kind=kind,
                    text=example.text,
                    passed=fired == (kind == "match"),
                    evidence=tuple(e.text for e in violation.evidence) if violation else (),
                )
            )
    return outcomes


_EPOCH = datetime(2017, 4, 19, 12, 0, tzinfo=UTC)


def _run_sequence(
    moderator: Moderator, rule: Rule, kind: Literal["match", "no_match"], index: int, example: Example
) -> ExampleOutcome:
    assert example.sequence is not None
    lookbacks = [p.lookback() for p in rule.condition.predicates()]
    window = RecentWindow(None, max((s for s in lookbacks if s is not None), default=3600.0))
    docs = []
    for position, item in enumerate(example.sequence):
        comment = Comment(
            id=f"{rule.id}/{kind}/{index}/{position}",
            text=item.text,
            thread_id=item.thread,
            author_id=item.author,
            created_at=_EPOCH + timedelta(seconds=item.at),
        )
        doc = moderator.document(comment)
        doc.state = window
        entry = window.entry(doc)
        assert entry is not None
        window.add(entry)
        docs.append(doc)
    fired: list[int] = []
    evidence: list[str] = []
    for position, doc in enumerate(docs):
        doc.set_signal(RELATED, set())
        violation = moderator.evaluate_rule(rule, doc)
        if violation is not None:
            fired.append(position)
            evidence.append(violation.message)
    expected = example.expect if example.expect is not None else list(range(len(docs)))
    passed = set(expected) <= set(fired) if kind == "match" else not fired
    summary = f"{len(docs)} comments from {len({i.author for i in example.sequence})} accounts"
    return ExampleOutcome(
        rule=rule.id,
        file=rule.file,
        line=rule.line,
        kind=kind,
        text=f"{summary}; fired on {fired}: {example.sequence[0].text}",
        passed=passed,
        evidence=tuple(evidence[:1]),
    )


def run_examples(moderator: Moderator) -> list[ExampleOutcome]:
    """The outcome of every example of every rule of the moderator's ruleset."""
    return [o for rule in moderator.ruleset.rules for o in run_rule_examples(moderator, rule)]
