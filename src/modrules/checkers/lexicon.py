"""`lexicon`: whole words and phrases from a word list, on a text view.

Each list is compiled once per (list, view, inflections) into one Aho-Corasick
automaton holding every entry's forms (inflections, and on the skeleton view the
spellings de-obfuscation can produce), so a comment costs one pass per list per view.
A hit must sit on word boundaries: `Scunthorpe`, `assassin` and `cocktail` hold
`cunt`, `ass` and `cock` only inside a longer word, so they never match.

Masked tokens (`f*ck`, `f**king`, `c**t`) are matched separately: a token with masks
matches a list form of the same length whose visible characters agree, if at least two
characters are visible and the form is longer than three letters (so `a**` and `f***`
do not match anything).

Entry syntax (one a line, `#` starts a comment):
  word          the word and its inflections (s, es, ed, ing, in, er, ers, y, ies...)
  =word         exactly this word
  prefix*       any word that starts with it
  *suffix       any word that ends with it
  *infix*       any word that contains it
  two words     a phrase: the words separated by any run of spaces or punctuation
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import ahocorasick
from pydantic import Field, model_validator

from modrules.checkers.base import (
    CompileContext,
    Document,
    Hit,
    Predicate,
    PredicateConfig,
    PredicateError,
    Span,
    register,
)
from modrules.checkers.pattern import PatternBank
from modrules.text import MASK, fold_key, normalize_key

ViewName = Literal["raw", "normalized", "skeleton"]
MAX_SPANS = 100

# Match kinds: which word boundaries an automaton key must sit on.
WORD, PREFIX, SUFFIX, INFIX, PHRASE = "word", "prefix", "suffix", "infix", "phrase"
_MIN_MASKED_LEN = 4  # masked tokens never match forms of 3 letters or fewer (`a**`)
_VOWELS = frozenset("aeiou")
_MASKED_TOKEN = re.compile(r"(?<![^\W_])(?:[^\W_]|\*)*\*(?:[^\W_]|\*)*")


class LexiconConfig(PredicateConfig):
    list: str | None = None
    words: tuple[str, ...] | None = None
    view: ViewName = "skeleton"
    min_count: int = Field(default=1, ge=1)
    inflections: bool = True

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `lexicon: lists/x.txt` names a list; `lexicon: [a, b]` gives inline words.
        if isinstance(value, str):
            return {"list": value}
        if isinstance(value, list | tuple):
            return {"words": list(value)}
        return value

    @model_validator(mode="after")
    def _one_source(self) -> LexiconConfig:
        if (self.list is None) == (self.words is None):
            raise ValueError("lexicon needs exactly one of `list` (a file) or `words` (inline)")
        return self


@dataclass(frozen=True, slots=True)
class Entry:
    """One parsed list line."""

    source: str  # the entry as written, reported as the hit's detail
    words: tuple[str, ...]  # the entry's words, case-folded; several for a phrase
    kind: str  # WORD, PREFIX, SUFFIX, INFIX or PHRASE
    exact: bool  # `=word`: no inflections


def parse_entries(lines: Iterable[str], origin: str = "words") -> list[Entry]:
    """Parse list lines; raises PredicateError naming the line of a malformed entry."""
    entries: list[Entry] = []
    for lineno, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        exact = text.startswith("=")
        body = text[1:].strip() if exact else text
        starts, ends = body.startswith("*"), body.endswith("*")
        core = body.strip("*").strip()
        # Words are split on spaces; a word keeps inner punctuation (`a-hole`) and is
        # matched literally, while the gaps of a phrase match any spaces or punctuation.
        words = tuple(core.casefold().split())
        if not words or "*" in core:
            raise PredicateError(f"{origin}:{lineno}: cannot read list entry {line.strip()!r}")
        if len(words) > 1:
            if starts or ends:
                raise PredicateError(f"{origin}:{lineno}: a phrase cannot use `*` ({text!r})")
            kind = PHRASE
        elif starts and ends:
            kind = INFIX
        elif starts:
            kind = SUFFIX
        elif ends:
            kind = PREFIX
        else:
            kind = WORD
        entries.append(Entry(text, words, kind, exact))
    return entries


def _cvc(w: str) -> bool:
    """Ends consonant-vowel-consonant, so the last letter doubles (shit -> shitty)."""
    return (
        len(w) >= 3
        and w[-1].isalpha()
        and w[-1] not in _VOWELS
        and w[-1] not in "wxy"
        and w[-2] in _VOWELS
        and w[-3].isalpha()
        and w[-3] not in _VOWELS
    )


def inflect(word: str) -> set[str]:
    """The word and the inflected forms people write (suffixes, doubled consonants).

    Words of three letters or fewer only take plurals and `-y`/`-ies` (tits, titty,
    titties): their other derivatives are too often ordinary words (cumin, titter).
    """
    forms = {word}
    double = word + word[-1] if _cvc(word) else None
    if len(word) <= 3:
        forms |= {word + "s", word + "es"}
        if double:
            forms |= {double + "y", double + "ies"}
        return forms
    forms |= {word + s for s in ("s", "es", "ed", "ing", "in", "er", "ers", "y", "ier", "iest")}
    if word.endswith("e"):
        stem = word[:-1]
        forms |= {word + "d", word + "r", word + "rs", stem + "ing", stem + "in", stem + "y"}
    if word.endswith("y"):
        stem = word[:-1]
        forms |= {stem + "ies", stem + "ied", stem + "ier", stem + "iest"}
    if double:
        forms |= {double + s for s in ("ed", "ing", "in", "er", "ers", "y", "ier", "iest", "ies")}
    return forms


def _squeeze(form: str) -> str:
    out: list[str] = []
    for c in form:
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


def skeleton_variants(form: str) -> set[str]:
    """Spellings the skeleton view can give a form: runs of 3+ letters are squeezed to
    one (`fuuuck` -> `fuck`, but `asssshole` -> `ashole`), and `1`/`|`/`I` read as `i`
    where `l` was meant (`bu11shit` -> `buiishit`)."""
    variants = {form}
    squeezed = _squeeze(form)
    if squeezed != form and len(squeezed) >= 5:  # `ass` -> `as`, `boobs` -> `bobs` stay out
        variants.add(squeezed)
    return variants | {v.replace("l", "i") for v in variants if "l" in v}


@dataclass(frozen=True, slots=True)
class _Key:
    """What an automaton key stands for."""

    entry: int
    kind: str
    length: int
    tail: re.Pattern[str] | None = None  # the rest of a phrase after its first word
    rest: tuple[str, ...] = ()  # a phrase's words after the first (the tail's words)


@dataclass
class CompiledLexicon:
    """One list compiled for one view."""

    entries: list[Entry]
    automaton: Any  # ahocorasick.Automaton (untyped)
    # Masked-token candidates: (length, visible index, char) -> [(form, entry)], and
    # the prefix/suffix stems for masked `f**kwit`-style words.
    masked_forms: dict[tuple[int, int, str], list[tuple[str, int]]] = field(default_factory=dict)
    masked_prefixes: list[tuple[str, int]] = field(default_factory=list)
    masked_suffixes: list[tuple[str, int]] = field(default_factory=list)
    masked_infixes: list[tuple[str, int]] = field(default_factory=list)


def compile_lexicon(entries: list[Entry], view: ViewName, inflections: bool) -> CompiledLexicon:
    if not entries:
        raise PredicateError("the word list has no entries")
    key_of = _key_function(view)
    keys: dict[str, list[_Key]] = {}
    masked_forms: dict[tuple[int, int, str], list[tuple[str, int]]] = {}
    prefixes: list[tuple[str, int]] = []
    suffixes: list[tuple[str, int]] = []
    infixes: list[tuple[str, int]] = []

    def add(key: str, value: _Key) -> None:
        if key:
            keys.setdefault(key, []).append(value)

    for idx, entry in enumerate(entries):
        words = [key_of(w) for w in entry.words]
        if entry.kind == PHRASE:
            tail = "".join(r"[\W_]+" + re.escape(w) for w in words[1:]) + r"(?![^\W_])"
            add(words[0], _Key(idx, PHRASE, len(words[0]), re.compile(tail), tuple(words[1:])))
            continue
        word = words[0]
        if entry.kind == WORD:
            forms = inflect(word) if inflections and not entry.exact else {word}
            for form in sorted(forms):
                if len(form) >= _MIN_MASKED_LEN:
                    for i, c in enumerate(form):
                        masked_forms.setdefault((len(form), i, c), []).append((form, idx))
                for variant in skeleton_variants(form) if view == "skeleton" else {form}:
                    add(variant, _Key(idx, WORD, len(variant)))
            continue
        for variant in skeleton_variants(word) if view == "skeleton" else {word}:
            add(variant, _Key(idx, entry.kind, len(variant)))
        if len(word) >= _MIN_MASKED_LEN:
            if entry.kind == PREFIX:
                prefixes.append((word, idx))
            elif entry.kind == SUFFIX:
                suffixes.append((word, idx))
            else:
                infixes.append((word, idx))

    automaton = ahocorasick.Automaton()
    for key, values in keys.items():
        automaton.add_word(key, tuple(values))
    automaton.make_automaton()
    return CompiledLexicon(entries, automaton, masked_forms, prefixes, suffixes, infixes)


def lexicon_re2(lex: CompiledLexicon) -> str:
    """An RE2 pattern found in every view text the list matches: a key on the word
    boundaries its kinds need, or a mask when masked tokens can match."""
    # ASCII letters and digits are always word characters; anything else may be a boundary.
    before, after = "(?:^|[^a-zA-Z0-9])", "(?:$|[^a-zA-Z0-9])"
    gap = "[^a-zA-Z0-9]+"  # what a phrase's `[\\W_]+` between words can match, and more
    groups: dict[tuple[bool, bool], list[str]] = {}
    for key, values in lex.automaton.items():
        spelled = "".join(_re2_char(c) for c in key)
        if all(v.kind == PHRASE for v in values):
            # The whole phrase, not only its first word (`what` of `what the hell`).
            for v in values:
                whole = spelled + "".join(gap + "".join(map(_re2_char, w)) for w in v.rest)
                groups.setdefault((True, False), []).append(whole)
            continue
        left = all(v.kind in (WORD, PREFIX, PHRASE) for v in values)
        right = all(v.kind in (WORD, SUFFIX) for v in values)
        groups.setdefault((left, right), []).append(spelled)
    alternatives = []
    for (left, right), keys in sorted(groups.items()):
        keys.sort(key=lambda k: (-len(k), k))
        words = "|".join(keys)
        alternatives.append((before if left else "") + f"(?:{words})" + (after if right else ""))
    if lex.masked_forms or lex.masked_prefixes or lex.masked_suffixes or lex.masked_infixes:
        alternatives.append(_re2_char(MASK))
    return "(?s:" + "|".join(alternatives) + ")"


def _re2_char(c: str) -> str:
    return c if c.isascii() and c.isalnum() else f"\\x{{{ord(c):X}}}"


def _key_function(view: ViewName) -> Any:
    if view == "skeleton":
        return fold_key
    if view == "normalized":
        return normalize_key
    return str.lower


def _is_word(c: str) -> bool:
    return c.isalnum()


_WORD_RUN = re.compile(r"[^\W_]+")


class _Words:
    """The word runs of a text, found once on first use: extending a prefix, suffix or
    infix hit to its whole word must not rescan a long word for every hit in it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts: list[int] | None = None
        self._ends: list[int] = []

    def _build(self) -> list[int]:
        starts: list[int] = []
        for m in _WORD_RUN.finditer(self.text):
            starts.append(m.start())
            self._ends.append(m.end())
        self._starts = starts
        return starts

    def around(self, start: int, end: int) -> tuple[int, int]:
        """[start, end) widened to the whole word(s) at its two ends."""
        starts = self._starts if self._starts is not None else self._build()
        k = bisect_right(starts, start) - 1
        if k >= 0 and start < self._ends[k]:
            start = starts[k]
        k = bisect_right(starts, end - 1) - 1
        if k >= 0 and end - 1 < self._ends[k]:
            end = max(end, self._ends[k])
        return start, end


