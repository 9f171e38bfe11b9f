"""The HTTP service `modrules serve` runs: moderation for backends in any language, the
accounts and review API for moderators, health, metrics, OpenAPI docs and the review page."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter
from starlette.exceptions import HTTPException as StarletteHTTPException

from modrules import __version__
from modrules.engine import Moderator
from modrules.ledger import AppealRequest, Ledger, LedgerError, RestoreRefused
from modrules.middleware.judge import Judge
from modrules.model import Verdict
from modrules.server.auth import check_header
from modrules.server.endpoint import ModerateEndpoint
from modrules.server.limits import Gate
from modrules.server.metrics import CONTENT_TYPE
from modrules.server.review import review_router
from modrules.server.schemas import (
    AccountView,
    ErrorBody,
    Health,
    ModerateBody,
    ModeratorAction,
    ReviewView,
    RuleView,
)
from modrules.server.settings import ServerSettings
from modrules.server.state import ServiceState
from modrules.store import MemoryStore
from modrules.store.base import AuditEvent, ReviewItem, Store

log = logging.getLogger("modrules.server")

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Not JSON"},
    401: {"model": ErrorBody, "description": "No valid token"},
    413: {"model": ErrorBody, "description": "Body or batch over the limit"},
    422: {"model": ErrorBody, "description": "Not the expected shape"},
}


def create_app(
    moderator: Moderator,
    store: Store | None = None,
    settings: ServerSettings | None = None,
    store_url: str | None = None,
) -> FastAPI:
    settings = settings or ServerSettings()
    state = ServiceState(moderator, store or MemoryStore(), settings, store_url)
    judge_one = Judge(moderator, state.store)
    ledger = judge_one.ledger or Ledger.for_ruleset(state.store, moderator.ruleset)
    app = FastAPI(
        title="modrules",
        version=__version__,
        description="Comment moderation: community standards as rules, verdicts with evidence.",
    )
    app.state.modrules = state
    endpoint = ModerateEndpoint(judge_one, settings, state.metrics)
    app.add_middleware(Gate, limit=settings.max_body_bytes, metrics=state.metrics, moderate=endpoint)
    _error_handlers(app)

    def token(request: Request) -> None:
        check_header(request, settings.token)

    # Ids are `{…:path}`: percent-encoded, an id may hold `/` (and any other character).

    @app.post(
        "/v1/moderate",
        response_model=Verdict | list[Verdict],
        responses={**_ERRORS, 503: {"model": ErrorBody, "description": "Over the time budget"}},
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ModerateBody"}}}}},
        tags=["moderation"],
    )
    async def moderate(request: Request) -> Response:
        """Judge one comment (answered with one verdict) or a list (answered with a list,
        in order). An item is a comment, or `{"comment": …, "thread": …, "parent": …}`."""
        # The Gate answers this path itself; the route documents it and serves it wherever
        # the Gate does not (the app mounted under a prefix).
        answer = await endpoint.answer(await request.body(), request.headers.raw)
        return Response(answer.body, answer.status, {k.decode(): v.decode() for k, v in answer.headers}, "application/json")

    @app.get("/v1/rules", response_model=list[RuleView], tags=["moderation"])
    def rules() -> list[RuleView]:
        """The loaded rules: id, category, clause, action, severity, mode, and whether they run."""
        return [
            RuleView(
                id=r.id,
                category=r.spec.category,
                clause=r.spec.clause,
                action=r.action.value,
                severity=r.severity.value,
                mode=r.mode,
                message=r.spec.message,
                available=r.unavailable is None,
            )
            for r in moderator.rules
        ]

    @app.get("/v1/accounts/{author_id:path}", response_model=AccountView, responses=_ERRORS, dependencies=[Depends(token)], tags=["accounts"])
    def account(author_id: str) -> AccountView:
        """An author's standing: status, strikes, blocks, and the audit history."""
        return _account_view(state.store, author_id)

    @app.post("/v1/accounts/{author_id:path}/restore", response_model=AccountView, responses=_ERRORS, dependencies=[Depends(token)], tags=["accounts"])
    def restore(author_id: str, action: ModeratorAction | None = None) -> AccountView:
        """Lift a first block (who and why are logged). A second block is final: 409."""
        action = action or ModeratorAction()
        _ledger_call(lambda: ledger.restore(author_id, action.moderator, action.reason))
        return _account_view(state.store, author_id)

    @app.post("/v1/accounts/{author_id:path}/block", response_model=AccountView, responses=_ERRORS, dependencies=[Depends(token)], tags=["accounts"])
    def block(author_id: str, action: ModeratorAction | None = None) -> AccountView:
        """Block an author by hand; a second block is permanent."""
        action = action or ModeratorAction()
        _ledger_call(lambda: ledger.block(author_id, action.moderator, action.reason))
        return _account_view(state.store, author_id)

    @app.post("/v1/appeals", status_code=202, response_model=AuditEvent, responses=_ERRORS, tags=["accounts"])
    def appeal(request: AppealRequest) -> AuditEvent:
        """A blocked user asks to have access restored (subject, user id, explanation)."""
        return ledger.appeal(request)

    @app.get("/v1/review", response_model=ReviewView, responses=_ERRORS, dependencies=[Depends(token)], tags=["review"])
    def review_queue(
        status: str = Query("pending", pattern="^(pending|approved|deleted|all)$"),
        limit: int = Query(100, ge=1, le=1000),
    ) -> ReviewView:
        """Held and flagged comments, oldest first."""
        wanted: Any = None if status == "all" else status
        return ReviewView(items=state.store.review_queue(wanted, limit))

    @app.post("/v1/review/{comment_id:path}/{decision}", response_model=ReviewItem, responses={**_ERRORS, 404: {"model": ErrorBody}}, dependencies=[Depends(token)], tags=["review"])
    def decide(comment_id: str, decision: str, action: ModeratorAction | None = None) -> ReviewItem:
        """Approve (publish) or delete a queued comment."""
        return decide_review(state, comment_id, decision, action or ModeratorAction())

    @app.get("/healthz", response_model=Health, tags=["service"])
    def healthz() -> Health:
        return Health(status="ok", rules=len(moderator.rules), store=store_url, started_at=state.started_at)

    @app.get("/metrics", tags=["service"], response_class=Response)
    def metrics() -> Response:
        """Prometheus text format."""
        return Response(state.metrics.render(), media_type=CONTENT_TYPE)

    app.include_router(review_router(state, ledger))
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def decide_review(state: ServiceState, comment_id: str, decision: str, action: ModeratorAction) -> ReviewItem:
    statuses = {"approve": "approved", "delete": "deleted"}
    if decision not in statuses:
        raise HTTPException(404, detail=f"no review action {decision!r}: use approve or delete")
    try:
        return state.store.decide_review(
            comment_id, statuses[decision], action.moderator, datetime.now(UTC), action.reason  # type: ignore[arg-type]
        )
    except KeyError:
        raise HTTPException(404, detail=f"comment {comment_id!r} is not in the review queue") from None


