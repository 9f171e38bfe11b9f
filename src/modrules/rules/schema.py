"""The shape of a rule file and of policy.yaml, as pydantic models."""

from __future__ import annotations

from typing import Any, Literal

import regex
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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


class Example(Strict):
    """A rule example: a text alone, or a text with the context the rule needs."""

    text: str
    thread: ExampleThread | None = None
    parent: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _text_alone(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value


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


class PolicySpec(Strict):
    """policy.yaml: the site, the action order and the defaults rules inherit."""

    site: Site = Field(default_factory=Site)
    precedence: list[Action] = Field(default_factory=lambda: list(Action))
    defaults: Defaults = Field(default_factory=Defaults)
    limits: Limits = Field(default_factory=Limits)
    # Settings of later features (stores, enforcement, ML) live in their own sections.
    model_config = ConfigDict(extra="allow")

    @field_validator("precedence")
    @classmethod
    def _all_actions_once(cls, value: list[Action]) -> list[Action]:
        if sorted(value, key=lambda a: a.rank) != list(Action) or len(value) != len(Action):
            raise ValueError("precedence must list each action exactly once")
        return value