def find_matches(lex: CompiledLexicon, text: str) -> list[tuple[int, int, int]]:
    """(start, end, entry) of every whole-word match in a view text, non-overlapping,
    in text order; masked tokens included."""
    n = len(text)
    found: list[tuple[int, int, int]] = []
    words = _Words(text)
    for last, values in lex.automaton.iter(text):
        end = last + 1
        for key in values:
            start = end - key.length
            left_ok = start == 0 or not _is_word(text[start - 1])
            right_ok = end == n or not _is_word(text[end])
            kind = key.kind
            if kind == WORD:
                if left_ok and right_ok:
                    found.append((start, end, key.entry))
            elif kind == PREFIX:
                if left_ok:
                    found.append((start, words.around(start, end)[1], key.entry))
            elif kind == SUFFIX:
                if right_ok:
                    found.append((words.around(start, end)[0], end, key.entry))
            elif kind == INFIX:
                found.append((*words.around(start, end), key.entry))
            elif left_ok and key.tail is not None:
                m = key.tail.match(text, end)
                if m is not None:
                    found.append((start, m.end(), key.entry))
    if MASK in text:
        found.extend(_masked_matches(lex, text))
    return _non_overlapping(found)


def _agrees(token: str, form: str) -> bool:
    return all(t == MASK or t == f for t, f in zip(token, form, strict=True))


