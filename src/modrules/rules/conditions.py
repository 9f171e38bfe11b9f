"""Condition trees: any / all / not / near over predicates, compiled once."""

from __future__ import annotations

from abc import ABC, abstractmethod
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from modrules.checkers.base import (
    CompileContext,
    Document,
    Hit,
    Predicate,
    PredicateError,
    Span,
    Trigger,
    registry,
)

Path = tuple[str | int, ...]


class ConditionError(ValueError):
    """A condition that cannot compile; `path` locates it inside the rule's `when`."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


class Node(ABC):
    @abstractmethod
    def evaluate(self, doc: Document) -> Hit | None: ...

    def holds(self, doc: Document) -> bool:
        """Whether the node holds, when its evidence is not needed (under `not`): nodes
        may stop at the first match."""
        return self.evaluate(doc) is not None

    @abstractmethod
    def predicates(self) -> Iterator[Predicate]: ...

    def triggers(self) -> frozenset[Trigger] | None:
        """Prefilter keys one of which must be found for this node to hold (None: unknown)."""
        return None


def _smallest(options: list[frozenset[Trigger] | None]) -> frozenset[Trigger] | None:
    known = [o for o in options if o is not None]
    return min(known, key=len) if known else None


class PredicateNode(Node):
    __slots__ = ("_holds", "predicate")

    def __init__(self, predicate: Predicate) -> None:
        self.predicate = predicate
        # A predicate may answer "does it hold" faster than with its evidence (`Pattern`).
        self._holds: Callable[[Document], bool] | None = getattr(predicate, "holds", None)

    def evaluate(self, doc: Document) -> Hit | None:
        return self.predicate.evaluate(doc)

    def holds(self, doc: Document) -> bool:
        if self._holds is not None:
            return self._holds(doc)
        return self.predicate.evaluate(doc) is not None

    def triggers(self) -> frozenset[Trigger] | None:
        return self.predicate.triggers()

    def predicates(self) -> Iterator[Predicate]:
        yield self.predicate


def _evaluator(node: Node) -> Callable[[Document], Hit | None]:
    """What evaluates a child: its predicate's own method when it is one (a call less
    for each of the dozen predicates a comment goes through)."""
    return node.predicate.evaluate if isinstance(node, PredicateNode) else node.evaluate


class AnyNode(Node):
    __slots__ = ("_evaluators", "children")

    def __init__(self, children: list[Node]) -> None:
        self.children = children
        self._evaluators = [_evaluator(child) for child in children]

    def evaluate(self, doc: Document) -> Hit | None:
        # Every child is evaluated, not just the first that holds: evidence (and the
        # spans an `edit` redacts) must cover every offending part.
        result: Hit | None = None
        for evaluate in self._evaluators:
            hit = evaluate(doc)
            if hit is None:
                continue
            if result is None:
                result = Hit(spans=list(hit.spans), score=hit.score, detail=hit.detail)
            else:
                result.spans.extend(hit.spans)
                result.score = max(result.score, hit.score)
                result.detail = result.detail or hit.detail
        return result

    def holds(self, doc: Document) -> bool:
        return any(child.holds(doc) for child in self.children)

    def triggers(self) -> frozenset[Trigger] | None:
        union: frozenset[Trigger] = frozenset()
        for child in self.children:
            child_triggers = child.triggers()
            if child_triggers is None:
                return None  # that child may hold without any prefilter hit
            union |= child_triggers
        return union

    def predicates(self) -> Iterator[Predicate]:
        for child in self.children:
            yield from child.predicates()


class AllNode(Node):
    __slots__ = ("_evaluators", "children")

    def __init__(self, children: list[Node]) -> None:
        self.children = children
        self._evaluators = [_evaluator(child) for child in children]

    def evaluate(self, doc: Document) -> Hit | None:
        spans: list[Span] = []
        score = 1.0
        detail: str | None = None
        for evaluate in self._evaluators:
            hit = evaluate(doc)
            if hit is None:
                return None
            spans.extend(hit.spans)
            score = min(score, hit.score)
            detail = detail or hit.detail
        return Hit(spans=spans, score=score, detail=detail)

    def holds(self, doc: Document) -> bool:
        return all(child.holds(doc) for child in self.children)

    def triggers(self) -> frozenset[Trigger] | None:
        # Every child must hold, so any one child's triggers will do: take the tightest.
        return _smallest([child.triggers() for child in self.children])

    def predicates(self) -> Iterator[Predicate]:
        for child in self.children:
            yield from child.predicates()


class NotNode(Node):
    __slots__ = ("child",)

    def __init__(self, child: Node) -> None:
        self.child = child

    def evaluate(self, doc: Document) -> Hit | None:
        return None if self.child.holds(doc) else Hit()

    def holds(self, doc: Document) -> bool:
        return not self.child.holds(doc)

    def triggers(self) -> frozenset[Trigger] | None:
        # `not: {not: X}` (X without its evidence) holds exactly when X does.
        return self.child.child.triggers() if isinstance(self.child, NotNode) else None

    def predicates(self) -> Iterator[Predicate]:
        yield from self.child.predicates()


class NearNode(Node):
    """Two conditions whose spans lie at most `within` words apart (either order)."""

    __slots__ = ("a", "b", "within")

    def __init__(self, a: Node, b: Node, within: int) -> None:
        self.a, self.b, self.within = a, b, within

    def evaluate(self, doc: Document) -> Hit | None:
        hit_a = self.a.evaluate(doc)
        if hit_a is None or not hit_a.spans:
            return None
        hit_b = self.b.evaluate(doc)
        if hit_b is None or not hit_b.spans:
            return None
        starts = [w[0] for w in doc.views.words]
        spans: list[Span] = []
        for sa in hit_a.spans:
            for sb in hit_b.spans:
                first, second = (sa, sb) if sa.start <= sb.start else (sb, sa)
                # Words wholly between the end of the first span and the start of the second.
                between = bisect_left(starts, second.start) - bisect_right(starts, first.end - 1)
                if first.end > second.start or between <= self.within:
                    spans.extend((sa, sb))
        if not spans:
            return None
        return Hit(spans=spans, score=min(hit_a.score, hit_b.score), detail=hit_a.detail or hit_b.detail)

    def triggers(self) -> frozenset[Trigger] | None:
        return _smallest([self.a.triggers(), self.b.triggers()])

    def predicates(self) -> Iterator[Predicate]:
        yield from self.a.predicates()
        yield from self.b.predicates()


class NearConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    a: dict[str, Any]
    b: dict[str, Any]
    within: int = Field(default=5, ge=0)


COMBINATORS = ("any", "all", "not", "near")


def compile_condition(data: Any, ctx: CompileContext, path: Path = ()) -> Node:
    """Compile one condition node; errors carry the path of the offending part."""
    if not isinstance(data, dict) or len(data) != 1:
        raise ConditionError(
            "a condition is a mapping with exactly one key: any, all, not, near or a predicate name",
            path,
        )
    ((key, value),) = data.items()
    here = (*path, key)
    if key in ("any", "all"):
        if not isinstance(value, list) or not value:
            raise ConditionError(f"`{key}` needs a non-empty list of conditions", here)
        children = [compile_condition(item, ctx, (*here, i)) for i, item in enumerate(value)]
        return AnyNode(children) if key == "any" else AllNode(children)
    if key == "not":
        return NotNode(compile_condition(value, ctx, here))
    if key == "near":
        try:
            near = NearConfig.model_validate(value)
        except ValidationError as exc:
            raise _validation_error(exc, here) from exc
        return NearNode(
            compile_condition(near.a, ctx, (*here, "a")),
            compile_condition(near.b, ctx, (*here, "b")),
            near.within,
        )
    predicates = registry()
    if key not in predicates:
        known = ", ".join(sorted([*COMBINATORS, *predicates]))
        raise ConditionError(f"unknown predicate or combinator {key!r} (known: {known})", here)
    cls = predicates[key]
    try:
        config = cls.Config.model_validate(value if value is not None else {})
    except ValidationError as exc:
        raise _validation_error(exc, here) from exc
    try:
        return PredicateNode(cls(config, ctx))
    except PredicateError as exc:
        raise ConditionError(f"{key}: {exc}", here) from exc


def _validation_error(exc: ValidationError, path: Path) -> ConditionError:
    first = exc.errors()[0]
    loc = tuple(first["loc"])
    where = ".".join(str(p) for p in loc)
    message = f"{'.'.join(str(p) for p in path)}{'.' + where if where else ''}: {first['msg']}"
    if len(exc.errors()) > 1:
        message += f" (and {len(exc.errors()) - 1} more)"
    return ConditionError(message, (*path, *loc))
