"""Rendering an evaluation report for people: a terminal table."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from modrules.evaluation import Report


def render_table(report: Report, console: Console) -> None:
    console.print(
        f"{report.comments} comments ({report.violating} violating, {report.clean} clean)   "
        f"macro-F1 {report.macro_f1:.3f}   micro-F1 {report.micro_f1:.3f}"
    )
    console.print(
        f"clean comments not published: {report.clean_not_published:.1%}   "
        f"violating comments published untouched: {report.violating_published:.1%}"
    )
    table = Table(title="per category")
    for column in ("category", "support", "predicted", "precision", "recall", "F1"):
        table.add_column(column, justify="left" if column == "category" else "right")
    for c in report.categories:
        table.add_row(c.category, str(c.support), str(c.predicted), f"{c.precision:.2f}", f"{c.recall:.2f}", f"{c.f1:.2f}")
    console.print(table)
    rules = Table(title="per rule")
    for column in ("rule", "category", "hits", "correct", "precision"):
        rules.add_column(column, justify="left" if column in ("rule", "category") else "right")
    for r in report.rules:
        rules.add_row(Text(r.rule + (" (shadow)" if r.shadow else "")), r.category, str(r.hits), str(r.correct), f"{r.precision:.2f}")
    console.print(rules)
    for title, examples in (("worst false positives", report.false_positives), ("worst false negatives", report.false_negatives)):
        if not examples:
            continue
        console.print(f"[bold]{title}[/bold]")
        for e in examples:
            console.print(
                escape(
                    f"  {e.comment_id} [{e.action.value}] labels={e.labels} predicted={e.predicted} "
                    f"{e.text[:120]!r} {'; '.join(e.evidence[:3])}"
                ),
                soft_wrap=True,
            )
