"""WSGI middleware: moderates comments on configured routes before the forum sees them.

    app = ModerationMiddleware(app, moderator, ModerationConfig(routes=["/comments"]))

Publish: the request passes, with the verdict in `environ["modrules.verdict"]` and
`X-Moderation-*` response headers. Edit: the app reads the edited text from the body.
Hold: it passes with `environ["modrules.pending"] = True`. Delete or a blocked author:
the middleware answers 422 with the reasons. The body is buffered and handed on intact.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from modrules.engine import Moderator
from modrules.middleware.config import ModerationConfig, RequestInfo
from modrules.middleware.core import Decision, Guard

Environ = dict[str, Any]
ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

_REASONS = {413: "Payload Too Large", 422: "Unprocessable Entity", 503: "Service Unavailable"}


class ModerationMiddleware:
    def __init__(
        self,
        app: WSGIApp,
        moderator: Moderator,
        config: ModerationConfig,
        request_info: Callable[[Environ, bytes], RequestInfo] | None = None,
    ) -> None:
        self.app = app
        self.guard = Guard(moderator, config)
        self.config = config
        # Adapters (Flask) pass their own reader to add the session and logged-in user.
        self._request_info = request_info or environ_request

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if not self.guard.matches(environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)
        body = _read_body(environ, self.config.max_body_bytes)
        _replace_body(environ, body if body is not None else b"")
        if body is None:
            return _answer(self.guard.refuse_too_large(), start_response)
        decision = self.guard.decide_with(lambda: self._request_info(environ, body), body)
        environ[self.config.environ_key] = decision.verdict
        environ[self.config.pending_key] = decision.pending
        if not decision.passes:
            return _answer(decision, start_response)
        if decision.body is not body:
            _replace_body(environ, decision.body)
        return self.app(environ, _with_headers(start_response, decision.headers))


def environ_request(environ: Environ, body: bytes) -> RequestInfo:
    headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
    if "CONTENT_TYPE" in environ:
        headers["content-type"] = environ["CONTENT_TYPE"]
    return RequestInfo(
        method=environ.get("REQUEST_METHOD", "GET").upper(),
        path=environ.get("PATH_INFO", ""),
        headers=headers,
        body=body,
        query=environ.get("QUERY_STRING", ""),
        raw=environ,
    )


def _read_body(environ: Environ, limit: int) -> bytes | None:
    """The whole body, or None when it is over `limit` bytes."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    try:
        length = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        length = -1
    if length > limit:
        return None
    if length >= 0:
        data: bytes = stream.read(length)
        return data
    if not environ.get("wsgi.input_terminated"):
        return b""  # no length and no terminated stream: WSGI says there is no body
    data = stream.read(limit + 1)
    return None if len(data) > limit else data


def _replace_body(environ: Environ, body: bytes) -> None:
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


def _with_headers(start_response: StartResponse, extra: list[tuple[str, str]]) -> StartResponse:
    if not extra:
        return start_response

    def start(status: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None) -> Callable[[bytes], object]:
        headers = list(headers) + extra
        if exc_info is not None:
            return start_response(status, headers, exc_info)
        return start_response(status, headers)

    return start


def _answer(decision: Decision, start_response: StartResponse) -> Iterable[bytes]:
    payload = decision.response_bytes()
    status = decision.status or 422
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(payload))),
        *decision.headers,
    ]
    start_response(f"{status} {_REASONS.get(status, 'Rejected')}", headers)
    return [payload]
