"""One suite for every Store: memory, SQLite and a real Redis server."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from modrules.model import Comment, Severity, Verdict
from modrules.store import (
    Account,
    AccountStatus,
    AuditEvent,
    MemoryStore,
    RecentComment,
    ReviewItem,
    Store,
    StoreError,
    Strike,
    open_store,
)
from modrules.store.base import to_us
from modrules.store.sqlite import SQLiteStore
from tests.redis_server import RedisServer, redis_server, redis_url  # noqa: F401

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


StoreFactory = Callable[[], Store]


@pytest.fixture(params=["memory", "sqlite", "redis"])
def reopen(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Opens (again) the same store: for memory, the same object."""
    opened: list[Store] = []
    if request.param == "memory":
        memory = MemoryStore()

        def factory() -> Store:
            return memory
    else:
        url = (
            f"sqlite:///{tmp_path / 'state.db'}"
            if request.param == "sqlite"
            else request.getfixturevalue("redis_url")
        )

        def factory() -> Store:
            opened.append(open_store(url))
            return opened[-1]

    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def store(reopen: StoreFactory) -> Store:
    return reopen()


def event(author: str, kind: str, when: datetime, reason: str = "") -> AuditEvent:
    return AuditEvent.model_validate(
        {"at": when, "author_id": author, "kind": kind, "reason": reason}
    )


def add_block(when: datetime) -> Callable[[Account], tuple[Account, list[AuditEvent]]]:
    def change(account: Account) -> tuple[Account, list[AuditEvent]]:
        account.blocks += 1
        account.status = AccountStatus.BLOCKED
        account.blocked_at = when
        strike = Strike(
            comment_id=f"c{account.blocks}",
            rule="r",
            category="hate",
            severity=Severity.MAJOR,
            weight=2.0,
            at=when,
        )
        account.strikes.append(strike)
        return account, [event(account.author_id, "block", when, f"block {account.blocks}")]

    return change


# --- accounts -----------------------------------------------------------------------
def test_unknown_author_is_a_fresh_unsaved_account(store: Store) -> None:
    account = store.get_account("nobody")
    assert account == Account(author_id="nobody")
    assert store.accounts() == []
    assert store.audit_log() == []


def test_update_saves_bumps_version_and_logs_in_one_step(store: Store) -> None:
    first = store.update_account("u1", add_block(at(0)))
    second = store.update_account("u1", add_block(at(5)))
    assert (first.version, second.version) == (1, 2)
    saved = store.get_account("u1")
    assert saved == second
    assert saved.blocks == 2 and saved.status == AccountStatus.BLOCKED
    assert [s.comment_id for s in saved.strikes] == ["c1", "c2"]
    assert saved.strikes[0].at == at(0)
    assert [e.reason for e in store.audit_log("u1")] == ["block 1", "block 2"]


def test_a_change_that_changes_nothing_writes_nothing(store: Store) -> None:
    store.update_account("u1", add_block(at(0)))
    same = store.update_account("u1", lambda a: (a, []))
    assert same.version == 1
    assert store.get_account("u1").version == 1
    assert store.update_account("ghost", lambda a: (a, [])).version == 0
    assert [a.author_id for a in store.accounts()] == ["u1"]


def test_a_failing_change_saves_nothing(store: Store) -> None:
    def boom(account: Account) -> tuple[Account, list[AuditEvent]]:
        account.blocks = 7
        raise ValueError("no")

    with pytest.raises(ValueError):
        store.update_account("u1", boom)
    assert store.get_account("u1").blocks == 0
    assert store.audit_log() == []


def test_a_change_may_not_rename_the_account(store: Store) -> None:
    with pytest.raises(StoreError, match="rename"):
        store.update_account("u1", lambda a: (a.model_copy(update={"author_id": "u2"}), []))


def test_the_caller_cannot_mutate_saved_state(store: Store) -> None:
    account = store.update_account("u1", add_block(at(0)))
    account.blocks = 99
    account.strikes.clear()
    got = store.get_account("u1")
    assert got.blocks == 1 and len(got.strikes) == 1


