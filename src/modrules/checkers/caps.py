"""`caps`: a comment written fully or mostly in capitals (acronyms excepted)."""

from __future__ import annotations

import string
from typing import Any

import regex

from modrules.checkers.base import (
    CompileContext,
    Document,
    Hit,
    Predicate,
    PredicateConfig,
    Span,
    register,
)

DEFAULT_ACRONYMS = ["USA", "US", "UK", "EU", "UN", "NATO", "ISIS", "ISIL", "IS", "FBI", "CIA", "KGB", "FSB", "NSA", "GOP", "DNC", "RNC", "NHS", "BBC", "CNN", "RT", "TV", "MP", "PM", "USSR", "DPRK", "UAE", "OPEC", "IMF", "WHO", "WTO", "NGO", "GDP", "CEO", "CFO", "OK", "LOL", "OMG", "IMO", "IMHO", "FYI", "AKA", "DIY", "ID", "AI", "EV", "COVID", "NASA", "ESA", "UFO", "MH17", "DNR", "LNR", "ATO", "SBU", "OSCE", "PACE", "BRICS", "CSTO", "SCO", "SAM", "ICBM"]

# Counting by deleting with bytes.translate: a C loop over a 256-entry table, ten times
# faster than str.translate.
_ASCII_UPPER = string.ascii_uppercase.encode()
_ASCII_LOWER = string.ascii_lowercase.encode()
_UPPER = regex.compile(r"\p{Lu}")
# Letters are counted as what is left once the runs of non-letters are deleted: one
# deletion per run instead of one string per letter (2-3x faster on long texts).
_NON_LETTERS = regex.compile(r"\P{L}+")
_WORD = regex.compile(r"[\p{L}\p{N}]+")


class CapsConfig(PredicateConfig):
    min_ratio: float = 0.7
    min_letters: int = 20
    max_acronym_length: int = 5
    acronyms: tuple[str, ...] = tuple(DEFAULT_ACRONYMS)


def _upper_and_letters(text: str) -> tuple[int, int]:
    if text.isascii():
        data = text.encode("ascii")
        upper = len(data) - len(data.translate(None, _ASCII_UPPER))
        lower = len(data) - len(data.translate(None, _ASCII_LOWER))
        return upper, upper + lower
    return len(_UPPER.findall(text)), len(_NON_LETTERS.sub("", text))


def _count_upper(doc: Document) -> int:
    text = doc.text
    if text.isascii():
        data = text.encode("ascii")
        return len(data) - len(data.translate(None, _ASCII_UPPER))
    return len(_UPPER.findall(text))


def _counts(doc: Document) -> tuple[int, int]:
    return _upper_and_letters(doc.text)


@register
class Caps(Predicate):
    name = "caps"
    Config = CapsConfig

    def __init__(self, config: Any, ctx: CompileContext) -> None:
        super().__init__(config, ctx)
        self.min_ratio: float = config.min_ratio
        self.min_letters: int = config.min_letters
        self.max_acronym = config.max_acronym_length
        self.acronyms = frozenset(a.upper() for a in config.acronyms)

    def evaluate(self, doc: Document) -> Hit | None:
        text = doc.text
        if len(text) < self.min_letters:
            return None
        # Passing needs upper >= min_ratio * letters >= min_ratio * min_letters: the count
        # of capitals alone (shared by every caps rule) rejects almost every comment.
        if doc.signal("caps.upper", _count_upper) < self.min_ratio * self.min_letters:
            return None
        upper, letters = doc.signal("caps.counts", _counts)
        # Excluding acronyms only lowers the ratio, so this cheap bound rejects most comments.
        if letters < self.min_letters or upper < self.min_ratio * letters:
            return None
        upper, letters = self._without_acronyms(text)
        if letters < self.min_letters or upper < self.min_ratio * letters:
            return None
        return Hit(spans=[Span(0, len(text))], score=upper / letters, detail=f"{upper / letters:.0%} capitals")

    def _without_acronyms(self, text: str) -> tuple[int, int]:
        """Letter counts with acronyms left out.

        A short all-capitals word is an acronym when it is a known one, or when its
        neighbours are not in capitals (the NATO summit); in a shouted sentence its
        neighbours are capitals too, so it counts.
        """
        words = [m.group() for m in _WORD.finditer(text)]
        shouted = [w.isupper() for w in words]
        upper = letters = 0
        for i, word in enumerate(words):
            u, n = _upper_and_letters(word)
            if shouted[i] and n <= self.max_acronym:
                neighbours_shout = (i > 0 and shouted[i - 1]) or (i + 1 < len(words) and shouted[i + 1])
                if word in self.acronyms or not neighbours_shout:
                    continue
            upper += u
            letters += n
        return upper, letters
