"""The FastAPI dependency in a real FastAPI app, with its (httpx) TestClient."""

from __future__ import annotations

from functools import cache

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from modrules import Moderator, load_ruleset
from modrules.middleware import ModerationConfig, Route
from modrules.middleware.fastapi import Moderated, Moderation
from modrules.store import MemoryStore


@cache
def moderator() -> Moderator:
    return Moderator(load_ruleset(None, disable_ml=True))


class NewComment(BaseModel):
    text: str
    id: str | None = None


def make_app(store: MemoryStore | None = None, install: bool = True) -> tuple[FastAPI, list[dict[str, object]]]:
    app = FastAPI()
    saved: list[dict[str, object]] = []
    moderation = Moderation(moderator(), ModerationConfig(routes=[Route(path="*")], author_header="X-User-Id", store=store))
    if install:
        moderation.install(app)

    @app.post("/comments", status_code=201)
    async def post_comment(
        body: NewComment, moderated: Moderated = Depends(moderation)  # noqa: B008 - FastAPI's idiom
    ) -> dict[str, object]:
        row = {"text": moderated.text, "hidden": moderated.pending, "original": body.text}
        saved.append(row)
        return row

    return app, saved


def test_the_endpoint_gets_the_text_to_store() -> None:
    app, _ = make_app()
    c = TestClient(app)
    clean = c.post("/comments", json={"text": "Solid reporting."})
    assert clean.status_code == 201 and clean.json()["text"] == "Solid reporting."
    assert clean.headers["x-moderation-action"] == "publish"
    edited = c.post("/comments", json={"text": "what the f*ck is this"})
    assert edited.json() == {"text": "what the f*** is this", "hidden": False, "original": "what the f*ck is this"}


def test_held_is_hidden_and_queued() -> None:
    store = MemoryStore()
    app, _ = make_app(store)
    response = TestClient(app).post("/comments", json={"id": "h", "text": "you are an idiot"}, headers={"X-User-Id": "u3"})
    assert response.json()["hidden"] is True
    assert store.get_review("h") is not None


def test_a_deleted_comment_is_refused_before_the_endpoint_runs() -> None:
    app, saved = make_app()
    response = TestClient(app).post("/comments", json={"text": "THIS IS ALL CAPS AND I AM SHOUTING ABOUT THE ARTICLE NOW"})
    assert response.status_code == 422 and response.json()["error"] == "comment-rejected"
    assert response.headers["x-moderation-action"] == "delete"
    assert saved == []
    bare, _ = make_app(install=False)
    wrapped = TestClient(bare).post("/comments", json={"text": "THIS IS ALL CAPS AND I AM SHOUTING ABOUT THE ARTICLE NOW"})
    assert wrapped.status_code == 422 and wrapped.json()["detail"]["reasons"]
