"""The `modrules` command line: check · lint · test · eval · diff · shadow · explain."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from modrules.dumps import error_json, existing, read_comments, read_threads, verdict_json
from modrules.engine import Moderator
from modrules.model import Action, Comment, InputError, Thread, Verdict
from modrules.rules import RulesetError, load_ruleset
from modrules.rules.examples import run_examples

EXIT_OK, EXIT_INVALID_INPUT, EXIT_USAGE = 0, 1, 2

ACTION_STYLE = {
    Action.PUBLISH: "green",
    Action.FLAG: "yellow",
    Action.EDIT: "cyan",
    Action.HOLD: "magenta",
    Action.DELETE: "bold red",
}

rules_option = click.option(
    "--rules",
    "rules_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Ruleset directory (default: the bundled Sputnik ruleset).",
)


def _require_files(*paths: str | None) -> None:
    """A usage error (exit 2) for the first named input that does not exist."""
    for path in paths:
        if path is not None and not existing(path):
            raise click.UsageError(f"no such file: {path}")


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


def _load(rules_dir: Path | None, disable_ml: bool = False) -> Moderator:
    try:
        return Moderator(load_ruleset(rules_dir, disable_ml=disable_ml))
    except RulesetError as exc:
        console = _stderr()
        for issue in exc.issues:
            console.print(f"[red]error[/red] {escape(str(issue))}", soft_wrap=True)
        raise SystemExit(EXIT_USAGE) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="modrules")
def main() -> None:
    """modrules: community standards as YAML rules, with explainable verdicts."""


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--threads", "threads_file", default=None, help="Threads (articles) as JSON Lines.")
@rules_option
@click.option("-o", "--output", default="-", help="Where verdicts go (default: standard output).")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "table"]), default="jsonl", show_default=True
)
@click.option("--errors", "errors_file", default=None, help="Also write invalid-line records here (JSONL).")
@click.option("--no-ml", is_flag=True, help="Skip every ML checker, as if its extra were missing.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
def check(
    inputs: tuple[str, ...],
    threads_file: str | None,
    rules_dir: Path | None,
    output: str,
    fmt: str,
    errors_file: str | None,
    no_ml: bool,
    quiet: bool,
) -> None:
    """Judge comment dumps (.jsonl, .jsonl.gz or - for stdin): one verdict per line, in order.

    Exit 0 when every line was judged, 1 when some lines were invalid (each reported
    with its line number; all others still judged), 2 for a usage or ruleset error.
    """
    _require_files(*inputs, threads_file)
    moderator = _load(rules_dir, disable_ml=no_ml)
    console = _stderr()
    threads, input_errors = read_threads(threads_file)

    actions: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    started = time.perf_counter()
    judged = 0
    with ExitStack() as stack:
        out: IO[bytes] = (
            sys.stdout.buffer if output == "-" or fmt == "table" else stack.enter_context(open(output, "wb"))
        )
        errors_out: IO[bytes] | None = (
            stack.enter_context(open(errors_file, "wb")) if errors_file else None
        )
        for error in input_errors:
            _report_error(console, error, errors_out)
        table = _verdict_table() if fmt == "table" else None
        progress = _progress(console, quiet)

        def valid(records: Iterator[Comment | InputError]) -> Iterator[Comment]:
            # Bad lines are reported as they are met; the good ones go on to be judged.
            for record in records:
                if isinstance(record, InputError):
                    input_errors.append(record)
                    _report_error(console, record, errors_out)
                else:
                    yield record

        stream = valid(_with_progress(read_comments(list(inputs)), progress))
        for verdict in moderator.moderate_many(stream, threads=threads):
            judged += 1
            actions[verdict.action.value] += 1
            categories.update(verdict.categories)
            if table is not None:
                _add_row(table, verdict)
            else:
                out.write(verdict_json(verdict))
        if table is not None:
            text_out = sys.stdout if output == "-" else stack.enter_context(open(output, "w", encoding="utf-8"))
            Console(file=text_out, width=160).print(table)
        out.flush()
    if not quiet:
        _summary(console, judged, input_errors, actions, categories, time.perf_counter() - started)
    raise SystemExit(EXIT_INVALID_INPUT if input_errors else EXIT_OK)


def _report_error(console: Console, error: InputError, errors_out: IO[bytes] | None) -> None:
    console.print(f"[red]invalid[/red] {escape(f'{error.source}:{error.line}: {error.error}')}", soft_wrap=True)
    if errors_out is not None:
        errors_out.write(error_json(error))


class _Ticker:
    """A live count on a terminal; nothing when stderr is not one."""

    def __init__(self, console: Console) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.completed:,} comments"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task = self.progress.add_task("judging", total=None)


def _progress(console: Console, quiet: bool) -> _Ticker | None:
    return _Ticker(console) if console.is_terminal and not quiet else None


def _with_progress(
    records: Iterator[Comment | InputError], ticker: _Ticker | None
) -> Iterator[Comment | InputError]:
    if ticker is None:
        yield from records
        return
    with ticker.progress:
        for count, record in enumerate(records, start=1):
            if count % 500 == 0:
                ticker.progress.update(ticker.task, completed=count)
            yield record


def _summary(
    console: Console,
    judged: int,
    errors: list[InputError],
    actions: Counter[str],
    categories: Counter[str],
    seconds: float,
) -> None:
    rate = judged / seconds if seconds > 0 else 0.0
    console.print(f"judged {judged:,} comments in {seconds:.2f}s ({rate:,.0f}/s); {len(errors)} invalid line(s)")
    console.print("actions: " + ", ".join(f"{a.value} {actions.get(a.value, 0):,}" for a in Action))
    if categories:
        console.print(
            "categories: " + ", ".join(f"{c} {n:,}" for c, n in categories.most_common()),
            soft_wrap=True,
        )


def _verdict_table() -> Table:
    table = Table(show_lines=False)
    for column in ("comment", "action", "categories", "rules", "evidence"):
        table.add_column(column)
    return table


def _add_row(table: Table, verdict: Verdict) -> None:
    evidence = "; ".join(e.text for v in verdict.violations for e in v.evidence[:1])
    # Text cells, not markup: comment text may contain [brackets].
    table.add_row(
        Text(verdict.comment_id),
        Text(verdict.action.value, style=ACTION_STYLE[verdict.action]),
        Text(", ".join(verdict.categories)),
        Text(", ".join(v.rule + (" (shadow)" if v.shadow else "") for v in verdict.violations)),
        Text(evidence[:80]),
    )


@main.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def lint(directory: Path | None) -> None:
    """Check a ruleset (default: the bundled one); exit 2 on any error, naming file and line."""
    console = Console(highlight=False)
    try:
        ruleset = load_ruleset(directory)
    except RulesetError as exc:
        for issue in exc.issues:
            console.print(f"[red]error[/red] {escape(str(issue))}", soft_wrap=True)
        console.print(f"{len(exc.issues)} error(s)")
        raise SystemExit(EXIT_USAGE) from exc
    by_category = Counter(rule.spec.category for rule in ruleset.rules)
    console.print(
        f"{len(ruleset.rules)} rules in {len(ruleset.files)} files, "
        f"{len(by_category)} categories: OK"
    )
    for rule in ruleset.rules:
        if rule.unavailable:
            console.print(
                f"[yellow]note[/yellow] {escape(f'{rule.file}:{rule.line}: [{rule.id}] will not run here: {rule.unavailable}')}",
                soft_wrap=True,
            )


@main.command(name="test")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.option("--verbose", "-v", is_flag=True, help="List every example, not only failures.")
def test_rules(directory: Path | None, verbose: bool) -> None:
    """Run every rule's match/no_match examples; exit 1 if any fails."""
    console = Console(highlight=False)
    moderator = _load(directory)
    outcomes = run_examples(moderator)
    failed = [o for o in outcomes if not o.passed]
    skipped = [o for o in outcomes if o.skipped]
    for outcome in outcomes:
        if outcome.passed and not verbose:
            continue
        mark = "[green]ok[/green]" if outcome.passed else "[red]FAIL[/red]"
        expected = "should match" if outcome.kind == "match" else "should not match"
        found = f" (found: {', '.join(outcome.evidence)})" if outcome.evidence and not outcome.passed else ""
        detail = f"{outcome.file}:{outcome.line} [{outcome.rule}] {expected}: {outcome.text!r}{found}"
        console.print(f"{mark} {escape(detail)}", soft_wrap=True)
    rules_failing = sorted({o.rule for o in failed})
    if rules_failing:
        console.print(escape(f"rules with failing examples: {', '.join(rules_failing)}"), soft_wrap=True)
    if skipped:
        console.print(f"{len(skipped)} example(s) of rules that cannot run here were not checked")
    console.print(f"{len(outcomes) - len(failed) - len(skipped)} passed, {len(failed)} failed")
    raise SystemExit(1 if failed else 0)


