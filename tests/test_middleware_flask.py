"""The Flask extension in a real Flask app, with Flask's test client and session."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import Flask, jsonify, request, session

from modrules import Moderator, load_ruleset
from modrules.middleware import ModerationConfig
from modrules.middleware.flask import Modrules, current_verdict, is_pending
from modrules.store import MemoryStore


@cache
def moderator() -> Moderator:
    return Moderator(load_ruleset(None, disable_ml=True))


def make_app(store: MemoryStore | None = None, **options: Any) -> Flask:
    app = Flask(__name__)
    app.secret_key = "test-secret"
    saved: list[dict[str, Any]] = []
    app.config["SAVED"] = saved

    @app.post("/login/<user>")
    def login(user: str) -> Any:
        session["user_id"] = user
        return "ok"

    @app.post("/comments")
    def post_comment() -> Any:
        verdict = current_verdict()
        text = request.form["text"] if request.form else request.get_json()["text"]
        saved.append({"text": text, "hidden": is_pending()})
        return jsonify(action=verdict.action.value if verdict else None, text=text, hidden=is_pending()), 201

    config = ModerationConfig(routes=["/comments"], author_session_key="user_id", store=store, **options)
    Modrules(app, moderator(), config)
    return app


def test_the_view_sees_the_verdict_and_the_edited_text() -> None:
    app = make_app()
    c = app.test_client()
    clean = c.post("/comments", json={"text": "Thanks for the report."})
    assert clean.status_code == 201 and clean.json == {"action": "publish", "text": "Thanks for the report.", "hidden": False}
    edited = c.post("/comments", json={"text": "what the f*ck is this"})
    assert edited.json["text"] == "what the f*** is this" and edited.headers["X-Moderation-Action"] == "edit"
    form = c.post("/comments", data={"text": "s h i t article"})
    assert form.json["text"] == "s * * * article"


def test_held_comments_are_hidden_and_queued_with_the_session_author() -> None:
    store = MemoryStore()
    app = make_app(store)
    c = app.test_client()
    c.post("/login/alice")
    held = c.post("/comments", json={"id": "h1", "text": "you are an idiot"})
    assert held.status_code == 201 and held.json["hidden"] is True
    item = store.get_review("h1")
    assert item is not None and item.comment.author_id == "alice"


def test_a_deleted_comment_never_reaches_the_view() -> None:
    app = make_app()
    response = app.test_client().post("/comments", json={"text": "THIS IS ALL CAPS AND I AM SHOUTING ABOUT THE ARTICLE NOW"})
    assert response.status_code == 422 and response.json["reasons"][0]["evidence"]
    assert app.config["SAVED"] == []
