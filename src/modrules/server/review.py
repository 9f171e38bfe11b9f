"""The moderators' review page at /review: held and flagged comments with their evidence
highlighted, the author's strike history, and approve / delete / block / restore.

A moderator signs in once with the service token and a name (kept in a signed, HttpOnly,
SameSite=Strict cookie); every form carries a CSRF token. The page is server-rendered
with autoescaping (comments are hostile HTML) under a strict Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from modrules.ledger import Ledger, LedgerError
from modrules.server.auth import COOKIE, cookie_moderator, csrf_token, same, session_cookie
from modrules.server.highlight import pieces
from modrules.server.schemas import ModeratorAction
from modrules.server.state import ServiceState
from modrules.store.base import AccountStatus

HERE = Path(__file__).parent
_ENV = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, auto_reload=False)
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
MAX_FORM_BYTES = 20_000


def review_router(state: ServiceState, ledger: Ledger) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    token = state.settings.token

    @router.get("/review", response_class=HTMLResponse)
    def page(request: Request) -> Response:
        moderator = cookie_moderator(request, token)
        if moderator is None:
            return _html("login.html", status=200)
        return _html("review.html", **_queue(state, moderator), message=request.query_params.get("done", "")[:300])

    @router.post("/review/login")
    async def login(request: Request) -> Response:
        form = await _form(request)
        name = form.get("moderator", "").strip()[:100] or "moderator"
        if not same(form.get("token", ""), token):
            return _html("login.html", status=401, error="That token is not right.")
        response = RedirectResponse("/review", status_code=303)
        response.set_cookie(
            COOKIE,
            session_cookie(token, name),
            httponly=True,
            samesite="strict",
            secure=state.settings.cookie_secure,
            path="/review",
        )
        return response

    @router.post("/review/logout")
    async def logout(request: Request) -> Response:
        await _signed_in(request, token)
        response = RedirectResponse("/review", status_code=303)
        response.delete_cookie(COOKIE, path="/review")
        return response

    # Ids travel in the form body, not the path: an id may hold `/`, `..`, `?` or `#`,
    # which no path segment carries safely through browsers and routers.
    @router.post("/review/comments/{decision}")
    async def decide(request: Request, decision: str) -> Response:
        from modrules.server.app import decide_review

        moderator, form = await _signed_in(request, token)
        comment_id = _form_id(form, "comment_id")
        decide_review(state, comment_id, decision, ModeratorAction(moderator=moderator, reason=form.get("note", "")[:2000]))
        return _back(f"{decision}d comment {comment_id}" if decision == "approve" else f"deleted comment {comment_id}")

    @router.post("/review/authors/{what}")
    async def author(request: Request, what: str) -> Response:
        moderator, form = await _signed_in(request, token)
        author_id = _form_id(form, "author_id")
        reason = form.get("reason", "")[:2000]
        try:
            if what == "block":
                ledger.block(author_id, moderator, reason)
            elif what == "restore":
                ledger.restore(author_id, moderator, reason)
            else:
                raise HTTPException(404, detail=f"no author action {what!r}")
        except LedgerError as exc:
            return _back(f"refused: {exc}")
        return _back(f"{what}ed {author_id}" if what == "block" else f"restored {author_id}")

    router.routes.append(_static_mount())
    return router


def _static_mount() -> Mount:
    return Mount("/review/static", app=StaticFiles(directory=HERE / "static"), name="review-static")


def _queue(state: ServiceState, moderator: str) -> dict[str, Any]:
    store = state.store
    entries = []
    for item in store.review_queue("pending", 200):
        author = item.comment.author_id
        account = store.get_account(author) if author else None
        entries.append(
            {
                "item": item,
                "pieces": pieces(item.comment.text, item.verdict),
                "violations": [v for v in item.verdict.violations if not v.shadow],
                "account": account,
                "history": store.audit_log(author, limit=10) if author else [],
            }
        )
    blocked = store.accounts(AccountStatus.BLOCKED) + store.accounts(AccountStatus.PERMANENTLY_BLOCKED)
    return {
        "entries": entries,
        "blocked": blocked,
        "moderator": moderator,
        "csrf": csrf_token(state.settings.token, moderator),
    }


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(413, detail="form too large")
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


async def _signed_in(request: Request, token: str) -> tuple[str, dict[str, str]]:
    moderator = cookie_moderator(request, token)
    if moderator is None:
        raise HTTPException(401, detail="sign in at /review first")
    form = await _form(request)
    if not same(form.get("csrf", ""), csrf_token(token, moderator)):
        raise HTTPException(401, detail="the form's CSRF token is missing or wrong; reload the page")
    return moderator, form


def _form_id(form: dict[str, str], field: str) -> str:
    value = form.get(field, "")
    if not value:
        raise HTTPException(422, detail=f"the form has no {field}")
    return value


def _back(message: str) -> Response:
    return RedirectResponse(f"/review?done={quote(message[:300])}", status_code=303)


def _html(template: str, status: int = 200, **context: Any) -> Response:
    body = _ENV.get_template(template).render(**context)
    return HTMLResponse(body, status_code=status, headers=_HEADERS)
