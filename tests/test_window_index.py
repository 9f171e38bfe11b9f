"""The recent-comment window's index (LSH buckets, author look-ups) against a brute-force
reading of what it remembers, through adds, replaced ids, out-of-order times and pruning."""

from __future__ import annotations

import random
import zlib
from pathlib import Path

import numpy as np
import pytest

from modrules import fingerprint as fp
from modrules.fingerprint import NUM_PERM
from modrules.store import open_store
from modrules.window import Entry, RecentWindow, keys, pack_keys
from tests.redis_server import redis_server, redis_url  # noqa: F401 - fixtures

BANDS = [[random.Random(b).getrandbits(64) for _ in range(6)] for b in range(16)]


def make_entry(rng: random.Random, index: int, at: float) -> Entry:
    """An entry whose band keys come from small per-band pools, so buckets of 0, 1 and
    many rows all occur; a fifth are not informative (no band keys)."""
    informative = rng.random() > 0.2
    bands = tuple(rng.choice(pool) for pool in BANDS) if informative else ()
    signature = np.array([rng.randrange(3) for _ in range(NUM_PERM)], dtype=np.uint32)
    return Entry(
        comment_id=f"c{rng.randrange(index + 1)}" if rng.random() < 0.1 else f"c{index}",
        author_id=f"a{rng.randrange(5)}",
        thread_id=rng.choice(["t1", "t2", None]),
        at=at,
        signature=signature,
        bands=pack_keys(bands),
        incoherence=rng.random(),
        informative=informative,
    )


def remembered(window: RecentWindow) -> dict[int, Entry]:
    return {row: window.entries(np.array([row]))[0] for row in window._rows.values()}


def brute_near(window: RecentWindow, entry: Entry, span: float, thread_only: bool) -> set[int]:
    wanted = set(keys(entry.bands))
    own = window._rows.get(entry.comment_id)
    return {
        row
        for row, other in remembered(window).items()
        if wanted & set(keys(other.bands))
        and abs(other.at - entry.at) <= span
        and (not thread_only or other.thread_id == entry.thread_id)
        and row != own
    }


def brute_author(window: RecentWindow, entry: Entry, span: float, thread_only: bool) -> set[int]:
    own = window._rows.get(entry.comment_id)
    return {
        row
        for row, other in remembered(window).items()
        if other.author_id == entry.author_id
        and abs(other.at - entry.at) <= span
        and (not thread_only or other.thread_id == entry.thread_id)
        and row != own
    }


@pytest.mark.parametrize("seed", range(6))
def test_look_ups_equal_a_scan_of_the_window(seed: int) -> None:
    rng = random.Random(seed)
    # A big candidate cap: every bucket is read whole, so the scan is the reference.
    window = RecentWindow(None, horizon=300.0, max_candidates=10_000)
    at = 0.0
    for index in range(400):
        at += rng.uniform(0, 10)
        late = at - rng.uniform(0, 200) if rng.random() < 0.1 else at  # out of order
        entry = make_entry(rng, index, late)
        for span, thread_only in ((60.0, False), (150.0, True)):
            if entry.bands:
                got = window.near(entry, span, thread_only).tolist()
                assert len(got) == len(set(got))
                assert set(got) == brute_near(window, entry, span, thread_only)
                # Asked for at least k rows: all of them when k rows share a band at
                # any time; else all of them or none (then fewer are near, too).
                sharing = len(brute_near(window, entry, float("inf"), False))
                for k in (2, 4):
                    at_least = window.near(entry, span, thread_only, k).tolist()
                    assert at_least == got if sharing >= k else at_least in (got, [])
            by_author = window.by_author(entry, span, thread_only).tolist()
            assert set(by_author) == brute_author(window, entry, span, thread_only)
            assert window.author_rows_at_most(entry, thread_only) >= len(by_author)
        window.add(entry)
        # Every bucket holds exactly the live rows with that key, oldest first.
        for key, bucket in window._by_band.items():
            rows = [bucket] if isinstance(bucket, int) else list(bucket)
            assert len(rows) == len(set(rows)) >= 1
            holders = [row for row, e in remembered(window).items() if key in keys(e.bands)]
            assert sorted(rows) == sorted(holders)


