"""ASGI middleware (Starlette, FastAPI, Django's ASGI app, Quart…): the WSGI middleware's
behaviour on ASGI. The verdict is in `scope["modrules.verdict"]`, the pending flag in
`scope["modrules.pending"]`; the buffered body is replayed to the app (edited on an edit).

    app = ModerationMiddleware(app, moderator, ModerationConfig(routes=["/comments"]))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio.to_thread

from modrules.engine import Moderator
from modrules.middleware.config import ModerationConfig, RequestInfo
from modrules.middleware.core import Decision, Guard

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ModerationMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        moderator: Moderator,
        config: ModerationConfig,
        request_info: Callable[[Scope, bytes], RequestInfo] | None = None,
    ) -> None:
        self.app = app
        self.guard = Guard(moderator, config)
        self.config = config
        self._request_info = request_info or scope_request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.guard.matches(scope.get("method", "GET"), scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive, self.config.max_body_bytes)
        if body is None:
            await _answer(self.guard.refuse_too_large(), send)
            return
        # The rules are CPU work and the store may do I/O: keep both off the event loop.
        decision = await anyio.to_thread.run_sync(
            self.guard.decide_with, lambda: self._request_info(scope, body), body
        )
        scope[self.config.environ_key] = decision.verdict
        scope[self.config.pending_key] = decision.pending
        if not decision.passes:
            await _answer(decision, send)
            return
        if decision.body is not body:
            scope = dict(scope)
            scope["headers"] = _with_length(scope.get("headers", []), len(decision.body))
        await self.app(scope, replay_body(decision.body, receive), _with_headers(send, decision.headers))


def scope_request(scope: Scope, body: bytes) -> RequestInfo:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    return RequestInfo(
        method=str(scope.get("method", "GET")).upper(),
        path=str(scope.get("path", "")),
        headers=headers,
        body=body,
        query=bytes(scope.get("query_string", b"")).decode("latin-1"),
        raw=scope,
    )


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it is over `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay_body(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # later calls wait for the disconnect, as usual

    return replay


def _with_length(headers: list[tuple[bytes, bytes]], length: int) -> list[tuple[bytes, bytes]]:
    kept = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"transfer-encoding")]
    return [*kept, (b"content-length", str(length).encode())]


def _with_headers(send: Send, extra: list[tuple[str, str]]) -> Send:
    if not extra:
        return send
    encoded = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra]

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = dict(message)
            message["headers"] = [*message.get("headers", []), *encoded]
        await send(message)

    return wrapped


async def _answer(decision: Decision, send: Send) -> None:
    payload = decision.response_bytes()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in decision.headers),
    ]
    await send({"type": "http.response.start", "status": decision.status or 422, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
