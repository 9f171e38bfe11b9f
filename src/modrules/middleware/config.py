"""What the forum middleware moderates and how it answers: routes, extractors, policy.

One `ModerationConfig` serves the WSGI and ASGI middleware and the Django, Flask and
FastAPI adapters; they differ only in how they read a request and write a response.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import parse_qsl, urlencode

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator

from modrules.middleware.judge import Revision
from modrules.model import Thread, Verdict
from modrules.store.base import Store


@dataclass(frozen=True)
class RequestInfo:
    """The parts of an HTTP request the middleware looks at, whatever the framework."""

    method: str
    path: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    query: str = ""
    session: Mapping[str, Any] | None = None  # the framework's session, when it has one
    user_id: str | None = None  # the logged-in user, when the framework knows it
    raw: Any = field(default=None, compare=False)  # the environ, scope or framework request

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


class Extractor(Protocol):
    """Finds the comment in a request, and writes an edited text back into the body."""

    def extract(self, request: RequestInfo) -> dict[str, Any] | None:
        """Comment fields (at least `text`), or None when the request carries no comment."""

    def rewrite(self, request: RequestInfo, text: str) -> bytes | None:
        """The body with the comment's text replaced (None: the body cannot be rewritten)."""


class ExtractionError(ValueError):
    """The request is on a moderated route but its body is not what the extractor expects."""


class FieldMap(BaseModel):
    """Where each comment field is in the body: a dotted path for JSON (`comment.body`),
    a field name for forms. None: the body does not carry that field."""

    model_config = ConfigDict(frozen=True)

    text: str = "text"
    id: str | None = "id"
    thread_id: str | None = "thread_id"
    parent_id: str | None = "parent_id"
    author_id: str | None = "author_id"

    def items(self) -> list[tuple[str, str]]:
        return [(name, path) for name, path in self.model_dump().items() if path is not None]


class JsonExtractor:
    """The comment is in a JSON object body, at dotted paths (`{"comment": {"body": …}}`)."""

    def __init__(self, fields: FieldMap | None = None, **paths: str | None) -> None:
        self.fields = fields or FieldMap.model_validate(paths)

    def _document(self, request: RequestInfo) -> Any:
        try:
            return orjson.loads(request.body)
        except orjson.JSONDecodeError as exc:
            raise ExtractionError(f"the body is not valid JSON: {exc}") from None

    def extract(self, request: RequestInfo) -> dict[str, Any] | None:
        document = self._document(request)
        found: dict[str, Any] = {}
        for name, path in self.fields.items():
            value = _dig(document, path)
            if value is not None:
                found[name] = value
        if "text" not in found:
            return None
        if not isinstance(found["text"], str):
            raise ExtractionError(f"{self.fields.text!r} must be a string")
        return found

    def rewrite(self, request: RequestInfo, text: str) -> bytes | None:
        document = self._document(request)
        *parents, last = self.fields.text.split(".")
        target = document
        for key in parents:
            target = target[key]
        target[last] = text
        return orjson.dumps(document)


class FormExtractor:
    """The comment is in a form body (`application/x-www-form-urlencoded`, or
    `multipart/form-data` with python-multipart installed), by field name."""

    def __init__(self, fields: FieldMap | None = None, **names: str | None) -> None:
        self.fields = fields or FieldMap.model_validate(names)

    @staticmethod
    def _pairs(request: RequestInfo) -> list[tuple[str, str]]:
        try:
            body = request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise ExtractionError("the form body is not UTF-8") from None
        return parse_qsl(body, keep_blank_values=True)

    def extract(self, request: RequestInfo) -> dict[str, Any] | None:
        if request.content_type == "multipart/form-data":
            pairs = _multipart().fields(request.body, request.headers.get("content-type", ""))
        else:
            pairs = dict(self._pairs(request))  # the last value of a repeated field wins
        found = {name: pairs[key] for name, key in self.fields.items() if key in pairs}
        return found if "text" in found else None

    def rewrite(self, request: RequestInfo, text: str) -> bytes | None:
        if request.content_type == "multipart/form-data":
            content_type = request.headers.get("content-type", "")
            rewritten: bytes | None = _multipart().replace(request.body, content_type, self.fields.text, text)
            return rewritten
        pairs = [(k, text if k == self.fields.text else v) for k, v in self._pairs(request)]
        return urlencode(pairs).encode("ascii")


