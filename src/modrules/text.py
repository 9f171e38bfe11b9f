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
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

import re2
import regex

__all__ = ["MASK", "TextViews", "View", "count_words", "fold_key", "is_word_char", "normalize_key"]

MASK = "*"
"""The character the skeleton uses for a masked letter (`f#ck` -> `f*ck`)."""

# --- offset maps -------------------------------------------------------------------

_Edit = tuple[int, int, str]  # replace text[start:end] with the string


class View:
    """A derived string with a map back to the raw text.

    The map is piecewise: segment k starts at view offset `_vs[k]` and is either linear
    (view char i maps to raw `[_rs[k] + i - _vs[k], +1)`) or a block (every char in it maps
    to raw `[_rs[k], _re[k])`, for merged or expanded characters). Segments are few (one
    per edit), so building and looking up stay cheap; `_vs is None` means identity.
    """

    __slots__ = ("_lin", "_raw_len", "_re", "_rs", "_vs", "text")

    def __init__(self, text: str, raw_len: int, segments: _MapBuilder | None = None) -> None:
        self.text = text
        self._raw_len = raw_len
        self._vs: list[int] | None = None
        self._rs: list[int] = []
        self._re: list[int] = []
        self._lin: list[bool] = []
        if segments is not None and not segments.is_identity(len(text), raw_len):
            self._vs, self._rs, self._re, self._lin = (
                segments.vs,
                segments.rs,
                segments.re,
                segments.lin,
            )

    def __len__(self) -> int:
        return len(self.text)

    def __repr__(self) -> str:
        return f"View({self.text[:60]!r}{'...' if len(self.text) > 60 else ''})"

    @property
    def is_identity(self) -> bool:
        """True when view offsets are raw offsets."""
        return self._vs is None

    def _char(self, i: int) -> tuple[int, int]:
        """Raw span of view character i (0 <= i < len)."""
        vs = self._vs
        assert vs is not None
        k = bisect_right(vs, i) - 1
        if self._lin[k]:
            r = self._rs[k] + i - vs[k]
            return r, r + 1
        return self._rs[k], self._re[k]

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """The raw span [start, end) covering view characters [start, end).

        Out-of-range offsets are clamped; an empty view span maps to an empty raw span
        at the position of the next view character.
        """
        n = len(self.text)
        start = min(max(start, 0), n)
        end = min(max(end, start), n)
        if self._vs is None:
            return start, end
        if end == start:
            pos = self._char(start)[0] if start < n else self._raw_len
            return pos, pos
        return self._char(start)[0], self._char(end - 1)[1]

    def with_text(self, text: str) -> View:
        """A view of a same-length rewrite of this text, sharing its map."""
        assert len(text) == len(self.text)
        out = View(text, self._raw_len)
        out._vs, out._rs, out._re, out._lin = self._vs, self._rs, self._re, self._lin
        return out

    def raw_spans(self, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        return [self.raw_span(s, e) for s, e in spans]


class _MapBuilder:
    """Accumulates the segments of a new view's map, merging where they continue."""

    __slots__ = ("lin", "n", "re", "rs", "vs")

    def __init__(self) -> None:
        self.vs: list[int] = []
        self.rs: list[int] = []
        self.re: list[int] = []
        self.lin: list[bool] = []
        self.n = 0

    def is_identity(self, length: int, raw_len: int) -> bool:
        return length == raw_len and (
            not self.vs or (len(self.vs) == 1 and self.lin[0] and self.rs[0] == 0)
        )

    def linear(self, rs: int, length: int) -> None:
        if length <= 0:
            return
        if self.lin and self.lin[-1] and self.re[-1] == rs:
            self.re[-1] = rs + length
        else:
            self.vs.append(self.n)
            self.rs.append(rs)
            self.re.append(rs + length)
            self.lin.append(True)
        self.n += length

    def block(self, rs: int, re_: int, length: int) -> None:
        if length <= 0:
            return
        if not (self.lin and not self.lin[-1] and self.rs[-1] == rs and self.re[-1] == re_):
            self.vs.append(self.n)
            self.rs.append(rs)
            self.re.append(re_)
            self.lin.append(False)
        self.n += length

    def copy(self, view: View, a: int, b: int) -> None:
        """Append the map of view characters [a, b)."""
        if a >= b:
            return
        vs = view._vs
        if vs is None:
            self.linear(a, b - a)
            return
        k = bisect_right(vs, a) - 1
        total = len(view.text)
        while a < b:
            seg_end = vs[k + 1] if k + 1 < len(vs) else total
            take = min(b, seg_end) - a
            if view._lin[k]:
                self.linear(view._rs[k] + a - vs[k], take)
            else:
                self.block(view._rs[k], view._re[k], take)
            a += take
            k += 1


def _apply_edits(text: str, view: View, edits: Sequence[_Edit]) -> View:
    """A new view of `text` (the text of `view`) with the edits applied, offsets kept.

    Edits are sorted and non-overlapping. A same-length replacement keeps per-character
    offsets; any other maps every new character to the whole replaced raw span.
    """
    if not edits:
        return view
    out = _MapBuilder()
    pieces: list[str] = []
    pos = 0
    for s, e, repl in edits:
        if pos < s:
            pieces.append(text[pos:s])
            out.copy(view, pos, s)
        if repl:
            pieces.append(repl)
            if len(repl) == e - s:
                out.copy(view, s, e)
            else:
                rs, re_ = view.raw_span(s, e)
                out.block(rs, re_, len(repl))
        pos = e
    if pos < len(text):
        pieces.append(text[pos:])
        out.copy(view, pos, len(text))
    return View("".join(pieces), view._raw_len, out)


# --- normalized ---------------------------------------------------------------------

# Characters that render as nothing and are used to hide letters: soft hyphen, zero-width
# space/joiners, word joiner and invisible operators, bidi controls, BOM, tags, variation
# selectors, the combining grapheme joiner and the blank Hangul fillers. Visible format
# characters (Arabic number signs...) stay. A `re` class of ranges is far faster to scan
# than Unicode property lookups.
_INVISIBLE_CLASS = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    "\U000e0100-\U000e01ef"
)
_INVISIBLE = re.compile(f"[{_INVISIBLE_CLASS}]+")
# A stretch that needs per-cluster work: a base with its combining marks (capped, so a
# flood of marks is processed in bounded pieces: CPython's canonical reordering is
# quadratic in a run's length), a character NFKC may change, a format character, or a
# lone surrogate.
_COMPLEX = regex.compile(
    r"[^\p{M}]?\p{M}{1,32}"
    r"|[\p{NFKC_QC=N}\p{NFKC_QC=M}\p{Cf}\p{Cs}" + _INVISIBLE_CLASS + "]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
# Above this length the whole-text quick check is skipped for the linear cluster path.
_QUICK_CHECK_MAX = 100_000


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
    if (
        n <= _QUICK_CHECK_MAX
        and unicodedata.is_normalized("NFKC", raw)
        and _INVISIBLE.search(raw) is None
        and _SURROGATE.search(raw) is None
    ):
        folded = raw.casefold()
        if len(folded) == n:  # casefold never drops a char, so this is one to one
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

# Look-alikes of Latin letters, as they appear after case folding, paired position by
# position. Compact on purpose: the characters people use to dodge filters, not the whole
# confusables table.
_HOMOGLYPH_PAIRS = (
    # Cyrillic
    ("авгеёкмнопрстухшщъьіїјѕԁԛԝӏһүɡսօոցհք", "abreekmhonpctyxwwbbiijsdqwlhyguonghp"),
    # Greek (upper-case forms are folded to these first)
    ("αβγδεζηθικμνοπρσςτυχωϲϳ", "abydeznoikuvonpoctuxwcj"),
    # Latin letters without a decomposition, IPA and small capitals
    ("ıȷłđħøŧƀɨʉɑɛɩɪʟʀʏɴʙʜɢᴀᴄᴅᴇᴊᴋᴍᴏᴘᴛᴜᴠᴡᴢꜰꜱǫǀꞵꮃ", "ijldhotbiuaeiilrynbhgacdejkmoptuvwzfsqlbw"),
    # Typographic punctuation: plain ASCII keeps the fast ASCII patterns in use
    ("‘’‚‛“”„‟‐‑‒–—―−", "''''\"\"\"\"-------"),
    # Mask look-alikes become the mask itself
    ("∗⁎✱✲✳★☆•●◦▪■♡♥❤", "***************"),
)
_HOMOGLYPHS: dict[str, str] = {
    src: dst for pair in _HOMOGLYPH_PAIRS for src, dst in zip(*pair, strict=True)
}
# Regional indicator symbols (flag letters) are used as letters: 🇫🇺🇨🇰.
for _i in range(26):
    _HOMOGLYPHS[chr(0x1F1E6 + _i)] = chr(ord("a") + _i)
# Upper-case Greek letters whose lower-case form looks like another Latin letter.
_UPPER_HOMOGLYPHS = {"Η": "h", "Μ": "m", "Ν": "n"}
_UPPER_TARGETS = re.compile("[ημν]")
_MARKS = regex.compile(r"[\p{Mn}\p{Me}]+")


def _fold_char(c: str) -> str:
    """One character with its accents stripped and a look-alike folded, one to one."""
    out = _HOMOGLYPHS.get(c)
    if out is not None:
        return out
    decomposed = unicodedata.normalize("NFD", c)
    base = decomposed[0]
    if (
        len(decomposed) > 1
        and not unicodedata.combining(base)
        and all(unicodedata.category(x) in ("Mn", "Me") for x in decomposed[1:])
    ):
        c = base
    return _HOMOGLYPHS.get(c, c)


# A plain dict keeps str.translate in C; characters are added as texts bring them.
_FOLD: dict[int, str] = {}
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_FOLD_CACHE_MAX = 1 << 16  # hostile text may bring many distinct characters


def _translate_fold(text: str) -> str:
    new = {c for c in _NON_ASCII.findall(text) if ord(c) not in _FOLD}
    if new and len(_FOLD) + len(new) > _FOLD_CACHE_MAX:
        return "".join(_fold_char(c) if ord(c) > 127 else c for c in text)
    for c in new:
        _FOLD[ord(c)] = _fold_char(c)
    # Translating only the non-ASCII runs: str.translate is slow on mixed text.
    return _NON_ASCII_RUN.sub(_translate_run, text)


def _translate_run(m: re.Match[str]) -> str:
    return m.group().translate(_FOLD)


def fold_key(s: str) -> str:
    """A word-list entry as the skeleton view would spell it (no leet, masks or joins)."""
    s = _MARKS.sub("", _nfkc_fold(s))
    return _translate_fold(s) if not s.isascii() else s


def _fold_step(raw: str, view: View) -> View:
    text = view.text
    if text.isascii():
        return view
    # Combining marks left after NFKC (zalgo, uncomposable accents) are dropped.
    if _MARKS.search(text):
        view = _apply_edits(text, view, [(*m.span(), "") for m in _MARKS.finditer(text)])
        text = view.text
    folded = _translate_fold(text)
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
    return view.with_text(folded)


# --- skeleton: de-obfuscation steps on folded text ----------------------------------------

_LEET = {
    "0": "o",
    "1": "i",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "@": "a",
    "$": "s",
    "!": "i",
    "|": "i",
}
_STRONG_MASKS = "*#%"
_TOKEN_SYMBOLS = "@$|*#%"


class _Patterns:
    """The step patterns, compiled twice: explicit ASCII classes are several times faster
    to scan than Unicode categories, and most comments are ASCII after folding."""

    def __init__(self, ascii_only: bool) -> None:
        if ascii_only:
            letter, alnum, word, tokch = "[a-z]", "[a-z0-9]", "[a-z0-9_", "[a-z0-9@$|*#%]"
        else:
            letter, alnum, word, tokch = r"[^\W\d_]", r"[^\W_]", r"[\w", r"(?:[^\W_]|[@$|*#%])"

        flags = re.ASCII if ascii_only else 0

        def rx(template: str) -> re.Pattern[str]:
            return re.compile(
                template.replace("{L}", letter)
                .replace("{A}", alnum)
                .replace("{W}", word)
                .replace("{T}", tokch),
                flags,
            )

        sep = r"[ \t\r\n.\-_*\u00b7]"
        # Single letters separated by spaces, dots, dashes, underscores or stars, 3+ in a
        # row: `s h i t`, `f.u.c.k`, `f-u-c-k-i-n-g`. Each single must stand alone.
        self.spaced = rx(
            r"(?<!{W}@$|])(?:{A}|[@$])(?!{W}@$|])"
            rf"(?:{sep}{{1,3}}(?:{{A}}|[@$])(?!{{W}}@$|])){{2,}}"
        )
        # Two singles in a row, the first after a separator: cheap to scan for.
        self.spaced_hint = rx(rf"{sep}(?:{{A}}|[@$]){sep}{{1,3}}(?:{{A}}|[@$])(?!{{W}}@$|])")
        self.token = rx(r"{T}+(?:!+{T}+)*")
        self.unit = rx(r"[0-9]+{L}{1,2}")  # 4g, 5th, 10am, 3d: not leet
        # A dash or underscore between short letter runs may mask letters (`f-ck`, `sh_t`);
        # between longer runs it joins words (`e-mail`, `my_name`). See _weak_mask_edits.
        self.weak_mask = rx(r"(?<!{W}])({L}{1,3})([-_]{1,3})({L}{1,3})(?!{W}])")
        self.repeat = rx(r"({L})\1{2,}")


_ASCII = _Patterns(True)
_UNICODE = _Patterns(False)
# Quick checks for the ASCII path, in RE2 (no backtracking, several times faster here):
# a letter stretched to 3+ (what `repeat` finds), and a leet/mask symbol touching a
# letter (no letter touching a run: `_leet_edits` would skip it).
_ASCII_TRIPLE = re2.compile("|".join(c * 3 for c in "abcdefghijklmnopqrstuvwxyz"))
# (The leet check is stdlib `re` anchored on the rare symbol: faster than RE2 here.)
_ASCII_LEET_TOUCH = re.compile(r"[0-9@$|*#%!](?:(?<=[a-z].)|(?=[a-z]))")
# Any character three times in a row: a cheap test before the Unicode letter-run scan
# (its backreference at every letter costs several times more).
_ANY_TRIPLE = re.compile(r"(.)\1\1", re.DOTALL)
_SPACED_SEP = re.compile(r"[ \t\r\n.\-_*\u00b7]+")
_LEET_RUN = re.compile(r"[0-9@$|*#%!]+")


def _sep_kind(sep: str) -> tuple[str, int]:
    # Any run of whitespace is one kind: `s  h i t` is still one word.
    if sep.isspace():
        return " ", 0
    return "".join(sorted({" " if c.isspace() else c for c in sep})), 0


def _spaced_edits(text: str, p: _Patterns) -> list[_Edit]:
    """Remove the separators of runs of 3+ single letters that share one kind of separator.

    Requiring one kind keeps `a U.S. citizen` apart (a space, then dots).
    """
    edits: list[_Edit] = []
    for m in p.spaced.finditer(text):
        base = m.start()
        seps = [(base + sm.start(), base + sm.end()) for sm in _SPACED_SEP.finditer(m.group())]
        i = 0
        while i < len(seps):
            kind = _sep_kind(text[seps[i][0] : seps[i][1]])
            j = i + 1
            while j < len(seps) and _sep_kind(text[seps[j][0] : seps[j][1]]) == kind:
                j += 1
            # seps[i:j] join the singles from the one before seps[i] to the one after seps[j-1].
            run = text[seps[i][0] - 1 : seps[j - 1][1] + 1]
            if j - i >= 2 and sum(c.isalpha() for c in run) >= 2:
                edits.extend((a, b, "") for a, b in seps[i:j])
                # The last single ends this word: the separator after it stays.
                j += 1
            i = j
    return edits


def _leet_token(tok: str, p: _Patterns) -> str | None:
    """The token with leet read as letters and masks as MASK, or None to keep it."""
    if tok.isalpha() or not any(c.isalpha() for c in tok):
        return None  # plain words, and numbers, prices, percentages, `#1`, `***`
    if p.unit.fullmatch(tok):
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


def _is_tokch(c: str) -> bool:
    return c.isalnum() or c in _TOKEN_SYMBOLS


def _leet_edits(text: str, p: _Patterns) -> list[_Edit]:
    """Read leet and masks inside words; driven by the (few) runs of symbols and digits."""
    edits: list[_Edit] = []
    n = len(text)
    pos = 0
    for run in _LEET_RUN.finditer(text):
        s, e = run.span()
        if s < pos:
            continue
        before = text[s - 1] if s else " "
        after = text[e] if e < n else " "
        if not (before.isalpha() or after.isalpha()):
            continue  # `2017`, `$50`, `100%`, `wow!`: no letter touches the run
        if before.isalpha() and not _is_tokch(after) and run.group().strip("!") == "":
            continue  # sentence punctuation after a word
        while s > 0 and (
            _is_tokch(text[s - 1]) or (text[s - 1] == "!" and s > 1 and _is_tokch(text[s - 2]))
        ):
            s -= 1
        m = p.token.match(text, s)
        if m is None:
            continue
        new = _leet_token(m.group(), p)
        if new is not None and new != m.group():
            edits.append((m.start(), m.end(), new))
        pos = m.end()
    return edits


def _weak_mask_edits(text: str, p: _Patterns) -> list[_Edit]:
    """`f-ck`, `sh_t`, `b-tch`: a single letter on one side and at most four letters in
    all; `is-it`, `co-op` and `e-mail` stay words."""
    edits: list[_Edit] = []
    for m in p.weak_mask.finditer(text):
        left, right = len(m.group(1)), len(m.group(3))
        if min(left, right) == 1 and left + right <= 4:
            edits.append((m.start(2), m.end(2), MASK * (m.end(2) - m.start(2))))
    return edits


def _repeat_edits(text: str, p: _Patterns) -> list[_Edit]:
    return [(m.start(), m.end(), m.group(1)) for m in p.repeat.finditer(text)]


def _build_skeleton(raw: str, normalized: View) -> View:
    view = _fold_step(raw, normalized)
    # Each step checks cheaply whether it has anything to do before it scans for edits.
    text = view.text
    p = _ASCII if text.isascii() else _UNICODE
    if p.spaced_hint.search(text):
        view = _apply_edits(text, view, _spaced_edits(text, p))
        text = view.text
    fast = p is _ASCII
    if (_ASCII_LEET_TOUCH if fast else _LEET_RUN).search(text):
        view = _apply_edits(text, view, _leet_edits(text, p))
        text = view.text
    if "-" in text or "_" in text:
        view = _apply_edits(text, view, _weak_mask_edits(text, p))
        text = view.text
    if _ASCII_TRIPLE.search(text) if fast else (_ANY_TRIPLE.search(text) and p.repeat.search(text)):
        view = _apply_edits(text, view, _repeat_edits(text, p))
    return view


# --- words and sentences ---------------------------------------------------------------

_WORD = regex.compile(r"[\w\p{M}]+(?:['’\-][\w\p{M}]+)*")
# The same on ASCII text (no marks, no curly apostrophe; `\w` is [A-Za-z0-9_] in both
# packages there): the stdlib engine scans it several times faster.
_ASCII_WORD = re.compile(r"\w+(?:['\-]\w+)*", re.ASCII)
_SENTENCE_END = regex.compile(r"[.!?…。！？]+['\"’”)\]»]*(?=\s|$)|\n+|\r\n?")
# Abbreviations after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "jr",
        "sr",
        "prof",
        "gen",
        "sen",
        "rep",
        "gov",
        "col",
        "lt",
        "sgt",
        "capt",
        "vs",
        "etc",
        "inc",
        "ltd",
        "co",
        "corp",
        "approx",
        "dept",
        "fig",
        "vol",
        "eds",
        "al",
        "e.g",
        "i.e",
        "a.m",
        "p.m",
        "u.s",
        "u.k",
        "u.n",
        "u.s.a",
        "e.u",
    ]
)
_LAST_TOKEN = regex.compile(r"[\w.]+$")
_INITIALISM = regex.compile(r"(?:\w\.)+\w")


