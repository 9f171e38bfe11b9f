"""Retroactive verdicts: the first members of a flash mob or a flood are revised when
a later comment completes it — final verdicts in batch (`modrules check`), revisions
online (`Moderator.revisions`, `on_revision`), enforced so strikes follow."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modrules.model import Verdict
from modrules.store import open_store
from modrules.store.memory import MemoryStore
from tests.redis_server import redis_server, redis_url  # noqa: F401 - fixtures

from .stateful_support import MOB_VARIANTS, comment, stateful_moderator, stateful_rules_dir


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modrules", "check", "--quiet", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"MODRULES_NO_ML": "1", "PATH": "/usr/bin:/bin"},
    )


def _write(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in items))
    return path


def test_modrules_check_prints_the_final_verdict_of_every_member(tmp_path: Path) -> None:
    mob = [comment(f"m{i}", f"u{i}", 1 + i * 0.5, text) for i, text in enumerate(MOB_VARIANTS[:6])]
    flood = [
        comment(f"f{i}", "flooder", 2 + i * 0.3, t, thread="t2")
        for i, t in enumerate(
            ["asdfgh", "?????", "lol lol lol lol", "hjkhjkhjk", "mmmmmmmm", "qwertyuiop"]
        )
    ]
    clean = [
        comment(
            f"c{i}",
            f"reader{i}",
            1.2 + i,
            "I read the article twice and still find the budget figures unclear.",
        )
        for i in range(3)
    ]
    items = sorted(mob + flood + clean, key=lambda c: c["created_at"])
    items.append({"id": "no-author", "text": MOB_VARIANTS[0]})
    dump = _write(tmp_path / "dump.jsonl", items)
    result = _check(str(dump), "--no-ml", "-o", str(tmp_path / "out.jsonl"))
    assert result.returncode == 0, result.stderr
    verdicts = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [v["comment_id"] for v in verdicts] == [c["id"] for c in items]
    by_id = {v["comment_id"]: v for v in verdicts}
    for member in mob:
        rules = [x["rule"] for x in by_id[member["id"]]["violations"]]
        assert "flash-mob-coordinated" in rules, by_id[member["id"]]
    first = next(x for x in by_id["m0"]["violations"] if x["category"] == "flash-mob")
    assert "6 near-identical comments from 6 accounts" in first["message"]
    assert first["evidence"][0]["start"] == 0 and first["evidence"][0]["text"] == MOB_VARIANTS[0]
    for member in flood:
        assert "flooding" in {x["category"] for x in by_id[member["id"]]["violations"]}
    for item in [*clean, items[-1]]:
        assert not {x["category"] for x in by_id[item["id"]]["violations"]} & {
            "flash-mob",
            "flooding",
        }


def test_online_revisions_reach_the_iterator_and_the_callback(tmp_path: Path) -> None:
    moderator = stateful_moderator(tmp_path)
    called: list[Verdict] = []
    moderator.on_revision = called.append
    first = [moderator.moderate(comment(f"m{i}", f"u{i}", i, MOB_VARIANTS[i])) for i in range(3)]
    assert all(v.categories == [] for v in first)
    assert list(moderator.revisions()) == []
    fourth = moderator.moderate(comment("m3", "u3", 3, MOB_VARIANTS[0]))
    assert fourth.categories == ["flash-mob"]
    revised = list(moderator.revisions())
    assert sorted(v.comment_id for v in revised) == ["m0", "m1", "m2"]
    assert all(v.categories == ["flash-mob"] and v.action.value == "hold" for v in revised)
    assert called == revised
    assert list(moderator.revisions()) == []  # each revision once
    moderator.moderate(comment("m4", "u4", 4, MOB_VARIANTS[1]))
    assert list(moderator.revisions()) == []  # already flagged: nothing to revise


def test_revised_verdicts_are_enforced(tmp_path: Path) -> None:
    store = MemoryStore()
    moderator = stateful_moderator(tmp_path, store=store)
    for i, variant in enumerate((0, 1, 5, 7)):  # copies all near-identical to each other
        moderator.moderate(comment(f"m{i}", f"u{i}", i, MOB_VARIANTS[variant]))
    for author in ("u0", "u1", "u2", "u3"):
        strikes = store.get_account(author).strikes
        assert [s.rule for s in strikes] == ["flash-mob-coordinated"], (author, strikes)


def test_batch_memory_is_bounded_by_the_window(tmp_path: Path) -> None:
    moderator = stateful_moderator(tmp_path)
    consumed = 0

    def stream() -> Iterator[dict[str, Any]]:
        nonlocal consumed
        for i in range(400):
            consumed += 1
            yield comment(
                f"s{i}", f"u{i % 37}", i, f"Comment number {i} about topic {i * 7919 % 1000} here"
            )

    lags = []
    for index, verdict in enumerate(moderator.moderate_many(stream())):
        assert verdict.comment_id == f"s{index}"
        lags.append(consumed - index)
    # One comment a minute and a 10-minute window: a verdict waits for about ten more
    # comments (plus one engine batch), never for the whole stream.
    assert max(lags[:300]) <= 10 + moderator.batch_size + 2
    assert len(moderator._retro.window) <= 2 * 10 + 2  # type: ignore[union-attr]


def test_out_of_order_input_is_judged_the_same(tmp_path: Path) -> None:
    mob = [
        comment(f"m{i}", f"u{i}", i * 0.5, MOB_VARIANTS[v]) for i, v in enumerate((0, 1, 4, 5, 7))
    ]
    in_order = [v.categories for v in stateful_moderator(tmp_path).moderate_many(mob)]
    reverse = [v.categories for v in stateful_moderator(tmp_path).moderate_many(mob[::-1])]
    assert in_order == reverse[::-1] == [["flash-mob"]] * 5


def test_state_persists_across_runs_with_sqlite(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'state.db'}"
    rules = str(stateful_rules_dir(tmp_path))
    mob = [comment(f"m{i}", f"u{i}", i * 0.5, text) for i, text in enumerate(MOB_VARIANTS[:6])]
    first = _write(tmp_path / "first.jsonl", mob[:3])
    second = _write(tmp_path / "second.jsonl", mob[3:])
    for dump, out in ((first, "out1.jsonl"), (second, "out2.jsonl")):
        result = _check(str(dump), "--rules", rules, "--store", db, "-o", str(tmp_path / out))
        assert result.returncode == 0, result.stderr
    run1 = [json.loads(line) for line in (tmp_path / "out1.jsonl").read_text().splitlines()]
    run2 = [json.loads(line) for line in (tmp_path / "out2.jsonl").read_text().splitlines()]
    assert all(v["violations"] == [] for v in run1)  # three accounts are not yet a mob
    assert all(v["violations"][0]["category"] == "flash-mob" for v in run2)
    assert "from 6 accounts" in run2[-1]["violations"][0]["message"]


def test_eval_judges_one_stream_so_mobs_across_batches_are_revised(tmp_path: Path) -> None:
    from modrules.evaluation import judged
    from modrules.model import Comment

    chatter = [
        comment(f"b{i}", f"r{i}", i * 0.01, f"Reader {i} thinks item {i * 7919 % 997} matters")
        for i in range(254)  # the mob straddles comment 256, where eval once cut batches
    ]
    mob = [
        comment(f"m{i}", f"u{i}", 3 + i * 0.5, MOB_VARIANTS[v])
        for i, v in enumerate((0, 1, 5, 7, 6))
    ]
    stream = [Comment.model_validate(c) for c in chatter + mob]
    verdicts = {c.id: v for c, v in judged(stateful_moderator(tmp_path), stream)}
    assert all(verdicts[m["id"]].categories == ["flash-mob"] for m in mob)


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_the_window_carries_over_to_a_new_moderator_through_the_store(
    tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'state.db'}"
        if kind == "sqlite"
        else request.getfixturevalue("redis_url")
    )
    mob = [comment(f"m{i}", f"u{i}", i * 0.5, MOB_VARIANTS[v]) for i, v in enumerate((0, 1, 5, 7))]
    with open_store(url) as store:
        first = stateful_moderator(tmp_path, store=store)
        assert all(v.categories == [] for v in first.moderate_many(mob[:3]))
    with open_store(url) as store:  # another process, later: the window comes back from the store
        second = stateful_moderator(tmp_path, store=store)
        (verdict,) = second.moderate_many(mob[3:])
    assert verdict.categories == ["flash-mob"]
    assert "4 near-identical comments from 4 accounts" in verdict.violations[0].message