def _multipart() -> Any:
    try:
        from modrules.middleware import multipart
    except ImportError:
        raise ExtractionError("multipart bodies need python-multipart (the [server] extra)") from None
    return multipart


_FORMS = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


class BodyExtractor:
    """JSON or form, chosen by the request's content type (the default extractor)."""

    def __init__(self, fields: FieldMap | None = None, **paths: str | None) -> None:
        self.fields = fields or FieldMap.model_validate(paths)
        self.json = JsonExtractor(self.fields)
        self.form = FormExtractor(self.fields)

    def _pick(self, request: RequestInfo) -> JsonExtractor | FormExtractor:
        return self.form if request.content_type in _FORMS else self.json

    def extract(self, request: RequestInfo) -> dict[str, Any] | None:
        return self._pick(request).extract(request)

    def rewrite(self, request: RequestInfo, text: str) -> bytes | None:
        return self._pick(request).rewrite(request, text)


class CallableExtractor:
    """Your own function reads the comment; give `rewrite` too if edits must reach the body."""

    def __init__(
        self,
        extract: Callable[[RequestInfo], Mapping[str, Any] | None],
        rewrite: Callable[[RequestInfo, str], bytes] | None = None,
    ) -> None:
        self._extract = extract
        self._rewrite = rewrite

    def extract(self, request: RequestInfo) -> dict[str, Any] | None:
        found = self._extract(request)
        return dict(found) if found is not None else None

    def rewrite(self, request: RequestInfo, text: str) -> bytes | None:
        return self._rewrite(request, text) if self._rewrite is not None else None


def _dig(document: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


class Route(BaseModel):
    """A moderated endpoint: a glob over the path (`/threads/*/comments`) and its methods."""

    model_config = ConfigDict(frozen=True)

    path: str
    methods: tuple[str, ...] = ("POST",)

    @field_validator("methods", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = (value,)
        return tuple(str(m).upper() for m in value)

    def pattern(self) -> re.Pattern[str]:
        return re.compile(fnmatch.translate(self.path))


RejectBody = Callable[[Verdict | None, str], Mapping[str, Any]]
"""Builds the JSON body of a refusal from the verdict and the reason
(`deleted` or `account-blocked`)."""


class ModerationConfig(BaseModel):
    """How the middleware moderates a forum's comment endpoints.

    The author comes from, in order: `author` (your function), the framework's logged-in
    user (Django, Flask adapters), `author_session_key` in the session, the
    `author_header` (set it from a trusted auth proxy only), and the body's author field.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    routes: list[Route]
    extractor: Any = Field(default_factory=BodyExtractor)  # an Extractor
    author: Callable[[RequestInfo], str | None] | None = None
    author_header: str | None = None
    author_session_key: str | None = None
    thread: Callable[[RequestInfo, dict[str, Any]], Thread | Mapping[str, Any] | None] | None = None
    # hold: let the comment through marked pending (the forum hides it), or refuse it.
    on_hold: Literal["pending", "reject"] = "pending"
    reject_status: int = 422
    reject_body: RejectBody | None = None
    # A body on a moderated route the extractor cannot read (not JSON, no text field…):
    # hand it to the app (whose own validation answers), or refuse it with 400.
    unreadable: Literal["pass", "reject"] = "pass"
    # A failure inside moderation: let the request through unjudged, or refuse it.
    fail: Literal["open", "closed"] = "open"
    fail_status: int = 503
    max_body_bytes: int = 1_048_576
    store: Store | None = None  # blocked accounts, and the review queue for held/flagged comments
    environ_key: str = "modrules.verdict"  # where the verdict goes in environ / scope
    pending_key: str = "modrules.pending"
    # Called with each earlier comment's revised verdict (a later one completed its flash
    # mob or flood), e.g. to hide a comment already published; errors are logged.
    on_revision: Callable[[Revision], None] | None = None

    @field_validator("routes", mode="before")
    @classmethod
    def _route_shorthand(cls, value: Any) -> Any:
        # "/comments" alone means POST /comments.
        if isinstance(value, str | Route | dict):
            value = [value]
        return [Route(path=r) if isinstance(r, str) else r for r in value]
