"""`length`: comment length in characters or words, within bounds."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from modrules.checkers.base import (
    CompileContext,
    Document,
    Hit,
    Predicate,
    PredicateConfig,
    register,
)


class LengthConfig(PredicateConfig):
    min: int | None = None
    max: int | None = None
    unit: Literal["chars", "words"] = "chars"

    @model_validator(mode="after")
    def _has_a_bound(self) -> LengthConfig:
        if self.min is None and self.max is None:
            raise ValueError("length needs `min`, `max` or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("length: `min` is greater than `max`")
        return self


@register
class Length(Predicate):
    name = "length"
    Config = LengthConfig

    def __init__(self, config: Any, ctx: CompileContext) -> None:
        super().__init__(config, ctx)
        self.low = config.min if config.min is not None else 0
        self.high = config.max
        self.words = config.unit == "words"

    def evaluate(self, doc: Document) -> Hit | None:
        # n words take at least 2n - 1 characters (one separator between two words):
        # a text too short to reach `min` words is rejected without counting them.
        if self.words and (len(doc.text) + 1) // 2 < self.low:
            return None
        size = doc.views.word_count if self.words else len(doc.text)
        if size < self.low or (self.high is not None and size > self.high):
            return None
        return Hit(detail=f"{size} {'words' if self.words else 'characters'}")
