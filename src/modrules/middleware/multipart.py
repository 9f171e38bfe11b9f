"""Text fields of a `multipart/form-data` body, read and rewritten in place.

python-multipart does the parsing; we only note where a field's bytes lie in the body,
so an edit replaces exactly those bytes and leaves every other part (files included)
byte for byte as it was."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from modrules.middleware.config import ExtractionError


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    data: list[bytes] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)
    exact: bool = True  # every byte came straight from the body (not the parser's lookbehind)

    @property
    def name(self) -> str | None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        value = options.get(b"name")
        return value.decode("utf-8", "replace") if value is not None else None

    @property
    def is_file(self) -> bool:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        return b"filename" in options


def parse(body: bytes, content_type: str) -> list[_Part]:
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise ExtractionError("a multipart body without a boundary")
    parts: list[_Part] = []
    header_name: list[bytes] = []
    header_value: list[bytes] = []

    def on_part_begin() -> None:
        parts.append(_Part())

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_name.append(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.append(data[start:end])

    def on_header_end() -> None:
        parts[-1].headers[b"".join(header_name).lower()] = b"".join(header_value)
        header_name.clear()
        header_value.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        part = parts[-1]
        part.data.append(data[start:end])
        if data is body:
            part.spans.append((start, end))
        else:
            part.exact = False

    callbacks = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_part_data": on_part_data,
    }
    try:
        parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
        parser.write(body)
        parser.finalize()
    except (FormParserError, ValueError) as exc:
        raise ExtractionError(f"not a multipart body: {exc}") from None
    return parts


def fields(body: bytes, content_type: str) -> dict[str, str]:
    """The non-file fields (the last of a repeated name wins)."""
    out: dict[str, str] = {}
    for part in parse(body, content_type):
        if part.name is not None and not part.is_file:
            out[part.name] = b"".join(part.data).decode("utf-8", "replace")
    return out


def replace(body: bytes, content_type: str, name: str, text: str) -> bytes | None:
    """The body with field `name`'s value replaced (None when it cannot be done exactly)."""
    target = [p for p in parse(body, content_type) if p.name == name and not p.is_file]
    if not target:
        return None
    part = target[-1]
    spans = part.spans
    if not spans or not part.exact or any(a[1] != b[0] for a, b in pairwise(spans)):
        return None  # the caller's fail policy decides
    return body[: spans[0][0]] + text.encode("utf-8") + body[spans[-1][1] :]
