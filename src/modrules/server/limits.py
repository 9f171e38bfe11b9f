"""The service's outer ASGI layer: bodies over the limit answer 413 before any route
reads them, every answer is counted for /metrics by route template and status, and
`POST /v1/moderate` (the hot path) is answered here, without the framework's routing."""

from __future__ import annotations

from typing import Any

import orjson

from modrules.middleware.asgi import ASGIApp, Message, Receive, Scope, Send, read_body, replay_body
from modrules.server.endpoint import PATH, ModerateEndpoint
from modrules.server.metrics import Metrics

_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


class Gate:
    def __init__(self, app: ASGIApp, limit: int, metrics: Metrics, moderate: ModerateEndpoint | None = None) -> None:
        self.app = app
        self.limit = limit
        self.metrics = metrics
        self.moderate = moderate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.moderate is not None and scope["path"] == PATH and scope["method"] == "POST":
            await self._moderate(self.moderate, scope, receive, send)
            return
        status = 500

        async def counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            if scope.get("method") in _NO_BODY:
                await self.app(scope, receive, counted)
                return
            if _declared_length(scope) > self.limit:
                await _too_large(counted, self.limit)
                return
            body = await read_body(receive, self.limit)
            if body is None:
                await _too_large(counted, self.limit)
                return
            await self.app(scope, replay_body(body, receive), counted)
        finally:
            route: Any = scope.get("route")
            self.metrics.answered(getattr(route, "path", "unrouted"), status)

    async def _moderate(self, endpoint: ModerateEndpoint, scope: Scope, receive: Receive, send: Send) -> None:
        status = 500  # an exception goes on to the app's error handler, which answers 500
        try:
            body = None if _declared_length(scope) > self.limit else await read_body(receive, self.limit)
            if body is None:
                status = 413
                await _too_large(send, self.limit)
                return
            answer = await endpoint.answer(body, scope["headers"])
            status = answer.status
            await send({"type": "http.response.start", "status": status, "headers": answer.raw_headers()})
            await send({"type": "http.response.body", "body": answer.body})
        finally:
            self.metrics.answered(PATH, status)


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


async def _too_large(send: Send, limit: int) -> None:
    payload = orjson.dumps({"error": "payload-too-large", "message": f"the body is over {limit} bytes"})
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})
