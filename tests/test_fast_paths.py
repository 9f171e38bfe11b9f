"""The engine's shortcuts give the answers of the slow paths they skip."""

from __future__ import annotations

import re

import re2
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from modrules.checkers.base import CompileContext, Document
from modrules.checkers.caps import _upper_and_letters
from modrules.checkers.language import Language, LanguageConfig
from modrules.checkers.length import Length, LengthConfig
from modrules.checkers.links import _URL_CUE_RE2, extract_urls
from modrules.checkers.sentences import Sentences, SentencesConfig
from modrules.dumps import verdict_json
from modrules.model import AccountAction, Action, Comment, Verdict
from modrules.text import (
    _ANY_TRIPLE,
    _ASCII_LEET_TOUCH,
    _UNICODE,
    TextViews,
    _word_count,
    _words,
    count_words,
)

# Alphabets that hit the edge cases: joiners, dots of every script, URL syntax,
# invisible characters, dotless/dotted i, spaces other than ASCII ones.
_WORDY = st.text(alphabet=list("ab1_ -'’.\n\té") + ["\u0301"], max_size=30)
_URLISH = st.lists(
    st.sampled_from(
        [*"abcomnetrufiz .。．｡/:[]()@-_1\n", "ı", "İ", "\u200b", "\u00a0", "DOT", "dot", "com"]
    ),
    max_size=30,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(_WORDY)
def test_word_count_is_the_number_of_words(text: str) -> None:
    assert _word_count(text) == len(_words(text))


@settings(max_examples=300, deadline=None)
@given(_WORDY, st.integers(min_value=1, max_value=12))
def test_length_in_words_skips_only_texts_that_cannot_reach_min(text: str, low: int) -> None:
    predicate = Length(LengthConfig(min=low, unit="words"), CompileContext(None))
    doc = Document(Comment(id="c", text=text), TextViews(text))
    assert (predicate.evaluate(doc) is not None) == (len(_words(text)) >= low)


@settings(max_examples=600, deadline=None)
@given(_URLISH)
def test_every_text_with_a_url_has_the_prefilter_cue(text: str) -> None:
    if extract_urls(text):
        assert re2.search(_URL_CUE_RE2, text) is not None


def test_the_url_cue_misses_plain_prose() -> None:
    # Not a test of correctness (that is above) but that the gate actually closes.
    for text in ("Great article. Thanks!", "I disagree, the minister is wrong", "Wait... what?"):
        assert re2.search(_URL_CUE_RE2, text) is None
    for text in ("see example.com", "example . com", "hxxp://x", "evil dot com", "a\u200bb.c"):
        assert re2.search(_URL_CUE_RE2, text) is not None


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=list("ab1@$|*#%! .Z"), max_size=12))
def test_leet_touch_check_matches_its_plain_form(text: str) -> None:
    plain = re.compile(r"[a-z][0-9@$|*#%!]|[0-9@$|*#%!][a-z]")
    assert (_ASCII_LEET_TOUCH.search(text) is None) == (plain.search(text) is None)


def test_remembered_language_analyses_equal_fresh_ones() -> None:
    predicate = Language(LanguageConfig.model_validate({"not": ["en"]}), CompileContext(None))
    analyzer = predicate.analyzer
    texts = ["Fair enough.", "Merci beaucoup !", "Спасибо, друг", "privet kak dela", "Bravo!"]
    fresh = [
        analyzer._analyze(t, predicate.segment_letters, predicate.transliterated) for t in texts
    ]
    for _ in range(2):  # the second round comes from the memory
        again = [
            analyzer.analyze(t, predicate.segment_letters, predicate.transliterated) for t in texts
        ]
        assert again == fresh
    assert any(a.segments for a in fresh)


def test_plain_verdict_json_is_pydantics() -> None:
    ids = [
        "c1",
        "é–漢字🙂",
        'a"b\\c',
        "\x00\x01\x1f\x7f",
        "\u2028\u2029",
        "tab\tnl\n",
        "/</script>",
    ]
    for comment_id in ids:
        for action in Action:
            for account in AccountAction:
                verdict = Verdict(comment_id=comment_id, action=action, account_action=account)
                expected = verdict.model_dump_json(exclude={"skipped", "account_reason"}).encode()
                assert verdict_json(verdict) == expected + b"\n"


_SENTENCEY = st.lists(
    st.sampled_from(["a", "bé", "1", "don't", "re-run", " ", "  ", "\n", "\r\n", ".", "!", "?", "…",
                     "'", "’", "\"", ")", "Mr.", "e.g.", "U.S.", "\u0301", "。", "x_y"]),
    max_size=40,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(_SENTENCEY)
def test_sentence_slices_hold_the_words_that_start_in_them(text: str) -> None:
    # The `sentences` predicate counts each sentence's words on its own slice.
    views = TextViews(text)
    starts = [start for start, _ in views.words]
    for start, end in views.sentences:
        assert count_words(text[start:end]) == sum(start <= s < end for s in starts)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_caps_counts_capitals_and_letters(text: str) -> None:
    upper, letters = _upper_and_letters(text)
    assert upper == len(regex.findall(r"\p{Lu}", text))
    assert letters == len(regex.findall(r"\p{L}", text))


def test_sentences_finds_the_longest_run_on() -> None:
    predicate = Sentences(SentencesConfig(min_words=10, max_sentence_words=8), CompileContext(None))
    text = "Short one. " + " ".join(["word"] * 12) + " and on. End here."
    hit = predicate.evaluate(Document(Comment(id="c", text=text), TextViews(text)))
    assert hit is not None and hit.detail == "a sentence of 14 words"
    assert text[hit.spans[0].start : hit.spans[0].end].startswith("word word")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=list("aAé\u0301ßſе .!\u200b"), max_size=20))
def test_the_letter_run_check_is_gated_by_any_triple(text: str) -> None:
    if _UNICODE.repeat.search(text):
        assert _ANY_TRIPLE.search(text) is not None
