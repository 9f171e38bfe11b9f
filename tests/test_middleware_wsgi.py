"""The WSGI middleware around a plain WSGI app, driven by Werkzeug's test client."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from modrules import Moderator, load_ruleset
from modrules.middleware import (
    CallableExtractor,
    FieldMap,
    FormExtractor,
    JsonExtractor,
    ModerationConfig,
    Revision,
    Route,
)
from modrules.middleware.wsgi import ModerationMiddleware
from modrules.store import AccountStatus, MemoryStore

CLEAN = "Great article, thanks!"
EDITED = "what the f*ck is this"
HELD = "you are an idiot"
DELETED = "THIS IS ALL CAPS AND I AM SHOUTING ABOUT THE ARTICLE NOW"


@cache
def moderator() -> Moderator:
    return Moderator(load_ruleset(None, disable_ml=True))


def forum(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """The downstream app: reports what it received."""
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    verdict = environ.get("modrules.verdict")
    seen = {
        "body": body.decode("utf-8", "replace"),
        "length": environ.get("CONTENT_LENGTH"),
        "action": verdict.action.value if verdict is not None else None,
        "pending": environ.get("modrules.pending"),
    }
    payload = json.dumps(seen).encode()
    start_response("201 Created", [("Content-Type", "application/json")])
    return [payload]


def client(store: MemoryStore | None = None, **options: Any) -> Client:
    config = ModerationConfig(routes=[Route(path="/threads/*/comments")], store=store, **options)
    return Client(ModerationMiddleware(forum, moderator(), config))


def post(c: Client, payload: Any, **kw: Any) -> Any:
    return c.post("/threads/t1/comments", data=json.dumps(payload), content_type="application/json", **kw)


def test_a_clean_comment_passes_with_its_verdict_and_headers() -> None:
    response = post(client(), {"id": "c1", "text": CLEAN})
    assert response.status_code == 201
    seen = response.get_json()
    assert seen["action"] == "publish" and seen["pending"] is False
    assert json.loads(seen["body"]) == {"id": "c1", "text": CLEAN}
    assert response.headers["X-Moderation-Action"] == "publish"
    assert response.headers["X-Moderation-Comment-Id"] == "c1"


def test_an_edit_reaches_the_app_as_the_edited_text() -> None:
    response = post(client(), {"id": "c2", "text": EDITED, "extra": [1, 2]})
    seen = response.get_json()
    assert response.status_code == 201 and seen["action"] == "edit"
    body = json.loads(seen["body"])
    assert body == {"id": "c2", "text": "what the f*** is this", "extra": [1, 2]}
    assert int(seen["length"]) == len(seen["body"].encode())
    assert "profanity" in response.headers["X-Moderation-Categories"]


def test_a_nested_json_path_is_read_and_rewritten() -> None:
    config = ModerationConfig(routes=["/c"], extractor=JsonExtractor(text="comment.body", id="comment.id"))
    c = Client(ModerationMiddleware(forum, moderator(), config))
    response = c.post("/c", json={"comment": {"id": 7, "body": EDITED}})
    assert json.loads(response.get_json()["body"]) == {"comment": {"id": 7, "body": "what the f*** is this"}}
    assert response.headers["X-Moderation-Comment-Id"] == "7"


def test_a_held_comment_passes_pending_and_is_queued_for_review() -> None:
    store = MemoryStore()
    response = post(client(store, author_header="X-User-Id"), {"id": "c3", "text": HELD}, headers={"X-User-Id": "u9"})
    seen = response.get_json()
    assert response.status_code == 201 and seen["action"] == "hold" and seen["pending"] is True
    assert response.headers["X-Moderation-Pending"] == "1"
    queued = store.get_review("c3")
    assert queued is not None and queued.status == "pending"
    assert queued.comment.author_id == "u9" and queued.verdict.action.value == "hold"


def test_hold_may_be_configured_to_refuse() -> None:
    response = post(client(on_hold="reject"), {"id": "c3", "text": HELD})
    assert response.status_code == 422
    assert response.get_json()["action"] == "hold"


def test_a_deleted_comment_is_refused_with_its_reasons() -> None:
    response = post(client(), {"id": "c4", "text": DELETED})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "comment-rejected" and body["action"] == "delete"
    shouting = next(r for r in body["reasons"] if r["rule"] == "caps-shouting")
    assert shouting["clause"] == 19 and shouting["category"] == "non-standard-english"
    assert shouting["message"]
    assert shouting["evidence"] == [{"start": 0, "end": len(DELETED), "text": DELETED}]
    assert response.headers["X-Moderation-Action"] == "delete"


def test_status_and_body_of_a_refusal_are_configurable() -> None:
    c = client(reject_status=400, reject_body=lambda verdict, reason: {"no": reason})
    response = post(c, {"id": "c4", "text": DELETED})
    assert response.status_code == 400 and response.get_json() == {"no": "deleted"}


def test_a_blocked_author_is_refused_whatever_the_comment() -> None:
    store = MemoryStore()

    def block(account: Any) -> Any:
        return account.model_copy(update={"status": AccountStatus.BLOCKED, "blocks": 1}), []

    store.update_account("u5", block)
    c = client(store, author_header="X-User-Id")
    response = post(c, {"id": "c5", "text": CLEAN}, headers={"X-User-Id": "u5"})
    assert response.status_code == 422 and response.get_json()["error"] == "account-blocked"
    other = post(c, {"id": "c6", "text": CLEAN}, headers={"X-User-Id": "u6"})
    assert other.status_code == 201


def test_a_form_body_is_moderated_and_rewritten() -> None:
    config = ModerationConfig(routes=["/f"], extractor=FormExtractor(FieldMap(text="message")))
    c = Client(ModerationMiddleware(forum, moderator(), config))
    response = c.post("/f", data={"message": EDITED, "title": "x&y"})
    seen = response.get_json()
    assert seen["action"] == "edit"
    assert "message=what+the+f%2A%2A%2A+is+this" in seen["body"] and "title=x%26y" in seen["body"]


def test_a_multipart_body_is_rewritten_leaving_file_parts_byte_for_byte() -> None:
    import io

    from werkzeug.wrappers import Request, Response

    @Request.application  # type: ignore[arg-type]
    def upload_app(request: Request) -> Response:
        photo = request.files["photo"].read()
        return Response(json.dumps({"message": request.form["message"], "photo": photo.hex()}))

    config = ModerationConfig(routes=["/f"], extractor=FormExtractor(FieldMap(text="message")))
    c = Client(ModerationMiddleware(upload_app, moderator(), config))
    upload = bytes(range(256)) * 4 + b"\r\n--not-a-boundary\r\n"
    data = {"message": "s h i t article", "photo": (io.BytesIO(upload), "p.bin", "application/octet-stream")}
    response = c.post("/f", data=data)
    assert response.headers["X-Moderation-Action"] == "edit"
    assert json.loads(response.data) == {"message": "s * * * article", "photo": upload.hex()}


def test_other_routes_and_methods_are_untouched() -> None:
    c = client()
    for response in (c.post("/elsewhere", data=DELETED), c.put("/threads/t1/comments", data=DELETED)):
        seen = response.get_json()
        assert response.status_code == 201 and seen["action"] is None and seen["body"] == DELETED
        assert "X-Moderation-Action" not in response.headers


def test_an_unreadable_body_reaches_the_app_intact() -> None:
    response = client().post("/threads/t1/comments", data=b"{not json", content_type="application/json")
    assert response.status_code == 201 and response.get_json()["body"] == "{not json"
    assert response.headers["X-Moderation-Skipped"] == "unreadable"


def test_unreadable_bodies_may_be_refused_instead() -> None:
    c = client(unreadable="reject")
    for body in (b"{not json", b'{"title": "no text field"}', b'{"text": 5}'):
        response = c.post("/threads/t1/comments", data=body, content_type="application/json")
        assert response.status_code == 400 and response.get_json()["error"] == "unreadable-comment"


def test_a_body_over_the_limit_is_refused() -> None:
    response = post(client(max_body_bytes=100), {"id": "c", "text": "a" * 200})
    assert response.status_code == 413 and response.get_json()["error"] == "payload-too-large"


def _broken(request: Any) -> dict[str, Any]:
    raise RuntimeError("the store is down")


def test_failing_open_passes_the_comment_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    c = client(extractor=CallableExtractor(_broken), fail="open")
    with caplog.at_level(logging.ERROR, logger="modrules.middleware"):
        response = post(c, {"id": "c", "text": DELETED})
    assert response.status_code == 201 and response.get_json()["action"] is None
    assert response.headers["X-Moderation-Error"] == "fail-open"
    assert any("the store is down" in r.getMessage() or r.exc_info for r in caplog.records)


def test_failing_closed_refuses_with_the_configured_status() -> None:
    response = post(client(extractor=CallableExtractor(_broken), fail="closed"), {"id": "c", "text": CLEAN})
    assert response.status_code == 503 and response.get_json()["error"] == "moderation-unavailable"


def test_a_callable_extractor_and_author_function() -> None:
    def extract(request: Any) -> dict[str, Any]:
        return {"text": request.body.decode(), "thread_id": request.path.split("/")[2]}

    c = client(extractor=CallableExtractor(extract), author=lambda request: "from-callable")
    response = c.post("/threads/t9/comments", data=CLEAN)
    assert response.status_code == 201 and response.get_json()["action"] == "publish"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(str.encode),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=40),
            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["text", "id", "author_id", "x"]), inner, max_size=4),
            max_leaves=10,
        ).map(lambda v: json.dumps(v).encode()),
    ),
    content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain", ""]),
)
def test_no_body_crashes_the_middleware(body: bytes, content_type: str) -> None:
    response = client(store=MemoryStore()).post("/threads/t1/comments", data=body, content_type=content_type)
    assert response.status_code in (201, 422)
    if response.status_code == 201 and response.get_json()["action"] in (None, "publish", "hold"):
        assert response.get_json()["body"] == body.decode("utf-8", "replace")


def test_created_at_is_stamped_when_the_body_has_none() -> None:
    store = MemoryStore()
    post(client(store), {"id": "c8", "text": HELD})
    item = store.get_review("c8")
    assert item is not None and item.comment.created_at is not None
    assert abs((datetime.now(UTC) - item.comment.created_at).total_seconds()) < 3600


def test_revised_verdicts_are_queued_and_pushed_to_the_forum(caplog: pytest.LogCaptureFixture) -> None:
    from tests.stateful_support import MOB_VARIANTS

    store = MemoryStore()
    pushed: list[Revision] = []
    config = ModerationConfig(
        routes=[Route(path="/threads/*/comments")], store=store, author_header="X-User-Id", on_revision=pushed.append
    )
    # A fresh Moderator: its recent-comment window must hold only this mob.
    c = Client(ModerationMiddleware(forum, Moderator(load_ruleset(None, disable_ml=True)), config))
    for i, variant in enumerate((0, 1, 2, 0)):
        body = {"id": f"mob{i}", "text": MOB_VARIANTS[variant]}
        response = post(c, body, headers={"X-User-Id": f"mobber{i}"})
        assert response.status_code == 201
        assert response.get_json()["action"] == ("hold" if i == 3 else "publish")
    assert sorted(r.comment.id for r in pushed) == ["mob0", "mob1", "mob2"]
    for revision in pushed:
        assert revision.verdict.action.value == "hold" and revision.verdict.categories == ["flash-mob"]
        assert revision.comment.author_id == f"mobber{revision.comment.id[-1]}"
        item = store.get_review(revision.comment.id)
        assert item is not None and item.status == "pending" and item.verdict == revision.verdict
    # A hook that fails is logged; the comment being posted is not affected.
    failing = ModerationConfig(
        routes=[Route(path="/threads/*/comments")], store=store, on_revision=lambda r: 1 / 0
    )
    c = Client(ModerationMiddleware(forum, Moderator(load_ruleset(None, disable_ml=True)), failing))
    for i, variant in enumerate((0, 1, 2, 0)):
        response = post(c, {"id": f"again{i}", "author_id": f"other{i}", "text": MOB_VARIANTS[variant]})
        assert response.status_code == 201
    assert "on_revision hook failed" in caplog.text
    assert store.get_review("again0") is not None
