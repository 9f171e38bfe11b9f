"""Several real processes sharing one SQLite file or one Redis server: no strike lost,
none counted twice."""

from __future__ import annotations

import multiprocessing as mp
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from modrules.ledger import Ledger
from modrules.model import Action, Comment, Verdict, Violation
from modrules.rules.schema import Enforcement
from modrules.store import Account, AuditEvent, open_store
from tests.redis_server import RedisServer, redis_server  # noqa: F401

PROCESSES = 4
AUTHORS = ("a", "b", "c")
SHARED_COMMENTS = 30  # every process records these same verdicts
OWN_COMMENTS = 10  # and these, its own
BUMPS = 50  # plain read-modify-write increments per process and author
T0 = datetime(2024, 1, 1, tzinfo=UTC)
NEVER_BLOCK = Enforcement(warn_at=1e9, block_at=1e9, strike_expiry=None)


def verdict(cid: str) -> Verdict:
    rules = ("r-one", "r-two")
    violations = [
        Violation(rule=r, category="spam", clause=13, action=Action.DELETE, message=r)
        for r in rules
    ]
    return Verdict(comment_id=cid, action=Action.DELETE, violations=violations)


def bump(account: Account) -> tuple[Account, list[AuditEvent]]:
    account.blocks += 1  # no dedup here: any lost update shows in the final count
    return account, []


def worker(url: str, index: int, start: mp.synchronize.Event) -> None:
    start.wait()
    with open_store(url) as store:
        ledger = Ledger(store, NEVER_BLOCK)
        for n in range(max(SHARED_COMMENTS, OWN_COMMENTS, BUMPS)):
            for author in AUTHORS:
                when = T0 + timedelta(minutes=n)
                if n < SHARED_COMMENTS:
                    cid = f"{author}-shared-{n}"
                    ledger.record(
                        Comment(id=cid, text="x", author_id=author, created_at=when), verdict(cid)
                    )
                if n < OWN_COMMENTS:
                    cid = f"{author}-p{index}-{n}"
                    ledger.record(
                        Comment(id=cid, text="x", author_id=author, created_at=when), verdict(cid)
                    )
                if n < BUMPS:
                    store.update_account(author, bump)


def hammer(url: str) -> None:
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    procs = [ctx.Process(target=worker, args=(url, i, start)) for i in range(PROCESSES)]
    for proc in procs:
        proc.start()
    start.set()
    for proc in procs:
        proc.join(timeout=240)
        assert proc.exitcode == 0, f"worker exited with {proc.exitcode}"
    with open_store(url) as store:
        for author in AUTHORS:
            account = store.get_account(author)
            keys = [(s.comment_id, s.rule) for s in account.strikes]
            expected = 2 * (SHARED_COMMENTS + PROCESSES * OWN_COMMENTS)
            assert len(keys) == len(set(keys)) == expected
            assert account.blocks == PROCESSES * BUMPS
            strikes = [e for e in store.audit_log(author) if e.kind == "strike"]
            assert len(strikes) == expected


def test_processes_sharing_one_sqlite_file(tmp_path: Path) -> None:
    hammer(f"sqlite:///{tmp_path / 'shared.db'}")


def test_processes_sharing_one_redis_server(redis_server: RedisServer) -> None:  # noqa: F811
    hammer(redis_server.url(prefix="concurrency:"))


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_threads_sharing_one_store_object(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    import threading

    url = (
        f"sqlite:///{tmp_path / 'threads.db'}"
        if kind == "sqlite"
        else request.getfixturevalue("redis_server").url(prefix="threads:")
    )
    with open_store(url) as store:
        threads = [
            threading.Thread(target=lambda: [store.update_account("t", bump) for _ in range(100)])
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert store.get_account("t").blocks == 400
