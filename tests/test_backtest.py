"""`modrules diff` (backtest of a rule change) and `modrules shadow` (what shadow rules would do)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from modrules import Moderator
from modrules.backtest import diff, shadow
from modrules.cli import main
from modrules.model import Action, Comment
from tests.conftest import RulesetFactory

SPAM = """\
    id: spam-word
    category: spam
    clause: 13
    action: delete
    message: m
    when: {pattern: '\\bspam\\b'}
    examples: {match: ["spam"], no_match: ["ham"]}
    """
RUDE = """\
    id: rude-word
    category: profanity
    clause: 12
    action: {action}
    message: m
    {mode}
    when: {{pattern: '\\bdarn\\b'}}
    examples: {{match: ["darn"], no_match: ["ham"]}}
    """

DUMP = [
    {"id": "1", "text": "spam spam"},
    {"id": "2", "text": "darn it"},
    {"id": "3", "text": "darn spam"},
    {"id": "4", "text": "a nice day"},
    {"id": "5", "text": "oh darn, <script>alert(1)</script>"},
]


def _comments() -> list[Comment]:
    return [Comment.model_validate(c) for c in DUMP]


def _rules(make_ruleset: RulesetFactory, tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    root = make_ruleset(files)
    return root.rename(tmp_path / name)


def test_diff_counts_transitions_categories_and_rules(make_ruleset: RulesetFactory, tmp_path: Path) -> None:
    old_dir = _rules(make_ruleset, tmp_path, "old", {"a.yaml": SPAM})
    new_dir = _rules(make_ruleset, tmp_path, "new", {"a.yaml": SPAM, "b.yaml": RUDE.format(action="hold", mode="")})
    report = diff(Moderator.from_path(old_dir), Moderator.from_path(new_dir), _comments(), examples=1)
    assert report.comments == 5
    # 2 and 5 go publish -> hold; 3 stays delete but gains profanity.
    assert report.changed == 3 and report.action_changed == 2
    assert (report.stricter, report.looser) == (2, 0)
    by_kind = {(t.old_action, t.new_action): t for t in report.transitions}
    assert by_kind[(Action.PUBLISH, Action.HOLD)].count == 2
    assert len(by_kind[(Action.PUBLISH, Action.HOLD)].examples) == 1  # --examples caps each kind
    same = by_kind[(Action.DELETE, Action.DELETE)]
    assert same.count == 1 and same.examples[0].comment_id == "3"
    assert same.examples[0].rules_added == ["rude-word"]
    assert same.examples[0].new_categories == ["spam", "profanity"]
    profanity = {c.category: c for c in report.categories}["profanity"]
    assert (profanity.before, profanity.after, profanity.gained, profanity.lost) == (0, 3, 3, 0)
    assert [(r.rule, r.status, r.before, r.after) for r in report.rules] == [("rude-word", "added", 0, 3)]
    change = by_kind[(Action.PUBLISH, Action.HOLD)].examples[0]
    assert change.evidence == ["rude-word: darn"]
    assert change.text[change.highlights[0].start : change.highlights[0].end] == "darn"


def test_diff_of_identical_rulesets_is_empty(make_ruleset: RulesetFactory) -> None:
    rules = make_ruleset({"a.yaml": SPAM})
    report = diff(Moderator.from_path(rules), Moderator.from_path(rules), _comments())
    assert report.changed == 0 and report.transitions == [] and report.categories == [] and report.rules == []


def test_diff_removed_rule_shows_what_the_old_rules_found(make_ruleset: RulesetFactory, tmp_path: Path) -> None:
    old_dir = _rules(make_ruleset, tmp_path, "old", {"a.yaml": SPAM})
    new_dir = _rules(make_ruleset, tmp_path, "new", {"b.yaml": RUDE.format(action="flag", mode="")})
    report = diff(Moderator.from_path(old_dir), Moderator.from_path(new_dir), _comments())
    kinds = {(t.old_action.value, t.new_action.value): t for t in report.transitions}
    assert kinds[("delete", "publish")].examples[0].comment_id == "1"
    assert kinds[("delete", "publish")].examples[0].evidence == ["spam-word: spam", "spam-word: spam"]
    assert report.looser == 2
    assert {(r.rule, r.status) for r in report.rules} == {("spam-word", "removed"), ("rude-word", "added")}


def test_diff_cli(make_ruleset: RulesetFactory, tmp_path: Path) -> None:
    old_dir = _rules(make_ruleset, tmp_path, "old", {"a.yaml": SPAM})
    new_dir = _rules(make_ruleset, tmp_path, "new", {"a.yaml": SPAM, "b.yaml": RUDE.format(action="hold", mode="")})
    dump = tmp_path / "dump.jsonl"
    dump.write_text("\n".join(json.dumps(c) for c in DUMP) + "\nnot json\n")
    args = ["diff", "--rules", str(old_dir), "--against", str(new_dir), str(dump)]
    table = CliRunner().invoke(main, args)
    assert table.exit_code == 1  # the bad line is reported, the rest still compared
    assert "3 verdicts change" in table.stdout and "publish -> hold" in table.stdout
    assert "<script>alert(1)</script>" in table.stdout  # plain text, never rich markup
    result = CliRunner().invoke(main, [*args[:-1], "--format", "json", str(dump)])
    report = json.loads(result.stdout[result.stdout.index("{") :])
    assert report["changed"] == 3 and report["comments"] == 5


def test_shadow_reports_what_a_shadow_rule_would_do(make_ruleset: RulesetFactory) -> None:
    rules = make_ruleset({"a.yaml": SPAM, "b.yaml": RUDE.format(action="hold", mode="mode: shadow")})
    moderator = Moderator.from_path(rules)
    report = shadow(moderator, _comments(), examples=2)
    assert report.comments == 5 and report.shadow_rules == 1
    (rule,) = report.rules
    assert (rule.rule, rule.category, rule.action, rule.hits) == ("rude-word", "profanity", Action.HOLD, 3)
    assert rule.share == 0.6
    # "darn spam" is deleted anyway: only 2 and 5 would change, publish -> hold.
    assert rule.would_change == 2 and rule.transitions == {"publish->hold": 2}
    assert report.would_change == 2
    assert len(rule.examples) == 2 and all(e.would_be is Action.HOLD for e in rule.examples)
    assert all(e.action is Action.PUBLISH for e in rule.examples)  # shadow rules never act


def test_shadow_lists_quiet_rules_and_ignores_enforced_ones(make_ruleset: RulesetFactory, tmp_path: Path) -> None:
    rules = _rules(make_ruleset, tmp_path, "with-shadow", {"a.yaml": SPAM, "b.yaml": RUDE.format(action="hold", mode="mode: shadow")})
    report = shadow(Moderator.from_path(rules), [Comment(id="x", text="spam only")])
    assert [(r.rule, r.hits, r.examples) for r in report.rules] == [("rude-word", 0, [])]
    none = shadow(Moderator.from_path(make_ruleset({"a.yaml": SPAM})), _comments())
    assert none.shadow_rules == 0 and none.rules == []


def test_shadow_cli(make_ruleset: RulesetFactory, tmp_path: Path) -> None:
    rules = make_ruleset({"a.yaml": SPAM, "b.yaml": RUDE.format(action="hold", mode="mode: shadow")})
    dump = tmp_path / "dump.jsonl"
    dump.write_text("\n".join(json.dumps(c) for c in DUMP) + "\n")
    result = CliRunner().invoke(main, ["shadow", str(dump), "--rules", str(rules)])
    assert result.exit_code == 0, result.output
    assert "rude-word" in result.stdout and "publish->hold 2" in result.stdout
    as_json = CliRunner().invoke(main, ["shadow", str(dump), "--rules", str(rules), "--format", "json"])
    assert json.loads(as_json.stdout)["rules"][0]["hits"] == 3
    missing = CliRunner().invoke(main, ["shadow", str(tmp_path / "nope.jsonl"), "--rules", str(rules)])
    assert missing.exit_code == 2


def test_hostile_and_huge_comments(make_ruleset: RulesetFactory, tmp_path: Path) -> None:
    old_dir = _rules(make_ruleset, tmp_path, "old", {"a.yaml": SPAM})
    new_dir = _rules(make_ruleset, tmp_path, "new", {"a.yaml": SPAM, "b.yaml": RUDE.format(action="hold", mode="mode: shadow")})
    huge = [Comment(id="big", text="darn \u202e\u200b\U0001f600 [red]x[/red] " * 50000), Comment(id="e", text="")]
    # A shadow rule changes nothing that is enforced.
    assert diff(Moderator.from_path(old_dir), Moderator.from_path(new_dir), huge).changed == 0
    report = shadow(Moderator.from_path(new_dir), huge)
    example = report.rules[0].examples[0]
    assert len(example.text) == 500 and all(h.end <= 500 for h in example.highlights)


def test_diff_names_a_rule_moved_to_shadow(make_ruleset: RulesetFactory, tmp_path: Path) -> None:
    old_dir = _rules(make_ruleset, tmp_path, "old", {"a.yaml": SPAM, "b.yaml": RUDE.format(action="hold", mode="")})
    new_dir = _rules(make_ruleset, tmp_path, "new", {"a.yaml": SPAM, "b.yaml": RUDE.format(action="hold", mode="mode: shadow")})
    report = diff(Moderator.from_path(old_dir), Moderator.from_path(new_dir), _comments())
    assert [(r.rule, r.status, r.before, r.after) for r in report.rules] == [("rude-word", "now shadow", 3, 0)]
    assert report.looser == 2
