"""The framework-free heart of the middleware: one request in, one decision out.

`Guard.decide` never raises: a failure inside moderation becomes a fail-open or
fail-closed decision (logged), so a forum never answers 500 because of modrules.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from pydantic import ValidationError

from modrules.engine import Moderator
from modrules.middleware.config import ExtractionError, ModerationConfig, RequestInfo
from modrules.middleware.judge import Judge, author_refused
from modrules.model import Action, Comment, Thread, Verdict

log = logging.getLogger("modrules.middleware")

Outcome = Literal["skip", "publish", "edit", "pending", "reject", "fail-open", "fail-closed"]

@dataclass
class Decision:
    """What to do with a request. `status` is set when the middleware answers itself."""

    outcome: Outcome
    body: bytes  # what the downstream app reads (rewritten on an edit)
    verdict: Verdict | None = None
    comment: Comment | None = None
    status: int | None = None
    response: dict[str, Any] | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def passes(self) -> bool:
        return self.status is None

    @property
    def pending(self) -> bool:
        return self.outcome == "pending"

    def response_bytes(self) -> bytes:
        return orjson.dumps(self.response or {})


class Guard:
    """Moderates the comments that arrive on a forum's configured routes."""

    def __init__(self, moderator: Moderator, config: ModerationConfig) -> None:
        self.moderator = moderator
        self.config = config
        self._routes = [(r.pattern(), frozenset(r.methods)) for r in config.routes]
        self.judge = Judge(moderator, config.store, config.on_revision)

    def matches(self, method: str, path: str) -> bool:
        method = method.upper()
        return any(methods and method in methods and p.match(path) for p, methods in self._routes)

    def too_large(self, length: int) -> bool:
        return length > self.config.max_body_bytes

    def refuse_too_large(self, body: bytes = b"") -> Decision:
        limit = self.config.max_body_bytes
        return Decision(
            "reject",
            body,
            status=413,
            response={"error": "payload-too-large", "message": f"the body is over {limit} bytes"},
        )

    def decide(self, request: RequestInfo) -> Decision:
        """The decision for one request on a moderated route (errors included)."""
        return self.decide_with(lambda: request, request.body)

    def decide_with(self, read: Callable[[], RequestInfo], body: bytes) -> Decision:
        """Like `decide`, for adapters whose reading of the request may itself fail."""
        try:
            request = read()
        except Exception:
            log.exception("modrules: could not read the request")
            return self.failed(body)
        try:
            return self._decide(request)
        except ExtractionError as exc:
            # The client's mistake, not ours: the forum's own validation will answer it.
            log.info("modrules: %s %s not moderated: %s", request.method, request.path, exc)
            if self.config.unreadable == "reject":
                return Decision(
                    "reject",
                    request.body,
                    status=400,
                    response={"error": "unreadable-comment", "message": str(exc)},
                    headers=[("X-Moderation-Skipped", "unreadable")],
                )
            return Decision("skip", request.body, headers=[("X-Moderation-Skipped", "unreadable")])
        except Exception:
            log.exception("modrules: moderation failed for %s %s", request.method, request.path)
            return self.failed(request.body)

    def failed(self, body: bytes) -> Decision:
        """The decision when moderation itself failed: the configured fail-open or -closed."""
        if self.config.fail == "open":
            return Decision("fail-open", body, headers=[("X-Moderation-Error", "fail-open")])
        return Decision(
            "fail-closed",
            body,
            status=self.config.fail_status,
            response={"error": "moderation-unavailable", "message": "comments cannot be checked now; try again later"},
            headers=[("X-Moderation-Error", "fail-closed")],
        )

    def _decide(self, request: RequestInfo) -> Decision:
        fields = self.config.extractor.extract(request)
        if fields is None:
            raise ExtractionError("the body has no comment text")
        comment = self._comment(request, fields)
        verdict = self.judge(comment, thread=self._thread(request, fields))
        headers = _headers(verdict)
        if author_refused(verdict):
            return self._reject(verdict, comment, request, "account-blocked")
        if verdict.action is Action.DELETE or (
            verdict.action is Action.HOLD and self.config.on_hold == "reject"
        ):
            return self._reject(verdict, comment, request, "deleted" if verdict.action is Action.DELETE else "held")
        if verdict.action is Action.EDIT and verdict.edited_text is not None:
            body = self.config.extractor.rewrite(request, verdict.edited_text)
            if body is None:
                raise RuntimeError("the extractor cannot write the edited text back into the body")
            return Decision("edit", body, verdict, comment, headers=headers)
        if verdict.action is Action.HOLD:
            return Decision("pending", request.body, verdict, comment, headers=[*headers, ("X-Moderation-Pending", "1")])
        return Decision("publish", request.body, verdict, comment, headers=headers)

    def _comment(self, request: RequestInfo, fields: dict[str, Any]) -> Comment:
        data = dict(fields)
        author = self._author(request, data.get("author_id"))
        if author is not None:
            data["author_id"] = author
        data.setdefault("id", uuid.uuid4().hex)
        data.setdefault("created_at", datetime.now(UTC))
        try:
            return Comment.model_validate(data)
        except ValidationError as exc:
            raise ExtractionError(f"not a comment: {exc.errors()[0]['msg']}") from None

    def _author(self, request: RequestInfo, from_body: Any) -> str | None:
        config = self.config
        if config.author is not None:
            return config.author(request)
        if request.user_id is not None:
            return request.user_id
        if config.author_session_key and request.session is not None:
            value = request.session.get(config.author_session_key)
            if value is not None:
                return str(value)
        if config.author_header:
            value = request.headers.get(config.author_header.lower())
            if value:
                return value
        return str(from_body) if from_body is not None else None

    def _thread(self, request: RequestInfo, fields: dict[str, Any]) -> Thread | Mapping[str, Any] | None:
        return self.config.thread(request, fields) if self.config.thread is not None else None

    def _reject(
        self,
        verdict: Verdict | None,
        comment: Comment,
        request: RequestInfo,
        reason: str,
    ) -> Decision:
        if self.config.reject_body is not None:
            body = dict(self.config.reject_body(verdict, reason))
        else:
            body = reject_body(verdict, reason)
        headers = _headers(verdict) if verdict is not None else [("X-Moderation-Action", "delete")]
        headers.append(("X-Moderation-Reason", reason))
        return Decision(
            "reject", request.body, verdict, comment, status=self.config.reject_status, response=body, headers=headers
        )


