"""The `modrules` command line: check · lint · test · eval · diff · shadow · explain."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, nullcontext
from pathlib import Path
from typing import IO

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from modrules.cli_accounts import accounts
from modrules.dumps import error_json, existing, read_comments, read_threads, verdict_json
from modrules.engine import Moderator
from modrules.model import Action, Comment, InputError, Thread, Verdict
from modrules.rules import RulesetError, load_ruleset
from modrules.rules.examples import run_examples
from modrules.runner import (
    DEFAULT_MAX_IN_FLIGHT,
    CheckOptions,
    CheckSummary,
    ModeratorSpec,
    run_check,
)

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
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(min=1),
    help="Judge in N processes (the stateless rules; the stateful part runs in order here: same output as 1).",
)
@click.option(
    "--resume", is_flag=True,
    help="Continue an interrupted run: keep the verdicts already in -o FILE and append the rest.",
)
@click.option(
    "--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
    help="dask: judge shards (files or globs) on a Dask cluster; -o names a directory of verdict shards.",
)
@click.option("--scheduler", default=None, help="Dask scheduler address (default: a local cluster of --workers processes).")
@click.option(
    "--partitions", default=None, type=click.IntRange(min=1),
    help="Dask: tasks for the stateless rules (at least one per input shard; default: one each).",
)
@click.option(
    "--max-in-flight", default=DEFAULT_MAX_IN_FLIGHT, show_default=True, type=click.IntRange(min=1),
    help="With --workers: comments read but not yet judged, at most (bounds memory).",
)
@click.option(
    "--store", "store_url", default="memory", show_default=True, envvar="MODRULES_STORE",
    help="Accounts and windows: memory, sqlite:///PATH.db or redis://HOST:PORT/DB (these two persist across runs).",
)
def check(
    inputs: tuple[str, ...],
    threads_file: str | None,
    rules_dir: Path | None,
    output: str,
    fmt: str,
    errors_file: str | None,
    no_ml: bool,
    quiet: bool,
    workers: int,
    resume: bool,
    engine: str,
    scheduler: str | None,
    partitions: int | None,
    max_in_flight: int,
    store_url: str,
) -> None:
    """Judge comment dumps (.jsonl, .jsonl.gz or - for stdin): one verdict per line, in order.

    Exit 0 when every line was judged, 1 when some lines were invalid (each reported
    with its line number; all others still judged), 2 for a usage or ruleset error.
    """
    console = _stderr()
    spec = ModeratorSpec(rules_dir=rules_dir, no_ml=no_ml, store=store_url)
    if engine == "dask":
        summary = _check_dask(
            inputs, threads_file, spec, output, fmt, errors_file, workers, scheduler, partitions, resume, console,
        )
    else:
        _require_files(*inputs, threads_file)
        if resume and (output == "-" or fmt == "table"):
            raise click.UsageError("--resume needs -o FILE (and --format jsonl)")
        options = CheckOptions(
            inputs=list(inputs), threads_file=threads_file, moderator=spec,
            workers=workers, max_in_flight=max_in_flight,
        )
        table = _verdict_table() if fmt == "table" else None
        ticker = _progress(console, quiet)
        with ticker.progress if ticker is not None else nullcontext():
            summary = _guarded(
                lambda: run_check(
                    options,
                    output if table is None else "-",
                    errors_file=errors_file,
                    resume=resume,
                    on_error=lambda error: _report_error(console, error, None),
                    sink=None if table is None else (lambda line: _add_row(table, line.verdict())),
                    progress=None if ticker is None else ticker.update,
                )
            )
        if table is not None:
            with ExitStack() as stack:
                text_out = sys.stdout if output == "-" else stack.enter_context(open(output, "w", encoding="utf-8"))
                Console(file=text_out, width=160).print(table)
    if not quiet:
        _summary(console, summary)
    raise SystemExit(EXIT_INVALID_INPUT if summary.invalid else EXIT_OK)


def _guarded(run: Callable[[], CheckSummary]) -> CheckSummary:
    """A broken ruleset (or a store that cannot open) is a usage error: exit 2."""
    from modrules.store import StoreError

    try:
        return run()
    except RulesetError as exc:
        console = _stderr()
        for issue in exc.issues:
            console.print(f"[red]error[/red] {escape(str(issue))}", soft_wrap=True)
        raise SystemExit(EXIT_USAGE) from exc
    except StoreError as exc:
        _stderr().print(f"[red]error[/red] {escape(str(exc))}", soft_wrap=True)
        raise SystemExit(EXIT_USAGE) from exc


def _check_dask(
    inputs: tuple[str, ...],
    threads_file: str | None,
    spec: ModeratorSpec,
    output: str,
    fmt: str,
    errors_file: str | None,
    workers: int,
    scheduler: str | None,
    partitions: int | None,
    resume: bool,
    console: Console,
) -> CheckSummary:
    if output == "-" or fmt != "jsonl" or resume:
        raise click.UsageError("--engine dask writes verdict shards: give -o DIRECTORY (jsonl, no --resume)")
    _require_files(threads_file)
    try:
        from modrules.dask_engine import DaskCheck, expand_inputs, run_dask_check
    except ImportError as exc:
        raise click.UsageError(f"--engine dask needs the dask extra: pip install 'modrules[dask]' ({exc})") from exc
    shards = expand_inputs(inputs)
    if not shards:
        raise click.UsageError(f"no input matches: {' '.join(inputs)}")
    job = DaskCheck(
        shards=shards, threads_file=threads_file, moderator=spec, output_dir=output,
        partitions=partitions, scheduler=scheduler, workers=workers,
    )
    return _guarded(
        lambda: run_dask_check(job, errors_file=errors_file, on_error=lambda e: _report_error(console, e, None))
    )


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

    def update(self, judged: int) -> None:
        self.progress.update(self.task, completed=judged)


def _progress(console: Console, quiet: bool) -> _Ticker | None:
    return _Ticker(console) if console.is_terminal and not quiet else None


def _summary(console: Console, summary: CheckSummary) -> None:
    rate = summary.judged / summary.seconds if summary.seconds > 0 else 0.0
    resumed = f" (resumed after {summary.resumed_after:,})" if summary.resumed_after else ""
    console.print(
        f"judged {summary.judged:,} comments{resumed} in {summary.seconds:.2f}s ({rate:,.0f}/s); "
        f"{summary.invalid} invalid line(s)"
    )
    console.print("actions: " + ", ".join(f"{a.value} {summary.actions.get(a.value, 0):,}" for a in Action))
    if summary.categories:
        console.print(
            "categories: " + ", ".join(f"{c} {n:,}" for c, n in summary.categories.items()),
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
@click.option("--no-ml", is_flag=True, help="Skip every ML checker, as if its extra were missing.")
@click.option("--store", "store_url", envvar="MODRULES_STORE", default="memory", show_default=True, help="memory | sqlite:///PATH.db | redis://HOST:PORT/DB (env MODRULES_STORE)")
@click.option("--token", envvar="MODRULES_TOKEN", default=None, help="Secret for the account, review and admin endpoints (env MODRULES_TOKEN; default: a random one, printed).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--max-body-bytes", default=1_048_576, show_default=True, type=click.IntRange(1), help="Larger bodies answer 413.")
@click.option("--max-batch", default=1000, show_default=True, type=click.IntRange(1), help="Comments in one POST /v1/moderate.")
@click.option("--time-budget-ms", default=5000, show_default=True, type=click.IntRange(1), help="Per request; a batch past it answers 503.")
@click.option("--protect-moderate", is_flag=True, help="Require the token on POST /v1/moderate too.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1), help="Processes (above 1 needs a sqlite or redis store).")
@click.option("--log-level", default="warning", show_default=True, type=click.Choice(["debug", "info", "warning", "error"]))
def serve(
    rules_dir: Path | None, no_ml: bool, store_url: str, token: str | None, host: str, port: int,
    max_body_bytes: int, max_batch: int, time_budget_ms: int, protect_moderate: bool, workers: int, log_level: str,
) -> None:
    """Run the HTTP service: POST /v1/moderate, accounts and review API, /review, /healthz, /metrics, /docs."""
    try:
        from modrules.server.run import ServeOptions
        from modrules.server.run import serve as run_server
        from modrules.server.settings import ServerSettings
    except ImportError as exc:
        raise click.UsageError(f"the server needs the [server] extra: pip install 'modrules[server]' ({exc})") from exc
    from modrules.store import StoreError

    options: dict[str, object] = {"token": token} if token else {}
    try:
        settings = ServerSettings.model_validate(
            {"max_body_bytes": max_body_bytes, "max_batch": max_batch, "time_budget_ms": time_budget_ms,
             "protect_moderate": protect_moderate, **options}
        )
    except ValueError as exc:  # pydantic's ValidationError: e.g. a token under 8 characters
        raise click.UsageError(str(exc)) from exc
    try:
        options_ = ServeOptions(rules_dir=rules_dir, no_ml=no_ml, store_url=store_url, settings=settings)
        run_server(options_, host, port, token_given=bool(token), workers=workers, log_level=log_level)
    except (RulesetError, StoreError) as exc:
        _stderr().print(f"[red]error[/red] {escape(str(exc))}", soft_wrap=True)
        raise SystemExit(EXIT_USAGE) from exc


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


main.add_command(accounts)


if __name__ == "__main__":
    main()
