"""A `regex` pattern rewritten for RE2 so that it matches at least wherever the original does.

The prefilter (`pattern.PatternBank`) puts every rule pattern into one RE2 `Set` per text
view: one linear pass over a comment says which patterns can match at all, and only those
are run with the `regex` package (exact spans, timeouts, lookarounds). RE2 lacks some of
that syntax and reads `\\w`, `\\d`, `\\s` and `\\b` as ASCII, so the rewrite only ever widens:

- lookarounds and end anchors are dropped; `^` (as a line anchor) and `\\A` are kept;
  a `\\b` before (after) an ASCII word character becomes "the start (end) of the text or
  a character other than [a-zA-Z0-9_]", other word boundaries are dropped;
- `\\d` becomes any number, `\\s` any Unicode space; lazy, possessive and atomic forms
  become plain greedy ones;
- at the first broad part (`.`, `\\w`, `\\W`, `\\S`, a negated class, a backreference)
  the pattern is cut: what is kept is a prefix every match starts with.

A widened pattern can only say "maybe" more often, never "no" where the original
matches, so confirming the "maybe"s with the original keeps results identical. Patterns
the rewrite cannot read (syntax only the `regex` package has, conditionals) give None
and are always run.
"""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple

import re2
import regex

sre_constants: Any = importlib.import_module("re._constants")
sre_parse: Any = importlib.import_module("re._parser")
_C = sre_constants

ANY = r"[\x{0}-\x{10FFFF}]"
# Every character the `regex` package may count as whitespace.
_SPACE = r"\s\x{0B}\x{1C}-\x{1F}\x{85}\p{Z}"
SPACE_SUPERSET = rf"[{_SPACE}]"
DIGIT_SUPERSET = r"\p{N}"
# Syntax of the `regex` package that Python's parser would read differently (fuzzy
# `{e<=1}`, POSIX `[[:alpha:]]`, V1 set operations, `\\m`, named lists): not rewritten.
_NOT_PORTABLE = regex.compile(
    r"\\[mMLXGK]|\(\?[VrfbeLw]|\{[^}]*[<>=][^}]*\}|\[\[|\[:|--|&&|\|\||~~"
    # The WORD flag anywhere in a flag group: line anchors then see Unicode line breaks.
    r"|\(\?[a-zA-Z]*w"
)
MAX_COUNT = 1000  # RE2's repeat limit; larger counts are widened to unbounded
_ZERO_WIDTH = (_C.AT, _C.ASSERT, _C.ASSERT_NOT)


class Unsupported(ValueError):
    """Syntax the rewrite does not handle."""


def to_re2(pattern: str, ignore_case: bool, min_count: int = 1) -> str | None:
    """An RE2 pattern matching wherever `pattern` finds at least `min_count`
    non-overlapping matches (and maybe elsewhere), or None."""
    if _NOT_PORTABLE.search(pattern):
        return None
    try:
        parsed = sre_parse.parse(_portable(pattern), 0)
        items = list(parsed)
        # A top-level alternation: each branch gets its own word-boundary treatment.
        if len(items) == 1 and items[0][0] is _C.BRANCH:
            branches = [list(b) for b in items[0][1][1]]
        else:
            branches = [items]
        # Consuming a character for a trailing boundary could take the one the next
        # match needs for its leading boundary: only the leading one when counting.
        body = "|".join(_bounded(b, trailing=min_count == 1) for b in branches)
    except Exception:  # noqa: BLE001 - whatever Python's parser or the rewrite rejects
        return None
    ignore_case = ignore_case or bool(parsed.state.flags & _C.SRE_FLAG_IGNORECASE)
    body = "(?:" + body + ")"
    if min_count > 1:
        # n non-overlapping matches occur one after another.
        body = f"(?:{body}{ANY}*){{{min(min_count, MAX_COUNT)}}}"
    return ("(?i)" if ignore_case else "") + "(?s:" + body + ")"


# Outside a word: ASCII letters, digits and `_` are word characters for the `regex`
# package whatever its Unicode tables say, so any other character may be a boundary.
NOT_WORD = r"(?:^|[^a-zA-Z0-9_])"
NOT_WORD_AFTER = r"(?:$|[^a-zA-Z0-9_])"


