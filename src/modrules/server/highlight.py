"""A comment's text cut into plain and evidence pieces, for <mark> in the review page.

The template escapes every piece; nothing here builds HTML."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from modrules.model import Verdict

MAX_SHOWN = 20_000  # characters of a comment the page shows; the rest is cut


@dataclass(frozen=True)
class Piece:
    text: str
    rules: tuple[str, ...] = ()  # the rules whose evidence covers it; empty = plain text


def pieces(text: str, verdict: Verdict) -> list[Piece]:
    shown = text[:MAX_SHOWN]
    spans = [
        (max(0, e.start), min(len(shown), e.end), v.rule)
        for v in verdict.violations
        if not v.shadow
        for e in v.evidence
        if e.start < min(len(shown), e.end)
    ]
    cuts = sorted({0, len(shown), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    out: list[Piece] = []
    for start, end in pairwise(cuts):
        rules = tuple(dict.fromkeys(rule for s, e, rule in spans if s <= start and end <= e))
        # Touching or overlapping evidence reads as one highlight naming all its rules.
        if out and bool(out[-1].rules) == bool(rules):
            out[-1] = Piece(out[-1].text + shown[start:end], tuple(dict.fromkeys(out[-1].rules + rules)))
        else:
            out.append(Piece(shown[start:end], rules))
    if len(text) > MAX_SHOWN:
        out.append(Piece(f" … ({len(text) - MAX_SHOWN} more characters)"))
    return out
