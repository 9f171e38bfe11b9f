"""`repetition` (clause 16, flash mob): near-identical comments from different accounts
within a time window — site-wide or in one thread — or one account posting the same
text again and again (`same_author: true`).

Near-identical is measured on MinHash signatures of the content words and word pairs
of the normalised text (case, punctuation, emoji, small edits and reordering barely
change them; function words and stock phrases are left out, so formulaic comments that
say different things stay apart); candidates come from LSH bands, so a check never
rescans the window. Texts with fewer than four content words ("Agreed.", "Thanks for
sharing!", "+1") are never part of a mob.

Detection is retroactive: the engine re-judges the earlier members a comment is found
to belong with (see `modrules.window.related`).
"""

from __future__ import annotations

from typing import Any, Literal

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
from modrules.fingerprint import NUM_PERM
from modrules.window import WindowPredicate, related


class RepetitionConfig(PredicateConfig):
    window: Seconds = 600.0
    similarity: float = Field(0.6, gt=0, le=1)  # estimated Jaccard of words and word pairs
    min_authors: int = Field(4, ge=2)  # distinct accounts, this comment's included
    scope: Literal["site", "thread"] = "site"
    same_author: bool = False  # one account repeating itself instead of many accounts
    min_repeats: int = Field(3, ge=2)  # with same_author: copies, this one included
    min_threads: int = Field(1, ge=1)  # with same_author: threads the copies span


@register
class Repetition(WindowPredicate):
    name = "repetition"
    Config = RepetitionConfig

    def __init__(self, config: Any, ctx: CompileContext) -> None:
        super().__init__(config, ctx)
        self.config: RepetitionConfig = config
        # `agreements / NUM_PERM >= similarity` exactly: scaling by a power of two is exact.
        self._least = config.similarity * NUM_PERM
        self._span = describe(config.window)

    def evaluate(self, doc: Document) -> Hit | None:
        found = self.window_entry(doc)
        if found is None:
            return None
        window, entry = found
        if not entry.informative:
            return None
        config = self.config
        thread_only = config.scope == "thread"
        if config.same_author:
            if window.author_rows_at_most(entry, thread_only) + 1 < config.min_repeats:
                return None  # too few comments by this author to hold enough copies
            rows = window.by_author(entry, config.window, thread_only)
            rows = rows[window.informative[rows]]
            if len(rows) + 1 < config.min_repeats:
                return None
        else:  # only informative comments have band keys: all these are
            rows = window.near(entry, config.window, thread_only, config.min_authors - 1)
            if len(rows) + 1 < config.min_authors:
                return None  # each candidate adds one account at most
        same = window.agreements(entry, rows)
        close = same >= self._least  # similarity >= config.similarity, in whole values
        chosen = rows[close]
        if config.same_author:
            copies = window.entries(chosen)
            threads = {entry.thread_id, *(e.thread_id for e in copies)}
            if len(copies) + 1 < config.min_repeats or len(threads) < config.min_threads:
                return None
            detail = (
                f"the same text {len(copies) + 1} times in {len(threads)} threads"
                f" within {self._span}"
            )
        else:
            # Array lookups, not Entry objects: a big mob names hundreds of copies.
            authors = window.author_count(entry, chosen)
            if authors < config.min_authors:
                return None
            detail = (
                f"{len(chosen) + 1} near-identical comments from {authors} accounts"
                f" within {self._span}"
            )
        related(doc).update(window.comment_ids(chosen))
        best = int(np.maximum.reduce(same[close])) / NUM_PERM  # the most similar one's
        return Hit(spans=[Span(0, len(doc.text))], score=round(best, 4), detail=detail)
