"""The engine's shortcuts give the answers of the slow paths they skip."""

from __future__ import annotations

import re

import re2
from hypothesis import given, settings
from hypothesis import strategies as st

from modrules.checkers.base import CompileContext, Document
from modrules.checkers.language import Language, LanguageConfig
from modrules.checkers.length import Length, LengthConfig
from modrules.checkers.links import _URL_CUE_RE2, extract_urls
from modrules.dumps import verdict_json
from modrules.model import AccountAction, Action, Comment, Verdict
from modrules.text import _ASCII_LEET_TOUCH, TextViews, _word_count, _words

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
