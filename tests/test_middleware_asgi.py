"""The ASGI middleware around a Starlette app, through Starlette's (httpx) test client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route as StarletteRoute
from starlette.testclient import TestClient

from modrules import Moderator, load_ruleset
from modrules.middleware import CallableExtractor, ModerationConfig
from modrules.middleware.asgi import ModerationMiddleware
from modrules.store import MemoryStore

EDITED = "what the f*ck is this"
HELD = "you are an idiot"
DELETED = "THIS IS ALL CAPS AND I AM SHOUTING ABOUT THE ARTICLE NOW"


@cache
def moderator() -> Moderator:
    return Moderator(load_ruleset(None, disable_ml=True))


async def comments(request: Request) -> JSONResponse:
    body = await request.body()
    verdict = request.scope.get("modrules.verdict")
    return JSONResponse(
        {
            "body": body.decode("utf-8", "replace"),
            "length": request.headers.get("content-length"),
            "action": verdict.action.value if verdict is not None else None,
            "pending": request.scope.get("modrules.pending"),
        },
        status_code=201,
    )


def client(**options: Any) -> TestClient:
    app = Starlette(routes=[StarletteRoute("/comments", comments, methods=["POST", "PUT"])])
    config = ModerationConfig(routes=["/comments"], **options)
    return TestClient(ModerationMiddleware(app, moderator(), config))


def test_publish_edit_hold_delete() -> None:
    store = MemoryStore()
    c = client(store=store, author_header="X-User-Id")
    clean = c.post("/comments", json={"id": "a", "text": "Nice reporting."})
    assert clean.status_code == 201 and clean.json()["action"] == "publish"
    assert clean.headers["x-moderation-action"] == "publish"

    edited = c.post("/comments", json={"id": "b", "text": EDITED})
    seen = edited.json()
    assert json.loads(seen["body"])["text"] == "what the f*** is this"
    assert int(seen["length"]) == len(seen["body"].encode())

    held = c.post("/comments", json={"id": "h", "text": HELD}, headers={"X-User-Id": "u1"})
    assert held.json()["pending"] is True and held.headers["x-moderation-pending"] == "1"
    item = store.get_review("h")
    assert item is not None and item.comment.author_id == "u1"

    deleted = c.post("/comments", json={"id": "d", "text": DELETED})
    assert deleted.status_code == 422
    reasons = deleted.json()["reasons"]
    assert {r["rule"] for r in reasons} >= {"caps-shouting"}
    assert all(r["evidence"] and "clause" in r and r["message"] for r in reasons)


def test_a_streamed_body_in_chunks_is_read_whole_and_replayed() -> None:
    payload = json.dumps({"id": "s", "text": "Clear and useful. " * 50}).encode()

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(payload), 64):
            yield payload[i : i + 64]

    response = client().post("/comments", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 201 and response.json()["body"] == payload.decode()


def test_a_streamed_body_over_the_limit_is_refused() -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x" * 100

    response = client(max_body_bytes=1000).post("/comments", content=chunks())
    assert response.status_code == 413


def test_failures_follow_the_policy() -> None:
    def broken(request: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    opened = client(extractor=CallableExtractor(broken)).post("/comments", json={"text": DELETED})
    assert opened.status_code == 201 and opened.headers["x-moderation-error"] == "fail-open"
    closed = client(extractor=CallableExtractor(broken), fail="closed", fail_status=502)
    assert closed.post("/comments", json={"text": "x"}).status_code == 502


def test_unmoderated_routes_pass_untouched() -> None:
    response = client().put("/comments", content=DELETED.encode())
    assert response.status_code == 201 and response.json()["body"] == DELETED
    assert response.json()["action"] is None