def is_word_char(c: str) -> bool:
    """Letters and digits; masks, apostrophes and punctuation separate words."""
    return c.isalnum()


# ASCII bytes -> word characters kept, `'` and `-` as `-`, everything else a space.
_WORD_BYTES = bytes(
    c if chr(c).isalnum() or c == 95 else 45 if chr(c) in "'-" else 32 for c in range(128)
) + bytes([32] * 128)


_JOINER = re.compile(rb"-(?<=[^ -]-)(?=[^ -])")  # in translated bytes: `'` and `-` are `-`


def _word_count(raw: str) -> int:
    """len(_words(raw)) without finding the spans: a fast path for ASCII text."""
    if not raw.isascii():
        return len(_WORD.findall(raw))  # no span tuples to build
    data = raw.encode("ascii").translate(_WORD_BYTES)
    if b"-" not in data:
        return len(data.split())
    # Runs of word characters, less one for each single joiner between two runs (which
    # makes them one word): counted in C, not token by token.
    return len(data.replace(b"-", b" ").split()) - len(_JOINER.findall(data))


def count_words(text: str) -> int:
    """How many words `TextViews(text).words` would hold, without finding their spans."""
    return _word_count(text)


def _words(raw: str) -> list[tuple[int, int]]:
    word = _ASCII_WORD if raw.isascii() else _WORD
    return [m.span() for m in word.finditer(raw)]


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
        if (
            punct.startswith(".")
            and not punct.startswith("..")
            and _is_abbreviation(raw, m.start() + 1)
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


_T = TypeVar("_T")


class _cached(Generic[_T]):
    """`functools.cached_property` without the lock Python 3.11 takes on every first use
    (a few per comment); the value lands in the instance dict, which then answers alone."""

    __slots__ = ("fn", "name")

    def __init__(self, fn: Callable[[Any], _T]) -> None:
        self.fn = fn
        self.name = fn.__name__

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> _cached[_T]: ...
    @overload
    def __get__(self, obj: TextViews, owner: type | None = None) -> _T: ...
    def __get__(self, obj: TextViews | None, owner: type | None = None) -> _T | _cached[_T]:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fn(obj)
        return value


class TextViews:
    """The views of one comment, built lazily and cached."""

    def __init__(self, raw: str) -> None:
        self.raw = raw

    @_cached
    def raw_view(self) -> View:
        return View(self.raw, len(self.raw))

    @_cached
    def normalized(self) -> View:
        return _build_normalized(self.raw)

    @_cached
    def skeleton(self) -> View:
        return _build_skeleton(self.raw, self.normalized)

    @_cached
    def words(self) -> list[tuple[int, int]]:
        return _words(self.raw)

    @_cached
    def word_count(self) -> int:
        """len(words), computed without the spans when they are not there yet."""
        if "words" in self.__dict__:
            return len(self.words)
        return _word_count(self.raw)

    @_cached
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
