"""`rate` (clause 17, flooding): one account posting many comments in one thread within
a window, and the burst as a whole incoherent: the mean incoherence of its comments
(gibberish, key-mash, characters or words repeated, bare words; a copy of a real text or of noise
by the same account counts as fully incoherent) reaches a threshold. An active debater who
writes real sentences — with the odd "Agreed." — is never a flooder, however often
they post.

Every comment of a flood is in violation, the first ones included: the engine re-judges
them when the flood becomes clear (see `modrules.window.related`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from modrules.checkers.base import (
    CompileContext,
    Document,
    Hit,
    PredicateConfig,
    Span,
    register,
)
from modrules.duration import Seconds, describe
from modrules.fingerprint import NUM_PERM, agreements
from modrules.window import Entry, RecentWindow, WindowPredicate, related

MAX_MEMBERS = 30  # the comments of a burst nearest in time are enough to judge it


class RateConfig(PredicateConfig):
    window: Seconds = 600.0
    min_comments: int = Field(5, ge=2)  # in one thread within the window, this one included
    min_incoherence: float = Field(0.5, gt=0, le=1)  # mean over the burst's comments
    repeat_similarity: float = Field(0.8, gt=0, le=1)  # a copy of the author's own comment
    per_thread: bool = True


@register
class Rate(WindowPredicate):
    name = "rate"
    Config = RateConfig

    def __init__(self, config: Any, ctx: CompileContext) -> None:
        super().__init__(config, ctx)
        self.config: RateConfig = config

    def evaluate(self, doc: Document) -> Hit | None:
        found = self.window_entry(doc)
        if found is None:
            return None
        window, entry = found
        config = self.config
        if window.author_rows_at_most(entry, config.per_thread) + 1 < config.min_comments:
            return None  # too few comments by this author for a burst, whenever posted
        rows = window.by_author(entry, config.window, config.per_thread)
        if len(rows) + 1 < config.min_comments:
            return None
        # The comments nearest in time: the burst this one is part of.
        rows = rows[
            np.argsort(np.abs(window.at[rows] - entry.at), kind="stable")[: MAX_MEMBERS - 1]
        ]
        scores = self._scores(window, entry, rows)
        if scores is None:
            return None
        mean = _mean(scores)
        noisy = int(np.count_nonzero(scores >= 0.5))
        related(doc).update(window.comment_ids(rows))
        where = "in this thread" if config.per_thread else "on the site"
        detail = (
            f"{len(scores)} comments {where} within {describe(config.window)},"
            f" {noisy} of them incoherent or repeated"
        )
        return Hit(spans=[Span(0, len(doc.text))], score=round(mean, 4), detail=detail)

    def _scores(self, window: RecentWindow, entry: Entry, rows: np.ndarray) -> np.ndarray | None:
        """Each comment's incoherence — 1 for noise or a real text the author posted
        again (a stock reply said twice is still a reply) — this one first, or None when
        their mean cannot reach the threshold. Copies are looked for only when they
        decide."""
        threshold = self.config.min_incoherence
        scores = np.concatenate(([entry.incoherence], window.incoherence[rows]))
        if _mean(scores) >= threshold:
            return scores
        informative = np.concatenate(([entry.informative], window.informative[rows]))
        may_repeat = np.flatnonzero((scores < 1.0) & (informative | (scores >= 0.5)))
        if (scores.sum() + (1.0 - scores[may_repeat]).sum()) / len(scores) < threshold:
            return None
        sigs = np.vstack((entry.signature, window.signature[rows]))
        same = agreements(sigs[may_repeat][:, None, :] == sigs[None, :, :])
        same[np.arange(len(may_repeat)), may_repeat] = 0  # not a copy of itself
        copied = (same >= self.config.repeat_similarity * NUM_PERM).any(axis=1)
        scores[may_repeat[copied]] = 1.0
        return scores if _mean(scores) >= threshold else None


def _mean(scores: np.ndarray) -> float:
    """`scores.mean()`, exactly (numpy divides the same sum), without its Python-level
    wrapper, which cost more than the sum on a burst of a few comments."""
    return float(scores.sum() / len(scores))
