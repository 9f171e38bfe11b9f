"""Text views of one comment, each with a map back to the raw text.

A comment is read three ways: `raw` (as written), `normalized` (NFKC, case-folded,
invisible format characters removed) and `skeleton` (normalized, then de-obfuscated
so that `sh1t`, `f*ck`, `s h i t`, `fuuuck` and Cyrillic look-alikes read as plain
letters). Predicates match on a view and report spans in raw offsets through
`View.raw_span`, so evidence always points at what the user actually typed.

Every derived character maps to a non-empty raw span; the start and end arrays are
non-decreasing, so any view span maps to a raw span that covers its source.

Views are built lazily and only pay for the work the text needs: pure ASCII skips
Unicode normalization, and each de-obfuscation step first checks with one regex
search whether it has anything to do.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cached_property

import regex

__all__ = ["View", "TextViews", "fold_key", "normalize_key", "is_word_char", "MASK"]

MASK = "*"
"""The character the skeleton uses for a masked letter (`f#ck` -> `f*ck`)."""

# --- offset maps -------------------------------------------------------------------

_Edit = tuple[int, int, str]  # replace text[start:end] with the string


class View:
    """A derived string with a map back to the raw text.

    `starts[i]`/`ends[i]` give the raw span of view character i; `None` means the view
    has the raw text's own offsets (no character was added, removed or merged).
    """

    __slots__ = ("text", "_starts", "_ends", "_raw_len")

    def __init__(
        self,
        text: str,
        raw_len: int,
        starts: Sequence[int] | None = None,
        ends: Sequence[int] | None = None,
    ) -> None:
        self.text = text
        self._raw_len = raw_len
        self._starts = starts
        self._ends = ends

    def __len__(self) -> int:
        return len(self.text)

    def __repr__(self) -> str:
        return f"View({self.text[:60]!r}{'...' if len(self.text) > 60 else ''})"

    @property
    def is_identity(self) -> bool:
        """True when view offsets are raw offsets."""
        return self._starts is None

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """The raw span [start, end) covering view characters [start, end).

        Out-of-range offsets are clamped; an empty view span maps to an empty raw span
        at the position of the next view character.
        """
        n = len(self.text)
        start = min(max(start, 0), n)
        end = min(max(end, start), n)
        if self._starts is None or self._ends is None:
            return start, end
        if end == start:
            pos = self._starts[start] if start < n else self._raw_len
            return pos, pos
        return self._starts[start], self._ends[end - 1]

    def raw_spans(self, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        return [self.raw_span(s, e) for s, e in spans]


def _apply_edits(text: str, view: View, edits: Sequence[_Edit]) -> View:
    """A new view of `text` (the text of `view`) with the edits applied, offsets kept.

    Edits are sorted and non-overlapping. A same-length replacement keeps per-character
    offsets; any other maps every new character to the whole replaced raw span.
    """
    if not edits:
        return view
    starts = view._starts
    ends = view._ends
    new_starts: array[int] = array("q")
    new_ends: array[int] = array("q")
    pieces: list[str] = []
    pos = 0

    def copy(a: int, b: int) -> None:
        if a >= b:
            return
        pieces.append(text[a:b])
        if starts is None or ends is None:
            new_starts.extend(range(a, b))
            new_ends.extend(range(a + 1, b + 1))
        else:
            new_starts.extend(starts[a:b])
            new_ends.extend(ends[a:b])

    for s, e, repl in edits:
        copy(pos, s)
        if repl:
            pieces.append(repl)
            if len(repl) == e - s:
                if starts is None or ends is None:
                    new_starts.extend(range(s, e))
                    new_ends.extend(range(s + 1, e + 1))
                else:
                    new_starts.extend(starts[s:e])
                    new_ends.extend(ends[s:e])
            else:
                rs = s if starts is None else starts[s]
                re_ = e if ends is None else ends[e - 1]
                new_starts.extend([rs] * len(repl))
                new_ends.extend([re_] * len(repl))
        pos = e
    copy(pos, len(text))
    return View("".join(pieces), view._raw_len, new_starts, new_ends)


# --- normalized ---------------------------------------------------------------------

# Characters that render as nothing (or are used to hide letters): zero-width space and
# joiners, word joiner, soft hyphen, bidi controls, tags (all Cf); variation selectors and
# the combining grapheme joiner; Hangul fillers that display blank.
_INVISIBLE = regex.compile(
    r"[\p{Cf}\p{Variation_Selector}\u034F\u115F\u1160\u3164\uFFA0]+"
)
# A stretch that needs per-cluster work: a base with its combining marks (capped, so a
# flood of marks is processed in bounded pieces: CPython's canonical reordering is
# quadratic in a run's length), a character NFKC may change, an invisible one, or a lone
# surrogate.
_COMPLEX = regex.compile(
    r"[^\p{M}]?\p{M}{1,32}"
    r"|[\p{NFKC_QC=N}\p{NFKC_QC=M}\p{Cf}\p{Cs}\p{Variation_Selector}"
    r"\u115F\u1160\u3164\uFFA0]"
)
_SURROGATE = regex.compile(r"\p{Cs}")


def _nfkc_fold(s: str) -> str:
    """NFKC + casefold, invisibles removed, lone surrogates replaced."""
    out = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", s).casefold())
    out = _INVISIBLE.sub("", out)
    if _SURROGATE.search(out):
        out = _SURROGATE.sub("\ufffd", out)
    return out


def normalize_key(s: str) -> str:
    """A word-list entry as the normalized view would spell it."""
    return _nfkc_fold(s)


def _casefold_edits(text: str, a: int, b: int, edits: list[_Edit]) -> None:
    """Edits for a plain stretch whose casefold changes length (ß, İ, ŉ...)."""
    for i in range(a, b):
        c = text[i]
        f = c.casefold()
        if f != c:
            edits.append((i, i + 1, f))


def _build_normalized(raw: str) -> View:
    n = len(raw)
    if raw.isascii():
        return View(raw.lower(), n)
    if _COMPLEX.search(raw) is None:
        folded = raw.casefold()
        if len(folded) == n:
            return View(folded, n)
    # Each complex cluster is normalized on its own and maps to its raw span; the plain
    # stretches between clusters are only case-folded.
    edits: list[_Edit] = []
    pos = 0
    for m in _COMPLEX.finditer(raw):
        s, e = m.span()
        if pos < s:
            _casefold_edits_fast(raw, pos, s, edits)
        edits.append((s, e, _nfkc_fold(m.group())))
        pos = e
    if pos < n:
        _casefold_edits_fast(raw, pos, n, edits)
    # Same-length edits of plain stretches keep per-char offsets; the rest merge.
    return _apply_edits(raw, View(raw, n), edits)


def _casefold_edits_fast(raw: str, a: int, b: int, edits: list[_Edit]) -> None:
    seg = raw[a:b]
    folded = seg.casefold()
    if folded == seg:
        return
    if len(folded) == len(seg):
        edits.append((a, b, folded))
    else:
        _casefold_edits(raw, a, b, edits)


# --- skeleton: folding accents and look-alikes ------------------------------------------

# Look-alikes of Latin letters, as they appear after case folding. Compact on purpose:
# the characters people actually use to dodge filters, not the whole confusables table.
_HOMOGLYPHS: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "b", "г": "r", "е": "e", "ё": "e", "к": "k", "м": "m",
    "н": "h", "о": "o", "п": "n", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x",
    "ш": "w", "щ": "w", "ъ": "b", "ь": "b", "і": "i", "ї": "i", "ј": "j", "ѕ": "s",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "һ": "h", "ү": "y", "ɡ": "g", "ս": "u",
    "օ": "o", "ո": "n", "ց": "g", "հ": "h", "ք": "p",
    # Greek (upper-case forms are folded to these first)
    "α": "a", "β": "b", "γ": "y", "δ": "d", "ε": "e", "ζ": "z", "η": "n", "θ": "o",
    "ι": "i", "κ": "k", "μ": "u", "ν": "v", "ο": "o", "π": "n", "ρ": "p", "σ": "o",
    "ς": "c", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ϳ": "j",
    # Latin letters without a decomposition, and IPA/small capitals
    "ı": "i", "ȷ": "j", "ł": "l", "đ": "d", "ħ": "h", "ø": "o", "ŧ": "t", "ƀ": "b",
    "ɨ": "i", "ʉ": "u", "ɑ": "a", "ɛ": "e", "ɩ": "i", "ɪ": "i", "ʟ": "l", "ʀ": "r",
    "ʏ": "y", "ɴ": "n", "ʙ": "b", "ʜ": "h", "ɢ": "g", "ᴀ": "a", "ᴄ": "c", "ᴅ": "d",
    "ᴇ": "e", "ᴊ": "j", "ᴋ": "k", "ᴍ": "m", "ᴏ": "o", "ᴘ": "p", "ᴛ": "t", "ᴜ": "u",
    "ᴠ": "v", "ᴡ": "w", "ᴢ": "z", "ꜰ": "f", "ꜱ": "s", "ǫ": "q", "ǀ": "l",
    "ꞵ": "b", "ꮃ": "w",
    # Mask look-alikes become the mask itself
    "∗": "*", "⁎": "*", "✱": "*", "✲": "*", "✳": "*", "★": "*", "☆": "*", "•": "*",
    "●": "*", "◦": "*", "▪": "*", "■": "*", "♡": "*", "♥": "*", "❤": "*",
}
# Regional indicator symbols (flag letters) are used as letters: 🇫🇺🇨🇰.
for _i in range(26):
    _HOMOGLYPHS[chr(0x1F1E6 + _i)] = chr(ord("a") + _i)
# Upper-case Greek letters whose lower-case form looks like another Latin letter.
_UPPER_HOMOGLYPHS = {"Η": "h", "Μ": "m", "Ν": "n"}
_UPPER_TARGETS = regex.compile(r"[ημν]")
_MARKS = regex.compile(r"[\p{Mn}\p{Me}]+")


class _FoldTable(dict[int, str]):
    """str.translate table: accents stripped and look-alikes folded, one char to one."""

    def __missing__(self, code: int) -> str:
        c = chr(code)
        out = _HOMOGLYPHS.get(c)
        if out is None:
            decomposed = unicodedata.normalize("NFD", c)
            base = decomposed[0]
            if len(decomposed) > 1 and not unicodedata.combining(base):
                if all(unicodedata.category(x) in ("Mn", "Me") for x in decomposed[1:]):
                    c = base
            out = _HOMOGLYPHS.get(c, c)
        if len(self) < 65536:  # bounded: hostile text may hold many distinct chars
            self[code] = out
        return out


_FOLD = _FoldTable()


def fold_key(s: str) -> str:
    """A word-list entry as the skeleton view would spell it (no leet, masks or joins)."""
    s = _MARKS.sub("", _nfkc_fold(s))
    return s.translate(_FOLD) if not s.isascii() else s


def _fold_step(raw: str, view: View) -> View:
    text = view.text
    if text.isascii():
        return view
    # Combining marks left after NFKC (zalgo, uncomposable accents) are dropped.
    if _MARKS.search(text):
        view = _apply_edits(text, view, [(*m.span(), "") for m in _MARKS.finditer(text)])
        text = view.text
    folded = text.translate(_FOLD)
    edits: list[_Edit] = []
    for m in _UPPER_TARGETS.finditer(text):
        s, e = view.raw_span(m.start(), m.end())
        if e - s == 1 and raw[s] in _UPPER_HOMOGLYPHS:
            edits.append((m.start(), m.end(), _UPPER_HOMOGLYPHS[raw[s]]))
    if edits:
        chars = list(folded)
        for s, _, repl in edits:
            chars[s] = repl
        folded = "".join(chars)
    # The fold is one char to one, so offsets are unchanged.
    return View(folded, view._raw_len, view._starts, view._ends)


# --- skeleton: de-obfuscation steps on folded text ----------------------------------------

_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
         "!": "i", "|": "i"}
_STRONG_MASKS = "*#%"
_L = r"[^\W\d_]"  # a letter (any script)
_TOKCH = r"(?:[^\W_]|[@$|*#%])"

# Single letters separated by spaces, dots, dashes, underscores or stars, 3+ in a row:
# `s h i t`, `f.u.c.k`, `f-u-c-k-i-n-g`. Each single must stand alone.
_SPACED = re.compile(
    r"(?<![\w@$|])[^\W_](?![\w@$|])"
    r"(?:[ \t\r\n.\-_*·]{1,3}(?:[^\W_]|[@$])(?![\w@$|])){2,}"
)
_SPACED_SEP = re.compile(r"[ \t\r\n.\-_*·]+")
# A letter next to a leet or mask character: the only case the leet step looks at.
_LEET_HINT = re.compile(rf"{_L}[0-9@$|!*#%]|[0-9@$|*#%]{_L}")
_TOKEN = re.compile(rf"{_TOKCH}+(?:!+{_TOKCH}+)*")
_UNIT = re.compile(rf"[0-9]+{_L}{{1,2}}")  # 4g, 5th, 10am, 3d: not leet
# A dash or underscore between short letter runs masks letters (`f-ck`, `sh_t`);
# between longer runs it joins words (`e-mail`, `my_name`).
_WEAK_MASK = re.compile(rf"(?<![^\W_]){_L}{{1,3}}([-_]{{1,3}}){_L}{{1,3}}(?![^\W_])")
_REPEAT = re.compile(rf"({_L})\1{{2,}}")


def _sep_kind(sep: str) -> tuple[str, int]:
    # Whitespace separators of different lengths differ: `f u c k  y o u` is two words.
    if sep.isspace():
        return " ", len(sep)
    return "".join(sorted({" " if c.isspace() else c for c in sep})), 0


def _spaced_edits(text: str) -> list[_Edit]:
    """Remove the separators of runs of 3+ single letters that share one kind of separator.

    Requiring one kind keeps `a U.S. citizen` apart (a space, then dots).
    """
    edits: list[_Edit] = []
    for m in _SPACED.finditer(text):
        base = m.start()
        seps = [(base + sm.start(), base + sm.end()) for sm in _SPACED_SEP.finditer(m.group())]
        i = 0
        while i < len(seps):
            kind = _sep_kind(text[seps[i][0]:seps[i][1]])
            j = i + 1
            while j < len(seps) and _sep_kind(text[seps[j][0]:seps[j][1]]) == kind:
                j += 1
            # seps[i:j] join the singles from the one before seps[i] to the one after seps[j-1].
            run = text[seps[i][0] - 1:seps[j - 1][1] + 1]
            if j - i >= 2 and sum(c.isalpha() for c in run) >= 2:
                edits.extend((a, b, "") for a, b in seps[i:j])
                # The last single ends this word: the separator after it stays.
                j += 1
            i = j
    return edits


def _leet_token(tok: str) -> str | None:
    """The token with leet read as letters and masks as MASK, or None to keep it."""
    if tok.isalpha() or not any(c.isalpha() for c in tok):
        return None
    if _UNIT.fullmatch(tok):
        return None
    out: list[str] = []
    for c in tok:
        if c.isalpha():
            out.append(c)
        elif c in _LEET:
            out.append(_LEET[c])
        elif c in _STRONG_MASKS:
            out.append(MASK)
        else:  # a digit with no letter reading (2, 6, 8, 9...): a code like b2b or mi6
            return None
    return "".join(out)


def _leet_edits(text: str) -> list[_Edit]:
    edits: list[_Edit] = []
    pos = 0
    for hint in _LEET_HINT.finditer(text):
        if hint.start() < pos:
            continue
        # Expand the hint to its whole token.
        s = hint.start()
        while s > 0 and (_is_tokch(text[s - 1]) or (text[s - 1] == "!" and s > 1
                                                    and _is_tokch(text[s - 2]))):
            s -= 1
        m = _TOKEN.match(text, s)
        if m is None:  # pragma: no cover - a hint always starts inside a token
            pos = hint.end()
            continue
        tok = m.group()
        new = _leet_token(tok)
        if new is not None and new != tok:
            edits.append((m.start(), m.end(), new))
        pos = m.end()
    return edits


def _is_tokch(c: str) -> bool:
    return c.isalnum() or c in "@$|*#%"


def _weak_mask_edits(text: str) -> list[_Edit]:
    return [(m.start(1), m.end(1), MASK * (m.end(1) - m.start(1)))
            for m in _WEAK_MASK.finditer(text)]


def _repeat_edits(text: str) -> list[_Edit]:
    return [(m.start(), m.end(), m.group(1)) for m in _REPEAT.finditer(text)]


_STEPS: tuple[tuple[re.Pattern[str] | None, Callable[[str], list[_Edit]]], ...] = (
    (_SPACED, _spaced_edits),
    (_LEET_HINT, _leet_edits),
    (re.compile(r"[^\W\d_][-_]"), _weak_mask_edits),
    (_REPEAT, _repeat_edits),
)


def _build_skeleton(raw: str, normalized: View) -> View:
    view = _fold_step(raw, normalized)
    for hint, step in _STEPS:
        text = view.text
        if hint is not None and hint.search(text) is None:
            continue
        view = _apply_edits(text, view, step(text))
    return view


# --- words and sentences ---------------------------------------------------------------

_WORD = regex.compile(r"[\w\p{M}]+(?:['’\-][\w\p{M}]+)*")
_SENTENCE_END = regex.compile(r"[.!?…。！？]+['\"’”)\]»]*(?=\s|$)|\n+|\r\n?")
# Abbreviations after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr prof gen sen rep gov col lt sgt capt vs etc inc ltd co corp "
    "approx dept fig vol eds al e.g i.e a.m p.m u.s u.k u.n u.s.a e.u".split()
)
_LAST_TOKEN = regex.compile(r"[\w.]+$")
_INITIALISM = regex.compile(r"(?:\w\.)+\w")


def is_word_char(c: str) -> bool:
    """Letters and digits; masks, apostrophes and punctuation separate words."""
    return c.isalnum()


def _words(raw: str) -> list[tuple[int, int]]:
    return [m.span() for m in _WORD.finditer(raw)]


def _is_abbreviation(raw: str, end: int) -> bool:
    """True when the full stop ending at raw[end - 1] belongs to an abbreviation."""
    m = _LAST_TOKEN.search(raw, max(0, end - 12), end)
    if m is None:
        return False
    token = m.group().rstrip(".").lower()
    return len(token) == 1 or token in _ABBREVIATIONS or _INITIALISM.fullmatch(token) is not None


def _sentences(raw: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(raw):
        end = m.end()
        punct = m.group()
        if punct.startswith(".") and not punct.startswith("..") and _is_abbreviation(
            raw, m.start() + 1
        ):
            continue
        _add_sentence(raw, start, end, spans)
        start = end
    _add_sentence(raw, start, len(raw), spans)
    return spans


def _add_sentence(raw: str, a: int, b: int, spans: list[tuple[int, int]]) -> None:
    while a < b and raw[a].isspace():
        a += 1
    while b > a and raw[b - 1].isspace():
        b -= 1
    if a < b:
        spans.append((a, b))


# --- the views of one comment ----------------------------------------------------------


class TextViews:
    """The views of one comment, built lazily and cached."""

    def __init__(self, raw: str) -> None:
        self.raw = raw

    @cached_property
    def raw_view(self) -> View:
        return View(self.raw, len(self.raw))

    @cached_property
    def normalized(self) -> View:
        return _build_normalized(self.raw)

    @cached_property
    def skeleton(self) -> View:
        return _build_skeleton(self.raw, self.normalized)

    @cached_property
    def words(self) -> list[tuple[int, int]]:
        return _words(self.raw)

    @cached_property
    def sentences(self) -> list[tuple[int, int]]:
        return _sentences(self.raw)

    def view(self, name: str) -> View:
        """A view by name: `raw`, `normalized` or `skeleton`."""
        if name == "raw":
            return self.raw_view
        if name == "normalized":
            return self.normalized
        if name == "skeleton":
            return self.skeleton
        raise ValueError(f"unknown view {name!r} (raw, normalized or skeleton)")


def iter_words(text: str) -> Iterator[tuple[int, int]]:
    """Word spans of any string (used on views, not only raw text)."""
    for m in _WORD.finditer(text):
        yield m.span()