def test_a_bucket_shrinks_back_to_a_bare_row_and_goes() -> None:
    window = RecentWindow(None, horizon=100.0)
    rng = random.Random(1)
    first, second = make_entry(rng, 0, 0.0), make_entry(rng, 1, 50.0)
    while not (first.bands and second.bands):
        first, second = make_entry(rng, 0, 0.0), make_entry(rng, 1, 50.0)
    second.bands = first.bands  # the same keys: every bucket holds both
    window.add(first)
    window.add(second)
    assert all(len(b) == 2 for b in window._by_band.values() if not isinstance(b, int))
    assert window.near(second, 100.0, False).tolist() == [window._rows[first.comment_id]]
    third = make_entry(rng, 2, 150.0)  # the clock passes the first one's horizon
    third.bands, third.informative = b"", False  # in no bucket
    window.add(third)
    assert first.comment_id not in window._rows
    row = window._rows[second.comment_id]
    assert all(window._by_band[k] == row for k in keys(second.bands))


def test_token_hashes_are_crc32_whatever_the_cache_holds() -> None:
    tokens = ["mob", "copy", "mob", "zqxj", "ünïcode", "new-" + str(random.random())]
    expected = [zlib.crc32(t.encode()) for t in tokens]
    assert fp._token_hashes(tokens) == expected
    assert fp._token_hashes(tokens) == expected  # now all cached
    fp._TOKEN_HASHES.clear()
    assert fp._token_hashes(tokens[::-1]) == expected[::-1]
    assert fp._token_hashes([]) == []


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_a_window_written_to_a_store_warms_a_new_one_identically(
    tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    """What the window writes (times in microseconds, signatures as bytes, one band key)
    reads back as the same entries: signature, time, author, thread, incoherence, band
    keys rebuilt from the signature."""
    url = (
        f"sqlite:///{tmp_path / 's.db'}"
        if kind == "sqlite"
        else request.getfixturevalue("redis_url")
    )
    texts = ["The minister lied about the pipeline deal, resign now", "Agreed.", "zxcvbnm qwerty"]
    found = fp.fingerprints(texts * 3)
    written = []
    for i, print_ in enumerate(found):
        stamp = 1_700_000_000_123_457 + i * 61_000_001  # whole microseconds, odd ones
        written.append(
            Entry(
                comment_id=f"c{i}",
                author_id=f"a{i % 2}",
                thread_id=None if i == 4 else f"t{i % 3}",
                at=stamp / 1_000_000,
                at_us=stamp if i % 2 else None,  # unknown: converted from `at`
                signature=print_.signature,
                bands=pack_keys(fp.band_keys(print_.signature[None, :])[0])
                if print_.informative
                else b"",
                incoherence=print_.incoherence,
                informative=print_.informative,
            )
        )
    with open_store(url) as store:
        window = RecentWindow(store, horizon=3600.0, flush_every=4)
        for entry in written:
            window.add(entry)
        window.flush()
    with open_store(url) as store:
        warm = RecentWindow(store, horizon=3600.0)
        warm.near(written[-1], 60.0, False)  # the first query warms it up
        again = {e.comment_id: e for e in warm.entries(np.array(sorted(warm._rows.values())))}
    assert sorted(again) == sorted(e.comment_id for e in written)
    for entry in written:
        got = again[entry.comment_id]
        assert got.signature.tolist() == entry.signature.tolist()
        assert (got.at, got.author_id, got.thread_id) == (
            entry.at,
            entry.author_id,
            entry.thread_id,
        )
        assert (got.bands, got.informative) == (entry.bands, entry.informative)
        assert got.incoherence == entry.incoherence
        assert got.at_us == round(entry.at * 1_000_000)
