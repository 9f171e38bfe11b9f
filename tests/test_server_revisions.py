"""Revised verdicts through the real service: the early members of a flash mob look
innocent when posted one by one; the comment that completes the mob revises them, and
the review queue follows (hold/flag: queued; delete: the queue item closed as deleted)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from modrules import Moderator, load_ruleset
from modrules.server import ServerSettings, create_app
from modrules.store import MemoryStore

from .stateful_support import DEFAULT_RULES, MOB_VARIANTS
from .test_server import AUTH, TOKEN, LiveServer

START = datetime.now(UTC).replace(microsecond=0)
ORDER = (0, 1, 2, 0, 1)  # near-identical copies (later members repeat earlier texts)


def mob_comment(i: int, prefix: str) -> dict[str, Any]:
    return {
        "id": f"{prefix}{i}",
        "author_id": f"{prefix}-author{i}",
        "thread_id": "t-pipeline",
        "text": MOB_VARIANTS[ORDER[i]],
        "created_at": (START + timedelta(seconds=30 * i)).isoformat(),
    }


def categories(verdict: dict[str, Any]) -> list[str]:
    return sorted({v["category"] for v in verdict["violations"]})


def serve(moderator: Moderator, store: MemoryStore) -> LiveServer:
    settings = ServerSettings(token=TOKEN, time_budget_ms=30_000)
    return LiveServer(create_app(moderator, store, settings))


def queue(client: httpx.Client, status: str = "pending") -> dict[str, dict[str, Any]]:
    items = client.get("/v1/review", params={"status": status}, headers=AUTH).json()["items"]
    return {item["comment"]["id"]: item for item in items}


@pytest.fixture
def default_service() -> Iterator[tuple[httpx.Client, MemoryStore]]:
    store = MemoryStore()
    moderator = Moderator(load_ruleset(None, disable_ml=True), store=store)
    with serve(moderator, store) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        yield client, store


def test_a_completed_mob_puts_its_early_members_in_the_review_queue(
    default_service: tuple[httpx.Client, MemoryStore],
) -> None:
    client, store = default_service
    for i in range(3):
        verdict = client.post("/v1/moderate", json=mob_comment(i, "m")).json()
        assert verdict["action"] == "publish", verdict  # alone, each looks innocent
    assert queue(client) == {}
    fourth = client.post("/v1/moderate", json=mob_comment(3, "m")).json()
    assert fourth["action"] == "hold" and categories(fourth) == ["flash-mob"]
    pending = queue(client)
    assert sorted(pending) == ["m0", "m1", "m2", "m3"]
    for cid in ("m0", "m1", "m2"):
        item = pending[cid]
        assert item["verdict"]["action"] == "hold"
        assert categories(item["verdict"]) == ["flash-mob"]
        assert item["comment"]["text"] == MOB_VARIANTS[ORDER[int(cid[1])]]
    # The revisions were enforced: every member's author has the mob's strike.
    for i in range(4):
        strikes = store.get_account(f"m-author{i}").strikes
        assert [s.rule for s in strikes] == ["flash-mob-coordinated"]
    # A later member of a known mob is queued as it comes; the rest are not re-queued.
    before = {cid: item["queued_at"] for cid, item in pending.items()}
    fifth = client.post("/v1/moderate", json=mob_comment(4, "m")).json()
    assert fifth["action"] == "hold"
    after = queue(client)
    assert sorted(after) == ["m0", "m1", "m2", "m3", "m4"]
    assert {cid: after[cid]["queued_at"] for cid in before} == before


POLICY_HOLD_RULE = """\
id: minister-watch
category: off-topic
clause: 1
action: hold
severity: minor
message: "Mentions the minister: held for a look."
when:
  pattern: '\\bminister\\b'
examples:
  match: ["The minister spoke."]
  no_match: ["The ministry spoke."]
"""


@pytest.fixture
def delete_service(tmp_path: Path) -> Iterator[tuple[httpx.Client, MemoryStore]]:
    """Mobs are deleted here, and anything naming the minister is held first."""
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(DEFAULT_RULES / "policy.yaml", rules / "policy.yaml")
    mob = (DEFAULT_RULES / "16-flash-mob.yaml").read_text()
    assert "\naction: hold\n" in mob
    (rules / "16-flash-mob.yaml").write_text(mob.replace("\naction: hold\n", "\naction: delete\n"))
    (rules / "01-minister.yaml").write_text(POLICY_HOLD_RULE)
    store = MemoryStore()
    moderator = Moderator(load_ruleset(rules, disable_ml=True), store=store)
    with serve(moderator, store) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        yield client, store


def test_a_revision_to_delete_closes_the_queue_item(
    delete_service: tuple[httpx.Client, MemoryStore],
) -> None:
    client, store = delete_service
    for i in range(3):
        verdict = client.post("/v1/moderate", json=mob_comment(i, "d")).json()
        assert verdict["action"] == "hold" and categories(verdict) == ["off-topic"]
    assert sorted(queue(client)) == ["d0", "d1", "d2"]
    # A moderator approved one before the mob was clear; the mob overrides that.
    approved = client.post("/v1/review/d0/approve", json={"moderator": "ann"}, headers=AUTH)
    assert approved.json()["status"] == "approved"
    fourth = client.post("/v1/moderate", json=mob_comment(3, "d")).json()
    assert fourth["action"] == "delete"
    assert queue(client) == {}
    deleted = queue(client, "deleted")
    assert sorted(deleted) == ["d0", "d1", "d2"]  # the fourth was refused, never queued
    for item in deleted.values():
        assert item["verdict"]["action"] == "delete"
        assert "flash-mob" in categories(item["verdict"])
        assert item["decided_by"] == "modrules"
        assert "flash-mob-coordinated" in item["note"]
    logged = [e for e in store.audit_log("d-author0") if e.kind == "review-deleted"]
    assert [(e.actor, e.details["comment_id"]) for e in logged] == [("modrules", "d0")]
