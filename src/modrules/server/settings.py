"""What `modrules serve` is told on its command line, as one validated object."""

from __future__ import annotations

import secrets

from pydantic import BaseModel, Field


class ServerSettings(BaseModel):
    token: str = Field(default_factory=lambda: secrets.token_urlsafe(24), min_length=8)
    max_body_bytes: int = Field(default=1_048_576, gt=0)  # a larger body answers 413
    max_batch: int = Field(default=1000, gt=0)  # comments in one POST /v1/moderate
    time_budget_ms: int = Field(default=5000, gt=0)  # per request; a batch past it answers 503
    protect_moderate: bool = False  # require the token on POST /v1/moderate too
    cookie_secure: bool = False  # set behind HTTPS so the review cookie never travels in clear
