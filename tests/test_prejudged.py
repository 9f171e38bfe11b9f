"""Judging in two parts — the stateless rules anywhere (`Moderator.prejudge`), the stateful
part in input order (`Moderator.moderate_prejudged`) — gives the verdicts of one
`moderate_many` over the stream: what `--workers` and the Dask engine rely on."""

from __future__ import annotations

import json
from pathlib import Path

from modrules import Moderator
from modrules.dumps import verdict_json
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
