"""The `check` pipeline as a library function: read dumps, judge, write verdicts and errors.

The CLI, the `--workers` processes and the Dask engine share these pieces, so every path
reads, skips (on `--resume`), judges and writes the same way. Everything streams: comments
are read one line at a time and verdicts written as they come; only the thread map is
loaded whole.
"""

from __future__ import annotations

import gzip
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import orjson
from pydantic import BaseModel, ConfigDict, Field

from modrules.dumps import (
    error_json,
    open_binary,
    parse_record,
    read_comments,
    read_threads,
    verdict_json,
)
from modrules.engine import Moderator
from modrules.gc_tuning import batch_gc
from modrules.model import Comment, InputError, Verdict
from modrules.rules import Ruleset, load_ruleset

DEFAULT_MAX_IN_FLIGHT = 100_000
"""Comments read but not yet judged, at most, with `--workers` (see parallel.py)."""


class ModeratorSpec(BaseModel):
    """What a process needs to build its own Moderator (workers get this, not a Moderator)."""

    model_config = ConfigDict(frozen=True)

    rules_dir: Path | None = None
    no_ml: bool = False
    store: str | None = None  # a store URL (memory, sqlite:///PATH, redis://HOST:PORT/DB)

    def load(self) -> Ruleset:
        """The compiled ruleset (RulesetError if it is broken)."""
        return load_ruleset(self.rules_dir, disable_ml=self.no_ml)

    def build(self, ruleset: Ruleset | None = None) -> Moderator:
        """A Moderator over `ruleset` (None: load it) with the store opened, if any."""
        ruleset = self.load() if ruleset is None else ruleset
        if self.store is None:
            return Moderator(ruleset)
        from modrules.store import open_store

        return Moderator(ruleset, store=open_store(self.store))  # type: ignore[call-arg,unused-ignore]


class CheckOptions(BaseModel):
    """A `check` run: which dumps, with which rules, how parallel."""

    model_config = ConfigDict(frozen=True)

    inputs: list[str]
    threads_file: str | None = None
    moderator: ModeratorSpec = Field(default_factory=ModeratorSpec)
    workers: int = Field(default=1, ge=1)
    max_in_flight: int = Field(default=DEFAULT_MAX_IN_FLIGHT, ge=1)


class CheckSummary(BaseModel):
    """What a run did: counts for the closing summary and for callers."""

    judged: int = 0
    resumed_after: int = 0  # verdicts already in the output when the run resumed
    invalid: int = 0
    actions: dict[str, int] = Field(default_factory=dict)
    categories: dict[str, int] = Field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class JudgedLine:
    """A verdict ready to write (its JSON line) with what the summary counts."""

    comment_id: str
    json: bytes
    action: str
    categories: tuple[str, ...]

    @classmethod
    def of(cls, verdict: Verdict) -> JudgedLine:
        return cls(verdict.comment_id, verdict_json(verdict), verdict.action.value, tuple(verdict.categories))

    def verdict(self) -> Verdict:
        return Verdict.model_validate_json(self.json)


class Tally:
    """Counts of verdicts by action and category, and of invalid lines."""

    def __init__(self) -> None:
        self.judged = 0
        self.invalid = 0
        self.actions: Counter[str] = Counter()
        self.categories: Counter[str] = Counter()

    def add(self, line: JudgedLine) -> None:
        self.judged += 1
        self.actions[line.action] += 1
        self.categories.update(line.categories)

    def merge(self, other: CheckSummary) -> None:
        self.judged += other.judged
        self.invalid += other.invalid
        self.actions.update(other.actions)
        self.categories.update(other.categories)

    def summary(self, seconds: float, resumed_after: int = 0) -> CheckSummary:
        return CheckSummary(
            judged=self.judged,
            resumed_after=resumed_after,
            invalid=self.invalid,
            actions=dict(self.actions),
            categories=dict(self.categories.most_common()),
            seconds=seconds,
        )


# --- resume ---------------------------------------------------------------------------


def complete_lines(path: str | Path, *, truncate: bool = True) -> int:
    """How many complete lines `path` holds (0 if it does not exist); a torn last line
    (a run killed mid-write) is cut off so that appending continues cleanly."""
    file = Path(path)
    if not file.exists():
        return 0
    count = end_of_last_line = position = 0
    with open(file, "r+b") as stream:
        while chunk := stream.read(1 << 20):
            newlines = chunk.count(b"\n")
            if newlines:
                count += newlines
                end_of_last_line = position + chunk.rindex(b"\n") + 1
            position += len(chunk)
        if truncate and end_of_last_line != position:
            stream.truncate(end_of_last_line)
    return count


def recorded_errors(path: str | Path) -> set[tuple[str, int]]:
    """(source, line) of the error records already in an errors file (torn line cut off)."""
    complete_lines(path)
    file = Path(path)
    seen: set[tuple[str, int]] = set()
    if not file.exists():
        return seen
    with open(file, "rb") as stream:
        for raw in stream:
            try:
                record = orjson.loads(raw)
                seen.add((str(record["source"]), int(record["line"])))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                continue  # not one of ours: leave it, it cannot collide
    return seen


def skip_judged(
    records: Iterable[Comment | InputError], count: int
) -> Iterator[Comment | InputError]:
    """Drop the first `count` valid comments (their verdicts are already written);
    invalid lines always pass, so the run still reports and counts them."""
    for record in records:
        if count and not isinstance(record, InputError):
            count -= 1
            continue
        yield record


