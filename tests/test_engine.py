"""The engine: conditions, evidence in original offsets, shadow mode, edits, the library API."""

from __future__ import annotations

from pathlib import Path

from modrules import Action, Comment, Moderator, Thread
from tests.conftest import RulesetFactory

RULES = {
    "a.yaml": """\
        id: no-darn
        category: profanity
        clause: 12
        action: edit
        message: "Mild profanity ({match}) masked"
        when:
          lexicon: {words: [darn, heck]}
        examples: {match: ["darn"], no_match: ["fine"]}
        ---
        id: shouting
        category: non-standard-english
        clause: 19
        action: flag
        message: "Capitals: {detail}"
        when: {caps: {min_letters: 10}}
        examples: {match: ["THIS IS ALL SHOUTING"], no_match: ["this is not"]}
        ---
        id: site-contempt
        category: disrespect-site
        clause: 6
        action: hold
        mode: shadow
        message: "Contempt for {site}"
        when:
          near:
            a: {pattern: '{site}'}
            b: {pattern: '\\b(?:trash|garbage)\\b'}
            within: 3
        examples: {match: ["Example is trash"], no_match: ["Example reported the trash collection strike"]}
        ---
        id: spammy
        category: spam
        clause: 13
        action: delete
        severity: major
        message: "Spam: {count} cues ({matches})"
        when:
          all:
            - pattern: '\\bearn\\b'
            - any:
              - pattern: '\\$\\d+'
              - pattern: '\\bfrom home\\b'
            - not: {pattern: '\\bnews\\b'}
        examples: {match: ["earn $500 from home"], no_match: ["news: workers earn $500"]}
        """,
}


def moderator(make_ruleset: RulesetFactory) -> Moderator:
    return Moderator.from_path(make_ruleset(RULES))


def test_publish_when_nothing_fires(make_ruleset: RulesetFactory) -> None:
    verdict = moderator(make_ruleset).moderate({"id": "c1", "text": "A calm remark."})
    assert verdict.action is Action.PUBLISH
    assert verdict.violations == [] and verdict.edited_text is None


def test_edit_masks_and_evidence_indexes_the_original(make_ruleset: RulesetFactory) -> None:
    text = "Well ＤＡＲＮ it, and he\u200bck too"  # fullwidth letters and a zero-width space
    verdict = moderator(make_ruleset).moderate(Comment(id="c1", text=text))
    assert verdict.action is Action.EDIT
    (violation,) = verdict.violations
    assert violation.rule == "no-darn" and violation.clause == 12
    spans = [(e.start, e.end, e.text) for e in violation.evidence]
    assert spans == [(5, 9, "ＤＡＲＮ"), (18, 23, "he\u200bck")]
    for e in violation.evidence:
        assert text[e.start : e.end] == e.text
    assert violation.message == "Mild profanity (ＤＡＲＮ) masked"
    assert verdict.edited_text == "Well Ｄ*** it, and h*** too"


def test_strongest_action_and_conditions(make_ruleset: RulesetFactory) -> None:
    m = moderator(make_ruleset)
    spam = m.moderate({"id": "s", "text": "EARN $500 A DAY FROM HOME EASILY, darn"})
    assert spam.action is Action.DELETE
    assert {v.rule for v in spam.violations} == {"spammy", "shouting", "no-darn"}
    assert spam.edited_text is None  # deleted, so nothing to edit
    message = next(v.message for v in spam.violations if v.rule == "spammy")
    assert message == "Spam: 3 cues (EARN, $500, FROM HOME)"
    assert m.moderate({"id": "n", "text": "news: they earn $500 from home"}).action is Action.PUBLISH
    assert m.moderate({"id": "n", "text": "earn respect"}).action is Action.PUBLISH


def test_shadow_rules_report_but_never_act(make_ruleset: RulesetFactory) -> None:
    m = moderator(make_ruleset)
    verdict = m.moderate({"id": "c", "text": "Example News is pure trash"})
    assert verdict.action is Action.PUBLISH
    (violation,) = verdict.violations
    assert violation.shadow and violation.rule == "site-contempt" and violation.action is Action.HOLD
    assert violation.message == "Contempt for Example"
    assert [e.text for e in violation.evidence] == ["Example News", "trash"]
    far = m.moderate({"id": "c", "text": "Example covered the strike, and the city is full of trash"})
    assert far.violations == []


def test_moderate_many_keeps_order_and_looks_up_threads(make_ruleset: RulesetFactory) -> None:
    m = moderator(make_ruleset)
    threads = {"t1": Thread(id="t1", title="Budget")}
    items = [
        {"id": "a", "text": "darn", "thread_id": "t1"},
        (Comment(id="b", text="fine"), None),
        Comment(id="c", text="EARN $5 from home"),
    ]
    verdicts = list(m.moderate_many(items, threads=threads))
    assert [v.comment_id for v in verdicts] == ["a", "b", "c"]
    assert [v.action for v in verdicts] == [Action.EDIT, Action.PUBLISH, Action.DELETE]


def test_same_input_same_output(make_ruleset: RulesetFactory) -> None:
    m = moderator(make_ruleset)
    text = "EARN $500 from home, darn it. Example is trash"
    first = m.moderate({"id": "x", "text": text}).model_dump_json()
    again = Moderator.from_path(make_ruleset(RULES)).moderate({"id": "x", "text": text}).model_dump_json()
    assert first == again


def test_pattern_timeout_counts_as_no_match(make_ruleset: RulesetFactory, tmp_path: Path) -> None:
    root = make_ruleset(
        {
            "a.yaml": """\
            id: catastrophic
            category: spam
            clause: 13
            action: delete
            message: "m"
            when: {pattern: {regex: '(a+)+$', view: raw}}
            examples: {match: ["aaa"], no_match: ["b"]}
            """
        },
        policy="site: {name: X}\nlimits: {regex_timeout_ms: 20}\n",
    )
    m = Moderator.from_path(root)
    verdict = m.moderate({"id": "h", "text": "a" * 50_000 + "!"})
    assert verdict.action is Action.PUBLISH
    assert [s.rule for s in verdict.skipped] == ["catastrophic"]
    assert "time limit" in verdict.skipped[0].reason
