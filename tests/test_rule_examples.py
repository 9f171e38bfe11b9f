"""Every rule of the default ruleset carries examples; each one is a test here."""

from __future__ import annotations

import pytest

from modrules import Moderator, load_ruleset
from modrules.rules import Rule
from modrules.rules.examples import run_rule_examples

RULESET = load_ruleset()
MODERATOR = Moderator(RULESET)


@pytest.mark.parametrize("rule", RULESET.rules, ids=[r.id for r in RULESET.rules])
def test_rule_examples(rule: Rule) -> None:
    outcomes = run_rule_examples(MODERATOR, rule)
    failures = [
        f"{o.kind}: {o.text!r}" + (f" (found {', '.join(o.evidence)})" if o.evidence else "")
        for o in outcomes
        if not o.passed
    ]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("rule", RULESET.rules, ids=[r.id for r in RULESET.rules])
def test_default_rules_have_enough_examples(rule: Rule) -> None:
    examples = rule.spec.examples
    assert len(examples.match) >= 4, "the default ruleset keeps at least 4 match examples"
    assert len(examples.no_match) >= 4, "the default ruleset keeps at least 4 no_match examples"


def test_default_ruleset_covers_the_text_decidable_clauses() -> None:
    categories = {r.spec.category for r in RULESET.rules}
    needed = {
        "profanity", "non-standard-english", "privacy", "commercial", "third-party-promotion",
        "spam", "malware", "drugs", "suicide", "disrespect-site",
        "insult-threat", "hate", "extremism", "violence", "minors",
    }
    assert needed <= categories, f"missing: {sorted(needed - categories)}"


def test_rule_files_cite_their_clause() -> None:
    for rule in RULESET.rules:
        number = int(rule.file.split("/")[-1].split("-")[0])
        assert number == rule.spec.clause, f"{rule.file} holds {rule.id} of clause {rule.spec.clause}"