@main.command(name="eval")
@click.argument("labeled", nargs=-1, required=True)
@click.option("--threads", "threads_file", default=None, help="Threads (articles) as JSON Lines.")
@rules_option
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "html"]), default="table", show_default=True,
    help="html: a self-contained page with charts (no script, no network).",
)
@click.option("-o", "--output", default="-", help="Where the report goes (default: standard output).")
@click.option("--examples", default=10, show_default=True, help="How many worst false positives/negatives to list.")
@click.option("--no-ml", is_flag=True, help="Skip every ML checker, as if its extra were missing.")
def eval_command(
    labeled: tuple[str, ...],
    threads_file: str | None,
    rules_dir: Path | None,
    fmt: str,
    output: str,
    examples: int,
    no_ml: bool,
) -> None:
    """Score the rules on labeled comments (the comment format plus "categories": [...])."""
    from modrules.dumps import read_records
    from modrules.evaluation import LabeledComment, evaluate
    from modrules.report import render_table

    _require_files(*labeled, threads_file)
    moderator = _load(rules_dir, disable_ml=no_ml)
    console = _stderr()
    threads, errors = read_threads(threads_file)

    def records() -> Iterator[LabeledComment]:
        for source in labeled:
            for record in read_records(source, LabeledComment):
                if isinstance(record, InputError):
                    errors.append(record)
                    _report_error(console, record, None)
                else:
                    yield record

    report = evaluate(moderator, records(), threads, examples=examples)
    with ExitStack() as stack:
        out = sys.stdout if output == "-" else stack.enter_context(open(output, "w", encoding="utf-8"))
        if fmt == "json":
            out.write(report.model_dump_json(indent=2) + "\n")
        elif fmt == "html":
            from modrules.report_html import render_html

            out.write(render_html(report, title=f"modrules evaluation: {', '.join(labeled)}"))
        else:
            render_table(report, Console(file=out, width=140, highlight=False))
    raise SystemExit(EXIT_INVALID_INPUT if errors else EXIT_OK)


