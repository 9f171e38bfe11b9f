"""The shape of a rule file and of policy.yaml, as pydantic models."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

import regex
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from modrules.duration import Offset
from modrules.model import CATEGORIES, Action, Category, Severity

RULE_ID = regex.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

Mode = Literal["enforce", "shadow"]
OnUnavailable = Literal["skip", "hold", "error"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExampleThread(Strict):
    title: str = ""
    body: str = ""
    tags: list[str] = Field(default_factory=list)
    language: str = "en"


class SequenceComment(Strict):
    """One comment of a stateful example: who posted what, how long after the first."""

    author: str
    at: Offset = 0.0  # after the sequence's start: 90s, 2m, or seconds
    text: str
    thread: str = "example-thread"


class Example(Strict):
    """A rule example: a text alone, a text with the context the rule needs, or (for
    stateful rules: flash mob, flooding) a `sequence` of comments judged as one stream,
    of which the comments at the `expect` indices (default: all) must fire for a `match`
    example, and none for a `no_match` one."""

    text: str = ""
    thread: ExampleThread | None = None
    parent: str | None = None
    sequence: list[SequenceComment] | None = Field(default=None, min_length=1)
    expect: list[int] | None = None

    @model_validator(mode="before")
    @classmethod
    def _text_alone(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _text_or_sequence(self) -> Example:
        if self.sequence is None:
            if self.expect is not None:
                raise ValueError("`expect` needs a `sequence`")
            return self
        if self.text:
            raise ValueError("an example has a `text` or a `sequence`, not both")
        for index in self.expect or ():
            if not 0 <= index < len(self.sequence):
                raise ValueError(f"`expect` index {index} is outside the sequence")
        return self


class Examples(Strict):
    match: list[Example] = Field(min_length=1)
    no_match: list[Example] = Field(min_length=1)


class RuleSpec(Strict):
    """One rule as written in YAML (the condition tree is compiled separately)."""

    id: str
    category: Category
    clause: int = Field(ge=1, le=20)
    action: Action
    message: str
    when: dict[str, Any]
    examples: Examples
    severity: Severity | None = None
    mode: Mode | None = None
    on_unavailable: OnUnavailable | None = None
    redact: str = "mask"
    description: str = ""
    tags: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _kebab_case(cls, value: str) -> str:
        if not RULE_ID.match(value):
            raise ValueError(f"rule id {value!r} is not kebab-case (a-z, 0-9, single hyphens)")
        return value

    @model_validator(mode="after")
    def _clause_matches_category(self) -> RuleSpec:
        expected = CATEGORIES[self.clause - 1]
        if expected != self.category:
            raise ValueError(
                f"clause {self.clause} is {expected!r}, but the category is {self.category!r}"
            )
        return self


class Site(Strict):
    name: str = ""
    aliases: list[str] = Field(default_factory=list)
    language: str = "en"


class Defaults(Strict):
    severity: Severity = Severity.MINOR
    mode: Mode = "enforce"
    on_unavailable: OnUnavailable = "skip"


class Limits(Strict):
    regex_timeout_ms: float = Field(default=50.0, gt=0)


_DURATION = regex.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*([wdhms])\s*)+$")
_DURATION_PART = regex.compile(r"(\d+(?:\.\d+)?)\s*([wdhms])")
_UNIT_SECONDS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}


def _duration(value: Any) -> Any:
    """A duration written "90d", "1d12h" or "30m" as a timedelta, "none" as None; anything
    else (ISO 8601 "P30D", seconds) is left to pydantic's own timedelta parsing."""
    if isinstance(value, str):
        if value.strip().lower() in ("none", "never", "forever", ""):
            return None
        if _DURATION.match(value):
            seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(value))
            return timedelta(seconds=seconds)
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]
OptionalDuration = Annotated[timedelta | None, BeforeValidator(_duration)]


_DEFAULT_WEIGHTS = {Severity.MINOR: 1.0, Severity.MAJOR: 2.0, Severity.SEVERE: 4.0}


class Enforcement(Strict):
    """How enforced violations become strikes, warnings and blocks (see docs/rules.md)."""

    strike_weights: dict[Severity, float] = Field(default_factory=lambda: dict(_DEFAULT_WEIGHTS))
    strike_expiry: OptionalDuration = timedelta(days=90)  # None: strikes never expire
    warn_at: float = Field(default=3.0, gt=0)
    block_at: float = Field(default=6.0, gt=0)
    first_block: OptionalDuration = timedelta(days=7)  # None: until a moderator restores
    undelete_within: Duration = timedelta(days=30)

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> Enforcement:
        if self.warn_at > self.block_at:
            raise ValueError("warn_at must not be above block_at")
        for severity, weight in _DEFAULT_WEIGHTS.items():
            self.strike_weights.setdefault(severity, weight)
        return self


class PolicySpec(Strict):
    """policy.yaml: the site, the action order and the defaults rules inherit."""

    site: Site = Field(default_factory=Site)
    precedence: list[Action] = Field(default_factory=lambda: list(Action))
    defaults: Defaults = Field(default_factory=Defaults)
    limits: Limits = Field(default_factory=Limits)
    enforcement: Enforcement = Field(default_factory=Enforcement)
    # Settings of later features (stores, enforcement, ML) live in their own sections.
    model_config = ConfigDict(extra="allow")

    @field_validator("precedence")
    @classmethod
    def _all_actions_once(cls, value: list[Action]) -> list[Action]:
        if sorted(value, key=lambda a: a.rank) != list(Action) or len(value) != len(Action):
            raise ValueError("precedence must list each action exactly once")
        return value