def _visible(token: str) -> int:
    return sum(c != MASK for c in token)


_MAX_MASKED_TOKENS = 10_000  # hostile text: beyond this many masked tokens, stop looking


def _masked_matches(lex: CompiledLexicon, text: str) -> list[tuple[int, int, int]]:
    out: list[tuple[int, int, int]] = []
    memo: dict[str, int | None] = {}  # repeated tokens are looked up once
    for count, m in enumerate(_MASKED_TOKEN.finditer(text)):
        if count >= _MAX_MASKED_TOKENS:
            break
        token, start, end = m.group(), m.start(), m.end()
        if token[0] == MASK and token[-1] == MASK:
            # `*word*` is emphasis, not masking: only inner masks count.
            inner = token.strip(MASK)
            start += token.index(inner[0]) if inner else 0
            end = start + len(inner)
            token = inner
        if token in memo:
            entry = memo[token]
        else:
            entry = memo[token] = (
                _masked_entry(lex, token)
                if MASK in token and _visible(token) >= 2 and any(c.isalpha() for c in token)
                else None
            )
        if entry is not None:
            out.append((start, end, entry))
    return out


def _masked_entry(lex: CompiledLexicon, token: str) -> int | None:
    """The entry a masked token spells, if any."""
    first = next(i for i, c in enumerate(token) if c != MASK)
    for form, entry in lex.masked_forms.get((len(token), first, token[first]), ()):
        if _agrees(token, form):
            return entry
    for stem, entry in lex.masked_prefixes:
        if _masked_window(token, 0, stem):
            return entry
    for stem, entry in lex.masked_suffixes:
        if _masked_window(token, len(token) - len(stem), stem):
            return entry
    for stem, entry in lex.masked_infixes:
        if any(_masked_window(token, i, stem) for i in range(len(token) - len(stem) + 1)):
            return entry
    return None


