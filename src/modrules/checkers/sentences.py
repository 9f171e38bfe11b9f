"""`sentences`: long text that is not broken into sentences."""

from __future__ import annotations

from typing import Any

from modrules.checkers.base import (
    CompileContext,
    Document,
    Hit,
    Predicate,
    PredicateConfig,
    Span,
    register,
)
from modrules.text import count_words


class SentencesConfig(PredicateConfig):
    min_words: int = 60
    max_sentence_words: int = 45


@register
class Sentences(Predicate):
    name = "sentences"
    Config = SentencesConfig

    def __init__(self, config: Any, ctx: CompileContext) -> None:
        super().__init__(config, ctx)
        self.min_words: int = config.min_words
        self.max_sentence_words: int = config.max_sentence_words

    def evaluate(self, doc: Document) -> Hit | None:
        # Words are separated by spaces, so fewer spaces than words means too short.
        if doc.text.count(" ") + doc.text.count("\n") + 1 < self.min_words:
            return None
        # The word count (cheaper than the spans) bounds every sentence's length.
        count = doc.views.word_count
        if count < self.min_words or count <= self.max_sentence_words:
            return None
        # No word crosses a sentence's ends (a sentence ends before a space or a line
        # break), so each sentence's words are counted on its own slice, in C.
        text = doc.text
        longest: tuple[int, int, int] | None = None  # (word count, start, end)
        for start, end in doc.views.sentences:
            count = count_words(text[start:end])
            if longest is None or count > longest[0]:
                longest = (count, start, end)
        if longest is None or longest[0] <= self.max_sentence_words:
            return None
        count, start, end = longest
        return Hit(spans=[Span(start, end)], score=1.0, detail=f"a sentence of {count} words")
