"""Flask extension: the WSGI middleware around `app.wsgi_app`, with Flask's session.

    moderation = Modrules(app, moderator, ModerationConfig(routes=["/comments"],
                                                           author_session_key="user_id"))

    @app.post("/comments")
    def post_comment():
        verdict = current_verdict()        # None when the route was not moderated
        text = request.get_json()["text"]  # already the edited text on an edit
        hidden = is_pending()              # held for a moderator
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Flask, current_app, request

from modrules.engine import Moderator
from modrules.middleware.config import ModerationConfig, RequestInfo
from modrules.middleware.wsgi import Environ, ModerationMiddleware, environ_request
from modrules.model import Verdict


class Modrules:
    """Moderates the configured routes of a Flask app (or of several, via `init_app`)."""

    def __init__(
        self, app: Flask | None = None, moderator: Moderator | None = None, config: ModerationConfig | None = None
    ) -> None:
        self.moderator = moderator
        self.config = config
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask, moderator: Moderator | None = None, config: ModerationConfig | None = None) -> None:
        moderator = moderator or self.moderator
        config = config or self.config
        if moderator is None or config is None:
            raise ValueError("Modrules needs a Moderator and a ModerationConfig")

        def read(environ: Environ, body: bytes) -> RequestInfo:
            info = environ_request(environ, body)
            if config.author_session_key is None:
                return info
            # Flask's own session interface, without pushing a request context (that
            # would run the app's teardown handlers twice).
            session = app.session_interface.open_session(app, app.request_class(environ))
            return replace(info, session=dict(session or {}))

        app.wsgi_app = ModerationMiddleware(app.wsgi_app, moderator, config, request_info=read)  # type: ignore[method-assign]
        app.extensions["modrules"] = self
        app.config.setdefault("MODRULES_ENVIRON_KEY", config.environ_key)
        app.config.setdefault("MODRULES_PENDING_KEY", config.pending_key)


def current_verdict() -> Verdict | None:
    """The verdict on the current request's comment (None if it was not moderated)."""
    key = current_app.config.get("MODRULES_ENVIRON_KEY", "modrules.verdict")
    verdict: Any = request.environ.get(key)
    return verdict if isinstance(verdict, Verdict) else None


def is_pending() -> bool:
    """Whether the current request's comment is held for a moderator."""
    return bool(request.environ.get(current_app.config.get("MODRULES_PENDING_KEY", "modrules.pending")))