def _read_dumps(
    dumps: tuple[str, ...], threads_file: str | None, console: Console, errors: list[InputError]
) -> tuple[Iterator[Comment], dict[str, Thread]]:
    """Comments of the dumps (bad lines reported and counted) and the threads, for diff and shadow."""
    _require_files(*dumps, threads_file)
    threads, thread_errors = read_threads(threads_file)
    errors.extend(thread_errors)

    def comments() -> Iterator[Comment]:
        for record in read_comments(list(dumps)):
            if isinstance(record, InputError):
                errors.append(record)
                _report_error(console, record, None)
            else:
                yield record

    return comments(), threads


@main.command(name="diff")
@click.argument("dumps", nargs=-1, required=True)
@click.option("--rules", "old_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path), help="The ruleset in force.")
@click.option("--against", "new_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path), help="The changed ruleset.")
@click.option("--threads", "threads_file", default=None, help="Threads (articles) as JSON Lines.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--examples", default=5, show_default=True, help="Examples to show of each kind of change.")
@click.option("-o", "--output", default="-", help="Where the report goes (default: standard output).")
def diff_command(
    dumps: tuple[str, ...], old_dir: Path, new_dir: Path, threads_file: str | None, fmt: str, examples: int, output: str
) -> None:
    """Backtest a rule change: judge DUMPS with both rulesets and report the verdicts that change."""
    from modrules.backtest import diff
    from modrules.report import render_diff

    console = _stderr()
    errors: list[InputError] = []
    comments, threads = _read_dumps(dumps, threads_file, console, errors)
    old, new = _load(old_dir), _load(new_dir)
    report = diff(old, new, comments, threads, examples=examples, old_name=str(old_dir), new_name=str(new_dir))
    with ExitStack() as stack:
        out = sys.stdout if output == "-" else stack.enter_context(open(output, "w", encoding="utf-8"))
        if fmt == "json":
            out.write(report.model_dump_json(indent=2) + "\n")
        else:
            render_diff(report, Console(file=out, width=140, highlight=False))
    raise SystemExit(EXIT_INVALID_INPUT if errors else EXIT_OK)


@main.command(name="shadow")
@click.argument("dumps", nargs=-1, required=True)
@rules_option
@click.option("--threads", "threads_file", default=None, help="Threads (articles) as JSON Lines.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--examples", default=5, show_default=True, help="Examples to show per shadow rule.")
@click.option("-o", "--output", default="-", help="Where the report goes (default: standard output).")
def shadow_command(
    dumps: tuple[str, ...], rules_dir: Path | None, threads_file: str | None, fmt: str, examples: int, output: str
) -> None:
    """Report what the rules in `mode: shadow` would have done on DUMPS, had they been enforced."""
    from modrules.backtest import shadow
    from modrules.report import render_shadow

    console = _stderr()
    errors: list[InputError] = []
    comments, threads = _read_dumps(dumps, threads_file, console, errors)
    report = shadow(_load(rules_dir), comments, threads, examples=examples)
    with ExitStack() as stack:
        out = sys.stdout if output == "-" else stack.enter_context(open(output, "w", encoding="utf-8"))
        if fmt == "json":
            out.write(report.model_dump_json(indent=2) + "\n")
        else:
            render_shadow(report, Console(file=out, width=140, highlight=False))
    raise SystemExit(EXIT_INVALID_INPUT if errors else EXIT_OK)


@main.command()
@click.argument("text")
@rules_option
@click.option("--title", default=None, help="The article title, for rules that use the thread.")
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
def explain(text: str, rules_dir: Path | None, title: str | None, as_json: bool) -> None:
    """Judge one TEXT and show the verdict with its evidence highlighted."""
    moderator = _load(rules_dir)
    thread = Thread(id="explain-thread", title=title) if title else None
    comment = Comment(id="explain", text=text, thread_id=thread.id if thread else None)
    verdict = moderator.moderate(comment, thread)
    if as_json:
        sys.stdout.write(verdict_json(verdict).decode())
        return
    console = Console(highlight=False)
    console.print(Text.assemble("action: ", (verdict.action.value, ACTION_STYLE[verdict.action])))
    highlighted = Text(text)
    for violation in verdict.violations:
        for evidence in violation.evidence:
            style = "dim underline" if violation.shadow else "bold reverse red"
            highlighted.stylize(style, evidence.start, evidence.end)
    console.print(highlighted)
    if not verdict.violations:
        console.print("no rule fired")
    for violation in verdict.violations:
        shadow = " [dim](shadow: reported, not acted on)[/dim]" if violation.shadow else ""
        console.print(
            f"- [bold]{escape(violation.rule)}[/bold] · {violation.category} · clause {violation.clause} · "
            f"{violation.action.value}{shadow}\n  {escape(violation.message)}",
            soft_wrap=True,
        )
        for evidence in violation.evidence:
            console.print(escape(f"    [{evidence.start}:{evidence.end}] {evidence.text!r}"), soft_wrap=True)
    if verdict.edited_text is not None:
        console.print(escape(f"edited text: {verdict.edited_text}"), soft_wrap=True)
    for skipped in verdict.skipped:
        console.print(f"[yellow]not evaluated[/yellow] {escape(skipped.rule)}: {escape(skipped.reason)}")



@main.command()
@rules_option
def models(rules_dir: Path | None) -> None:
    """List the ML backends: installed? usable? where their weights are looked for, how to get them."""
    from modrules.ml.backends import backends
    from modrules.rules import default_ruleset_dir

    console = Console(highlight=False)
    table = Table(show_lines=True)
    for column in ("backend", "predicates", "installed", "usable", "weights", "notes"):
        table.add_column(column, overflow="fold")
    for backend in backends(rules_dir or default_ruleset_dir()):
        table.add_row(
            Text(backend.name),
            Text(backend.predicates),
            Text("yes" if backend.installed else "no", style="green" if backend.installed else "red"),
            Text("yes" if backend.usable else "no", style="green" if backend.usable else "yellow"),
            Text(backend.weights),
            Text(backend.note),
        )
    console.print(table)


if __name__ == "__main__":
    main()
