"""From violations to one action, and the edited text for `edit`."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from modrules.model import Action, Evidence, Violation


def resolve_action(violations: Sequence[Violation], precedence: Sequence[Action]) -> Action:
    """The strongest action among enforced violations (shadow ones never count)."""
    rank = {action: i for i, action in enumerate(precedence)}
    strongest = Action.PUBLISH
    for violation in violations:
        if not violation.shadow and rank[violation.action] > rank[strongest]:
            strongest = violation.action
    return strongest


def mask(fragment: str) -> str:
    """Keep the first visible character, star the rest: 'fuck' -> 'f***', 's h i t' -> 's * * *'.

    Invisible format characters (zero-width and the like) are dropped: they were part
    of the disguise, not of the text.
    """
    out: list[str] = []
    first = True
    for char in fragment:
        if unicodedata.category(char) == "Cf":
            continue
        if char.isspace():
            out.append(char)
        else:
            out.append(char if first else "*")
            first = False
    return "".join(out)


@dataclass
class _Cut:
    start: int
    end: int
    style: str


def redact(text: str, pieces: Sequence[tuple[Evidence, str]]) -> str:
    """Replace each evidence span by its redaction style (mask, remove, or a replacement).

    Overlapping spans are merged; the strongest style wins (a replacement string over
    remove over mask), so a phone number inside a masked phrase still disappears.
    """
    cuts: list[_Cut] = []
    for evidence, style in sorted(pieces, key=lambda p: (p[0].start, -p[0].end)):
        if cuts and evidence.start < cuts[-1].end:
            cuts[-1].end = max(cuts[-1].end, evidence.end)
            cuts[-1].style = max(cuts[-1].style, style, key=_style_weight)
        else:
            cuts.append(_Cut(evidence.start, evidence.end, style))
    out: list[str] = []
    cursor = 0
    for cut in cuts:
        out.append(text[cursor : cut.start])
        if cut.style == "mask":
            out.append(mask(text[cut.start : cut.end]))
        elif cut.style != "remove":
            out.append(cut.style)
        cursor = cut.end
    out.append(text[cursor:])
    return "".join(out)


def _style_weight(style: str) -> int:
    return {"mask": 0, "remove": 1}.get(style, 2)
