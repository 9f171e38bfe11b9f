"""Judging in two parts — the stateless rules anywhere (`Moderator.prejudge`), the stateful
part in input order (`Moderator.moderate_prejudged`) — gives the verdicts of one
`moderate_many` over the stream: what `--workers` and the Dask engine rely on."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from modrules import Moderator
from modrules.dumps import verdict_json
from modrules.engine import Prejudged, text_crc
from modrules.fingerprint import Fingerprint, fingerprint
from modrules.model import Comment
from modrules.rules import load_ruleset
from modrules.store import open_store
from tests.conftest import FIXTURES
from tests.stateful_support import scenarios

STATEFUL = {"flash-mob", "flooding"}


def stream() -> list[Comment]:
    rows = [json.loads(line) for line in (FIXTURES / "dev-comments.jsonl").read_bytes().splitlines()]
    return [Comment.model_validate(r) for r in [*rows, *scenarios(3)]]


def test_two_parts_give_the_single_stream_verdicts(tmp_path: Path) -> None:
    ruleset = load_ruleset(None, disable_ml=True)
    comments = stream()
    with Moderator(ruleset, store=open_store(f"sqlite:///{tmp_path / 'a.db'}")) as whole:
        expected = [verdict_json(v) for v in whole.moderate_many(comments)]

    # The stateless part in "another process": its own Moderator, no store, odd batches.
    found = list(Moderator(ruleset, batch_size=7).prejudge((c, None) for c in comments))
    assert len(found) == len(comments)
    assert not any(v.category in STATEFUL for p in found for v in p.violations)
    assert sum(bool(p.violations) for p in found) > 100  # the stateless rules did find things

    with Moderator(ruleset, store=open_store(f"sqlite:///{tmp_path / 'b.db'}")) as rest:
        got = [verdict_json(v) for v in rest.moderate_prejudged(
            (c, None, p) for c, p in zip(comments, found, strict=True)
        )]
    assert got == expected
    joined = b"".join(got)
    for needle in (b'"category":"flash-mob"', b'"category":"flooding"', b'"account_action":"block"'):
        assert needle in joined


def test_prejudged_findings_stand_for_the_stateless_rules() -> None:
    """`moderate_prejudged` does not judge the stateless rules again: what it is given is
    what the verdict says (so a worker's findings are never second-guessed)."""
    ruleset = load_ruleset(None, disable_ml=True)
    profane = Comment(id="c1", text="What the f*ck is this article")
    clean = Comment(id="c2", text="A calm remark about the budget.")
    (found,) = Moderator(ruleset).prejudge([(profane, None)])
    assert {v.category for v in found.violations} == {"profanity"}
    (swapped,) = Moderator(ruleset).moderate_prejudged([(clean, None, found)])
    assert swapped.comment_id == "c2"
    assert swapped.violations == list(found.violations)
    assert swapped.action.value != "publish"


def _verdicts(moderator: Moderator, comments: list[Comment], found: list[Prejudged]) -> list[bytes]:
    with moderator:
        return [verdict_json(v) for v in moderator.moderate_prejudged(
            (c, None, p) for c, p in zip(comments, found, strict=True)
        )]


def test_fingerprints_from_the_stateless_part_give_the_same_verdicts() -> None:
    """`prejudge(..., fingerprint=True)` ships each remembered comment's window fingerprint
    (what `--workers` does): the verdicts are those of the stateful pass computing them,
    and the fingerprints are exactly the window's own."""
    ruleset = load_ruleset(None, disable_ml=True)
    comments = stream()
    plain = list(Moderator(ruleset, batch_size=7).prejudge((c, None) for c in comments))
    shipped = list(Moderator(ruleset, batch_size=7).prejudge(((c, None) for c in comments), fingerprint=True))
    for comment, p, q in zip(comments, plain, shipped, strict=True):
        assert (q.violations, q.timed_out) == (p.violations, p.timed_out)
        if comment.author_id is None or comment.created_at is None:
            assert q.fingerprint is None  # the window does not remember it
            continue
        assert q.fingerprint is not None and q.text_crc == text_crc(comment.text)
        expected = fingerprint(comment.text)
        assert np.array_equal(q.fingerprint.signature, expected.signature)
        assert (q.fingerprint.bands, q.fingerprint.incoherence, q.fingerprint.informative) == (
            expected.bands, expected.incoherence, expected.informative,
        )
    assert sum(p.fingerprint is not None for p in shipped) > 400
    expected_verdicts = _verdicts(Moderator(ruleset, store=open_store("memory")), comments, plain)
    assert _verdicts(Moderator(ruleset, store=open_store("memory")), comments, shipped) == expected_verdicts
    # With no stateful rule there is no window: nothing to fingerprint.
    assert all(p.fingerprint is None for p in Moderator(load_ruleset(None, disable_ml=True)).prejudge(
        [(comments[0], None)], fingerprint=False
    ))


def _mob() -> list[Comment]:
    from tests.stateful_support import MOB_VARIANTS, comment

    rows = [comment(f"m{i}", f"acct{i}", i, text, f"t{i % 3}") for i, text in enumerate(MOB_VARIANTS)]
    return [Comment.model_validate(r) for r in rows]


def test_a_fingerprint_not_of_the_comments_text_is_refused() -> None:
    """A fingerprint paired with the wrong comment (its checksum is another text's) or
    malformed is ignored and computed again: the verdicts stay right. Trusted, a wrong
    one would have hidden the flash mob (the control below shows it does)."""
    ruleset = load_ruleset(None, disable_ml=True)
    mob = _mob()
    found = list(Moderator(ruleset).prejudge(((c, None) for c in mob), fingerprint=True))
    expected = _verdicts(Moderator(ruleset, store=open_store("memory")), mob, found)
    assert sum(b'"category":"flash-mob"' in v for v in expected) == len(mob)

    # Every member paired with the fingerprint (and checksum) of a distinct unrelated text.
    rows = [json.loads(line) for line in (FIXTURES / "dev-comments.jsonl").read_bytes().splitlines()]
    texts = [r["text"] for r in rows if not r["categories"] and len(r["text"]) > 80][: len(mob)]
    others = [fingerprint(t) for t in texts]
    wrong_text = [replace(p, fingerprint=fp, text_crc=text_crc(t)) for p, fp, t in zip(found, others, texts, strict=True)]
    assert _verdicts(Moderator(ruleset, store=open_store("memory")), mob, wrong_text) == expected

    # The control: with a forged checksum the wrong fingerprints are used, and the mob is gone.
    forged = [replace(p, fingerprint=fp, text_crc=text_crc(c.text)) for p, fp, c in zip(found, others, mob, strict=True)]
    assert not any(b'"category":"flash-mob"' in v
                   for v in _verdicts(Moderator(ruleset, store=open_store("memory")), mob, forged))

    # Malformed ones, with the right checksum: refused all the same.
    def malformed(fp: Fingerprint, i: int) -> Fingerprint:
        return [
            replace(fp, signature=fp.signature[:10]),
            replace(fp, signature=fp.signature.astype(np.int64)),
            replace(fp, incoherence=7.5),
            replace(fp, bands=fp.bands[:3]),
            replace(fp, signature=[1, 2, 3]),  # type: ignore[arg-type]
        ][i % 5]

    bad = [
        replace(p, fingerprint=malformed(fp, i), text_crc=text_crc(c.text))
        for i, (p, fp, c) in enumerate(zip(found, others, mob, strict=True))
    ]
    assert _verdicts(Moderator(ruleset, store=open_store("memory")), mob, bad) == expected
