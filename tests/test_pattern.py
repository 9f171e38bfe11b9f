"""`pattern`: views, min_count, {site}, and a prefilter that never misses a match."""

from __future__ import annotations

import json

from modrules import Moderator
from modrules.checkers.pattern import Pattern
from tests.conftest import FIXTURES, RulesetFactory


def rule(when: str, site: bool = True) -> dict[str, str]:
    return {
        "a.yaml": f"""\
            id: r
            category: spam
            clause: 13
            action: flag
            message: "{{match}}"
            when: {when}
            examples: {{match: ["x"], no_match: ["y"]}}
            """
    }


def spans(moderator: Moderator, text: str) -> list[str]:
    verdict = moderator.moderate({"id": "1", "text": text})
    return [e.text for v in verdict.violations for e in v.evidence]


def test_default_view_is_normalized_and_case_insensitive(make_ruleset: RulesetFactory) -> None:
    m = Moderator.from_path(make_ruleset(rule("{pattern: 'free money'}")))
    assert spans(m, "Get FREE MONEY now") == ["FREE MONEY"]
    assert spans(m, "Get ＦＲＥＥ　ｍｏｎｅｙ now") == ["ＦＲＥＥ　ｍｏｎｅｙ"]  # fullwidth, NFKC
    assert spans(m, "free\u200b money") == ["free\u200b money"]  # zero-width inside
    assert spans(m, "freedom money") == []


def test_raw_view_and_case_sensitivity(make_ruleset: RulesetFactory) -> None:
    m = Moderator.from_path(make_ruleset(rule("{pattern: {regex: 'NOW', view: raw, ignore_case: false}}")))
    assert spans(m, "buy NOW") == ["NOW"]
    assert spans(m, "buy now") == []


def test_min_count(make_ruleset: RulesetFactory) -> None:
    m = Moderator.from_path(make_ruleset(rule("{pattern: {regex: '!', min_count: 3}}")))
    assert spans(m, "wow!!") == []
    assert spans(m, "wow!!!") == ["!", "!", "!"]


def test_site_placeholder(make_ruleset: RulesetFactory) -> None:
    m = Moderator.from_path(make_ruleset(rule("{pattern: '\\b{site}\\b'}")))
    assert spans(m, "I read it on example news today") == ["example news"]
    assert spans(m, "for example, this") == ["example"]
    assert spans(m, "counterexample") == []


def test_skeleton_view_sees_through_obfuscation(make_ruleset: RulesetFactory) -> None:
    m = Moderator.from_path(make_ruleset(rule("{pattern: {regex: '\\bidiot\\b', view: skeleton}}")))
    assert spans(m, "you 1d10t") == ["1d10t"]
    assert spans(m, "you idi\u043et") == ["idi\u043et"]  # Cyrillic o


def test_prefilter_never_changes_a_result(default_moderator: Moderator) -> None:
    """For every pattern of the default ruleset, prefilter + confirm == the regex alone."""
    texts = [json.loads(line)["text"] for line in (FIXTURES / "comments.jsonl").read_text().splitlines() if line.strip()]
    for r in default_moderator.ruleset.rules:
        texts += [e.text for e in r.spec.examples.match + r.spec.examples.no_match]
    patterns = [
        p
        for r in default_moderator.ruleset.rules
        for p in r.condition.predicates()
        if isinstance(p, Pattern)
    ]
    assert patterns
    for text in texts:
        doc = default_moderator.document({"id": "t", "text": text})
        for p in patterns:
            assert (p.evaluate(doc) is None) == (p.confirm(doc) is None), (p.config.regex, text)


def test_rule_gates_never_skip_a_rule_that_would_fire(default_moderator: Moderator) -> None:
    """A rule skipped because its literals are absent must indeed not fire."""
    texts = [json.loads(line)["text"] for line in (FIXTURES / "comments.jsonl").read_text().splitlines() if line.strip()]
    for r in default_moderator.ruleset.rules:
        texts += [e.text for e in r.spec.examples.match + r.spec.examples.no_match]
    gated = [(rule, gate) for rule, gate in default_moderator._runnable if gate is not None]
    assert gated, "the default ruleset should have prefilter-gated rules"
    for text in texts:
        doc = default_moderator.document({"id": "t", "text": text})
        for rule, gate in gated:
            if not default_moderator._gate_open(doc, gate):
                assert rule.condition.evaluate(doc) is None, (rule.id, text)
