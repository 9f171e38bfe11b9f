"""`pattern`: a regular expression on a text view.

Every pattern of a ruleset is also rewritten into a widened RE2 form (`superset.py`)
and put in one RE2 `Set` per view: a comment is scanned once, in linear time, for all
of them, and only the patterns that can match are run with the `regex` package, which
gives the exact spans and enforces a timeout. Patterns RE2 cannot express are always run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any, Literal

import re2
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
from modrules.checkers.superset import to_re2

log = logging.getLogger(__name__)

View = Literal["raw", "normalized", "skeleton"]
MAX_SPANS = 100


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
    """One view's prefilter: an RE2 `Set` of every registered check's widened pattern.

    One linear pass over the view text says which checks can hold. Index 0 is an empty
    pattern that matches every text: an answer without it means RE2 gave up (its DFA
    ran out of memory on a hostile text), and then every check counts as possible.
    """

    def __init__(self) -> None:
        self.sources: list[str] = []
        self.ids: list[int] = []  # check id of each source (set index - 1)
        self.matcher: Any = None
        self._id_of: Any = None  # set index -> check id (-1 for index 0), in C

    def add(self, check_id: int, source: str) -> None:
        self.sources.append(source)
        self.ids.append(check_id)

    def __getstate__(self) -> dict[str, Any]:
        # An RE2 Set does not pickle (Dask and process pools ship rulesets): rebuilt on use.
        return {"sources": self.sources, "ids": self.ids, "matcher": None, "_id_of": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def build(self) -> None:
        matcher = re2.Set.SearchSet(_options())
        matcher.Add("")
        for source in self.sources:
            matcher.Add(source)
        matcher.Compile()
        self.matcher = matcher
        self._id_of = (-1, *self.ids).__getitem__

    def candidates(self, text: str) -> set[int]:
        """Ids of the checks that can hold on this text."""
        try:
            found = self.matcher.Match(text)
        except UnicodeEncodeError:  # a lone surrogate: RE2 reads only UTF-8
            found = None
        if not found or 0 not in found:
            return set(self.ids)
        out = set(map(self._id_of, found))
        out.discard(-1)
        return out


class PatternBank:
    """The prefilter shared by every `pattern` (and `lexicon`) predicate of one ruleset.

    Each check (a pattern, or a word list's keys) is registered with a widened RE2 form
    (`superset.to_re2`); a comment's view is scanned once for all of them and only the
    checks that can hold are evaluated for real. A check RE2 cannot express gets no id
    and is always evaluated.
    """

    def __init__(self) -> None:
        self._filters: dict[View, _ViewFilter] = defaultdict(_ViewFilter)
        self._next_id = 0
        self._built = False
        self._scans: list[tuple[View, str, _ViewFilter]] = []
        # When set (by tests comparing against plain evaluation), nothing is filtered.
        self.disabled = False

    def add(self, view: View, pattern: str, ignore_case: bool = True) -> int | None:
        """Register a pattern; its id, or None if it must always run."""
        return self.add_re2(view, to_re2(pattern, ignore_case))

    def add_re2(self, view: View, source: str | None) -> int | None:
        """Register a check that can hold only where the RE2 pattern `source` matches
        the view text; its id (None for no source: always evaluated)."""
        if source is None:
            return None
        try:
            re2.compile(source, options=_options())
        except Exception:  # noqa: BLE001 - RE2 rejects it (size limits): always evaluated
            return None
        check_id = self._next_id
        self._next_id += 1
        self._filters[view].add(check_id, source)
        self._built = False
        return check_id

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._built = False  # the matchers were not pickled

    def finalize(self) -> None:
        """Build the matchers (the loader calls this once every rule is compiled)."""
        if not self._built:
            for view_filter in self._filters.values():
                view_filter.build()
            self._scans = [(view, _SIGNALS[view], f) for view, f in self._filters.items()]
            self._built = True

    def possible(self, doc: Document) -> set[int]:
        """Ids of the checks, in every view, that can hold on this comment: one scan per
        view, shared with `hits` (the engine's hot path: one call, no per-view layers)."""
        signals = doc._signals
        found: set[int] | None = signals.get(_ALL_VIEWS)
        if found is not None:
            return found
        if not self._built:
            self.finalize()
        found = set()
        views = doc.views
        for view, key, view_filter in self._scans:
            hit = signals.get(key)
            if hit is None:
                if self.disabled:
                    hit = set(view_filter.ids)
                elif view == "raw":
                    hit = view_filter.candidates(views.raw)
                else:
                    hit = view_filter.candidates(
                        (views.normalized if view == "normalized" else views.skeleton).text
                    )
            found |= hit
        # Ids are unique across views, so every view's answer can be the union: a check
        # looks only for its own id.
        for _, key, _ in self._scans:
            signals[key] = found
        signals[_ALL_VIEWS] = found
        return found

    def views(self) -> list[View]:
        """The views some check is registered on."""
        return list(self._filters)

    def hits(self, doc: Document, view: View) -> set[int]:
        """Ids of this view's checks that can hold (computed once per view; after
        `possible`, the answer of every view: ids are unique, so that is the same test)."""
        signals = doc._signals  # the hot path: a direct look-up, not `doc.signal`
        try:
            found: set[int] = signals[_SIGNALS[view]]
        except KeyError:
            found = signals[_SIGNALS[view]] = self._scan(doc, view)
        return found

    def _scan(self, doc: Document, view: View) -> set[int]:
        self.finalize()
        view_filter = self._filters[view]
        if self.disabled:
            return set(view_filter.ids)
        text, _ = view_text(doc, view)
        return view_filter.candidates(text)


_SIGNALS: dict[str, str] = {v: f"pattern-prefilter:{v}" for v in ("raw", "normalized", "skeleton")}
_ALL_VIEWS = "pattern-prefilter:*"
RE2_MAX_MEM = 256 << 20  # RE2's budget for one view's Set (its DFA cache), in bytes


def _options() -> Any:
    options = re2.Options()
    options.max_mem = RE2_MAX_MEM
    return options


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
        self.bank_id = self.bank.add(self.view, source, config.ignore_case)

    def triggers(self) -> frozenset[tuple[str, int]] | None:
        return None if self.bank_id is None else frozenset({(self.view, self.bank_id)})

    def evaluate(self, doc: Document) -> Hit | None:
        if self.bank_id is not None and self.bank_id not in self.bank.hits(doc, self.view):
            return None
        return self.confirm(doc)

    def holds(self, doc: Document) -> bool:
        """Whether the pattern matches (min_count times), stopping as soon as it is known."""
        if self.bank_id is not None and self.bank_id not in self.bank.hits(doc, self.view):
            return False
        if self.min_count != 1:
            return self.confirm(doc) is not None
        text, _ = view_text(doc, self.view)
        try:
            return self.compiled.search(text, timeout=self.timeout) is not None
        except TimeoutError:
            log.debug("pattern %r timed out on comment %s", self.config.regex, doc.comment.id)
            doc.timeouts += 1
            return False

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
