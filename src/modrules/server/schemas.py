"""Request and response bodies of the HTTP service (they also make its OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from modrules.model import Comment, Thread
from modrules.store.base import Account, AuditEvent, ReviewItem


class CommentInThread(BaseModel):
    """A comment with the article it belongs to and the comment it replies to."""

    model_config = ConfigDict(extra="forbid")

    comment: Comment
    thread: Thread | None = None
    parent: Comment | None = None


ModerateItem = Comment | CommentInThread
ModerateBody = ModerateItem | list[ModerateItem]


class ErrorBody(BaseModel):
    error: str
    message: str
    details: list[dict[str, Any]] = Field(default_factory=list)


class ModeratorAction(BaseModel):
    """Who acts, and why (kept in the audit log)."""

    model_config = ConfigDict(extra="forbid")

    moderator: str = Field(default="moderator", min_length=1, max_length=100)
    reason: str = Field(default="", max_length=2000)


class AccountView(BaseModel):
    account: Account
    blocked: bool
    history: list[AuditEvent]


class ReviewView(BaseModel):
    items: list[ReviewItem]


class RuleView(BaseModel):
    id: str
    category: str
    clause: int
    action: str
    severity: str
    mode: str
    message: str
    available: bool


class Health(BaseModel):
    status: str
    rules: int
    store: str | None
    started_at: datetime
