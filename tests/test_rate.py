"""Flooding (clause 17): the `rate` predicate, the incoherence score, and quality on
labeled scenarios."""

from __future__ import annotations

from pathlib import Path

import pytest

from modrules.fingerprint import incoherence

from .stateful_support import comment, precision_recall, scenarios, stateful_moderator

GIBBERISH = [
    "asdfghjkl",
    "qwertyuiop qwertyuiop",
    "zxcvbnm",
    "hjkhjkhjkhjk",
    "lolololololol",
    "mmmmmmmmmmmm",
    "?????????",
    "!!!!!!!!!!!!",
    "bus bus bus bus bus",
    "tram tram tram tram",
    "xkcdvbnrt",
    "hahahahahaha",
]
SENTENCES = [
    "The tram study is a waste of money; the roads need fixing first.",
    "No, the study would show whether the tram pays for itself over thirty years.",
    "Potholes on the ring road have been there since 2015, that is my point.",
    "NATO and the EU disagree on the HTML spec of the new portal, apparently.",
    "Это хороший вопрос, но ответа в статье нет.",
    "Agreed.",
    "Well said",
]
DEBATE = SENTENCES[:3] + [
    "You say the tram takes cars off the road, but the buses already do that.",
    "Fine, then publish the study's costs before the council votes on it.",
    "Agreed, that is a fair compromise.",
    "Source?",
    "Exactly.",
    "The council's own figures show bus use fell 12% last year.",
    "Well said",
]


@pytest.mark.parametrize("text", GIBBERISH)
def test_gibberish_is_incoherent(text: str) -> None:
    assert incoherence(text) >= 0.5


@pytest.mark.parametrize("text", SENTENCES)
def test_language_is_coherent(text: str) -> None:
    assert incoherence(text) < 0.3


def test_a_flooder_is_caught_with_every_message(tmp_path: Path) -> None:
    moderator = stateful_moderator(tmp_path)
    burst = [comment(f"f{i}", "flooder", i * 0.4, text) for i, text in enumerate(GIBBERISH[:8])]
    verdicts = list(moderator.moderate_many(burst))
    assert [v.comment_id for v in verdicts] == [c["id"] for c in burst]
    for verdict in verdicts:
        assert verdict.categories == ["flooding"], verdict
        assert "8 comments in this thread within 10 minutes" in verdict.violations[0].message


def test_a_busy_coherent_debater_is_not_a_flooder(tmp_path: Path) -> None:
    moderator = stateful_moderator(tmp_path)
    debate = [comment(f"d{i}", "debater", i * 0.5, text) for i, text in enumerate(DEBATE)]
    assert all(v.categories == [] for v in moderator.moderate_many(debate))


def test_noise_needs_a_burst_in_one_thread(tmp_path: Path) -> None:
    moderator = stateful_moderator(tmp_path)
    few = [comment(f"a{i}", "few", i, GIBBERISH[i]) for i in range(4)]
    spread = [comment(f"b{i}", "slow", 10 + 20 * i, GIBBERISH[i]) for i in range(8)]
    threads = [
        comment(f"c{i}", "hopper", 200 + i * 0.5, GIBBERISH[i], thread=f"t{i}") for i in range(8)
    ]
    many_people = [comment(f"e{i}", f"p{i}", 300 + i * 0.2, GIBBERISH[i]) for i in range(8)]
    verdicts = list(moderator.moderate_many(few + spread + threads + many_people))
    assert all("flooding" not in v.categories for v in verdicts)


def test_copies_of_own_text_count_as_noise(tmp_path: Path) -> None:
    moderator = stateful_moderator(tmp_path)
    text = "Read the real story the media will not tell you on my channel"
    copies = [comment(f"k{i}", "copier", i * 0.5, text + "!" * i) for i in range(6)]
    verdicts = list(moderator.moderate_many(copies))
    assert all("flooding" in v.categories for v in verdicts)


@pytest.mark.parametrize("seed", [1, 3])
def test_precision_and_recall_on_scenarios(tmp_path: Path, seed: int) -> None:
    lines = scenarios(seed)
    moderator = stateful_moderator(tmp_path)
    verdicts = list(
        moderator.moderate_many(
            {k: v for k, v in line.items() if k != "categories"} for line in lines
        )
    )
    precision, recall, support = precision_recall(lines, verdicts, "flooding")
    assert support >= 90
    assert precision >= 0.97, precision
    assert recall >= 0.95, recall
