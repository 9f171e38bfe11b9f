"""Loading errors: each names the file, the line, the rule id and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from modrules import RulesetError, load_ruleset
from modrules.cli import main
from tests.conftest import RulesetFactory

GOOD = """\
id: shouting-word
category: profanity
clause: 12
action: flag
message: "found {match}"
when:
  pattern: '\\bdarn\\b'
examples:
  match: ["darn it"]
  no_match: ["darning socks"]
"""


def issues_of(root: Path) -> list[str]:
    with pytest.raises(RulesetError) as caught:
        load_ruleset(root)
    return [str(issue) for issue in caught.value.issues]


def test_a_good_rule_loads(make_ruleset: RulesetFactory) -> None:
    ruleset = load_ruleset(make_ruleset({"a.yaml": GOOD}))
    assert [r.id for r in ruleset.rules] == ["shouting-word"]
    rule = ruleset.rules[0]
    assert rule.line == 1 and rule.mode == "enforce" and rule.severity.value == "minor"
    assert ruleset.policy.site.name == "Example"


def test_invalid_yaml_names_file_and_line(make_ruleset: RulesetFactory) -> None:
    root = make_ruleset({"bad.yaml": "id: x\ncategory: [unclosed\naction: flag\n"})
    (issue,) = issues_of(root)
    assert "bad.yaml:" in issue and "invalid YAML" in issue
    assert issue.split(":")[1].isdigit()


def test_unknown_predicate_names_rule_and_line(make_ruleset: RulesetFactory) -> None:
    text = GOOD.replace("  pattern: '\\bdarn\\b'", "  patern: '\\bdarn\\b'")
    (issue,) = issues_of(make_ruleset({"a.yaml": text}))
    assert "a.yaml:7:" in issue
    assert "[shouting-word]" in issue
    assert "unknown predicate or combinator 'patern'" in issue


def test_unknown_field_in_rule(make_ruleset: RulesetFactory) -> None:
    (issue,) = issues_of(make_ruleset({"a.yaml": GOOD + "colour: red\n"}))
    assert "a.yaml:" in issue and "[shouting-word]" in issue and "colour" in issue


def test_unknown_field_in_predicate_config(make_ruleset: RulesetFactory) -> None:
    text = GOOD.replace("  pattern: '\\bdarn\\b'", "  pattern: {regex: 'x', flavour: 2}")
    (issue,) = issues_of(make_ruleset({"a.yaml": text}))
    assert "a.yaml:7:" in issue and "flavour" in issue


def test_invalid_regex(make_ruleset: RulesetFactory) -> None:
    text = GOOD.replace("'\\bdarn\\b'", "'(unclosed'")
    (issue,) = issues_of(make_ruleset({"a.yaml": text}))
    assert "a.yaml:7:" in issue and "[shouting-word]" in issue and "invalid regex" in issue


def test_unknown_category_and_clause_mismatch(make_ruleset: RulesetFactory) -> None:
    bad_category = GOOD.replace("category: profanity", "category: rudeness")
    (issue,) = issues_of(make_ruleset({"a.yaml": bad_category}))
    assert "a.yaml:2:" in issue and "category" in issue
    mismatch = GOOD.replace("clause: 12", "clause: 13")
    (issue,) = issues_of(make_ruleset({"a.yaml": mismatch}))
    assert "clause 13 is 'spam'" in issue


def test_duplicate_id_across_files(make_ruleset: RulesetFactory) -> None:
    (issue,) = issues_of(make_ruleset({"a.yaml": GOOD, "b.yaml": GOOD}))
    assert "b.yaml:1:" in issue and "duplicate rule id" in issue and "a.yaml:1" in issue


def test_duplicate_yaml_key(make_ruleset: RulesetFactory) -> None:
    (issue,) = issues_of(make_ruleset({"a.yaml": GOOD + "action: delete\n"}))
    assert "a.yaml:11:" in issue and "[shouting-word]" in issue and "duplicate key 'action'" in issue


def test_examples_are_required(make_ruleset: RulesetFactory) -> None:
    text = GOOD.split("examples:")[0]
    (issue,) = issues_of(make_ruleset({"a.yaml": text}))
    assert "examples" in issue and "Field required" in issue
    empty = GOOD.replace('no_match: ["darning socks"]', "no_match: []")
    (issue,) = issues_of(make_ruleset({"a.yaml": empty}))
    assert "examples.no_match" in issue


def test_rule_id_must_be_kebab_case(make_ruleset: RulesetFactory) -> None:
    (issue,) = issues_of(make_ruleset({"a.yaml": GOOD.replace("shouting-word", "Shouting_Word")}))
    assert "kebab-case" in issue


def test_missing_list_file(make_ruleset: RulesetFactory) -> None:
    text = GOOD.replace("  pattern: '\\bdarn\\b'", "  lexicon: {list: lists/nope.txt}")
    (issue,) = issues_of(make_ruleset({"a.yaml": text}))
    assert "a.yaml:7:" in issue and "nope.txt" in issue


def test_every_error_is_listed_not_just_the_first(make_ruleset: RulesetFactory) -> None:
    second = GOOD.replace("shouting-word", "other-word").replace("action: flag", "action: obliterate")
    third = "id: third\n"
    issues = issues_of(make_ruleset({"a.yaml": GOOD + "---\n" + second + "---\n" + third}))
    assert any("[other-word]" in i and "action" in i for i in issues)
    assert any("[third]" in i and "missing" not in i.lower() or "Field required" in i for i in issues)
    assert len(issues) >= 4  # action, plus third's missing category, clause, action, message...


def test_several_documents_in_one_file(make_ruleset: RulesetFactory) -> None:
    second = GOOD.replace("shouting-word", "other-word")
    ruleset = load_ruleset(make_ruleset({"a.yaml": GOOD + "---\n" + second}))
    assert [(r.id, r.line) for r in ruleset.rules] == [("shouting-word", 1), ("other-word", 12)]


def test_bad_policy(make_ruleset: RulesetFactory) -> None:
    root = make_ruleset({"a.yaml": GOOD}, policy="site:\n  name: X\ndefaults:\n  mode: loud\n")
    (issue,) = issues_of(root)
    assert "policy.yaml:4:" in issue and "defaults.mode" in issue


def test_site_placeholder_needs_a_site(make_ruleset: RulesetFactory) -> None:
    text = GOOD.replace("'\\bdarn\\b'", "'{site} sucks'")
    (issue,) = issues_of(make_ruleset({"a.yaml": text}, policy="defaults:\n  mode: enforce\n"))
    assert "{site}" in issue


def test_lint_cli_exit_codes(make_ruleset: RulesetFactory) -> None:
    runner = CliRunner()
    good = make_ruleset({"a.yaml": GOOD})
    result = runner.invoke(main, ["lint", str(good)])
    assert result.exit_code == 0, result.output
    assert "1 rules in 1 files" in result.output
    (good / "b.yaml").write_text(GOOD.replace("clause: 12", "clause: 99"))
    result = runner.invoke(main, ["lint", str(good)])
    assert result.exit_code == 2
    assert "b.yaml:3:" in result.output and "clause" in result.output


def test_lint_missing_directory() -> None:
    result = CliRunner().invoke(main, ["lint", "/nonexistent/rules"])
    assert result.exit_code == 2 and "not a directory" in result.output