def _account_view(store: Store, author_id: str) -> AccountView:
    account = store.get_account(author_id)
    blocked = account.status.value in ("blocked", "permanently-blocked")
    return AccountView(account=account, blocked=blocked, history=store.audit_log(author_id, limit=200))


def _ledger_call(call: Any) -> None:
    try:
        call()
    except RestoreRefused as exc:
        raise HTTPException(409, detail=str(exc)) from None
    except LedgerError as exc:
        raise HTTPException(409, detail=str(exc)) from None


def _error_handlers(app: FastAPI) -> None:
    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = list(exc.errors())
        details = [{"field": ".".join(str(p) for p in e.get("loc", ())), "problem": str(e.get("msg", ""))} for e in errors]
        if any(e.get("type") == "json_invalid" for e in errors):
            body = ErrorBody(error="bad-json", message="the body is not valid JSON", details=details)
            return JSONResponse(body.model_dump(), status_code=400)
        first = details[0] if details else {"field": "body", "problem": "invalid"}
        body = ErrorBody(error="invalid-request", message=f"{first['field']}: {first['problem']}", details=details)
        return JSONResponse(body.model_dump(), status_code=422)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        names = {401: "unauthorized", 404: "not-found", 405: "method-not-allowed", 409: "conflict"}
        body = ErrorBody(error=names.get(exc.status_code, "http-error"), message=str(exc.detail))
        return JSONResponse(body.model_dump(), status_code=exc.status_code, headers=exc.headers)

    async def crashed(request: Request, exc: Exception) -> Response:
        log.exception("modrules: unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse({"error": "internal", "message": "unexpected error; it was logged"}, status_code=500)

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, crashed)


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        body = TypeAdapter(ModerateBody).json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(body.pop("$defs", {}))
        components["ModerateBody"] = body
        app.openapi_schema = schema
    return app.openapi_schema