def _bounded(items: list[tuple[Any, Any]], trailing: bool) -> str:
    """The sequence's most selective narrow stretch (see `_best`), with a `\\b` before
    (after) a first (last) character that can only be an ASCII word character kept as
    "a non-word character or the start (end) of the text"."""
    consuming = [i for i, (op, _) in enumerate(items) if op not in _ZERO_WIDTH]
    if not consuming:
        raise Unsupported("nothing to match")
    seg = _best(items)
    if seg.weight == 0 and re2.search(seg.piece, "") is not None:
        raise Unsupported("no selective stretch")  # it would hold on every text
    first, last = consuming[0], consuming[-1]
    lead = (
        seg.start <= first
        and not seg.detached
        and any(_is_boundary(node) for node in items[:first])
        and _word_edge(items[first], 0)
    )
    tail = (
        trailing
        and seg.complete
        and seg.stop > last
        and any(_is_boundary(node) for node in items[last + 1 :])
        and _word_edge(items[last], -1)
    )
    return (NOT_WORD if lead else "") + seg.piece + (NOT_WORD_AFTER if tail else "")


def _is_boundary(node: tuple[Any, Any]) -> bool:
    return node[0] is _C.AT and node[1] is _C.AT_BOUNDARY


def _is_ascii_word(code: int) -> bool:
    c = chr(code)
    return c.isascii() and (c.isalnum() or c == "_")


def _word_edge(node: tuple[Any, Any], end: int) -> bool:
    """True when every match of the node starts (end=0) or ends (end=-1) with an ASCII
    word character."""
    op, av = node
    if op is _C.LITERAL:
        return _is_ascii_word(av)
    if op is _C.IN:
        for member, value in av:
            if member is _C.LITERAL:
                if not _is_ascii_word(value):
                    return False
            elif member is _C.RANGE:
                low, high = value
                if not all(_is_ascii_word(c) for c in range(low, high + 1)):
                    return False
            else:
                return False
        return bool(av)
    if op is _C.SUBPATTERN:
        return _sequence_edge(list(av[-1]), end)
    if op is _C.BRANCH:
        return all(_sequence_edge(list(b), end) for b in av[1])
    if op in (_C.MAX_REPEAT, _C.MIN_REPEAT, getattr(_C, "POSSESSIVE_REPEAT", None)):
        low, _high, body = av
        return int(low) >= 1 and _sequence_edge(list(body), end)
    return False


def _sequence_edge(items: list[tuple[Any, Any]], end: int) -> bool:
    consuming = [node for node in items if node[0] not in _ZERO_WIDTH]
    return bool(consuming) and _word_edge(consuming[end], end)


