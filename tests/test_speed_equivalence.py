"""The fast paths change speed, never verdicts.

A Moderator with the prefilter and rule gates switched off (`set_prefilter(False)`)
evaluates every rule and predicate in full; its verdicts must equal the fast one's on
the fixtures, on a generated corpus (every kind of violation, hostile text included)
and on random text. The RE2 rewrite and the word-list prefilter are also checked on
their own: wherever the original matches, the widened form must match too.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import re2
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modrules import Moderator
from modrules.checkers.base import Document
from modrules.checkers.lexicon import compile_lexicon, find_matches, lexicon_re2, parse_entries
from modrules.checkers.pattern import PatternBank
from modrules.checkers.superset import to_re2
from modrules.model import Comment
from modrules.rules import load_ruleset
from modrules.text import TextViews, _word_count, _words

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"


def _moderator(fast: bool) -> Moderator:
    # Each loads its own ruleset: the prefilter belongs to a ruleset.
    moderator = Moderator(load_ruleset(None, disable_ml=True))
    moderator.set_prefilter(fast)
    return moderator


@pytest.fixture(scope="module")
def pair() -> tuple[Moderator, Moderator]:
    return _moderator(True), _moderator(False)


def _generated(n: int, seed: int) -> list[dict[str, Any]]:
    spec = importlib.util.spec_from_file_location(
        "generate_corpus", REPO / "benchmarks" / "generate_corpus.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    _threads, comments = module.generate(n, seed)
    return list(comments)


def _dumps(moderator: Moderator, comments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v.model_dump(mode="json") for v in moderator.moderate_many(comments)]


def _assert_same(comments: list[dict[str, Any]]) -> None:
    fast, plain = _moderator(True), _moderator(False)
    got, want = _dumps(fast, comments), _dumps(plain, comments)
    assert len(got) == len(want) == len(comments)
    for comment, a, b in zip(comments, got, want, strict=True):
        assert a == b, comment["text"][:200]


def test_fixture_verdicts_equal_plain_evaluation() -> None:
    comments = [
        json.loads(line)
        for name in ("comments.jsonl", "dev-comments.jsonl")
        for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert len(comments) > 400
    _assert_same(comments)


def test_generated_corpus_verdicts_equal_plain_evaluation() -> None:
    comments = _generated(2500, seed=11)
    kinds = {c.get("kind") for c in comments}
    # The corpus exercises the rules: violations of many kinds and hostile text.
    assert {"profanity", "spam", "hostile", "personal-data", "foreign"} <= kinds
    _assert_same(comments)


def test_the_fast_path_skips_work(pair: tuple[Moderator, Moderator]) -> None:
    fast, plain = pair
    doc_fast = fast.document({"id": "c", "text": "Thanks for the report on the budget talks."})
    doc_plain = plain.document({"id": "c", "text": "Thanks for the report on the budget talks."})
    # A clean comment leaves few checks possible; switched off, every check is.
    assert fast._bank is not None and plain._bank is not None
    possible = fast._possible(doc_fast)
    everything = set().union(*(plain._bank.hits(doc_plain, v) for v in plain._bank.views()))
    assert len(everything) > 100
    assert len(possible) < len(everything) / 10
    opened = [r for r, gate in fast._plan if gate is None or not gate.isdisjoint(possible)]
    assert len(opened) < len(fast._plan) / 2
    assert fast._judge(doc_fast).model_dump() == plain._judge(doc_plain).model_dump()


_TEXT = st.text(
    alphabet=st.sampled_from(
        list("abcdefghiklmnorstuy AEIOUST0123456789.,!?'-_*@$#\n")
        + ["é", "ß", "İ", "\u200b", "о", "ſ", "K", "’", "🙂", "\u0301", "\ud800"]
    ),
    max_size=80,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    words=st.lists(
        st.sampled_from(
            [
                "fuck",
                "f*ck",
                "sh1t",
                "idiot",
                "you",
                "are",
                "an",
                "kill",
                "yourself",
                "buy",
                "now",
                "http://bit.ly/x",
                "call",
                "+44 20 7946 0958",
                "ISIS",
                "NATO",
                "the",
                "scunthorpe",
            ]
        ),
        max_size=12,
    ),
    noise=_TEXT,
)
def test_random_comments_equal_plain_evaluation(
    pair: tuple[Moderator, Moderator], words: list[str], noise: str
) -> None:
    fast, plain = pair
    text = " ".join(words) + noise
    comment = {"id": "c", "text": text}
    assert (
        fast._judge(fast.document(comment)).model_dump()
        == plain._judge(plain.document(comment)).model_dump()
    )


# --------------------------------------------------------------------------- RE2 rewrite

PATTERNS = [
    (r"\bidiot\b", True),
    (r"\b(?:you|u)\s+(?:are\s+)?(?:an?\s+)?idiots?\b", True),
    (r"(?<![\w*])f(?:\*+|u\*+)k\w*", True),
    (r"\bcaf[eé]\b", True),
    (r"\b\d{3}[-. ]\d{4}\b", False),
    (r"[^\W\d_]+@\w+\.\w+", True),
    (r"\A\s*(?:\S+\s+){0,3}\S+\s*\Z", False),
    (r"(?i:straße|STRASSE)\b", False),
    (r"\b(?:kill|hang)\s+(?:yo)?urself\b|\bkys\b", True),
    (r"(\w)\1{2,}", True),
    (r"(?x) \b go [ \n]+ to [ \n]+ hell \b  # a comment [with a bracket", True),
    (r"[\p{L}'-]+ing\b", True),
    (r"\P{L}{3}x", False),
    (r"\bu\b", False),
    (r"(?<!not\s)\bbad\b(?!\s+idea)", True),
]


# Patterns without a selective stretch: None, so they are always run.
UNFILTERED = {r"\A\s*(?:\S+\s+){0,3}\S+\s*\Z", r"(\w)\1{2,}"}


@pytest.mark.parametrize(("pattern", "ignore_case"), PATTERNS)
def test_rewrite_compiles_in_re2(pattern: str, ignore_case: bool) -> None:
    source = to_re2(pattern, ignore_case)
    if pattern in UNFILTERED:
        assert source is None
    else:
        assert source is not None
        re2.compile(source)


@settings(max_examples=400, deadline=None)
@given(text=_TEXT, index=st.integers(0, len(PATTERNS) - 1), count=st.sampled_from([1, 1, 2, 3]))
def test_rewrite_matches_wherever_the_original_does(text: str, index: int, count: int) -> None:
    pattern, ignore_case = PATTERNS[index]
    source = to_re2(pattern, ignore_case, count)
    if source is None:
        assert pattern in UNFILTERED
        return
    flags = regex.IGNORECASE if ignore_case else 0
    if len(regex.findall(pattern, text, flags=flags)) >= count:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            return  # the bank treats text RE2 cannot read as "anything may match"
        assert re2.compile(source).search(data) is not None, (source, text)


def test_rewrite_keeps_word_boundaries_and_cuts_wildcards() -> None:
    source = to_re2(r"\bass\b", True)
    assert source is not None
    assert re2.search(source, "a classic") is None  # `ass` inside a word is filtered out
    assert re2.search(source, "what an ass!") is not None
    cut = to_re2(r"\bhello\s+\w+\s+world", True)
    assert cut is not None and "world" not in cut  # cut at the broad `\w+`
    assert to_re2(r"(?:colour){e<=1}", True) is None  # the `regex` package's own syntax
    assert to_re2(r"\w+", True) is None  # nothing selective: always run


# Anchored patterns: the rewrite keeps `^` (as a line anchor) and `\\A`, so it must still
# match wherever the original does.
ANCHORED = [
    (r"(?:^|[.!?]\s*)(?:cope|ratio)\s*(?:[.!?]+|$)", True),
    (r"(?m)^\s*lol\b", True),
    (r"\bend$", False),
    (r"\Aok\b|\bok\Z", True),
    (r"(?:^|\n)no(?:pe)?$", True),
]
_ANCHOR_TEXT = st.lists(
    st.sampled_from(["cope", "ratio", "administration", "lol", "end", "ok", "no", "nope", " ", ".", "!", "\n", "\r", "x"]),
    max_size=8,
).map("".join)


@settings(max_examples=600, deadline=None)
@given(text=_ANCHOR_TEXT, index=st.integers(0, len(ANCHORED) - 1), count=st.sampled_from([1, 1, 2]))
def test_anchored_rewrite_matches_wherever_the_original_does(text: str, index: int, count: int) -> None:
    pattern, ignore_case = ANCHORED[index]
    source = to_re2(pattern, ignore_case, count)
    assert source is not None
    flags = regex.IGNORECASE if ignore_case else 0
    if len(regex.findall(pattern, text, flags=flags)) >= count:
        assert re2.compile(source).search(text) is not None, (source, text)


def test_rewrite_keeps_anchors() -> None:
    source = to_re2(r"(?:^|[.!?]\s*)(?:cope|ratio)\s*(?:[.!?]+|$)", True)
    assert source is not None
    assert re2.search(source, "the administration said") is None  # `ratio` inside a word
    assert re2.search(source, "ratio") is not None
    assert re2.search(source, "Sure. Cope!") is not None
    final_newline = to_re2(r"\bend$", False)
    assert final_newline is not None
    assert regex.search(r"\bend$", "the end\n") and re2.search(final_newline, "the end\n")
    assert to_re2(r"(?iw)^x", True) is None  # the WORD flag's line breaks: not rewritten


def test_possible_is_every_views_hits_shared() -> None:
    bank = PatternBank()
    raw = bank.add("raw", r"\bIDIOT\b", ignore_case=False)
    norm = bank.add("normalized", r"\bidiot\b")
    other = bank.add("normalized", r"\bmoron\b")
    assert raw is not None and norm is not None and other is not None
    bank.finalize()

    def doc(text: str) -> Document:
        return Document(Comment(id="c", text=text), TextViews(text))

    shouted = doc("you IDIOT")
    assert bank.possible(shouted) == {raw, norm}
    # Each view's answer is then the shared set: a check only looks for its own id.
    assert raw in bank.hits(shouted, "raw") and norm in bank.hits(shouted, "normalized")
    assert other not in bank.hits(shouted, "normalized")
    # A view scanned on its own first is part of the union.
    quiet = doc("you idiot")
    assert bank.hits(quiet, "normalized") == {norm}
    assert bank.possible(quiet) == {norm}
    assert bank.possible(doc("nothing here")) == set()


def test_bank_treats_unreadable_text_as_possible() -> None:
    bank = PatternBank()
    first = bank.add("raw", r"\bidiot\b")
    second = bank.add("raw", r"\bmoron\b")
    assert first is not None and second is not None
    bank.finalize()
    view_filter = bank._filters["raw"]
    assert view_filter.candidates("you idiot") == {first}
    assert view_filter.candidates("nothing here") == set()
    # A lone surrogate cannot be encoded for RE2: everything stays possible.
    assert view_filter.candidates("you \ud800 there") == {first, second}


def test_a_pickled_ruleset_judges_the_same() -> None:
    # Process pools and Dask ship rulesets to workers; RE2 sets are rebuilt there.
    import pickle

    fast = _moderator(True)
    copy = Moderator(pickle.loads(pickle.dumps(fast.ruleset)))
    comments = [
        {"id": f"c{i}", "text": t}
        for i, t in enumerate(
            ["you are an idiot", "Great article, thanks.", "buy now at http://bit.ly/x", "sh1t"]
        )
    ]
    assert _dumps(copy, comments) == _dumps(fast, comments)


# --------------------------------------------------------------------------- word lists

_LIST = parse_entries(
    ["shit", "fuck", "=ass", "wank*", "*hole", "*cunt*", "piece of shit", "what the hell", "ſcum"]
)


@settings(max_examples=400, deadline=None)
@given(
    text=st.lists(
        st.sampled_from(
            [
                "shit",
                "sh1t",
                "f*ck",
                "fucking",
                "class",
                "ass",
                "asshole",
                "piece",
                "of",
                "what",
                "the",
                "hell",
                "wanker",
                "scunthorpe",
                "-",
                "_",
                " ",
                ".",
                "*",
                "é",
                "1",
            ]
        ),
        max_size=10,
    ).map("".join)
)
def test_list_prefilter_matches_wherever_the_list_does(text: str) -> None:
    for view in ("skeleton", "normalized"):
        lexicon = compile_lexicon(_LIST, view, True)
        views = TextViews(text)
        view_text = views.skeleton.text if view == "skeleton" else views.normalized.text
        if find_matches(lexicon, view_text):
            assert re2.search(lexicon_re2(lexicon), view_text) is not None, (view, view_text)


def test_list_prefilter_needs_whole_words() -> None:
    lexicon = compile_lexicon(parse_entries(["ass", "what the hell"]), "normalized", True)
    source = lexicon_re2(lexicon)
    assert re2.search(source, "a classic cocktail") is None
    assert re2.search(source, "what a day") is None  # a phrase needs all its words
    assert re2.search(source, "what the hell") is not None


# --------------------------------------------------------------------------- word count


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("ab1_-' .,\n’é")), max_size=40))
def test_word_count_equals_the_words_view(text: str) -> None:
    assert _word_count(text) == len(_words(text))
    assert TextViews(text).word_count == len(TextViews(text).words)


def test_word_count_examples() -> None:
    assert _word_count("don't stop--now, re-run it") == 5
    assert _word_count("") == 0
    assert re.fullmatch(r"\d+", str(_word_count("a " * 50)))
