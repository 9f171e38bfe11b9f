"""The Django middleware in a real Django project configured here, with Django's test client."""

from __future__ import annotations

import json
from typing import Any

import django
import pytest
from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="test-secret",
        ALLOWED_HOSTS=["testserver"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["modrules.middleware.django.ModerationMiddleware"],
        INSTALLED_APPS=[],
        MODRULES={"routes": ["/comments/"], "author_header": "X-User-Id"},
        MODRULES_NO_ML=True,
    )
    django.setup()

from django.http import HttpRequest, JsonResponse
from django.test import Client, override_settings
from django.urls import path

SAVED: list[dict[str, Any]] = []


def post_comment(request: HttpRequest) -> JsonResponse:
    text = request.POST.get("text") if request.POST else json.loads(request.body)["text"]
    verdict = request.moderation  # type: ignore[attr-defined]
    SAVED.append({"text": text})
    return JsonResponse(
        {"text": text, "action": verdict.action.value if verdict else None, "pending": request.moderation_pending},  # type: ignore[attr-defined]
        status=201,
    )


urlpatterns = [path("comments/", post_comment), path("other/", post_comment)]


@pytest.fixture
def client() -> Client:
    SAVED.clear()
    return Client()


def test_json_comments_publish_and_edit(client: Client) -> None:
    clean = client.post("/comments/", {"text": "Good piece."}, content_type="application/json")
    assert clean.status_code == 201 and clean.json()["action"] == "publish"
    assert clean["X-Moderation-Action"] == "publish"
    edited = client.post("/comments/", {"text": "what the f*ck is this"}, content_type="application/json")
    assert edited.json()["text"] == "what the f*** is this"


def test_form_posts_see_the_edited_text_in_request_post(client: Client) -> None:
    response = client.post(
        "/comments/", "text=s+h+i+t+article&title=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 201 and response.json()["text"] == "s * * * article"


def test_multipart_posts_see_the_edited_text_too(client: Client) -> None:
    response = client.post("/comments/", {"text": "what the f*ck is this", "title": "kept"})  # multipart
    assert response.status_code == 201 and response.json()["text"] == "what the f*** is this"


def test_hold_is_pending_and_delete_is_refused(client: Client) -> None:
    held = client.post("/comments/", {"text": "you are an idiot"}, content_type="application/json")
    assert held.json()["pending"] is True
    deleted = client.post(
        "/comments/", {"text": "THIS IS ALL CAPS AND I AM SHOUTING ABOUT THE ARTICLE NOW"}, content_type="application/json"
    )
    assert deleted.status_code == 422 and deleted.json()["reasons"][0]["clause"] == 19
    assert [s["text"] for s in SAVED] == ["you are an idiot"]


def test_other_paths_are_not_moderated(client: Client) -> None:
    response = client.post("/other/", {"text": "THIS IS ALL CAPS AND I AM SHOUTING ABOUT THE ARTICLE NOW"})
    assert response.status_code == 201 and response.json()["action"] is None


def test_a_body_over_the_limit_is_refused(client: Client) -> None:
    with override_settings(MODRULES={"routes": ["/comments/"], "max_body_bytes": 50}):
        response = Client().post("/comments/", {"text": "x" * 100}, content_type="application/json")
    assert response.status_code == 413
