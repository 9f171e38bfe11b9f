"""The service's one shared secret: a header token for the API, a signed cookie for the
review page (with a CSRF token in its forms)."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote, unquote

from fastapi import HTTPException, Request

COOKIE = "modrules_review"


def _sign(token: str, purpose: str, name: str) -> str:
    return hmac.new(token.encode(), f"{purpose}:{name}".encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def header_token(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return request.headers.get("x-modrules-token")


def check_header(request: Request, token: str) -> None:
    """401 unless the request carries the token (`Authorization: Bearer …` or `X-Modrules-Token`)."""
    supplied = header_token(request)
    if supplied is None or not same(supplied, token):
        raise HTTPException(
            401, detail="a valid token is required (Authorization: Bearer TOKEN)", headers={"WWW-Authenticate": "Bearer"}
        )


def session_cookie(token: str, name: str) -> str:
    return f"{quote(name, safe='')}.{_sign(token, 'session', name)}"


def cookie_moderator(request: Request, token: str) -> str | None:
    """The moderator a valid review cookie names, else None."""
    value = request.cookies.get(COOKIE, "")
    name, _, signature = value.rpartition(".")
    if not name or not signature:
        return None
    name = unquote(name)
    return name if same(signature, _sign(token, "session", name)) else None


def csrf_token(token: str, name: str) -> str:
    return _sign(token, "csrf", name)
