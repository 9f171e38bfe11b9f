"""Required literals of a regex: strings one of which every match must contain.

The engine's prefilter no longer uses this (it puts a widened copy of every pattern
in an RE2 Set instead, see `superset.py`, which also knows word boundaries and
sequences); it remains a small analysis tool. It works on the parse tree of Python's
own regex parser; a pattern it cannot parse (syntax only the `regex` package has) or
that has no usable literal gives None.

Literals are case-folded and compared with the case-folded text, which keeps the
prefilter a superset of case-insensitive matching too.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import regex

# Python's own regex parser (private modules, stable in practice; 3.11+ names).
sre_constants: Any = importlib.import_module("re._constants")
sre_parse: Any = importlib.import_module("re._parser")

# Syntax of the `regex` package that Python's parser would read differently (fuzzy
# `{e<=1}` or POSIX `[[:alpha:]]` as literal text, V1 set operations). Such patterns are
# never prefiltered: a prefilter must not miss what the confirming regex would find.
_NOT_PORTABLE = regex.compile(r"\\[mMLXGKZ]|\(\?[VrfbeLw]|\{[^}]*[<>=][^}]*\}|\[\[|\[:|--|&&|\|\||~~")

MAX_SET = 64  # beyond this many alternatives a set says too little to be worth it
MAX_CLASS = 8  # a character class of at most this many characters is a set of literals
MAX_LITERAL = 24

_C = sre_constants


@dataclass(frozen=True)
class Info:
    """What is known of a sub-pattern: `exact` = it matches exactly one of these strings;
    `required` = each of its matches contains one of these strings. None = unknown."""

    exact: frozenset[str] | None = None
    required: frozenset[str] | None = None

    def requirement(self) -> frozenset[str] | None:
        candidates = [s for s in (self.exact, self.required) if s is not None and "" not in s]
        return max(candidates, key=_quality) if candidates else None


ANYTHING = Info()
EMPTY = Info(exact=frozenset({""}))


def _quality(literals: frozenset[str]) -> tuple[int, int]:
    # Longer shortest literal first (more selective), then fewer literals.
    return (min(len(s) for s in literals), -len(literals))


def analysable(pattern: str) -> str:
    """A pattern Python's parser can read, matching at least what `pattern` matches.

    Unicode properties (`\\p{L}`) become `\\w` and lookbehinds are dropped: both only
    widen what is matched, which is safe for finding required literals.
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        if pattern.startswith(("\\p{", "\\P{"), i):
            close = pattern.find("}", i)
            if close < 0:
                break
            out.append("\\w")
            i = close + 1
        elif pattern[i] == "\\":
            out.append(pattern[i : i + 2])
            i += 2
        elif pattern.startswith(("(?<=", "(?<!"), i):
            i = _skip_group(pattern, i)
        else:
            out.append(pattern[i])
            i += 1
    return "".join(out)


def _skip_group(pattern: str, start: int) -> int:
    """The index just past the group opening at `start` (escapes and classes respected)."""
    depth, i, in_class = 0, start, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern.startswith(("[]", "[^]"), i):
                i += 2 if pattern[i + 1] == "]" else 3
                continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(pattern)


def required_literals(pattern: str) -> frozenset[str] | None:
    """Case-folded strings one of which every match of `pattern` contains, or None."""
    if _NOT_PORTABLE.search(pattern):
        return None
    try:
        parsed = sre_parse.parse(analysable(pattern), 0)
    except Exception:  # noqa: BLE001 - any syntax Python's parser rejects: no prefilter
        return None
    requirement = _sequence(list(parsed)).requirement()
    if requirement is None:
        return None
    folded = frozenset(s.casefold() for s in requirement)
    if any(not s.strip() for s in folded):
        return None  # a whitespace-only literal filters nothing
    return folded


def _sequence(items: list[tuple[Any, Any]]) -> Info:
    """A concatenation: extend exact prefixes while they stay small; keep the best requirement."""
    current: frozenset[str] | None = frozenset({""})
    all_exact = True
    best: frozenset[str] | None = None

    def consider(candidate: frozenset[str] | None) -> None:
        nonlocal best
        if candidate is None or "" in candidate:
            return
        if best is None or _quality(candidate) > _quality(best):
            best = candidate

    for op, av in items:
        info = _node(op, av)
        if info.exact is not None and current is not None:
            product = frozenset(a + b for a in current for b in info.exact)
            if len(product) <= MAX_SET and max(map(len, product)) <= MAX_LITERAL:
                current = product
                continue
            consider(current)
            current = info.exact
            all_exact = False
            continue
        all_exact = all_exact and info.exact is not None
        consider(current)
        consider(info.requirement())
        current = info.exact if info.exact is not None else frozenset({""})
    consider(current)
    if all_exact and current is not None:
        return Info(exact=current, required=best)
    return Info(required=best)


def _node(op: Any, av: Any) -> Info:
    if op is _C.LITERAL:
        return Info(exact=frozenset({chr(av)}))
    if op is _C.IN:
        chars = _class_chars(av)
        return Info(exact=chars) if chars is not None else ANYTHING
    if op is _C.SUBPATTERN:
        return _sequence(list(av[-1]))
    if op is getattr(_C, "ATOMIC_GROUP", None):
        return _sequence(list(av))
    if op is _C.BRANCH:
        return _branch([_sequence(list(branch)) for branch in av[1]])
    if op in (_C.MAX_REPEAT, _C.MIN_REPEAT, getattr(_C, "POSSESSIVE_REPEAT", None)):
        low, high, body = av
        return _repeat(int(low), high, _sequence(list(body)))
    if op in (_C.AT, _C.ASSERT, _C.ASSERT_NOT):
        return EMPTY  # zero-width: contributes no characters
    return ANYTHING  # ANY, NOT_LITERAL, CATEGORY, GROUPREF...


def _branch(infos: list[Info]) -> Info:
    if all(i.exact is not None for i in infos):
        union = frozenset().union(*(i.exact for i in infos if i.exact is not None))
        if len(union) <= MAX_SET:
            return Info(exact=union)
    requirements = [i.requirement() for i in infos]
    if any(r is None for r in requirements):
        return ANYTHING
    union = frozenset().union(*(r for r in requirements if r is not None))
    return Info(required=union) if len(union) <= MAX_SET else ANYTHING


def _repeat(low: int, high: Any, body: Info) -> Info:
    if low == 0:
        if high == 1 and body.exact is not None and len(body.exact) < MAX_SET:
            return Info(exact=body.exact | {""})  # optional: present or not
        return ANYTHING
    if low == 1 and high == 1:
        return body
    return Info(required=body.requirement())


def _class_chars(items: list[tuple[Any, Any]]) -> frozenset[str] | None:
    chars: set[str] = set()
    for op, av in items:
        if op is _C.LITERAL:
            chars.add(chr(av))
        elif op is _C.RANGE:
            low, high = av
            if high - low >= MAX_CLASS:
                return None
            chars.update(chr(c) for c in range(low, high + 1))
        else:
            return None  # NEGATE, CATEGORY (\w, \d...)
        if len(chars) > MAX_CLASS:
            return None
    return frozenset(chars)
