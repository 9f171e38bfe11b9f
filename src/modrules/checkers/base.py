"""What every checker predicate is: a config model, a compile step, an evaluate step.

A predicate is compiled once when the ruleset loads and evaluated once per comment
per rule that uses it; anything several predicates need (URLs, personal-data finds,
embeddings) is computed once per comment through `Document.signal`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from modrules.model import Comment, Thread
    from modrules.text import TextViews

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Span:
    """A span of the *original* comment text."""

    start: int
    end: int


@dataclass(slots=True)
class Hit:
    """A predicate that fired: where, how strongly, and an optional note for the message."""

    spans: list[Span] = field(default_factory=list)
    score: float = 1.0
    detail: str | None = None


class PredicateConfig(BaseModel):
    """Base for predicate configs: unknown fields are errors, so typos fail at load."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PredicateError(ValueError):
    """A predicate config that parses but cannot be compiled (bad regex, missing list...)."""


@dataclass(slots=True)
class CompileContext:
    """What a predicate may need at compile time."""

    ruleset_dir: Path | None
    site_name: str = ""
    site_aliases: tuple[str, ...] = ()
    site_language: str = "en"
    regex_timeout: float = 0.05
    # `--no-ml`: every predicate whose `extra` is "ml" is reported unavailable.
    disable_ml: bool = False
    # policy.yaml's `models:` section (settings of the ML backends, by backend name).
    models: dict[str, Any] = field(default_factory=dict)
    # Shared compiled resources (word lists, domain lists) keyed by the loader, so two
    # rules naming one list compile it once.
    cache: dict[Any, Any] = field(default_factory=dict)

    def resolve(self, relative: str) -> Path:
        """A path named in a rule, relative to the ruleset directory."""
        path = Path(relative)
        if not path.is_absolute() and self.ruleset_dir is not None:
            path = self.ruleset_dir / path
        if not path.is_file():
            raise PredicateError(f"file not found: {relative}")
        return path

    def shared(self, key: Any, build: Callable[[], T]) -> T:
        if key not in self.cache:
            self.cache[key] = build()
        value: T = self.cache[key]
        return value


class Document:
    """One comment being judged, with its lazily computed views and shared signals."""

    __slots__ = ("_signals", "comment", "parent", "state", "thread", "timeouts", "views")

    def __init__(
        self,
        comment: Comment,
        views: TextViews,
        thread: Thread | None = None,
        parent: Comment | None = None,
    ) -> None:
        self.comment = comment
        self.thread = thread
        self.parent = parent
        self.views = views
        self._signals: dict[str, Any] = {}
        # Checks that gave up on this comment (a regex past its time limit): the engine
        # reports the rules they belong to as not fully evaluated.
        self.timeouts = 0
        # The recent-comment window stateful predicates (repetition, rate) look back
        # over; the engine sets it (a `modrules.window.RecentWindow`), else None.
        self.state: Any = None

    @property
    def text(self) -> str:
        return self.views.raw

    def set_signal(self, name: str, value: Any) -> None:
        """Store a signal computed elsewhere (by a batch preparer)."""
        self._signals[name] = value

    def signal(self, name: str, compute: Callable[[Document], T]) -> T:
        """Compute a per-comment signal once and share it with every predicate."""
        try:
            value: T = self._signals[name]
        except KeyError:
            value = self._signals[name] = compute(self)
        return value


class BatchPreparer(Protocol):
    """Computes a signal for a batch of documents (stored with `Document.signal`-style caching)."""

    def prepare(self, docs: list[Document]) -> None: ...


class Predicate(ABC):
    """A compiled checker predicate. Subclasses set `name` and `Config` and register."""

    name: ClassVar[str]
    Config: ClassVar[type[PredicateConfig]]
    # Rule fields that name this predicate's extra; used to report unavailable rules.
    extra: ClassVar[str | None] = None

    def __init__(self, config: Any, ctx: CompileContext) -> None:
        self.config = config

    @abstractmethod
    def evaluate(self, doc: Document) -> Hit | None:
        """The hit if the predicate holds for this comment, else None."""

    def batch_preparer(self) -> BatchPreparer | None:
        """A shared object that computes this predicate's signal for many comments at once
        (one model call per batch); the engine calls each distinct one once per batch."""
        return None

    def unavailable_reason(self) -> str | None:
        """Why this predicate cannot run here (missing extra or weights), or None."""
        return None

    def lookback(self) -> float | None:
        """Seconds of earlier (and later) comments a stateful predicate compares a comment
        with; None for predicates that judge a comment alone."""
        return None

    def triggers(self) -> frozenset[Trigger] | None:
        """Prefilter keys one of which must be found for this predicate to hold.

        None means no such guarantee: the predicate is always evaluated.
        """
        return None


Trigger = tuple[str, int]
"""A prefilter key: (view, id of a pattern in that view's literal prefilter)."""


_REGISTRY: dict[str, type[Predicate]] = {}

P = TypeVar("P", bound=type[Predicate])


def register(cls: P) -> P:
    if cls.name in _REGISTRY:
        raise RuntimeError(f"predicate {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def registry() -> dict[str, type[Predicate]]:
    # Importing the package registers the built-in predicates.
    import modrules.checkers  # noqa: F401

    return dict(_REGISTRY)
