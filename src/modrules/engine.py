"""The Moderator: a compiled ruleset applied to comments, one verdict each."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np
import regex

from modrules.checkers.base import BatchPreparer, Document, Hit
from modrules.checkers.pattern import PatternBank
from modrules.fingerprint import BANDS, NUM_PERM, Fingerprint, fingerprints
from modrules.ledger import Ledger
from modrules.model import (
    AccountAction,
    Action,
    Comment,
    Evidence,
    SkippedRule,
    Thread,
    Verdict,
    Violation,
)
from modrules.policy import redact, resolve_action
from modrules.retro import Retro
from modrules.rules import Rule, Ruleset, load_ruleset
from modrules.store.base import Store
from modrules.text import TextViews
from modrules.window import FINGERPRINT

_PLACEHOLDER = regex.compile(r"\{(match|matches|count|detail|site)\}")
MAX_EVIDENCE = 50
_PREJUDGED = "engine:prejudged"  # the Document signal holding a comment's `Prejudged`


@dataclass(frozen=True, slots=True)
class Prejudged:
    """What the stateless rules found on one comment, judged elsewhere (another process
    or a Dask task): their violations and the rules a pattern timed out in, each in
    ruleset order. `Moderator.moderate_prejudged` adds the stateful rules, the recent-
    comment window and the ledger, in input order, so the verdict is the one a single
    `moderate_many` over the whole stream gives."""

    violations: tuple[Violation, ...] = ()
    timed_out: tuple[SkippedRule, ...] = ()
    # The comment's window fingerprint, computed with the stateless rules (`prejudge(...,
    # fingerprint=True)`) so the stateful pass need not; `text_crc` (see `text_crc`) ties
    # it to its text: one that does not match is ignored and computed again.
    fingerprint: Fingerprint | None = field(default=None, compare=False)  # holds an array
    text_crc: int = field(default=0, compare=False)


def text_crc(text: str) -> int:
    """The checksum a shipped fingerprint must carry for `text`."""
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


def _shipped(comment: Comment, prejudged: Prejudged) -> Fingerprint | None:
    """`prejudged`'s fingerprint if it is well formed and of this comment's text."""
    fp = prejudged.fingerprint
    if fp is None or prejudged.text_crc != text_crc(comment.text):
        return None
    signature = fp.signature
    if not isinstance(signature, np.ndarray) or signature.shape != (NUM_PERM,) or signature.dtype != np.uint32:
        return None
    if not 0.0 <= fp.incoherence <= 1.0 or len(fp.bands) != (BANDS if fp.informative else 0):
        return None
    return fp


CommentLike = Comment | Mapping[str, Any]
ThreadLike = Thread | Mapping[str, Any] | None


class Moderator:
    """Judges comments against a ruleset.

    >>> moderator = Moderator.from_path()          # the bundled default ruleset
    >>> moderator.moderate({"id": "c1", "text": "Great article!"}).action.value
    'publish'
    """

    def __init__(
        self, ruleset: Ruleset, batch_size: int = 64, store: Store | None = None
    ) -> None:
        self.ruleset = ruleset
        # With a store, verdicts count against their authors (strikes, warn, block).
        self.store = store
        self.ledger = Ledger.for_ruleset(store, ruleset) if store is not None else None
        self.precedence = list(ruleset.policy.precedence)
        self._runnable = [(r, _gate(r)) for r in ruleset.rules if r.unavailable is None]
        self._bank: PatternBank | None = ruleset.context.cache.get("pattern-bank")
        # The gates with the ids of every view in one set (ids are unique across views).
        self._plan = [(r, _flat(g)) for r, g in self._runnable]
        # The hot loop's form: the rules each prefilter id opens, and the rules no gate
        # closes; a comment runs those, in ruleset order (no check per closed rule).
        self._always = frozenset(i for i, (_, g) in enumerate(self._plan) if g is None)
        self._opens: dict[int, list[int]] = {}
        for i, (_, g) in enumerate(self._plan):
            for check in g or ():
                self._opens.setdefault(check, []).append(i)
        self._prefilter = self._bank is not None
        self._unavailable = [r for r in ruleset.rules if r.unavailable is not None]
        # What unavailable rules add to every verdict, built once (the models are not mutated).
        self._skipped = [
            SkippedRule(rule=r.id, reason=r.unavailable or "unavailable") for r in self._unavailable
        ]
        self._hold_unavailable = any(r.on_unavailable == "hold" for r in self._unavailable)
        self._redact_style = {r.id: r.spec.redact for r in ruleset.rules}
        self.batch_size = batch_size
        # Shared batch workers (e.g. one embedding model) of the runnable predicates, once each.
        self._preparers = _preparers_of(rule for rule, _ in self._runnable)
        # Rules that look back over the recent-comment window (flash mob, flooding): the
        # only ones `moderate_prejudged` evaluates, with the preparers they need.
        self._stateful = frozenset(
            i for i, (rule, _) in enumerate(self._plan) if _is_stateful(rule)
        )
        self._stateful_plan = [self._plan[i] for i in sorted(self._stateful)]
        self._order = {rule.id: i for i, (rule, _) in enumerate(self._plan)}
        self._stateful_preparers = _preparers_of(r for i, (r, _) in enumerate(self._plan) if i in self._stateful)
        self._stateless_preparers = _preparers_of(
            r for i, (r, _) in enumerate(self._plan) if i not in self._stateful
        )
        # Stateful rules (flash mob, flooding): the recent-comment window and the
        # re-judging of earlier comments a later one completes a mob or flood with.
        self._retro = Retro.for_moderator(self, store)

    @classmethod
    def from_path(
        cls, path: str | Path | None = None, batch_size: int = 64, store: Store | None = None
    ) -> Moderator:
        """Load a ruleset directory (None: the bundled default ruleset)."""
        return cls(load_ruleset(path), batch_size=batch_size, store=store)

    @property
    def rules(self) -> list[Rule]:
        return list(self.ruleset.rules)

    def moderate(
        self,
        comment: CommentLike,
        thread: ThreadLike = None,
        parent: CommentLike | None = None,
    ) -> Verdict:
        """The verdict for one comment (with its thread and parent comment, if known)."""
        doc = self.document(comment, thread, parent)
        for preparer in self._preparers:
            preparer.prepare([doc])
        verdict = self.enforce(doc.comment, self._judge(doc))
        return verdict if self._retro is None else self._retro.judged(doc, verdict)

    def enforce(self, comment: Comment, verdict: Verdict) -> Verdict:
        """The verdict with its author's account applied (no store: unchanged). A blocked
        author's comment is deleted with the block as `account_action` (its violations
        still listed); otherwise `account_action` is what this comment's strikes caused.
        Safe to call again for a revised verdict: a strike counts once per comment and rule."""
        if self.ledger is None or comment.author_id is None:
            return verdict
        return self.ledger.apply(comment, verdict)

    @property
    def on_revision(self) -> Callable[[Verdict], None] | None:
        """Called with each revised verdict of an earlier comment (online use: a later
        comment completed the flash mob or flood it belongs to)."""
        return self._retro.on_revision if self._retro is not None else None

    @on_revision.setter
    def on_revision(self, callback: Callable[[Verdict], None] | None) -> None:
        if self._retro is not None:
            self._retro.on_revision = callback

    def revisions(self) -> Iterator[Verdict]:
        """Revised verdicts of earlier comments from `moderate` calls, oldest first, each
        once (a bounded queue; `moderate_many` output is final and revises nothing)."""
        queue = self._retro.revisions if self._retro is not None else None
        while queue:
            yield queue.popleft()

    def flush(self) -> None:
        """Write the recent-comment window's pending entries to the store."""
        if self._retro is not None:
            self._retro.flush()

    def close(self) -> None:
        """Flush the window and close the store (its connections and files)."""
        self.flush()
        if self.store is not None:
            self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set_prefilter(self, enabled: bool) -> None:
        """Switch the prefilter and the rule gates on or off (off: every rule and
        predicate is evaluated in full; verdicts must not change, only the speed).
        The prefilter belongs to the ruleset: this affects every Moderator sharing it."""
        self._prefilter = enabled and self._bank is not None
        if self._bank is not None:
            self._bank.disabled = not enabled

    def _possible(self, doc: Document) -> frozenset[int] | set[int]:
        """Ids of every prefilter check that can hold on this comment, in all views."""
        bank = self._bank
        if bank is None or not self._prefilter:
            return frozenset()
        return bank.possible(doc)

    def _judge(self, doc: Document) -> Verdict:
        prejudged: Prejudged | None = doc._signals.get(_PREJUDGED)
        if prejudged is None:
            violations, timed_out = self._evaluate(doc, None)
        else:
            # The stateless rules were judged elsewhere: add the stateful ones, and keep
            # ruleset order as one pass over every rule would have.
            violations, timed_out = self._evaluate(doc, self._stateful)
            if prejudged.violations:
                violations = sorted((*prejudged.violations, *violations), key=self._rule_order)
            if prejudged.timed_out:
                timed_out = sorted((*prejudged.timed_out, *timed_out), key=self._rule_order)
        verdict = self._verdict(doc, violations)
        verdict.skipped.extend(timed_out)
        return verdict

    def _rule_order(self, item: Violation | SkippedRule) -> int:
        return self._order.get(item.rule, len(self._order))

    def _evaluate(
        self, doc: Document, only: frozenset[int] | None
    ) -> tuple[list[Violation], list[SkippedRule]]:
        """The violations of the rules (all, or those indexed by `only`) on `doc`, in
        ruleset order, and the rules a pattern timed out in."""
        violations: list[Violation] = []
        timed_out: list[SkippedRule] = []
        plan = self._plan
        if only is self._stateful:
            # These few run whatever the prefilter would say (a closed gate only means the
            # rule cannot fire): scanning every view for them alone costs more than it saves.
            plan = self._stateful_plan
        elif self._prefilter:
            # Rules whose gate the prefilter closed cannot fire: they are not run at all.
            chosen = set(self._always)
            opens = self._opens
            for check in self._possible(doc):
                chosen.update(opens.get(check, ()))
            if only is not None:
                chosen &= only
            plan = [plan[i] for i in sorted(chosen)]
        elif only is not None:
            plan = [plan[i] for i in sorted(only)]
        for rule, _ in plan:
            timeouts = doc.timeouts
            violation = self._violation(rule, doc)
            if violation is not None:
                violations.append(violation)
            if doc.timeouts > timeouts:
                timed_out.append(SkippedRule(rule=rule.id, reason="a pattern hit its time limit on this comment"))
        return violations, timed_out

    def prejudge(
        self, comments: Iterable[tuple[Comment, Thread | None]], fingerprint: bool = False
    ) -> Iterator[Prejudged]:
        """The stateless rules' findings for each comment, in order: the part of judging
        that parallel workers (`--workers`, Dask tasks) do. No window, no ledger; a
        comment judged with `moderate_prejudged` in input order gets the same verdict as
        from `moderate_many`. Batched like `moderate_many` (ML models see whole batches).
        `fingerprint`: also the window fingerprint of each comment the window will
        remember (stateful rules, an author and a time), which `moderate_prejudged` uses."""
        stateless = frozenset(range(len(self._plan))) - self._stateful
        fingerprint = fingerprint and self._retro is not None
        docs = (Document(comment, TextViews(comment.text), thread) for comment, thread in comments)
        for batch in _batches(docs, self.batch_size):
            yield from self._prejudge_batch(batch, stateless, fingerprint)

    def _prejudge_batch(
        self, docs: list[Document], stateless: frozenset[int], fingerprint: bool
    ) -> Iterator[Prejudged]:
        for preparer in self._stateless_preparers:
            preparer.prepare(docs)
        shipped: dict[int, Fingerprint] = {}
        if fingerprint:
            remembered = [
                i for i, d in enumerate(docs) if d.comment.author_id is not None and d.comment.created_at is not None
            ]
            shipped = dict(zip(remembered, fingerprints([docs[i].text for i in remembered]), strict=True))
        for i, doc in enumerate(docs):
            violations, timed_out = self._evaluate(doc, stateless)
            fp = shipped.get(i)
            if fp is not None:
                yield Prejudged(tuple(violations), tuple(timed_out), fp, text_crc(doc.text))
            else:
                yield Prejudged(tuple(violations), tuple(timed_out)) if violations or timed_out else _NOTHING

    def moderate_prejudged(
        self, items: Iterable[tuple[Comment, Thread | None, Prejudged]]
    ) -> Iterator[Verdict]:
        """Final verdicts, in order, for comments whose stateless part `prejudge` gave
        (in any process with the same ruleset): only the stateful rules run here, with
        the window, retroactive revisions and the ledger exactly as in `moderate_many`."""

        def documents() -> Iterator[Document]:
            for comment, thread, prejudged in items:
                doc = self.document(comment, thread)
                doc.set_signal(_PREJUDGED, prejudged)
                if prejudged.fingerprint is not None and (fp := _shipped(comment, prejudged)) is not None:
                    doc.set_signal(FINGERPRINT, fp)
                yield doc

        verdicts = self._judge_documents(documents(), self._stateful_preparers)
        if self._retro is None:
            yield from verdicts
        else:
            yield from self._retro.batch(verdicts)

    def _gate_open(self, doc: Document, gate: dict[str, frozenset[int]]) -> bool:
        assert self._bank is not None  # a gate exists only where patterns were banked
        for view, ids in gate.items():
            if not ids.isdisjoint(self._bank.hits(doc, view)):  # type: ignore[arg-type]
                return True
        return False

    def moderate_many(
        self,
        items: Iterable[CommentLike | tuple[CommentLike, ThreadLike]],
        threads: Mapping[str, Thread] | None = None,
    ) -> Iterator[Verdict]:
        """Verdicts for many comments, in order.

        Items are comments, or (comment, thread) pairs; without a pair, the thread is
        looked up by `thread_id` in `threads`. With stateful rules, each verdict is
        final: it is held back until its flash-mob/flood window has closed in stream
        time, so a later comment can still revise it.
        """
        verdicts = self._moderate_many(items, threads)
        if self._retro is None:
            yield from verdicts
        else:
            yield from self._retro.batch(verdicts)

    def _moderate_many(
        self,
        items: Iterable[CommentLike | tuple[CommentLike, ThreadLike]],
        threads: Mapping[str, Thread] | None,
    ) -> Iterator[Verdict]:
        def documents() -> Iterator[Document]:
            for item in items:
                if isinstance(item, tuple):
                    comment, thread = item
                else:
                    comment, thread = item, None
                comment = _as_comment(comment)
                if thread is None and threads is not None and comment.thread_id is not None:
                    thread = threads.get(comment.thread_id)
                yield self.document(comment, thread)

        return self._judge_documents(documents(), self._preparers)

    def _judge_documents(
        self, docs: Iterable[Document], preparers: list[BatchPreparer]
    ) -> Iterator[Verdict]:
        for batch in _batches(docs, self.batch_size):
            yield from self._judge_batch(batch, preparers)

    def _judge_batch(self, docs: list[Document], preparers: list[BatchPreparer]) -> Iterator[Verdict]:
        # Batch work (model inference) for the whole batch at once, then rule by rule.
        for preparer in preparers:
            preparer.prepare(docs)
        for doc in docs:
            verdict = self.enforce(doc.comment, self._judge(doc))
            yield verdict if self._retro is None else self._retro.judged(doc, verdict)

    def document(
        self, comment: CommentLike, thread: ThreadLike = None, parent: CommentLike | None = None
    ) -> Document:
        comment = _as_comment(comment)
        doc = Document(
            comment,
            TextViews(comment.text),
            _as_thread(thread),
            _as_comment(parent) if parent is not None else None,
        )
        if self._retro is not None:
            doc.state = self._retro.window
        return doc

    def evaluate_rule(self, rule: Rule, doc: Document) -> Violation | None:
        """One rule on one document, whatever its mode (used by rule example tests)."""
        return self._violation(rule, doc)

    def _violation(self, rule: Rule, doc: Document) -> Violation | None:
        hit = rule.condition.evaluate(doc)
        if hit is None:
            return None
        evidence = _evidence(doc.text, hit)
        spec = rule.spec
        return Violation.model_construct(
            rule=spec.id,
            category=spec.category,
            clause=spec.clause,
            action=spec.action,
            message=self._message(spec.message, evidence, hit),
            score=round(float(hit.score), 4),
            shadow=rule.shadow,
            evidence=evidence,
        )

    def _message(self, template: str, evidence: list[Evidence], hit: Hit) -> str:
        if "{" not in template:
            return template
        values = {
            "match": evidence[0].text if evidence else "",
            "matches": ", ".join(dict.fromkeys(e.text for e in evidence)),
            "count": str(len(evidence)),
            "detail": hit.detail or "",
            "site": self.ruleset.policy.site.name,
        }
        return str(_PLACEHOLDER.sub(lambda m: values[m.group(1)], template))

    def _verdict(self, doc: Document, violations: list[Violation]) -> Verdict:
        action = resolve_action(violations, self.precedence)
        skipped = list(self._skipped)
        if self._hold_unavailable and action.rank < Action.HOLD.rank:
            action = Action.HOLD
        edited: str | None = None
        if action is Action.EDIT:
            pieces = [
                (e, self._redact_style[v.rule])
                for v in violations
                if v.action is Action.EDIT and not v.shadow
                for e in v.evidence
            ]
            edited = redact(doc.text, pieces)
        return Verdict.model_construct(
            comment_id=doc.comment.id,
            action=action,
            account_action=AccountAction.NONE,
            violations=violations,
            edited_text=edited,
            skipped=skipped,
        )


