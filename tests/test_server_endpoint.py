"""POST /v1/moderate answered by the service's outer layer (the hot path) and by the
FastAPI route (the app mounted under a prefix): the same answers, the token when it is
required, and the metrics, on real uvicorn servers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from modrules import Moderator, load_ruleset
from modrules.rules import Ruleset
from modrules.server import ServerSettings, create_app
from modrules.server.auth import token_in
from modrules.store import MemoryStore
from tests.test_server import DELETED, HELD, TOKEN, LiveServer

# Bodies covering every answer: verdicts (publish, hold, delete, a list, a thread) and each error.
BODIES: list[bytes] = [
    json.dumps({"id": "c1", "author_id": "u1", "text": "A fair point about the budget vote."}).encode(),
    json.dumps({"id": "c2", "author_id": "u2", "text": HELD}).encode(),
    json.dumps({"id": "c3", "author_id": "u3", "text": DELETED}).encode(),
    json.dumps(
        {"comment": {"id": "c4", "author_id": "u4", "text": "Source?"}, "thread": {"id": "t1", "title": "Budget"}}
    ).encode(),
    json.dumps([{"id": "c5", "text": "Agreed."}, {"id": "c6", "author_id": "u2", "text": HELD}]).encode(),
    json.dumps({"id": "c7", "text": "caf\u00e9 \u2014 \U0001f600 \u202e"}).encode(),
    b"",
    b"{oops",
    b"[1, 2]",
    b'{"text": "no id"}',
    json.dumps([{"id": str(i), "text": "hi"} for i in range(11)]).encode(),
    json.dumps({"id": "big", "text": "a" * 70_000}).encode(),
]


@pytest.fixture(scope="module")
def ruleset() -> Ruleset:
    return load_ruleset(None, disable_ml=True)


def app_for(ruleset: Ruleset, mounted: bool, **settings: Any) -> Any:
    """A fresh service (own store); `mounted` puts it under /svc, where the outer layer
    leaves /v1/moderate to the FastAPI route."""
    store = MemoryStore()
    limits = ServerSettings.model_validate({"token": TOKEN, "max_body_bytes": 64_000, "max_batch": 10, **settings})
    app = create_app(Moderator(ruleset, store=store), store, limits)
    return Starlette(routes=[Mount("/svc", app=app)]) if mounted else app


@pytest.fixture(scope="module")
def both(ruleset: Ruleset) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    with (
        LiveServer(app_for(ruleset, mounted=False)) as direct,
        LiveServer(app_for(ruleset, mounted=True)) as mounted,
        httpx.Client(base_url=direct.url, timeout=30) as a,
        httpx.Client(base_url=f"{mounted.url}/svc", timeout=30) as b,
    ):
        yield a, b


def test_the_hot_path_answers_like_the_framework_route(both: tuple[httpx.Client, httpx.Client]) -> None:
    direct, mounted = both
    seen: set[int] = set()
    for body in BODIES:
        a = direct.post("/v1/moderate", content=body, headers={"content-type": "application/json"})
        b = mounted.post("/v1/moderate", content=body, headers={"content-type": "application/json"})
        assert (a.status_code, a.json()) == (b.status_code, b.json()), body[:80]
        assert a.headers["content-type"] == b.headers["content-type"] == "application/json"
        assert int(a.headers["content-length"]) == len(a.content)
        seen.add(a.status_code)
    assert seen == {200, 400, 413, 422}


def test_verdicts_keep_the_contract(both: tuple[httpx.Client, httpx.Client]) -> None:
    direct, _ = both
    held = direct.post("/v1/moderate", content=json.dumps({"id": "k1", "author_id": "k", "text": HELD})).json()
    assert held["action"] == "hold" and held["violations"][0]["evidence"]
    assert "account_reason" not in held  # only when set
    # without ML, the model rules are listed as skipped, with the reason
    assert held["skipped"] and all("ML checkers disabled" in s["reason"] for s in held["skipped"])
    clean = direct.post("/v1/moderate", content=json.dumps({"id": "k2", "text": "Thanks for the article."})).json()
    assert clean.pop("skipped") == held["skipped"]
    assert clean == {"comment_id": "k2", "action": "publish", "account_action": "none", "violations": [], "edited_text": None}
    listed = direct.post("/v1/moderate", content=json.dumps([{"id": "k3", "text": "ok"}, {"id": "k4", "text": "ok"}]))
    assert [v["comment_id"] for v in listed.json()] == ["k3", "k4"]


def test_the_time_budget_answers_503_on_the_hot_path(ruleset: Ruleset) -> None:
    long_text = "The council debated the budget at length and then voted on the proposal. " * 300
    batch = json.dumps([{"id": f"slow{i}", "text": long_text} for i in range(10)]).encode()
    with LiveServer(app_for(ruleset, mounted=False, time_budget_ms=1, max_body_bytes=10_000_000)) as server:
        response = httpx.post(f"{server.url}/v1/moderate", content=batch, timeout=60)
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert response.json()["error"] == "time-budget-exceeded" and "of 10 comments" in response.json()["message"]


@pytest.mark.parametrize("mounted", [False, True])
def test_a_protected_moderate_needs_the_token(ruleset: Ruleset, mounted: bool) -> None:
    body = json.dumps({"id": "p1", "text": "A fair point."}).encode()
    with LiveServer(app_for(ruleset, mounted=mounted, protect_moderate=True)) as server:
        url = f"{server.url}{'/svc' if mounted else ''}/v1/moderate"
        refused = [
            httpx.post(url, content=body, headers=headers)
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-Modrules-Token": "wrong"}, {"Authorization": TOKEN})
        ]
        for response in refused:
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == "Bearer"
            assert response.json()["error"] == "unauthorized"
        for headers in ({"Authorization": f"Bearer {TOKEN}"}, {"authorization": f"bearer  {TOKEN}"}, {"X-Modrules-Token": TOKEN}):
            answer = httpx.post(url, content=body, headers=headers)
            assert answer.status_code == 200 and answer.json()["comment_id"] == "p1"


def metric(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name + (('{' + labels + '}') if labels else ''))} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_metrics_count_every_hot_path_answer(ruleset: Ruleset) -> None:
    with LiveServer(app_for(ruleset, mounted=False)) as server, httpx.Client(base_url=server.url) as client:
        for i in range(3):
            assert client.post("/v1/moderate", content=json.dumps({"id": f"m{i}", "text": DELETED})).status_code == 200
        assert client.post("/v1/moderate", content=b"{oops").status_code == 400
        assert client.post("/v1/moderate", content=b"x" * 70_000).status_code == 413
        assert client.post("/v1/moderate", content=json.dumps([{"id": "m9", "text": HELD}] * 2)).status_code == 200
        text = client.get("/metrics").text
    route = 'route="/v1/moderate",status='
    assert metric(text, "modrules_http_requests_total", route + '"200"') == 4
    assert metric(text, "modrules_http_requests_total", route + '"400"') == 1
    assert metric(text, "modrules_http_requests_total", route + '"413"') == 1
    assert metric(text, "modrules_moderate_seconds_count") == 4  # the judged requests only
    assert metric(text, "modrules_verdicts_total", 'action="delete"') == 3
    assert metric(text, "modrules_verdicts_total", 'action="hold"') + metric(text, "modrules_verdicts_total", 'action="delete"') == 5
    assert metric(text, "modrules_violations_total", 'category="non-standard-english"') == 3


def test_the_token_is_read_from_raw_headers() -> None:
    assert token_in([(b"authorization", b"Bearer abc ")]) == "abc"
    assert token_in([(b"authorization", b"BEARER abc")]) == "abc"
    assert token_in([(b"x-modrules-token", b"xyz")]) == "xyz"
    # a non-bearer Authorization falls back to X-Modrules-Token; the first of a name counts
    assert token_in([(b"authorization", b"Basic Zm9v"), (b"x-modrules-token", b"xyz")]) == "xyz"
    assert token_in([(b"x-modrules-token", b"one"), (b"x-modrules-token", b"two")]) == "one"
    assert token_in([(b"authorization", b"Bearer a"), (b"authorization", b"Bearer b")]) == "a"
    assert token_in([(b"host", b"x"), (b"authorization", b"Basic Zm9v")]) is None
    assert token_in([(b"x-modrules-token", "caf\u00e9".encode("latin-1"))]) == "caf\u00e9"
