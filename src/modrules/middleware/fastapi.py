"""FastAPI dependency: moderates the comment in the request body of one endpoint.

    moderation = Moderation(moderator, ModerationConfig(routes=["*"], author_header="X-User-Id"))
    moderation.install(app)     # refusals answer with the middleware's JSON body

    @app.post("/comments")
    async def post_comment(body: NewComment, moderated: Moderated = Depends(moderation)):
        save(body, text=moderated.text, hidden=moderated.pending)   # text: edited if edited

FastAPI parses the body before dependencies run, so an edit cannot reach your body
model: store `moderated.text`. (For edits rewritten into the body itself, use the ASGI
middleware.) A refusal raises `CommentRejected` (422 by default).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from modrules.engine import Moderator
from modrules.middleware.asgi import scope_request
from modrules.middleware.config import ModerationConfig, Route
from modrules.middleware.core import Decision, Guard
from modrules.model import Comment, Verdict


@dataclass(frozen=True)
class Moderated:
    verdict: Verdict | None  # None when the body carried no comment, or moderation failed open
    comment: Comment | None
    text: str | None  # the text to store: the edited text on an edit, else the original
    pending: bool  # held for a moderator: store it hidden


class CommentRejected(HTTPException):
    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.status or 422, detail=decision.response, headers=dict(decision.headers))
        self.decision = decision


class Moderation:
    def __init__(self, moderator: Moderator, config: ModerationConfig | None = None) -> None:
        self.config = config or ModerationConfig(routes=[Route(path="*")])
        self.guard = Guard(moderator, self.config)

    def install(self, app: FastAPI) -> None:
        """Answer refusals with the same JSON body as the middleware (not under "detail")."""

        async def rejected(request: Request, exc: Exception) -> Response:
            assert isinstance(exc, CommentRejected)
            decision = exc.decision
            return JSONResponse(decision.response or {}, status_code=exc.status_code, headers=exc.headers)

        app.add_exception_handler(CommentRejected, rejected)

    async def __call__(self, request: Request, response: Response) -> Moderated:
        length = request.headers.get("content-length", "0")
        if length.isdigit() and self.guard.too_large(int(length)):
            raise CommentRejected(self.guard.refuse_too_large())
        body = await request.body()  # Starlette caches it: the endpoint's own parsing is unaffected
        if self.guard.too_large(len(body)):
            raise CommentRejected(self.guard.refuse_too_large())
        decision = await run_in_threadpool(self.guard.decide_with, lambda: scope_request(request.scope, body), body)
        if not decision.passes:
            raise CommentRejected(decision)
        for name, value in decision.headers:
            response.headers.append(name, value)
        verdict, comment = decision.verdict, decision.comment
        text = comment.text if comment is not None else None
        if verdict is not None and verdict.edited_text is not None and decision.outcome == "edit":
            text = verdict.edited_text
        return Moderated(verdict=verdict, comment=comment, text=text, pending=decision.pending)
