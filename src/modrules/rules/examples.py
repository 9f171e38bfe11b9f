"""Running each rule's own examples: `match` must fire the rule, `no_match` must not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from modrules.model import Comment, Thread
from modrules.rules.loader import Rule
from modrules.rules.schema import Example

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
            thread = None
            if example.thread is not None:
                thread = Thread(id="example-thread", **example.thread.model_dump())
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


def run_examples(moderator: Moderator) -> list[ExampleOutcome]:
    """The outcome of every example of every rule of the moderator's ruleset."""
    return [o for rule in moderator.ruleset.rules for o in run_rule_examples(moderator, rule)]
