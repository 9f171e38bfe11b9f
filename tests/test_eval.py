"""`modrules eval`: per-category precision/recall/F1 and macro-F1 on labeled comments."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from modrules import Moderator
from modrules.cli import main
from modrules.evaluation import LabeledComment, evaluate
from tests.conftest import RulesetFactory

RULES = {
    "a.yaml": """\
        id: spam-word
        category: spam
        clause: 13
        action: delete
        message: m
        when: {pattern: '\\bspam\\b'}
        examples: {match: ["spam"], no_match: ["ham"]}
        ---
        id: rude-word
        category: profanity
        clause: 12
        action: edit
        message: m
        when: {pattern: '\\bdarn\\b'}
        examples: {match: ["darn"], no_match: ["ham"]}
        """
}

LABELED = [
    {"id": "1", "text": "spam spam", "categories": ["spam"]},  # TP spam
    {"id": "2", "text": "buy pills", "categories": ["spam"]},  # FN spam
    {"id": "3", "text": "spam is a meat", "categories": []},  # FP spam
    {"id": "4", "text": "darn it", "categories": ["profanity"]},  # TP profanity
    {"id": "5", "text": "nice day", "categories": []},  # TN
]


def test_figures(make_ruleset: RulesetFactory) -> None:
    moderator = Moderator.from_path(make_ruleset(RULES))
    report = evaluate(moderator, [LabeledComment.model_validate(r) for r in LABELED])
    scores = {c.category: c for c in report.categories}
    assert set(scores) == {"spam", "profanity"}
    spam = scores["spam"]
    assert (spam.support, spam.predicted, spam.true_positives) == (2, 2, 1)
    assert spam.precision == 0.5 and spam.recall == 0.5 and spam.f1 == 0.5
    assert scores["profanity"].f1 == 1.0
    assert report.macro_f1 == 0.75
    assert report.clean == 2 and report.violating == 3
    assert report.clean_not_published == 0.5
    assert report.violating_published == round(1 / 3, 4)
    assert [e.comment_id for e in report.false_positives] == ["3"]
    assert [e.comment_id for e in report.false_negatives] == ["2"]
    rule = {r.rule: r for r in report.rules}["spam-word"]
    assert (rule.hits, rule.correct, rule.precision) == (2, 1, 0.5)


def test_cli_json_and_bad_lines(make_ruleset: RulesetFactory, tmp_path: Path) -> None:
    labeled = tmp_path / "labeled.jsonl"
    lines = [json.dumps(r) for r in LABELED] + ['{"id": "6", "text": "x", "categories": ["rudeness"]}']
    labeled.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(main, ["eval", str(labeled), "--rules", str(make_ruleset(RULES)), "--format", "json"])
    assert result.exit_code == 1  # the line with an unknown category is reported
    report = json.loads(result.stdout[result.stdout.index("{") :])
    assert report["macro_f1"] == 0.75 and report["comments"] == 5


def test_cli_table_on_fixtures() -> None:
    result = CliRunner().invoke(main, ["eval", "fixtures/comments.jsonl", "--threads", "fixtures/threads.jsonl"])
    assert result.exit_code == 0, result.output
    assert "macro-F1" in result.output and "per category" in result.output
