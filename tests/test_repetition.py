"""Flash mobs (clause 16): the `repetition` predicate, its fingerprints, and its quality
on labeled scenarios."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from modrules.fingerprint import fingerprint, similarity

from .stateful_support import (
    MOB_TEXT,
    MOB_VARIANTS,
    comment,
    precision_recall,
    scenarios,
    stateful_moderator,
)


def test_edited_copies_stay_similar() -> None:
    base = fingerprint(MOB_TEXT)
    for variant in MOB_VARIANTS[1:]:
        assert similarity(base.signature, fingerprint(variant).signature) >= 0.6, variant


def test_different_comments_on_one_topic_are_not_similar() -> None:
    a = fingerprint(
        "The minister lied to parliament about the pipeline deal, demand his resignation now"
    )
    b = fingerprint(
        "I doubt the minister lied; the pipeline deal was approved by parliament in 2015 anyway."
    )
    c = fingerprint(
        "Can we get a follow-up on the pipeline deal? The article only mentions it once."
    )
    assert similarity(a.signature, b.signature) < 0.4
    assert similarity(a.signature, c.signature) < 0.4
    assert similarity(b.signature, c.signature) < 0.4


@pytest.mark.parametrize(
    "text",
    ["Agreed.", "Well said 👍", "Thanks for sharing this great article!", "+1", "So true!!", "lol"],
)
def test_stock_replies_are_not_informative(text: str) -> None:
    fp = fingerprint(text)
    assert not fp.informative and fp.bands == ()


def test_band_keys_are_the_same_in_another_process() -> None:
    # Stores share band keys across runs and processes: no salted hashing anywhere.
    code = f"from modrules.fingerprint import fingerprint; print(','.join(map(str, fingerprint({MOB_TEXT!r}).bands)))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == ",".join(map(str, fingerprint(MOB_TEXT).bands))


def test_a_mob_of_different_accounts_is_caught_whole(tmp_path: Path) -> None:
    moderator = stateful_moderator(tmp_path)
    mob = [comment(f"m{i}", f"u{i}", i * 0.5, text) for i, text in enumerate(MOB_VARIANTS)]
    verdicts = list(moderator.moderate_many(mob))
    assert [v.comment_id for v in verdicts] == [c["id"] for c in mob]
    for verdict in verdicts:
        assert verdict.categories == ["flash-mob"], verdict
        assert verdict.action.value == "hold"
    # Each message names the copies near-identical to that comment, counted once the mob
    # is complete: the first comment (copied by all) is near-identical to all eight.
    assert "8 near-identical comments from 8 accounts" in verdicts[0].violations[0].message
    for verdict in verdicts[1:]:
        assert re.search(
            r"\b[4-8] near-identical comments from [4-8] accounts", verdict.violations[0].message
        )


def test_too_few_accounts_one_account_or_hours_apart_are_not_a_mob(tmp_path: Path) -> None:
    moderator = stateful_moderator(tmp_path)
    three = [comment(f"a{i}", f"u{i}", i, MOB_VARIANTS[i]) for i in range(3)]
    one_account = [comment(f"b{i}", "solo", 20 + i, MOB_VARIANTS[i]) for i in range(6)]
    spread = [comment(f"c{i}", f"w{i}", 100 + 30 * i, MOB_VARIANTS[i]) for i in range(6)]
    verdicts = list(moderator.moderate_many(three + one_account + spread))
    assert all("flash-mob" not in v.categories for v in verdicts)


def test_popular_short_replies_are_not_a_mob(tmp_path: Path) -> None:
    moderator = stateful_moderator(tmp_path)
    replies = [
        "Agreed.",
        "Agreed!",
        "Well said",
        "well said 👍",
        "Thanks for sharing!",
        "+1",
        "So true!",
        "This!",
    ]
    crowd = [comment(f"r{i}", f"u{i}", i * 0.2, text) for i, text in enumerate(replies * 3)]
    assert all(v.categories == [] for v in moderator.moderate_many(crowd))


def test_the_same_text_cross_posted_by_one_account(tmp_path: Path) -> None:
    moderator = stateful_moderator(tmp_path)
    posts = [
        comment(f"x{i}", "campaigner", i, MOB_VARIANTS[i % 2], thread=f"t{i}") for i in range(3)
    ]
    verdicts = list(moderator.moderate_many(posts))
    assert all(v.violations and v.violations[0].rule == "flash-mob-repeated-text" for v in verdicts)
    assert "3 times in 3 threads" in verdicts[0].violations[0].message


def test_thread_scope(make_ruleset, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from modrules import Moderator

    rule = """
        id: mob-in-thread
        category: flash-mob
        clause: 16
        action: hold
        message: "mob: {detail}"
        when:
          repetition: {window: 5m, min_authors: 3, scope: thread}
        examples:
          match:
            - sequence:
                - {author: a, text: "Boycott every company that sponsors this festival, they fund the occupation"}
                - {author: b, at: 1m, text: "Boycott every company that sponsors this festival!! They fund the occupation"}
                - {author: c, at: 2m, text: "boycott every company that sponsors this festival they fund the occupation"}
          no_match:
            - sequence:
                - {author: a, text: "Boycott every company that sponsors this festival, they fund the occupation"}
                - {author: b, at: 1m, thread: t2, text: "Boycott every company that sponsors this festival!! They fund the occupation"}
                - {author: c, at: 2m, thread: t3, text: "boycott every company that sponsors this festival they fund the occupation"}
    """
    moderator = Moderator.from_path(make_ruleset({"mob.yaml": rule}))
    from modrules.rules.examples import run_examples

    outcomes = run_examples(moderator)
    assert len(outcomes) == 2 and all(o.passed for o in outcomes), outcomes
    split = [comment(f"s{i}", f"u{i}", i, MOB_VARIANTS[i], thread=f"t{i % 2}") for i in range(4)]
    assert all(v.categories == [] for v in moderator.moderate_many(split))


@pytest.mark.parametrize("seed", [1, 2])
def test_precision_and_recall_on_scenarios(tmp_path: Path, seed: int) -> None:
    lines = scenarios(seed)
    moderator = stateful_moderator(tmp_path)
    verdicts = list(
        moderator.moderate_many(
            {k: v for k, v in line.items() if k != "categories"} for line in lines
        )
    )
    precision, recall, support = precision_recall(lines, verdicts, "flash-mob")
    assert support >= 90
    assert precision >= 0.97, precision
    assert recall >= 0.9, recall


def test_hostile_text_and_missing_fields_never_crash(tmp_path: Path) -> None:
    moderator = stateful_moderator(tmp_path)
    items = [
        comment("h1", "u1", 0, "a" * 1_000_000),
        comment("h2", "u2", 0.1, "\u202e\u200b" * 10_000 + "🙂" * 50_000),
        comment("h3", "u3", 0.2, " ".join(f"w{i}" for i in range(200_000))),
        comment("h4", None, 0.3, MOB_TEXT),
        {"id": "h5", "text": MOB_TEXT},
        comment("h6", "u6", 0.4, ""),
    ]
    verdicts = list(moderator.moderate_many(items))
    assert [v.comment_id for v in verdicts] == ["h1", "h2", "h3", "h4", "h5", "h6"]
    assert all("flash-mob" not in v.categories for v in verdicts)