# --- the run --------------------------------------------------------------------------


class ErrorSink:
    """Reports each invalid line once: to the caller and to the errors file, never twice
    in the file (a resumed run skips the lines it already holds)."""

    def __init__(
        self,
        tally: Tally,
        report: Callable[[InputError], None] | None,
        stream: _LazyFile | None,
        already: set[tuple[str, int]] | None = None,
    ) -> None:
        self.tally, self.report, self.stream = tally, report, stream
        self.already = already or set()

    def __call__(self, error: InputError) -> None:
        self.tally.invalid += 1
        if self.report is not None:
            self.report(error)
        if self.stream is not None and (error.source, error.line) not in self.already:
            self.stream.write(error_json(error))


@dataclass(frozen=True, slots=True)
class RawLine:
    """An input line not yet parsed (workers parse it; the reader only routes it)."""

    source: str
    line: int
    raw: bytes

    def parse(self) -> Comment | InputError:
        return parse_record(self.raw, Comment, self.source, self.line)


def raw_lines(sources: Iterable[str]) -> Iterator[RawLine | InputError]:
    """Each non-blank line unparsed, with where it came from (as `read_records` reads
    them: a truncated gzip stream ends with an error record after its last whole line)."""
    for source in sources:
        with open_binary(source) as stream:
            line_no = 0
            try:
                for line_no, raw in enumerate(stream, start=1):
                    if raw.strip():
                        yield RawLine(source, line_no, raw)
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                yield InputError(source=source, line=line_no + 1, error=f"cannot read further: {exc}")


def skip_raw(lines: Iterable[RawLine | InputError], count: int) -> Iterator[RawLine | InputError]:
    """`skip_judged` for unparsed lines: only the skipped ones are parsed, to tell valid
    comments (which have verdicts) from invalid lines (which pass on to be reported)."""
    for item in lines:
        if count and isinstance(item, RawLine):
            parsed = item.parse()
            if isinstance(parsed, InputError):
                yield parsed
            else:
                count -= 1
            continue
        yield item


def judge_lines(
    options: CheckOptions, done: int, on_error: Callable[[InputError], None]
) -> Iterator[JudgedLine]:
    """Judged lines in input order after the first `done` comments, in this process or
    in `options.workers` processes. In one process the Moderator is built here, before
    any line is read, so a broken ruleset fails before any output is touched."""
    if options.workers > 1:
        from modrules.parallel import judge_parallel

        return judge_parallel(options, skip_raw(raw_lines(options.inputs), done), on_error)
    moderator = options.moderator.build()
    threads, thread_errors = read_threads(options.threads_file)
    for error in thread_errors:
        on_error(error)

    def valid() -> Iterator[Comment]:
        # Bad lines are reported as they are met; the good ones go on to be judged.
        for record in skip_judged(read_comments(list(options.inputs)), done):
            if isinstance(record, InputError):
                on_error(record)
            else:
                yield record

    def judged() -> Iterator[JudgedLine]:
        # The store is flushed and closed when the stream ends.
        with moderator, batch_gc():
            for verdict in moderator.moderate_many(valid(), threads=threads):
                yield JudgedLine.of(verdict)

    return judged()


class _LazyFile:
    """Opened at the first write (or at the end): a run that fails to start leaves the
    file as it was."""

    def __init__(self, stack: ExitStack, path: str, mode: str) -> None:
        self.stack, self.path, self.mode = stack, path, mode
        self.stream: IO[bytes] | None = None

    def write(self, data: bytes) -> None:
        self.open().write(data)

    def open(self) -> IO[bytes]:
        if self.stream is None:
            if self.path == "-":
                self.stream = sys.stdout.buffer
            else:
                self.stream = self.stack.enter_context(open(self.path, self.mode))  # noqa: SIM115 - the stack closes it
        return self.stream


def run_check(
    options: CheckOptions,
    output: str = "-",
    *,
    errors_file: str | None = None,
    resume: bool = False,
    on_error: Callable[[InputError], None] | None = None,
    sink: Callable[[JudgedLine], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> CheckSummary:
    """Judge `options.inputs` and write one verdict line per valid comment to `output`
    (a path, or `-` for standard output), in input order.

    `resume`: `output` already holds the verdicts of an interrupted run; count its complete
    lines (cutting a torn last one), skip that many comments, and append the rest — nothing
    lost, nothing written twice. Invalid lines go to `on_error` and, once each, to
    `errors_file`. With `sink`, judged lines go there instead of `output`. `progress` is
    called with the count of judged comments every 500.
    """
    if resume and (output == "-" or sink is not None):
        raise ValueError("resume needs an output file")
    started = time.perf_counter()
    done = complete_lines(output) if resume else 0
    already = recorded_errors(errors_file) if resume and errors_file else set()
    tally = Tally()
    mode = "ab" if resume else "wb"
    with ExitStack() as stack:
        errors_out = _LazyFile(stack, errors_file, mode) if errors_file else None
        errors = ErrorSink(tally, on_error, errors_out, already)
        out = _LazyFile(stack, output, mode)
        for line in judge_lines(options, done, errors):
            tally.add(line)
            if sink is None:
                out.write(line.json)
            else:
                sink(line)
            if progress is not None and tally.judged % 500 == 0:
                progress(tally.judged)
        if sink is None:
            out.open().flush()
        if errors_out is not None:
            errors_out.open()
    return tally.summary(time.perf_counter() - started, resumed_after=done)
