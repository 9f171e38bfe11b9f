"""The data that crosses modrules' boundaries: comments in, verdicts out.

The JSON shapes are contracts read by other tools (see DESIGN.md); fields may be
added, never renamed or removed.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

CATEGORIES: tuple[str, ...] = (
    "off-topic",
    "hate",
    "minors",
    "extremism",
    "insult-threat",
    "disrespect-site",
    "privacy",
    "violence",
    "suicide",
    "commercial",
    "third-party-promotion",
    "profanity",
    "spam",
    "drugs",
    "malware",
    "flash-mob",
    "flooding",
    "trolling",
    "non-standard-english",
    "foreign-language",
)
"""The category ids, in clause order: clause n is CATEGORIES[n - 1]."""

Category = Literal[
    "off-topic",
    "hate",
    "minors",
    "extremism",
    "insult-threat",
    "disrespect-site",
    "privacy",
    "violence",
    "suicide",
    "commercial",
    "third-party-promotion",
    "profanity",
    "spam",
    "drugs",
    "malware",
    "flash-mob",
    "flooding",
    "trolling",
    "non-standard-english",
    "foreign-language",
]


class Action(str, Enum):
    """What happens to a comment, weakest first; the order is the precedence."""

    PUBLISH = "publish"
    FLAG = "flag"
    EDIT = "edit"
    HOLD = "hold"
    DELETE = "delete"

    @property
    def rank(self) -> int:
        return _ACTION_RANK[self]


_ACTION_RANK = {a: i for i, a in enumerate(Action)}


class AccountAction(str, Enum):
    NONE = "none"
    WARN = "warn"
    BLOCK = "block"
    PERMANENT_BLOCK = "permanent-block"


class Severity(str, Enum):
    MINOR = "minor"
    MAJOR = "major"
    SEVERE = "severe"


class Comment(BaseModel):
    """One comment as it arrives; unknown fields are kept and ignored."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=False)

    id: str
    text: str
    thread_id: str | None = None
    author_id: str | None = None
    created_at: datetime | None = None
    parent_id: str | None = None

    @field_validator("id", "thread_id", "author_id", "parent_id", mode="before")
    @classmethod
    def _ids_may_be_numbers(cls, value: Any) -> Any:
        # Many dumps carry numeric ids; they are still ids, not numbers.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value


class Thread(BaseModel):
    """The article (or post) a comment belongs to."""

    model_config = ConfigDict(extra="allow")

    id: str
    title: str = ""
    body: str = ""
    language: str = "en"
    tags: list[str] = Field(default_factory=list)

    @field_validator("id", mode="before")
    @classmethod
    def _id_may_be_number(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value


class Evidence(BaseModel):
    """A span of the comment's original text (Python str indices)."""

    start: int
    end: int
    text: str


class Violation(BaseModel):
    rule: str
    category: Category
    clause: int
    action: Action
    message: str
    score: float = 1.0
    shadow: bool = False
    evidence: list[Evidence] = Field(default_factory=list)


class SkippedRule(BaseModel):
    """A rule that could not be evaluated (for example, its ML extra is missing)."""

    rule: str
    reason: str


class Verdict(BaseModel):
    comment_id: str
    action: Action = Action.PUBLISH
    account_action: AccountAction = AccountAction.NONE
    violations: list[Violation] = Field(default_factory=list)
    # Why `account_action` (set when there is one, e.g. the author's block that rejected it).
    account_reason: str | None = None
    edited_text: str | None = None
    skipped: list[SkippedRule] = Field(default_factory=list)

    @property
    def categories(self) -> list[str]:
        """Categories of the enforced violations, in order of first appearance."""
        seen: dict[str, None] = {}
        for v in self.violations:
            if not v.shadow:
                seen.setdefault(v.category, None)
        return list(seen)


class InputError(BaseModel):
    """A line of a dump that could not be judged, and why."""

    source: str
    line: int
    error: str