def reject_body(verdict: Verdict | None, reason: str) -> dict[str, Any]:
    """The default refusal: why, with each enforced rule's clause, message and evidence."""
    if reason == "account-blocked":
        message = (verdict.account_reason if verdict is not None else None) or "this account may not post comments"
    elif reason == "held":
        message = "the comment is held for a moderator"
    else:
        message = "the comment breaks the community standards"
    reasons = []
    if verdict is not None:
        reasons = [
            {
                "rule": v.rule,
                "category": v.category,
                "clause": v.clause,
                "action": v.action.value,
                "message": v.message,
                "evidence": [e.model_dump() for e in v.evidence],
            }
            for v in verdict.violations
            if not v.shadow
        ]
    return {
        "error": "comment-rejected" if reason != "account-blocked" else "account-blocked",
        "message": message,
        "action": verdict.action.value if verdict is not None else "delete",
        "comment_id": verdict.comment_id if verdict is not None else None,
        "reasons": reasons,
    }


def _headers(verdict: Verdict) -> list[tuple[str, str]]:
    enforced = [v for v in verdict.violations if not v.shadow]
    headers = [
        ("X-Moderation-Action", verdict.action.value),
        ("X-Moderation-Comment-Id", _header_safe(verdict.comment_id)),
    ]
    if enforced:
        headers.append(("X-Moderation-Rules", ",".join(dict.fromkeys(v.rule for v in enforced))))
        headers.append(("X-Moderation-Categories", ",".join(verdict.categories)))
    if verdict.account_action.value != "none":
        headers.append(("X-Moderation-Account-Action", verdict.account_action.value))
    return headers


def _header_safe(value: str) -> str:
    # Ids come from the client: keep a header one printable ASCII line.
    cleaned = "".join(ch for ch in value[:200] if 32 <= ord(ch) < 127)
    return cleaned or "-"