def test_accounts_by_status_sorted_by_author(store: Store) -> None:
    for author in ("b", "a", "c"):
        store.update_account(author, add_block(at(0)))

    def delete(account: Account) -> tuple[Account, list[AuditEvent]]:
        account.status = AccountStatus.DELETED
        account.deleted_at = at(1)
        return account, [event(account.author_id, "account-deleted", at(1))]

    store.update_account("b", delete)
    assert [a.author_id for a in store.accounts()] == ["a", "b", "c"]
    assert [a.author_id for a in store.accounts(AccountStatus.BLOCKED)] == ["a", "c"]
    assert [a.author_id for a in store.accounts(AccountStatus.DELETED)] == ["b"]
    assert store.accounts(AccountStatus.PERMANENTLY_BLOCKED) == []


def test_audit_log_is_ordered_by_time_then_logging_order(store: Store) -> None:
    def log(*events: AuditEvent) -> Callable[[Account], tuple[Account, list[AuditEvent]]]:
        return lambda account: (account, list(events))

    store.update_account("a", log(event("a", "strike", at(10), "a10")))
    store.update_account("b", log(event("b", "strike", at(5), "b5")))
    # Two events at one time keep the order they were logged in.
    store.update_account(
        "a", log(event("a", "warn", at(7), "a7-1"), event("a", "block", at(7), "a7-2"))
    )
    assert [e.reason for e in store.audit_log()] == ["b5", "a7-1", "a7-2", "a10"]
    assert [e.reason for e in store.audit_log("a")] == ["a7-1", "a7-2", "a10"]
    assert [e.reason for e in store.audit_log(limit=2)] == ["a7-2", "a10"]
    assert [e.reason for e in store.audit_log("b", limit=5)] == ["b5"]
    assert store.audit_log(limit=0) == []
    assert store.audit_log("nobody") == []
    assert store.audit_log("a")[0].kind == "warn"


def test_mixed_naive_and_aware_times_compare(store: Store) -> None:
    naive = datetime(2024, 5, 1, 12, 30)  # taken as UTC
    plus_two = datetime(2024, 5, 1, 14, 20, tzinfo=timezone(timedelta(hours=2)))  # 12:20 UTC
    store.update_account("a", lambda a: (a, [event("a", "strike", naive, "naive")]))
    store.update_account("a", lambda a: (a, [event("a", "strike", plus_two, "aware")]))
    assert [e.reason for e in store.audit_log("a")] == ["aware", "naive"]


def test_state_survives_reopening(reopen: StoreFactory) -> None:
    first = reopen()
    first.update_account("u1", add_block(at(0)))
    first.add_recent(
        [RecentComment(comment_id="c1", author_id="u1", thread_id="t", at=at(0), bands=("x",))]
    )
    again = reopen()
    assert again.get_account("u1").blocks == 1
    assert [e.kind for e in again.audit_log("u1")] == ["block"]
    assert [r.comment_id for r in again.recent_by_bands(["x"], at(-1))] == ["c1"]


# --- the review queue ------------------------------------------------------------------
def review(comment_id: str, queued: datetime, author: str | None = "u1") -> ReviewItem:
    comment = Comment(id=comment_id, text=f"text of {comment_id}", author_id=author, thread_id="t")
    return ReviewItem(comment=comment, verdict=Verdict(comment_id=comment_id), queued_at=queued)


def test_review_queue_is_oldest_first_and_replaces_by_comment_id(store: Store) -> None:
    store.enqueue_review(review("c2", at(2)))
    store.enqueue_review(review("c1", at(1)))
    store.enqueue_review(review("c3", at(3)))
    assert [i.comment.id for i in store.review_queue()] == ["c1", "c2", "c3"]
    assert [i.comment.id for i in store.review_queue(limit=2)] == ["c1", "c2"]
    replaced = review("c1", at(4)).model_copy(update={"thread_title": "again"})
    store.enqueue_review(replaced)
    assert [i.comment.id for i in store.review_queue()] == ["c2", "c3", "c1"]
    got = store.get_review("c1")
    assert got is not None and got.thread_title == "again"
    assert store.get_review("missing") is None
    assert store.review_queue(limit=0) == []


