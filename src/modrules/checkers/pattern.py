"""`pattern`: a regular expression on a text view.

Every pattern of a ruleset contributes its required literals (strings one of which
each match must contain, see `literals.py`) to one prefilter per view: a comment is
scanned once, with Aho-Corasick, for all of them, and only the patterns whose literals
occur are confirmed with the `regex` package, which gives the exact spans and enforces
a timeout. Patterns without usable literals are always confirmed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any, Literal

import ahocorasick
import regex
from pydantic import model_validator

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
from modrules.checkers.literals import required_literals

log = logging.getLogger(__name__)

View = Literal["raw", "normalized", "skeleton"]
MAX_SPANS = 100
SHORT_LITERAL = 2  # literals this short are tested with `in`, not fed to the automaton


class PatternConfig(PredicateConfig):
    regex: str
    view: View = "normalized"
    ignore_case: bool = True
    min_count: int = 1

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"regex": value} if isinstance(value, str) else value


def view_text(doc: Document, view: View) -> tuple[str, Any]:
    """The text of a view and the object that maps its spans back to raw."""
    if view == "raw":
        return doc.text, None
    v = doc.views.normalized if view == "normalized" else doc.views.skeleton
    return v.text, v


class _ViewFilter:
    """The literals of one view's patterns, and which patterns each one admits."""

    def __init__(self) -> None:
        self.by_literal: dict[str, set[int]] = defaultdict(set)
        self.short: list[tuple[str, frozenset[int]]] = []
        self.automaton: Any = None

    def build(self) -> None:
        self.short = [(lit, frozenset(ids)) for lit, ids in self.by_literal.items() if len(lit) <= SHORT_LITERAL]
        long_literals = {lit: ids for lit, ids in self.by_literal.items() if len(lit) > SHORT_LITERAL}
        self.automaton = None
        if long_literals:
            automaton = ahocorasick.Automaton()
            for literal, ids in long_literals.items():
                automaton.add_word(literal, frozenset(ids))
            automaton.make_automaton()
            self.automaton = automaton

    def candidates(self, folded: str) -> set[int]:
        found: set[int] = set()
        for literal, ids in self.short:
            if literal in folded:
                found |= ids
        if self.automaton is not None:
            for _end, ids in self.automaton.iter(folded):
                found |= ids
        return found


class PatternBank:
    """The literal prefilter shared by every `pattern` predicate of one ruleset."""

    def __init__(self) -> None:
        self._filters: dict[View, _ViewFilter] = defaultdict(_ViewFilter)
        self._next_id = 0
        self._built = False

    def add(self, view: View, pattern: str) -> int | None:
        """Register a pattern; its id, or None if it has no literals and must always run."""
        literals = required_literals(pattern)
        if literals is None:
            return None
        pattern_id = self._next_id
        self._next_id += 1
        view_filter = self._filters[view]
        for literal in literals:
            view_filter.by_literal[literal].add(pattern_id)
        self._built = False
        return pattern_id

    def finalize(self) -> None:
        """Build the automata (the loader calls this once every rule is compiled)."""
        if not self._built:
            for view_filter in self._filters.values():
                view_filter.build()
            self._built = True

    def hits(self, doc: Document, view: View) -> set[int]:
        """Ids of this view's patterns whose literals occur (computed once per view)."""
        self.finalize()
        return doc.signal(f"pattern-literals:{view}", lambda d: self._scan(d, view))

    def _scan(self, doc: Document, view: View) -> set[int]:
        text, _ = view_text(doc, view)
        return self._filters[view].candidates(text.casefold())


def expand_site(pattern: str, ctx: CompileContext) -> str:
    if "{site}" not in pattern:
        return pattern
    names = [n for n in (ctx.site_name, *ctx.site_aliases) if n]
    if not names:
        raise PredicateError("the regex uses {site} but policy.yaml names no site")
    # Longest first so "Sputnik News" wins over "Sputnik".
    alternation = "|".join(regex.escape(n) for n in sorted(names, key=len, reverse=True))
    return pattern.replace("{site}", f"(?:{alternation})")


@register
class Pattern(Predicate):
    name = "pattern"
    Config = PatternConfig

    def __init__(self, config: Any, ctx: CompileContext) -> None:
        super().__init__(config, ctx)
        source = expand_site(config.regex, ctx)
        flags = regex.IGNORECASE if config.ignore_case else 0
        try:
            self.compiled = regex.compile(source, flags | regex.UNICODE)
        except regex.error as exc:
            raise PredicateError(f"invalid regex {config.regex!r}: {exc}") from exc
        self.view: View = config.view
        self.min_count: int = config.min_count
        self.timeout = ctx.regex_timeout
        self.bank: PatternBank = ctx.shared("pattern-bank", PatternBank)
        self.bank_id = self.bank.add(self.view, source)

    def triggers(self) -> frozenset[tuple[str, int]] | None:
        return None if self.bank_id is None else frozenset({(self.view, self.bank_id)})

    def evaluate(self, doc: Document) -> Hit | None:
        if self.bank_id is not None and self.bank_id not in self.bank.hits(doc, self.view):
            return None
        return self.confirm(doc)

    def confirm(self, doc: Document) -> Hit | None:
        """The regex itself, without the prefilter."""
        text, mapper = view_text(doc, self.view)
        spans: list[Span] = []
        try:
            for match in self.compiled.finditer(text, timeout=self.timeout):
                start, end = match.span()
                if mapper is not None:
                    start, end = mapper.raw_span(start, end)
                spans.append(Span(start, end))
                if len(spans) >= MAX_SPANS:
                    break
        except TimeoutError:
            log.debug("pattern %r timed out on comment %s", self.config.regex, doc.comment.id)
            doc.timeouts += 1
            return None
        if len(spans) < self.min_count:
            return None
        return Hit(spans=spans)