def _masked_window(token: str, at: int, stem: str) -> bool:
    """True when token[at:at+len(stem)] is the stem with some letters masked."""
    if at < 0:
        return False
    end = at + len(stem)
    window = token[at:end]
    if len(window) != len(stem) or MASK not in window or _visible(window) < 2:
        return False
    # A run of masks reaching outside the window is not this stem's (`hunts***it`).
    if (at > 0 and token[at - 1] == MASK) or (end < len(token) and token[end] == MASK):
        return False
    return _agrees(window, stem)


def _non_overlapping(found: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Leftmost-longest matches that do not overlap."""
    found.sort(key=lambda f: (f[0], -f[1]))
    kept: list[tuple[int, int, int]] = []
    last_end = -1
    for start, end, entry in found:
        if start >= last_end:
            kept.append((start, end, entry))
            last_end = end
    return kept


def _lower_raw(doc: Document) -> str:
    """The raw text lower-cased one character to one, so offsets are raw offsets."""
    raw = doc.text
    low = raw.lower()
    if len(low) == len(raw):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in raw)


def load_entries(path: Path) -> list[Entry]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PredicateError(f"cannot read word list {path}: {exc}") from exc
    return parse_entries(text.splitlines(), origin=str(path))


@register
class Lexicon(Predicate):
    """Holds when words or phrases of a list occur (whole words, on a view)."""

    name = "lexicon"
    Config = LexiconConfig

    def __init__(self, config: LexiconConfig, ctx: CompileContext) -> None:
        super().__init__(config, ctx)
        self.config: LexiconConfig = config
        view, infl = config.view, config.inflections
        if config.list is not None:
            path = ctx.resolve(config.list).resolve()
            entries = ctx.shared(("lexicon-entries", str(path)), lambda: load_entries(path))
            key: tuple[Any, ...] = ("lexicon", str(path), view, infl)
        else:
            words = config.words or ()
            entries = parse_entries(words)
            key = ("lexicon-words", words, view, infl)
        self.lexicon: CompiledLexicon = ctx.shared(
            key, lambda: compile_lexicon(entries, view, infl)
        )
        # Rules naming the same list on the same view share one pass per comment.
        self._signal = f"lexicon:{key!r}"
        # The prefilter: a comment none of whose keys (or masks) occur cannot match, so
        # the list pass is skipped (the raw view's lower-casing is not a view it scans).
        self.bank: PatternBank = ctx.shared("pattern-bank", PatternBank)
        self.bank_id: int | None = None
        if view != "raw":
            lexicon = self.lexicon
            self.bank_id = ctx.shared(
                ("lexicon-prefilter", key), lambda: self.bank.add_re2(view, lexicon_re2(lexicon))
            )

    def triggers(self) -> frozenset[tuple[str, int]] | None:
        return None if self.bank_id is None else frozenset({(self.config.view, self.bank_id)})

    def _matches(self, doc: Document) -> list[tuple[int, int, int]]:
        """Raw (start, end, entry index) of every match of the list on the view."""
        view = self.config.view
        if self.bank_id is not None and self.bank_id not in self.bank.hits(doc, view):
            return []
        if view == "raw":
            text = doc.signal("lexicon.raw-lower", _lower_raw)
            return [(s, e, i) for s, e, i in find_matches(self.lexicon, text)]
        v = doc.views.normalized if view == "normalized" else doc.views.skeleton
        return [(*v.raw_span(s, e), i) for s, e, i in find_matches(self.lexicon, v.text)]

    def evaluate(self, doc: Document) -> Hit | None:
        spans = doc.signal(self._signal, self._matches)
        if len(spans) < self.config.min_count:
            return None
        # Raw spans of different view matches may coincide (merged characters).
        seen: dict[tuple[int, int], None] = {}
        for s, e, _ in spans:
            seen.setdefault((s, e), None)
        if len(seen) < self.config.min_count:
            return None
        detail = self.lexicon.entries[spans[0][2]].source
        return Hit(
            spans=[Span(s, e) for s, e in list(seen)[:MAX_SPANS]],
            detail=detail,
        )
