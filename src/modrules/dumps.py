"""Reading comment and thread dumps (JSON Lines, gzip, stdin) without losing a line."""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from modrules.model import Comment, InputError, Thread, Verdict

M = TypeVar("M", bound=BaseModel)


@contextmanager
def open_binary(source: str) -> Iterator[IO[bytes]]:
    """`-` is standard input; `.gz` files are decompressed as they stream."""
    if source == "-":
        yield sys.stdin.buffer
    elif source.endswith(".gz"):
        with gzip.open(source, "rb") as gz:
            yield gz  # type: ignore[misc]  # GzipFile is a binary stream
    else:
        with open(source, "rb") as stream:
            yield stream


def read_records(source: str, model: type[M]) -> Iterator[M | InputError]:
    """Each non-blank line as a model, or an InputError naming its line number.

    A line that is not valid UTF-8 or JSON, is not an object, or lacks a required
    field becomes an error record; the lines after it are still read.
    """
    with open_binary(source) as stream:
        line_no = 0
        try:
            for line_no, raw in enumerate(stream, start=1):
                if not raw.strip():
                    continue
                yield parse_record(raw, model, source, line_no)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            # A truncated gzip stream: every complete line before it was yielded.
            yield InputError(source=source, line=line_no + 1, error=f"cannot read further: {exc}")


def parse_record(raw: bytes, model: type[M], source: str, line_no: int) -> M | InputError:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return InputError(source=source, line=line_no, error=f"invalid JSON: {exc}")
    if not isinstance(data, dict):
        return InputError(
            source=source, line=line_no, error=f"expected a JSON object, got {type(data).__name__}"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        return InputError(source=source, line=line_no, error=describe_validation_error(exc))


def describe_validation_error(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"]) or "(object)"
        if error["type"] == "missing":
            parts.append(f"missing field {field!r}")
        else:
            parts.append(f"{field}: {error['msg']}")
    return "; ".join(parts)


def read_threads(source: str | None) -> tuple[dict[str, Thread], list[InputError]]:
    """Threads by id, and the invalid lines; nothing when no threads file is given."""
    threads: dict[str, Thread] = {}
    errors: list[InputError] = []
    if source is None:
        return threads, errors
    for record in read_records(source, Thread):
        if isinstance(record, InputError):
            errors.append(record)
        else:
            threads[record.id] = record
    return threads, errors


def read_comments(sources: list[str]) -> Iterator[Comment | InputError]:
    for source in sources:
        yield from read_records(source, Comment)


def verdict_json(verdict: Verdict) -> bytes:
    """One verdict as a JSON line (the contract's fields; `skipped` and `account_reason`
    only when set)."""
    if not verdict.violations and not verdict.skipped and verdict.account_reason is None:
        # Most verdicts: plain strings only, so orjson of a dict gives the same bytes
        # as pydantic (same field order, compact) several times faster.
        try:
            return orjson.dumps(_plain(verdict), option=orjson.OPT_APPEND_NEWLINE)
        except TypeError:  # a string orjson refuses (a lone surrogate): pydantic decides
            pass
    exclude = set() if verdict.skipped else {"skipped"}
    if verdict.account_reason is None:
        exclude.add("account_reason")
    return verdict.model_dump_json(exclude=exclude or None).encode() + b"\n"


def _plain(verdict: Verdict) -> dict[str, object]:
    return {
        "comment_id": verdict.comment_id,
        "action": verdict.action.value,
        "account_action": verdict.account_action.value,
        "violations": [],
        "edited_text": verdict.edited_text,
    }


def error_json(error: InputError) -> bytes:
    return orjson.dumps(error.model_dump()) + b"\n"


def existing(path: str) -> bool:
    return path == "-" or Path(path).exists()
