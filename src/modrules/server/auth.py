"""The service's one shared secret: a header token for the API, a signed cookie for the
review page (with a CSRF token in its forms)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import quote, unquote

from fastapi import HTTPException, Request

COOKIE = "modrules_review"
UNAUTHORIZED = "a valid token is required (Authorization: Bearer TOKEN)"


def _sign(token: str, purpose: str, name: str) -> str:
    return hmac.new(token.encode(), f"{purpose}:{name}".encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def token_in(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The token of raw ASGI headers (names lower-case; the first of each name counts):
    `Authorization: Bearer …`, else `X-Modrules-Token`."""
    authorization: str | None = None
    named: str | None = None
    for name, value in headers:
        if name == b"authorization" and authorization is None:
            authorization = value.decode("latin-1")
        elif name == b"x-modrules-token" and named is None:
            named = value.decode("latin-1")
    if authorization is not None and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return named


def header_token(request: Request) -> str | None:
    return token_in(request.headers.raw)


def check_header(request: Request, token: str) -> None:
    """401 unless the request carries the token (`Authorization: Bearer …` or `X-Modrules-Token`)."""
    supplied = header_token(request)
    if supplied is None or not same(supplied, token):
        raise HTTPException(401, detail=UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})


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