def test_deciding_a_review_moves_it_and_logs_who_and_why(store: Store) -> None:
    store.enqueue_review(review("c1", at(1)))
    store.enqueue_review(review("c2", at(2), author=None))
    decided = store.decide_review("c1", "deleted", "alice", at(10), note="slur")
    assert (decided.status, decided.decided_by, decided.decided_at, decided.note) == (
        "deleted",
        "alice",
        at(10),
        "slur",
    )
    store.decide_review("c2", "approved", "bob", at(11))
    assert store.review_queue() == []
    assert [i.comment.id for i in store.review_queue("deleted")] == ["c1"]
    assert [i.comment.id for i in store.review_queue(None)] == ["c1", "c2"]
    log = store.audit_log()
    assert [(e.kind, e.actor, e.author_id, e.details["comment_id"]) for e in log] == [
        ("review-deleted", "alice", "u1", "c1"),
        ("review-approved", "bob", "", "c2"),
    ]
    assert log[0].reason == "slur"
    with pytest.raises(KeyError):
        store.decide_review("nope", "approved", "alice", at(12))


# --- the recent-comment window ----------------------------------------------------------
def recent(
    cid: str, author: str | None, thread: str | None, minutes: float, *bands: str
) -> RecentComment:
    return RecentComment(
        comment_id=cid,
        author_id=author,
        thread_id=thread,
        at=at(minutes),
        bands=bands,
        signature=(1, -2, 2**63 - 1),
        incoherence=0.25,
    )


def ids(items: list[RecentComment]) -> list[str]:
    return [r.comment_id for r in items]


def test_window_finds_by_band_and_time(store: Store) -> None:
    store.add_recent(
        [
            recent("c1", "a", "t1", 0, "b1", "b2"),
            recent("c2", "b", "t1", 5, "b2"),
            recent("c3", "c", "t2", 10, "b3"),
            recent("c4", None, None, 15, "b1"),
        ]
    )
    assert ids(store.recent_by_bands(["b1"], at(0))) == ["c1", "c4"]
    assert ids(store.recent_by_bands(["b2", "b1"], at(0))) == ["c1", "c2", "c4"]
    assert ids(store.recent_by_bands(["b1", "b2"], at(1))) == ["c2", "c4"]  # since is inclusive
    assert ids(store.recent_by_bands(["b2"], at(5))) == ["c2"]
    assert store.recent_by_bands(["zz"], at(0)) == []
    assert store.recent_by_bands([], at(0)) == []
    got = store.recent_by_bands(["b3"], at(0))[0]
    assert got == recent("c3", "c", "t2", 10, "b3")
    assert got.signature == (1, -2, 2**63 - 1) and got.incoherence == 0.25


def test_window_finds_by_author_and_thread(store: Store) -> None:
    store.add_recent(
        [
            recent("c1", "a", "t1", 0),
            recent("c2", "a", "t2", 1),
            recent("c3", "a", "t1", 2),
            recent("c4", "b", "t1", 3),
            recent("c5", "a", None, 4),
        ]
    )
    assert ids(store.recent_by_author("a", at(0))) == ["c1", "c2", "c3", "c5"]
    assert ids(store.recent_by_author("a", at(0), "t1")) == ["c1", "c3"]
    assert ids(store.recent_by_author("a", at(1), "t1")) == ["c3"]
    assert ids(store.recent_by_author("b", at(0), "t2")) == []
    assert store.recent_by_author("nobody", at(0)) == []


def test_an_author_id_cannot_forge_another_authors_thread_key(store: Store) -> None:
    store.add_recent([recent("c1", "a:b", "t", 0), recent("c2", "a", "b:t", 0)])
    assert ids(store.recent_by_author("a", at(0), "b:t")) == ["c2"]
    assert ids(store.recent_by_author("a:b", at(0), "t")) == ["c1"]


def test_readding_a_comment_replaces_it(store: Store) -> None:
    store.add_recent([recent("c1", "a", "t1", 0, "old")])
    store.add_recent([recent("c1", "b", "t2", 3, "new")])
    assert store.recent_by_bands(["old"], at(-1)) == []
    assert ids(store.recent_by_bands(["new"], at(-1))) == ["c1"]
    assert store.recent_by_author("a", at(-1)) == []
    assert ids(store.recent_by_author("b", at(-1), "t2")) == ["c1"]
    assert ids(store.recent_since(at(-10))) == ["c1"]
    # A batch repeating an id keeps the last one.
    store.add_recent([recent("c9", "a", "t", 1, "x"), recent("c9", "a", "t", 2, "y")])
    assert store.recent_by_bands(["x"], at(-1)) == []
    assert [r.at for r in store.recent_by_bands(["y"], at(-1))] == [at(2)]


