"""`modrules eval`: per-category precision/recall/F1 and macro-F1 on labeled comments."""

from __future__ import annotations

import json
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

from click.testing import CliRunner

from modrules import Moderator
from modrules.cli import main
from modrules.evaluation import CLEAN, Highlight, LabeledComment, evaluate
from modrules.report_html import confusion_heatmap, highlight, render_html
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


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> "quoted" & <b>bold</b>'


class _Structure(HTMLParser):
    """Checks that tags nest and close, and records what the page is made of."""

    VOID = frozenset({"meta", "br", "img", "hr", "input", "link", "rect", "line", "path", "circle"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: Counter[str] = Counter()
        self.marks: list[str] = []
        self._in_mark = 0
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        if any(name.startswith("on") for name, _ in attrs):
            self.errors.append(f"event handler attribute on <{tag}>")
        if tag == "mark":
            self._in_mark += 1
            self.marks.append("")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()
        if tag == "mark":
            self._in_mark -= 1

    def handle_data(self, data: str) -> None:
        if self._in_mark:
            self.marks[-1] += data


def _html_report(make_ruleset: RulesetFactory) -> str:
    moderator = Moderator.from_path(make_ruleset(RULES))
    labeled = [*LABELED, {"id": "h1", "text": f"spam {HOSTILE}", "categories": []}]
    report = evaluate(moderator, [LabeledComment.model_validate(r) for r in labeled])
    return render_html(report, title="t <script>")


def test_html_report_parses_and_has_the_charts(make_ruleset: RulesetFactory) -> None:
    page = _html_report(make_ruleset)
    parser = _Structure()
    parser.feed(page)
    parser.close()
    assert not parser.errors and parser.stack == []
    assert page.startswith("<!DOCTYPE html>")
    assert parser.tags["svg"] == 2  # category bars and the confusion heat-map
    assert 'class="chart bars"' in page and 'class="chart confusion"' in page
    assert parser.tags["rect"] >= 2 * 3  # three bars per category at least
    assert "spam-word" in page and "worst false positives" in page.lower()
    # Self-contained: no scripts, no remote resources.
    assert parser.tags["script"] == 0 and parser.tags["link"] == 0
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page
    assert "default-src 'none'" in page


def test_html_report_escapes_hostile_comment_text(make_ruleset: RulesetFactory) -> None:
    page = _html_report(make_ruleset)
    parser = _Structure()
    parser.feed(page)
    assert parser.tags["script"] == 0 and parser.tags["img"] == 0
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    assert not parser.errors
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<script>" not in page and "onerror=" not in page.replace("onerror=alert", "")
    # Evidence is highlighted: the spam words are the marked text.
    assert "spam" in parser.marks


def test_html_confusion_counts(make_ruleset: RulesetFactory) -> None:
    moderator = Moderator.from_path(make_ruleset(RULES))
    report = evaluate(moderator, [LabeledComment.model_validate(r) for r in LABELED])
    assert report.confusion == {
        "spam": {"spam": 1, CLEAN: 1},
        "profanity": {"profanity": 1},
        CLEAN: {"spam": 1, CLEAN: 1},
    }
    svg = confusion_heatmap(report.confusion)
    assert svg.count("<rect") == 3 * 3  # rows spam, profanity, clean x the same columns


def test_highlight_merges_overlaps_and_escapes() -> None:
    text = "a <b>c</b> d"
    spans = [Highlight(start=2, end=7, rule="r1"), Highlight(start=5, end=10, rule="r2"), Highlight(start=50, end=60, rule="r3")]
    out = highlight(text, spans)
    assert "<b>" not in out
    assert out.count("<mark") == 3  # before the overlap, the overlap, after it
    assert 'title="r1, r2"' in out
    assert highlight("", []) == ""


def test_html_on_huge_and_odd_text(make_ruleset: RulesetFactory) -> None:
    moderator = Moderator.from_path(make_ruleset(RULES))
    odd = "spam \u202e\u200b\U0001f600 " * 20000
    report = evaluate(moderator, [LabeledComment(id="big", text=odd, categories=[])])
    page = render_html(report)
    assert len(report.false_positives[0].text) == 500  # examples are clipped
    assert page.count("<mark") >= 1


def test_cli_html(make_ruleset: RulesetFactory, tmp_path: Path) -> None:
    labeled = tmp_path / "labeled.jsonl"
    labeled.write_text("\n".join(json.dumps(r) for r in LABELED) + "\n")
    out = tmp_path / "report.html"
    args = ["eval", str(labeled), "--rules", str(make_ruleset(RULES)), "--format", "html", "-o", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert out.read_text().count("<svg") == 2


def test_cli_no_ml_flag(make_ruleset: RulesetFactory, tmp_path: Path) -> None:
    labeled = tmp_path / "labeled.jsonl"
    labeled.write_text("\n".join(json.dumps(r) for r in LABELED) + "\n")
    args = ["eval", str(labeled), "--rules", str(make_ruleset(RULES)), "--format", "json", "--no-ml"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["macro_f1"] == 0.75  # no ML rules here: the same figures
