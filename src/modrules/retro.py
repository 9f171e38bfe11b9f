"""Retroactive verdicts: the first members of a flash mob or a flood look innocent when
posted, so a later comment that completes one re-judges them.

`Retro` sits between the Moderator's per-comment judgement and its output:

- every judged comment with an author and a `created_at` enters the recent-comment
  window, and stays re-judgeable (its Document and verdict kept) while the window lasts;
- the stateful rules that fire name the earlier comments they found this one belongs
  with; those are re-judged on the stateful rules only, and a changed verdict is a
  *revision* (enforced through `Moderator.enforce` when the engine has one);
- in batch (`Moderator.moderate_many`) verdicts wait in an input-ordered buffer until
  their window has closed in stream time (or the buffer is full), so the output is each
  comment's final verdict and memory is bounded by the window, not the stream;
- online (`Moderator.moderate`), revisions are delivered to the `on_revision` callback
  and queued for `Moderator.revisions()`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modrules.checkers.base import Document
from modrules.model import Verdict, Violation
from modrules.text import TextViews
from modrules.window import ENTRY, RELATED, Entry, RecentWindow, related

if TYPE_CHECKING:
    from modrules.engine import Moderator
    from modrules.store.base import Store

MAX_BUFFER = 100_000  # verdicts held back in batch before the oldest is emitted anyway
MAX_REVISIONS = 10_000  # online revisions queued and not yet collected


@dataclass(slots=True, eq=False)
class Held:
    """A judged comment that may still be revised."""

    doc: Document
    verdict: Verdict
    at: float | None  # created_at in epoch seconds; None: not judged statefully
    stale: bool = False  # flagged, and a later comment joined its mob or flood since


class Retro:
    def __init__(self, moderator: Moderator, store: Store | None, horizon: float) -> None:
        self.moderator = moderator
        # Remember twice the horizon: a verdict leaving the batch buffer (its window just
        # closed) is refreshed once more against everything within its window.
        self.window = RecentWindow(store, 2 * horizon)
        self.horizon = horizon
        self.stateful_rules = [
            rule
            for rule, _ in moderator._runnable
            if any(p.lookback() is not None for p in rule.condition.predicates())
        ]
        self._rule_ids = {rule.id for rule in self.stateful_rules}
        self._rank = {rule.id: i for i, rule in enumerate(moderator.ruleset.rules)}
        self._held: dict[str, Held] = {}  # re-judgeable comments, by id, oldest first
        # Ids in `_held` whose verdict a stateful rule flags: a growing mob names hundreds
        # of them for every new member, and a set intersection finds them at C speed.
        self._flagged: set[str] = set()
        # Those of `_flagged` not yet marked stale: a mob's members are named again by
        # every new member, and only the ones not yet marked need an attribute set.
        self._calm: set[str] = set()
        self._order: deque[Held] = deque()  # the same, for pruning by time
        self._batch: deque[Held] | None = None  # the output buffer while in batch
        self.revisions: deque[Verdict] = deque(maxlen=MAX_REVISIONS)
        self.on_revision: Callable[[Verdict], None] | None = None

    @classmethod
    def for_moderator(cls, moderator: Moderator, store: Store | None) -> Retro | None:
        """A Retro when the ruleset has stateful rules, else None (nothing to do)."""
        lookbacks = [
            p.lookback() for rule, _ in moderator._runnable for p in rule.condition.predicates()
        ]
        horizons = [seconds for seconds in lookbacks if seconds is not None]
        return cls(moderator, store, max(horizons)) if horizons else None

    # --- hooks the engine calls (it sets `doc.state` to the window when it builds a
    # document, then calls `judged` with each verdict) ---------------------------------
    def judged(self, doc: Document, verdict: Verdict) -> Verdict:
        """After judging: remember the comment and revise the earlier ones it completes."""
        entry = self.window.entry(doc)
        if entry is None:
            if self._batch is not None:
                self._batch.append(Held(doc, verdict, None))
            return verdict
        held = Held(_slim(doc, entry), verdict, entry.at)
        if self._batch is not None:
            self._batch.append(held)
        self.window.add(entry)
        self._remember(held)
        self._mark(held)
        self._revise(doc)
        return held.verdict

    def batch(self, verdicts: Iterable[Verdict]) -> Iterator[Verdict]:
        """The final verdicts of a batch, in input order (the input verdicts are only
        drained: `judged` fills the buffer as they are made)."""
        buffer: deque[Held] = deque()
        outer, self._batch = self._batch, buffer
        try:
            for _ in verdicts:
                while buffer and self._closed(buffer[0], len(buffer)):
                    yield self._final(buffer.popleft())
            while buffer:
                yield self._final(buffer.popleft())
        finally:
            self._batch = outer
            self.window.flush()

    def flush(self) -> None:
        self.window.flush()

    # --- internals -------------------------------------------------------------------
    def _final(self, held: Held) -> Verdict:
        """A flagged verdict leaving the buffer, its messages updated to the mob or flood
        as it finally is (a first member was flagged when the mob was still small)."""
        if not held.stale:
            return held.verdict
        held.doc.set_signal(RELATED, set())
        revised = self._rejudge(held, compare_messages=True)
        if revised is not None and {v.rule for v in held.verdict.violations} <= {
            v.rule for v in revised.violations
        }:
            self._apply(held, revised)
        return held.verdict

    def _closed(self, held: Held, buffered: int) -> bool:
        return (
            held.at is None or held.at + self.horizon < self.window.clock or buffered > MAX_BUFFER
        )

    def _remember(self, held: Held) -> None:
        comment_id = held.doc.comment.id
        self._held.pop(comment_id, None)
        self._held[comment_id] = held
        self._order.append(held)
        cutoff = self.window.clock - self.horizon
        order = self._order
        while order and (
            (order[0].at is not None and order[0].at < cutoff) or len(order) > MAX_BUFFER
        ):
            old = order.popleft()
            if self._held.get(old.doc.comment.id) is old:
                del self._held[old.doc.comment.id]
                self._flagged.discard(old.doc.comment.id)
                self._calm.discard(old.doc.comment.id)

    def _mark(self, held: Held) -> None:
        """Keep `_flagged` in step with a held comment's (new) verdict."""
        comment_id = held.doc.comment.id
        if self._held.get(comment_id) is not held:
            return
        violations = held.verdict.violations
        if violations and any(v.rule in self._rule_ids for v in violations):
            self._flagged.add(comment_id)
            if not held.stale:
                self._calm.add(comment_id)
        else:
            self._flagged.discard(comment_id)
            self._calm.discard(comment_id)

    def _revise(self, doc: Document) -> None:
        """Re-judge, on the stateful rules, the comments `doc` was found to belong with
        (and, in turn, those they are found to belong with). One already flagged by a
        stateful rule is left alone: a mob of thousands costs one re-judging each."""
        found: set[str] = doc.signal(RELATED, _nothing)
        if not found:
            return
        seen = {doc.comment.id, *found}
        todo = self._triage(found)
        while todo:
            held = self._held.get(todo.pop())
            if held is None:
                continue  # out of the window already: its verdict stands
            if held.doc.comment.id in self._flagged:
                held.stale = True  # its message will name the mob as it finally is
                self._calm.discard(held.doc.comment.id)
                continue
            held.doc.set_signal(RELATED, set())
            revised = self._rejudge(held)
            new = related(held.doc) - seen
            seen |= new
            todo.extend(self._triage(new))
            if revised is not None:
                self._apply(held, revised)

    def _triage(self, ids: set[str]) -> list[str]:
        """Mark the flagged ones among `ids` stale (their message will name the mob as it
        finally is); the others are to be re-judged, oldest last (`pop` takes it first).

        The order is by time and id, not the set's: string hashes differ from process to
        process, and with a ledger the order decides which revision's strike reaches a
        threshold — a replayed dump must give the same account actions."""
        flagged = ids & self._flagged
        calm = flagged & self._calm if flagged else flagged
        if calm:
            held = self._held
            for comment_id in calm:
                held[comment_id].stale = True
            self._calm -= calm
        todo = list(ids - flagged) if flagged else list(ids)
        todo.sort(key=self._age, reverse=True)
        return todo

    def _age(self, comment_id: str) -> tuple[float, str]:
        held = self._held.get(comment_id)
        at = held.at if held is not None and held.at is not None else float("-inf")
        return at, comment_id

    def _apply(self, held: Held, revised: Verdict) -> None:
        """A revised verdict: enforced (strikes follow), kept, and published online."""
        revised = self.moderator.enforce(held.doc.comment, revised)
        held.verdict = revised
        self._mark(held)
        if self._batch is None:
            self.revisions.append(revised)
            if self.on_revision is not None:
                self.on_revision(revised)

    def _rejudge(self, held: Held, compare_messages: bool = False) -> Verdict | None:
        """The verdict with the stateful rules evaluated again, or None if unchanged."""
        old = held.verdict
        fresh: list[Violation] = []
        for rule in self.stateful_rules:
            violation = self.moderator.evaluate_rule(rule, held.doc)
            if violation is not None:
                fresh.append(violation)
        before = [v for v in old.violations if v.rule in self._rule_ids]
        if [(v.rule, compare_messages and v.message) for v in before] == [
            (v.rule, compare_messages and v.message) for v in fresh
        ]:
            return None
        kept = [v for v in old.violations if v.rule not in self._rule_ids]
        rank = self._rank
        violations = sorted(kept + fresh, key=lambda v: rank.get(v.rule, len(rank)))
        verdict = self.moderator._verdict(held.doc, violations)
        verdict.skipped = list(old.skipped)
        return verdict


def _nothing(_: Document) -> set[str]:
    return set()


def _slim(doc: Document, entry: Entry) -> Document:
    """The document as kept for re-judging: its text views (which other rules filled)
    dropped, to be rebuilt lazily if a stateful rule ever needs them."""
    slim = Document(doc.comment, TextViews(doc.comment.text), doc.thread, doc.parent)
    slim.state = doc.state
    slim.set_signal(ENTRY, entry)
    return slim