def test_rows_from_the_window_read_back_as_comments(store: Store) -> None:
    """`add_recent_rows` takes what the window has (microseconds, signature bytes) and
    means the same as `add_recent`; an id already remembered is replaced, even when the
    rest of the batch is new."""
    signature = tuple(range(0, 2**32, 2**26))  # 64 uint32s, high ones included
    packed = struct.pack("<64I", *signature)
    store.add_recent([recent("c1", "a", "t1", 0, "old")])
    store.add_recent_rows(
        [
            ("c1", "b", "t2", to_us(at(3)), ("new",), packed, 0.5),
            ("c2", "a", None, to_us(at(4)), (), packed, 1.0),
        ]
    )
    got = store.recent_since(at(-1))
    assert got == [
        RecentComment(
            comment_id="c1",
            author_id="b",
            thread_id="t2",
            at=at(3),
            bands=("new",),
            signature=signature,
            incoherence=0.5,
        ),
        RecentComment(
            comment_id="c2",
            author_id="a",
            at=at(4),
            thread_id=None,
            signature=signature,
            incoherence=1.0,
        ),
    ]
    assert store.recent_by_bands(["old"], at(-1)) == []
    assert ids(store.recent_by_bands(["new"], at(-1))) == ["c1"]
    assert ids(store.recent_by_author("a", at(-1))) == ["c2"]
    assert store.prune_recent(at(3.5)) == 1
    assert store.recent_by_bands(["new"], at(-1)) == []


def test_recent_since_and_pruning(store: Store) -> None:
    store.add_recent([recent(f"c{i}", "a", "t", i, f"b{i % 3}") for i in range(10)])
    assert ids(store.recent_since(at(7))) == ["c7", "c8", "c9"]
    assert store.add_recent([]) is None
    assert store.prune_recent(at(4)) == 4  # strictly older than `before`
    assert store.prune_recent(at(4)) == 0
    assert ids(store.recent_since(at(-100))) == [f"c{i}" for i in range(4, 10)]
    assert ids(store.recent_by_bands(["b0", "b1", "b2"], at(-100))) == [
        f"c{i}" for i in range(4, 10)
    ]
    assert ids(store.recent_by_author("a", at(-100), "t")) == [f"c{i}" for i in range(4, 10)]
    assert store.prune_recent(at(100)) == 6
    assert store.recent_since(at(-100)) == []
    assert store.recent_by_bands(["b0"], at(-100)) == []


def test_window_accepts_hostile_ids_and_bands(store: Store) -> None:
    odd = "\u202e\x00'\";--\U0001f600" * 50
    store.add_recent([recent(odd, odd, odd, 0, odd, "")])
    assert ids(store.recent_by_bands([odd], at(0))) == [odd]
    assert ids(store.recent_by_author(odd, at(0), odd)) == [odd]


# --- opening stores ------------------------------------------------------------------------
def test_open_store_understands_the_documented_urls(tmp_path: Path) -> None:
    assert isinstance(open_store("memory"), MemoryStore)
    bare = open_store(str(tmp_path / "bare.db"))
    assert isinstance(bare, SQLiteStore) and bare.path == str(tmp_path / "bare.db")
    bare.close()
    with open_store(f"sqlite:///{tmp_path}/x.sqlite") as url_store:
        assert isinstance(url_store, SQLiteStore)
    for bad in ("mongodb://x", "nonsense", "sqlite:///", "sqlite:relative.db", "state.txt"):
        with pytest.raises(StoreError):
            open_store(bad)
    with pytest.raises(StoreError, match="does not exist"):
        open_store(f"sqlite:///{tmp_path}/no/such/dir/x.db")


def test_a_corrupt_sqlite_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError):
        open_store(str(path))


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    SQLiteStore(path).close()
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version 999"):
        SQLiteStore(path)


def test_an_unreachable_redis_is_a_store_error() -> None:
    from tests.redis_server import free_port

    with pytest.raises(StoreError, match="cannot reach"):
        open_store(f"redis://127.0.0.1:{free_port()}/0")


def test_redis_prefix_keeps_deployments_apart(redis_server: RedisServer) -> None:  # noqa: F811
    with (
        open_store(redis_server.url(prefix="one:")) as one,
        open_store(redis_server.url(prefix="two:")) as two,
    ):
        one.update_account("u", add_block(at(0)))
        assert two.get_account("u").blocks == 0
        assert one.get_account("u").blocks == 1
