"""`pattern`: a regular expression on a text view.

All patterns of a ruleset go into one Hyperscan database per view (compiled in
prefilter mode, which accepts a superset of each regex), so a comment is scanned
once for all of them; only the patterns the scan reports are confirmed with the
`regex` package, which also gives the exact spans and enforces a timeout.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import hyperscan
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

log = logging.getLogger(__name__)

View = Literal["raw", "normalized", "skeleton"]
MAX_SPANS = 100

_HS_FLAGS = (
    hyperscan.HS_FLAG_UTF8
    | hyperscan.HS_FLAG_UCP
    | hyperscan.HS_FLAG_PREFILTER
    | hyperscan.HS_FLAG_SINGLEMATCH
    | hyperscan.HS_FLAG_ALLOWEMPTY
)


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


class PatternBank:
    """The Hyperscan prefilter shared by every `pattern` predicate of one ruleset."""

    def __init__(self) -> None:
        self._sources: dict[View, list[tuple[bytes, int]]] = {}
        self._databases: dict[View, hyperscan.Database] | None = None
        # Patterns Hyperscan cannot take even in prefilter mode: always confirmed.
        self.unfiltered: set[tuple[View, int]] = set()

    def add(self, view: View, pattern: str, ignore_case: bool) -> int:
        entries = self._sources.setdefault(view, [])
        flags = _HS_FLAGS | (hyperscan.HS_FLAG_CASELESS if ignore_case else 0)
        entries.append((pattern.encode("utf-8", "surrogatepass"), flags))
        self._databases = None
        return len(entries) - 1

    def _compile(self) -> dict[View, hyperscan.Database]:
        databases: dict[View, hyperscan.Database] = {}
        for view, entries in self._sources.items():
            accepted: list[tuple[bytes, int, int]] = []
            for pattern_id, (expression, flags) in enumerate(entries):
                if _hyperscan_accepts(expression, flags):
                    accepted.append((expression, pattern_id, flags))
                else:
                    self.unfiltered.add((view, pattern_id))
            if accepted:
                db = hyperscan.Database()
                db.compile(
                    expressions=[a[0] for a in accepted],
                    ids=[a[1] for a in accepted],
                    elements=len(accepted),
                    flags=[a[2] for a in accepted],
                )
                databases[view] = db
        return databases

    def finalize(self) -> None:
        """Compile the databases now (the loader calls this once every rule is compiled)."""
        if self._databases is None:
            self._databases = self._compile()

    def hits(self, doc: Document, view: View) -> set[int]:
        """Ids of this view's patterns that may match the comment (scanned once per view)."""
        self.finalize()
        return doc.signal(f"pattern-bank:{view}", lambda d: self._scan(d, view))

    def _scan(self, doc: Document, view: View) -> set[int]:
        found: set[int] = set()
        db = self._databases.get(view) if self._databases else None
        if db is None:
            return found
        text, _ = view_text(doc, view)

        def on_match(pattern_id: int, _from: int, _to: int, _flags: int, _ctx: Any) -> None:
            found.add(pattern_id)

        db.scan(text.encode("utf-8", "replace"), match_event_handler=on_match)
        return found


# Syntax of the `regex` package that Hyperscan would read differently (e.g. `\m` as a
# literal m, fuzzy `{e<=1}` as literal text). Such patterns skip the prefilter: a
# prefilter must never miss what the confirming regex would find.
_NOT_PORTABLE = regex.compile(
    r"\\[mMLXGKZ]|\(\?[VrfbeLw]|\(\?\||\(\?\(|\(\?&|\(\?R\)|\(\?\d|\{[^}]*[<>=][^}]*\}|\[\[|--|&&|\|\|"
)


def _hyperscan_accepts(expression: bytes, flags: int) -> bool:
    if _NOT_PORTABLE.search(expression.decode("utf-8", "replace")):
        return False
    try:
        hyperscan.Database().compile(expressions=[expression], ids=[0], elements=1, flags=[flags])
    except hyperscan.error:
        return False
    return True


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

    def evaluate(self, doc: Document) -> Hit | None:
        if (self.view, self.bank_id) not in self.bank.unfiltered:
            if self.bank_id not in self.bank.hits(doc, self.view):
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
            log.warning("pattern %r timed out on comment %s", self.config.regex, doc.comment.id)
            return None
        if len(spans) < self.min_count:
            return None
        return Hit(spans=spans)
