"""Django middleware. In settings.py:

    MIDDLEWARE = [
        ...,
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "modrules.middleware.django.ModerationMiddleware",   # after auth: the author is request.user
    ]
    MODRULES = {"routes": ["/comments/"], "on_hold": "pending"}   # ModerationConfig fields
    MODRULES_RULES = None        # a ruleset directory (None: the bundled default)
    MODRULES_NO_ML = False
    # or MODRULES_CONFIG = <a ModerationConfig>, MODRULES_MODERATOR = <a Moderator>

In a view: `request.moderation` is the verdict (None if not moderated),
`request.moderation_pending` is True for a held comment, and `request.POST` /
`request.body` already hold the edited text on an edit.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

from modrules.engine import Moderator
from modrules.middleware.config import ModerationConfig, RequestInfo
from modrules.middleware.core import Decision, Guard
from modrules.rules import load_ruleset


@cache
def _default_moderator(rules: str | None, no_ml: bool) -> Moderator:
    # Loading compiles every rule (about a second): once per process.
    return Moderator(load_ruleset(Path(rules) if rules else None, disable_ml=no_ml))


def _config() -> ModerationConfig:
    config = getattr(settings, "MODRULES_CONFIG", None)
    if isinstance(config, ModerationConfig):
        return config
    return ModerationConfig.model_validate(getattr(settings, "MODRULES", {}))


def _moderator() -> Moderator:
    moderator = getattr(settings, "MODRULES_MODERATOR", None)
    if isinstance(moderator, Moderator):
        return moderator
    rules = getattr(settings, "MODRULES_RULES", None)
    return _default_moderator(str(rules) if rules else None, bool(getattr(settings, "MODRULES_NO_ML", False)))


class ModerationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.config = _config()
        self.guard = Guard(_moderator(), self.config)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.moderation = None
        request.moderation_pending = False
        if not self.guard.matches(request.method or "GET", request.path_info):
            return self.get_response(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if self.guard.too_large(length):
            return _answer(self.guard.refuse_too_large())
        try:
            body = request.body
        except RequestDataTooBig:
            return _answer(self.guard.refuse_too_large())
        decision = self.guard.decide_with(lambda: _request_info(request, body), body)
        request.moderation = decision.verdict
        request.moderation_pending = decision.pending
        request.META[self.config.environ_key] = decision.verdict
        if not decision.passes:
            return _answer(decision)
        if decision.body is not body:
            _replace_body(request, decision.body)
        response = self.get_response(request)
        for name, value in decision.headers:
            response[name] = value
        return response


def _request_info(request: HttpRequest, body: bytes) -> RequestInfo:
    user: Any = getattr(request, "user", None)
    user_id = str(user.pk) if user is not None and user.is_authenticated else None
    return RequestInfo(
        method=(request.method or "GET").upper(),
        path=request.path_info,
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
        query=request.META.get("QUERY_STRING", ""),
        session=getattr(request, "session", None),
        user_id=user_id,
        raw=request,
    )


def _replace_body(request: HttpRequest, body: bytes) -> None:
    # HttpRequest caches the body in _body and parses POST/FILES from it lazily: swap
    # the bytes and drop whatever was parsed from the old ones.
    request._body = body
    request._stream = io.BytesIO(body)
    for parsed in ("_post", "_files"):
        if hasattr(request, parsed):
            delattr(request, parsed)
    request.META["CONTENT_LENGTH"] = str(len(body))


def _answer(decision: Decision) -> HttpResponse:
    response = JsonResponse(decision.response or {}, status=decision.status or 422)
    for name, value in decision.headers:
        response[name] = value
    return response
