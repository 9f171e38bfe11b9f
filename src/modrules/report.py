"""Rendering evaluation, diff and shadow reports for people: terminal tables."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from modrules.backtest import DiffReport, ShadowReport
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


def render_diff(report: DiffReport, console: Console) -> None:
    console.print(
        escape(f"{report.old_rules} -> {report.new_rules}: {report.comments} comments, ")
        + f"{report.changed} verdicts change ({_share(report.changed, report.comments)}); "
        f"action changes {report.action_changed} ({report.stricter} stricter, {report.looser} looser)"
    )
    if not report.changed:
        return
    table = Table(title="by action")
    for column in ("old action", "new action", "comments"):
        table.add_column(column, justify="right" if column == "comments" else "left")
    for t in report.transitions:
        table.add_row(t.old_action.value, t.new_action.value + ("" if t.new_action is not t.old_action else " (categories only)"), str(t.count))
    console.print(table)
    if report.categories:
        cats = Table(title="by category")
        for column in ("category", "before", "after", "gained", "lost"):
            cats.add_column(column, justify="left" if column == "category" else "right")
        for c in report.categories:
            cats.add_row(c.category, str(c.before), str(c.after), f"+{c.gained}", f"-{c.lost}")
        console.print(cats)
    if report.rules:
        rules = Table(title="by rule (enforced hits)")
        for column in ("rule", "status", "before", "after"):
            rules.add_column(column, justify="left" if column in ("rule", "status") else "right")
        for r in report.rules:
            rules.add_row(Text(r.rule), r.status, str(r.before), str(r.after))
        console.print(rules)
    for t in report.transitions:
        console.print(f"[bold]{t.old_action.value} -> {t.new_action.value}[/bold] ({t.count})")
        for e in t.examples:
            rules_changed = [f"+{r}" for r in e.rules_added] + [f"-{r}" for r in e.rules_removed]
            console.print(
                escape(
                    f"  {e.comment_id} {e.old_categories} -> {e.new_categories} {' '.join(rules_changed)} "
                    f"{e.text[:120]!r} {'; '.join(e.evidence[:3])}"
                ),
                soft_wrap=True,
            )


def render_shadow(report: ShadowReport, console: Console) -> None:
    console.print(
        f"{report.comments} comments, {report.shadow_rules} shadow rule(s); enforcing them all would change "
        f"the action of {report.would_change} comment(s) ({_share(report.would_change, report.comments)})"
    )
    if not report.rules:
        console.print("no rule in this ruleset is in shadow mode (set `mode: shadow` on a rule to try it)")
        return
    table = Table(title="shadow rules")
    for column in ("rule", "category", "would", "hits", "share", "changes verdict", "already caught", "transitions"):
        table.add_column(column, justify="right" if column in ("hits", "share", "changes verdict", "already caught") else "left")
    for r in report.rules:
        table.add_row(
            Text(r.rule), r.category, r.action.value, str(r.hits), f"{r.share:.2%}", str(r.would_change),
            str(r.overlaps), Text(", ".join(f"{k} {v}" for k, v in r.transitions.items())),
        )
    console.print(table)
    for r in report.rules:
        if not r.examples:
            continue
        console.print(escape(f"[{r.rule}]"), style="bold")
        for e in r.examples:
            console.print(
                escape(f"  {e.comment_id} {e.action.value} -> {e.would_be.value} {e.text[:120]!r} {'; '.join(e.evidence)}"),
                soft_wrap=True,
            )


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"
