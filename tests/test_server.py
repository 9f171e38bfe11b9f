"""The HTTP service on a real uvicorn server (a thread, a free loopback port), over httpx."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self

import httpx
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modrules import Moderator, load_ruleset
from modrules.server import ServerSettings, create_app
from modrules.store import MemoryStore

TOKEN = "test-token-123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
HELD = "you are an idiot"
DELETED = "THIS IS ALL CAPS AND I AM SHOUTING ABOUT THE ARTICLE NOW"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def moderator_store() -> tuple[Moderator, MemoryStore]:
    store = MemoryStore()
    return Moderator(load_ruleset(None, disable_ml=True), store=store), store


@pytest.fixture(scope="module")
def live(moderator_store: tuple[Moderator, MemoryStore]) -> Iterator[tuple[httpx.Client, MemoryStore]]:
    moderator, store = moderator_store
    limits = ServerSettings(token=TOKEN, max_body_bytes=64_000, max_batch=10, time_budget_ms=5000)
    with LiveServer(create_app(moderator, store, limits)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client, store


def test_health_rules_and_docs(live: tuple[httpx.Client, MemoryStore]) -> None:
    client, _ = live
    assert client.get("/healthz").json()["status"] == "ok"
    rules = client.get("/v1/rules").json()
    assert any(r["id"] == "caps-shouting" and r["clause"] == 19 for r in rules)
    schema = client.get("/openapi.json").json()
    assert "/v1/moderate" in schema["paths"] and "ModerateBody" in schema["components"]["schemas"]
    assert "CommentInThread" in schema["components"]["schemas"]
    assert client.get("/docs").status_code == 200


def test_one_comment_gets_one_verdict_per_the_contract(live: tuple[httpx.Client, MemoryStore]) -> None:
    client, _ = live
    text = "what the f*ck is this"
    verdict = client.post("/v1/moderate", json={"id": "c1", "text": text}).json()
    assert verdict["comment_id"] == "c1" and verdict["action"] == "edit"
    assert verdict["edited_text"] == "what the f*** is this" and verdict["account_action"] == "none"
    for violation in verdict["violations"]:
        assert {"rule", "category", "clause", "action", "message", "score", "shadow", "evidence"} <= violation.keys()
        for e in violation["evidence"]:
            assert text[e["start"] : e["end"]] == e["text"]


def test_a_list_is_answered_in_order_and_threads_can_come_along(live: tuple[httpx.Client, MemoryStore]) -> None:
    client, _ = live
    batch = [
        {"id": "b1", "text": "Thanks, a clear explanation."},
        {"comment": {"id": "b2", "text": DELETED}, "thread": {"id": "t1", "title": "Budget vote"}},
        {"comment": {"id": 3, "text": HELD, "parent_id": "b1"}, "parent": {"id": "b1", "text": "Thanks"}},
    ]
    verdicts = client.post("/v1/moderate", json=batch).json()
    assert [v["comment_id"] for v in verdicts] == ["b1", "b2", "3"]
    assert [v["action"] for v in verdicts] == ["publish", "delete", "hold"]


@pytest.mark.parametrize(
    ("body", "status", "error", "says"),
    [
        (b"", 400, "empty-body", "comment"),
        (b"{not json", 400, "bad-json", "not valid JSON"),
        (b"\xff\xfe", 400, "bad-json", "not valid JSON"),
        (b"42", 422, "wrong-shape", "int"),
        (b'"text"', 422, "wrong-shape", "str"),
        (b"[1, 2]", 422, "wrong-shape", "item 0"),
        (b'{"id": "x"}', 422, "invalid-comment", "text"),
        (b'{"id": "x", "text": 5}', 422, "invalid-comment", "text"),
        (b'{"comment": {"id": "x", "text": "hi"}, "thread": {"title": "no id"}}', 422, "invalid-comment", "thread.id"),
        (b'{"comment": {"id": "x", "text": "hi"}, "stray": 1}', 422, "invalid-comment", "stray"),
        (b'[{"id": "a", "text": "ok"}, {"text": "no id"}]', 422, "invalid-comment", "item 1"),
        (json.dumps([{"id": str(i), "text": "hi"} for i in range(11)]).encode(), 413, "batch-too-large", "limit is 10"),
        (json.dumps({"id": "big", "text": "a" * 70_000}).encode(), 413, "payload-too-large", "over 64000 bytes"),
    ],
)
def test_malformed_bodies_get_a_clear_4xx(
    live: tuple[httpx.Client, MemoryStore], body: bytes, status: int, error: str, says: str
) -> None:
    client, _ = live
    response = client.post("/v1/moderate", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    assert response.json()["error"] == error and says in response.json()["message"]


def test_a_chunked_body_over_the_limit_is_refused(live: tuple[httpx.Client, MemoryStore]) -> None:
    client, _ = live

    def chunks() -> Iterator[bytes]:
        yield b'{"id": "x", "text": "'
        for _ in range(100):
            yield b"a" * 1000
        yield b'"}'

    assert client.post("/v1/moderate", content=chunks()).status_code == 413


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(["id", "text", "comment", "thread", "parent", "author_id", "created_at", "x"]), inner, max_size=5),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode())))
def test_no_body_makes_the_service_fail(live: tuple[httpx.Client, MemoryStore], body: bytes) -> None:
    client, _ = live
    response = client.post("/v1/moderate", content=body)
    assert response.status_code in (200, 400, 413, 422), response.text
    if response.status_code != 200:
        assert response.json()["message"]


def test_other_endpoints_refuse_bad_bodies_without_500(live: tuple[httpx.Client, MemoryStore]) -> None:
    client, _ = live
    bad_json = client.post("/v1/accounts/u/restore", content=b"{oops", headers={**AUTH, "content-type": "application/json"})
    assert bad_json.status_code == 400
    wrong = client.post("/v1/accounts/u/restore", json={"moderator": 5, "extra": True}, headers=AUTH)
    assert wrong.status_code == 422 and wrong.json()["error"] == "invalid-request"
    assert client.get("/v1/moderate").status_code == 405
    assert client.get("/v1/review", params={"limit": "lots"}, headers=AUTH).status_code == 422
    assert client.get("/nowhere").status_code == 404


def test_the_time_budget_stops_a_slow_batch(moderator_store: tuple[Moderator, MemoryStore]) -> None:
    moderator, store = moderator_store
    tight = ServerSettings(token=TOKEN, time_budget_ms=1, max_body_bytes=10_000_000)
    long_text = "The council debated the budget at length and then voted on the proposal. " * 300
    batch = [{"id": f"slow{i}", "text": long_text} for i in range(20)]
    with LiveServer(create_app(moderator, store, tight)) as server:
        response = httpx.post(f"{server.url}/v1/moderate", json=batch, timeout=60)
    assert response.status_code == 503 and response.json()["error"] == "time-budget-exceeded"
    assert "of 20 comments" in response.json()["message"]


def test_account_and_review_endpoints_need_the_token(live: tuple[httpx.Client, MemoryStore]) -> None:
    client, _ = live
    for method, path in [
        ("GET", "/v1/accounts/u1"),
        ("POST", "/v1/accounts/u1/restore"),
        ("POST", "/v1/accounts/u1/block"),
        ("GET", "/v1/review"),
        ("POST", "/v1/review/c1/approve"),
    ]:
        assert client.request(method, path).status_code == 401
        assert client.request(method, path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/v1/accounts/u1", headers={"X-Modrules-Token": TOKEN}).status_code == 200


def test_block_restore_and_the_final_second_block(live: tuple[httpx.Client, MemoryStore]) -> None:
    client, store = live
    blocked = client.post("/v1/accounts/u7/block", json={"moderator": "ann", "reason": "spam run"}, headers=AUTH).json()
    assert blocked["account"]["status"] == "blocked" and blocked["blocked"] is True
    verdict = client.post("/v1/moderate", json={"id": "u7c", "author_id": "u7", "text": "Nice article."}).json()
    assert verdict["action"] == "delete" and verdict["account_action"] == "block"
    restored = client.post("/v1/accounts/u7/restore", json={"moderator": "bob", "reason": "appeal accepted"}, headers=AUTH)
    assert restored.status_code == 200 and restored.json()["account"]["status"] == "active"
    restore_event = [e for e in store.audit_log("u7") if e.kind == "restore"][-1]
    assert restore_event.actor == "bob" and restore_event.reason == "appeal accepted"
    again = client.post("/v1/accounts/u7/block", json={"moderator": "ann"}, headers=AUTH).json()
    assert again["account"]["status"] == "permanently-blocked"
    refused = client.post("/v1/accounts/u7/restore", json={"moderator": "bob"}, headers=AUTH)
    assert refused.status_code == 409 and "never" in refused.json()["message"]
    history = client.get("/v1/accounts/u7", headers=AUTH).json()["history"]
    assert [e["kind"] for e in history if e["kind"] != "strike"][-1] == "restore-refused"


def test_held_comments_are_reviewed_through_the_api(live: tuple[httpx.Client, MemoryStore]) -> None:
    client, store = live
    client.post("/v1/moderate", json={"id": "rv1", "author_id": "u8", "text": HELD})
    queue = client.get("/v1/review", headers=AUTH).json()["items"]
    assert "rv1" in [item["comment"]["id"] for item in queue]
    decided = client.post("/v1/review/rv1/approve", json={"moderator": "cat", "reason": "banter"}, headers=AUTH)
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    item = store.get_review("rv1")
    assert item is not None and item.status == "approved" and item.decided_by == "cat"
    assert client.post("/v1/review/nope/approve", headers=AUTH).status_code == 404
    assert client.post("/v1/review/rv1/frobnicate", headers=AUTH).status_code == 404


def test_appeals_are_logged(live: tuple[httpx.Client, MemoryStore]) -> None:
    client, store = live
    response = client.post("/v1/appeals", json={"subject": "please", "user_id": "u9", "explanation": "I was wrong."})
    assert response.status_code == 202
    assert [e.kind for e in store.audit_log("u9")] == ["appeal"]
    assert client.post("/v1/appeals", json={"subject": "", "user_id": "u9"}).status_code == 422


def test_metrics_count_verdicts(live: tuple[httpx.Client, MemoryStore]) -> None:
    client, _ = live
    client.post("/v1/moderate", json={"id": "m1", "text": DELETED})
    text = client.get("/metrics").text
    assert 'modrules_verdicts_total{action="delete"}' in text
    assert 'modrules_violations_total{category="non-standard-english"}' in text
    assert 'modrules_http_requests_total{route="/v1/moderate",status="200"}' in text


def test_modrules_serve_runs_from_the_command_line(tmp_path: Path) -> None:
    port = free_port()
    modrules = Path(sys.executable).with_name("modrules")
    env = {**os.environ, "MODRULES_NO_ML": "1", "MODRULES_TOKEN": TOKEN}
    command = [str(modrules), "serve", "--no-ml", "--port", str(port), "--store", f"sqlite:///{tmp_path}/state.db"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
    try:
        for _ in range(600):
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                time.sleep(0.1)
        assert health.json()["store"].startswith("sqlite:")
        account = httpx.get(f"http://127.0.0.1:{port}/v1/accounts/x", headers=AUTH)
        assert account.status_code == 200
    finally:
        process.terminate()
        process.wait(10)
    bad = subprocess.run([*command[:-2], "--store", "nosuch://x"], env=env, capture_output=True, timeout=60, check=False)
    assert bad.returncode == 2 and b"unknown store" in bad.stderr


def wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        try:
            httpx.get(f"{url}/healthz", timeout=1)
            return
        except httpx.TransportError:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.1)
    raise AssertionError("the server did not start")


def test_two_worker_processes_share_one_sqlite_store(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    modrules = Path(sys.executable).with_name("modrules")
    env = {**os.environ, "MODRULES_NO_ML": "1", "MODRULES_TOKEN": TOKEN}
    store = f"sqlite:///{tmp_path}/shared.db"
    command = [str(modrules), "serve", "--no-ml", "--port", str(port), "--store", store, "--workers", "2"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
    try:
        wait_for(url, process)

        def post(i: int) -> dict[str, Any]:
            body = {"id": f"w{i}", "author_id": f"a{i}", "text": HELD}
            response = httpx.post(f"{url}/v1/moderate", json=body, timeout=30)
            assert response.status_code == 200
            verdict: dict[str, Any] = response.json()
            return verdict

        with ThreadPoolExecutor(8) as pool:
            verdicts = list(pool.map(post, range(24)))
        assert {v["action"] for v in verdicts} == {"hold"}
        queue = httpx.get(f"{url}/v1/review", params={"limit": 100}, headers=AUTH).json()["items"]
        assert sorted(item["comment"]["id"] for item in queue) == sorted(f"w{i}" for i in range(24))
        striking = [v for v in verdicts[0]["violations"] if v["action"] in ("edit", "hold", "delete")]
        for i in range(24):
            account = httpx.get(f"{url}/v1/accounts/a{i}", headers=AUTH).json()["account"]
            assert len(account["strikes"]) == len(striking)
        # Whichever worker answers /metrics counts every worker's verdicts.
        with ThreadPoolExecutor(4) as pool:
            scrapes = list(pool.map(lambda _: httpx.get(f"{url}/metrics", timeout=30).text, range(8)))
        for text in scrapes:
            assert 'modrules_verdicts_total{action="hold"} 24.0' in text, text
    finally:
        process.terminate()
        process.wait(15)
    memory = subprocess.run([*command[:-4], "--workers", "2"], env=env, capture_output=True, timeout=60, check=False)
    assert memory.returncode == 2 and b"shared store" in memory.stderr


def test_ids_with_slashes_and_odd_characters_work_in_the_api(live: tuple[httpx.Client, MemoryStore]) -> None:
    from urllib.parse import quote

    client, store = live
    author, comment_id = "team/red ü?x=1", "forum/42/reply#7"
    path = quote(author, safe="")
    assert client.post(f"/v1/accounts/{path}/block", json={"moderator": "ann"}, headers=AUTH).json()["account"]["status"] == "blocked"
    assert store.get_account(author).status.value == "blocked"
    assert client.get(f"/v1/accounts/{path}", headers=AUTH).json()["account"]["author_id"] == author
    restored = client.post(f"/v1/accounts/{path}/restore", json={"moderator": "bob"}, headers=AUTH)
    assert restored.status_code == 200 and store.get_account(author).status.value == "active"
    client.post("/v1/moderate", json={"id": comment_id, "author_id": "slashy", "text": HELD})
    decided = client.post(f"/v1/review/{quote(comment_id, safe='')}/delete", json={"moderator": "cat"}, headers=AUTH)
    assert decided.status_code == 200 and decided.json()["comment"]["id"] == comment_id
    item = store.get_review(comment_id)
    assert item is not None and item.status == "deleted"
