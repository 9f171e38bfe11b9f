"""`toxicity`: a classifier's score for one label is above a threshold.

Backends: `detoxify` (the default; model settings in policy.yaml `models.toxicity`) and
`profanity-check` (alt-profanity-check: one offensive-language score, its model in the
wheel, so it always runs offline where the ML extra is installed). Every label of a comment
is scored in one model pass per batch and shared by every `toxicity` predicate.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from modrules.checkers.base import (
    BatchPreparer,
    CompileContext,
    Document,
    Hit,
    Predicate,
    PredicateConfig,
    PredicateError,
    Span,
    register,
)
from modrules.ml.detox import (
    DetoxifyScorer,
    Label,
    ProfanityScorer,
    parse_settings,
    settings_error,
)


class ToxicityConfig(PredicateConfig):
    label: Label = "toxicity"
    above: float = Field(default=0.8, gt=0.0, lt=1.0)
    backend: Literal["detoxify", "profanity-check"] = "detoxify"

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `toxicity: insult` names the label; `toxicity: 0.9` the threshold.
        if isinstance(value, str):
            return {"label": value}
        if isinstance(value, int | float) and not isinstance(value, bool):
            return {"above": value}
        return value

    @model_validator(mode="after")
    def _backend_labels(self) -> ToxicityConfig:
        if self.backend == "profanity-check" and self.label != "toxicity":
            raise ValueError("backend profanity-check scores only the label 'toxicity'")
        return self


Scorer = DetoxifyScorer | ProfanityScorer


@register
class Toxicity(Predicate):
    name = "toxicity"
    Config = ToxicityConfig
    extra = "ml"

    def __init__(self, config: Any, ctx: CompileContext) -> None:
        super().__init__(config, ctx)
        self.label: str = config.label
        self.above: float = config.above
        self.scorer: Scorer
        if config.backend == "profanity-check":
            self.scorer = ctx.shared(("toxicity", "profanity-check"), ProfanityScorer)
            return
        try:
            settings = parse_settings(ctx.models.get("toxicity"))
        except ValidationError as exc:
            raise PredicateError(settings_error(exc)) from exc
        self.scorer = ctx.shared(
            ("toxicity", "detoxify", settings), lambda: DetoxifyScorer(settings, ctx.ruleset_dir)
        )

    def unavailable_reason(self) -> str | None:
        if self.scorer.unavailable is not None:
            return self.scorer.unavailable
        weights = getattr(self.scorer, "weights", None)
        labels = weights.labels if weights is not None else None
        if labels is not None and self.label not in labels:
            return f"the detoxify model has no label {self.label!r} (it has: {', '.join(labels)})"
        return None

    def batch_preparer(self) -> BatchPreparer | None:
        return self.scorer

    def evaluate(self, doc: Document) -> Hit | None:
        score = self.scorer.scores(doc).get(self.label)
        if score is None or score <= self.above:
            return None
        text = doc.text
        return Hit(spans=[Span(0, len(text))], score=score, detail=f"{self.label} {score:.2f}")