def _portable(pattern: str) -> str:
    """Unicode properties (which Python's parser rejects) replaced by `\\S`, which the
    rewrite reads as broad inside a class and outside one alike."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        if pattern.startswith(("\\p{", "\\P{"), i):
            close = pattern.find("}", i)
            if close < 0:
                raise Unsupported("unclosed property")
            out.append("\\S")
            i = close + 1
        elif pattern[i] == "\\":
            out.append(pattern[i : i + 2])
            i += 2
        else:
            out.append(pattern[i])
            i += 1
    return "".join(out)


def _char(code: int) -> str:
    c = chr(code)
    if c.isascii() and c.isalnum():
        return c
    return f"\\x{{{code:X}}}"


class Piece(NamedTuple):
    """RE2 text for a node or a stretch of a sequence.

    `complete`: it stands for the whole (else for a prefix of every match, or, when
    `detached`, for some part inside every match, so nothing may be joined before it).
    `weight`: literal characters every match has (how selective it is).
    """

    piece: str
    complete: bool
    weight: int
    detached: bool = False


class Segment(NamedTuple):
    start: int
    stop: int
    piece: str
    complete: bool
    weight: int
    detached: bool


BROAD = Piece("", False, 0)


def _segments(items: list[tuple[Any, Any]]) -> list[Segment]:
    """Stretches of whole narrow nodes, each ending at the narrow prefix of the node that
    cuts it. Every match of the sequence contains a match of each, so any one of them is
    a widening of the whole; cutting at broad parts (wildcards, `\\w`...) keeps RE2's
    DFA small (wildcards in many patterns of one Set multiply its states)."""
    out: list[Segment] = []
    start, weight = 0, 0
    pieces: list[str] = []
    for i, (op, av) in enumerate(items):
        node = _node(op, av)
        if node.detached:
            if pieces:
                out.append(Segment(start, i, "".join(pieces), False, weight, False))
            out.append(Segment(i, i + 1, node.piece, False, node.weight, True))
            start, pieces, weight = i + 1, [], 0
            continue
        pieces.append(node.piece)
        weight += node.weight
        if not node.complete:
            out.append(Segment(start, i + 1, "".join(pieces), False, weight, False))
            start, pieces, weight = i + 1, [], 0
    out.append(Segment(start, len(items), "".join(pieces), True, weight, False))
    return out


def _best(items: list[tuple[Any, Any]]) -> Segment:
    # The most selective; on a tie the earliest (a prefix keeps the leading boundary).
    segments = _segments(items)
    return max(segments, key=lambda seg: (seg.weight, -seg.start))


def _seq(items: list[tuple[Any, Any]]) -> Piece:
    """A sequence as one piece: whole if it is all narrow, else its best stretch."""
    seg = _best(items)
    if seg.complete and seg.start == 0:
        return Piece(seg.piece, True, seg.weight)
    return Piece(seg.piece, False, seg.weight, detached=seg.start > 0 or seg.detached)


def _node(op: Any, av: Any) -> Piece:
    if op is _C.LITERAL:
        return Piece(_char(av), True, 1)
    if op is _C.NOT_LITERAL or op is _C.ANY or op is _C.GROUPREF:
        return BROAD
    if op is _C.IN:
        members = _class(av)
        return Piece(members, True, 1) if members is not None else BROAD
    if op is _C.AT:
        # Start anchors are kept (a `(?:^|[.!?])` before a word then excludes the word
        # inside other words); word boundaries are handled by `_bounded`.
        return Piece(_ANCHORS.get(av, ""), True, 0)
    if op is _C.ASSERT or op is _C.ASSERT_NOT:
        return Piece("", True, 0)  # zero-width: dropping it only widens
    if op is _C.SUBPATTERN:
        _group, add_flags, del_flags, body = av
        inner = _seq(list(body))
        if del_flags & _C.SRE_FLAG_IGNORECASE:
            return inner._replace(piece="(?-i:" + inner.piece + ")")
        if add_flags & _C.SRE_FLAG_IGNORECASE:
            return inner._replace(piece="(?i:" + inner.piece + ")")
        return inner._replace(piece="(?:" + inner.piece + ")")
    if op is getattr(_C, "ATOMIC_GROUP", None):
        inner = _seq(list(av))
        return inner._replace(piece="(?:" + inner.piece + ")")
    if op is _C.BRANCH:
        branches = [_seq(list(b)) for b in av[1]]
        return Piece(
            "(?:" + "|".join(b.piece for b in branches) + ")",
            all(b.complete for b in branches),
            min(b.weight for b in branches),
            any(b.detached for b in branches),
        )
    if op in (_C.MAX_REPEAT, _C.MIN_REPEAT, getattr(_C, "POSSESSIVE_REPEAT", None)):
        low, high, body = av
        inner = _seq(list(body))
        if inner.complete:
            count = _count(int(low), high)
            return Piece("(?:" + inner.piece + ")" + count, True, min(int(low), 2) * inner.weight)
        # Only the first repetition's part, when there must be one.
        return inner._replace(piece="(?:" + inner.piece + ")") if int(low) >= 1 else BROAD
    if op is _C.CATEGORY:
        category = _category(av)
        return Piece(category, True, 1 if category == DIGIT_SUPERSET else 0) if category else BROAD
    raise Unsupported(str(op))


# Start anchors as RE2 reads them, at least as wide as in the `regex` package with or
# without MULTILINE (`^` as a line anchor, which also holds at the text's start). End
# anchors stay dropped: a pattern that cannot reach the end is what times out on hostile
# text, and the engine reports those timeouts.
_ANCHORS = {_C.AT_BEGINNING: "(?m:^)", _C.AT_BEGINNING_STRING: r"\A"}


def _count(low: int, high: Any) -> str:
    unbounded = high is _C.MAXREPEAT or int(high) > MAX_COUNT
    if low > MAX_COUNT:
        return "+"
    if unbounded:
        return f"{{{low},}}"
    return f"{{{low},{int(high)}}}"


def _category(av: Any) -> str | None:
    """A narrow category's widened form; None for broad ones (\\w, \\W, \\S, \\D...)."""
    if av is _C.CATEGORY_DIGIT:
        return DIGIT_SUPERSET
    if av is _C.CATEGORY_SPACE:
        return SPACE_SUPERSET
    return None


def _class(items: list[tuple[Any, Any]]) -> str | None:
    """A character class's widened form; None when it is broad."""
    members: list[str] = []
    extra: list[str] = []
    for op, av in items:
        if op is _C.NEGATE:
            return None  # a complement under different \\w, \\d, \\s rules
        if op is _C.LITERAL:
            members.append(_char(av))
        elif op is _C.RANGE:
            low, high = av
            members.append(f"{_char(low)}-{_char(high)}")
        elif op is _C.CATEGORY:
            category = _category(av)
            if category is None:
                return None
            extra.append(category)
        else:
            raise Unsupported(str(op))
    parts = ([f"[{''.join(members)}]"] if members else []) + extra
    return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"