def _flat(gate: dict[str, frozenset[int]] | None) -> frozenset[int] | None:
    return None if gate is None else frozenset().union(*gate.values())


def _gate(rule: Rule) -> dict[str, frozenset[int]] | None:
    """The prefilter ids, by view, one of which must be found for the rule to fire."""
    triggers = rule.condition.triggers()
    if triggers is None:
        return None
    gate: dict[str, set[int]] = {}
    for view, pattern_id in triggers:
        gate.setdefault(view, set()).add(pattern_id)
    return {view: frozenset(ids) for view, ids in gate.items()}


def _evidence(text: str, hit: Hit) -> list[Evidence]:
    """Sorted, de-duplicated evidence spans, clipped to the text."""
    seen: set[tuple[int, int]] = set()
    out: list[Evidence] = []
    for span in sorted(hit.spans, key=lambda s: (s.start, s.end)):
        start, end = max(0, span.start), min(len(text), span.end)
        if (start, end) in seen or start > end:
            continue
        seen.add((start, end))
        out.append(Evidence.model_construct(start=start, end=end, text=text[start:end]))
        if len(out) >= MAX_EVIDENCE:
            break
    return out


def _as_comment(value: CommentLike) -> Comment:
    return value if isinstance(value, Comment) else Comment.model_validate(value)


def _as_thread(value: ThreadLike) -> Thread | None:
    if value is None or isinstance(value, Thread):
        return value
    return Thread.model_validate(value)


_NOTHING = Prejudged()


def _batches(docs: Iterable[Document], size: int) -> Iterator[list[Document]]:
    """Consecutive lists of `size` documents (the last one shorter), none empty."""
    batch: list[Document] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _is_stateful(rule: Rule) -> bool:
    """Whether a rule looks back over the recent-comment window (see `Retro`)."""
    return any(p.lookback() is not None for p in rule.condition.predicates())


def _preparers_of(rules: Iterable[Rule]) -> list[BatchPreparer]:
    """The shared batch workers (e.g. one embedding model) of these rules, once each."""
    preparers: dict[int, BatchPreparer] = {}
    for rule in rules:
        for predicate in rule.condition.predicates():
            preparer = predicate.batch_preparer()
            if preparer is not None:
                preparers.setdefault(id(preparer), preparer)
    return list(preparers.values())
