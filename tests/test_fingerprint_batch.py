"""Fingerprints computed in batches (the vectorised MinHash, the counting of agreeing
signature values, the cache of repeated texts) against a plain one-at-a-time reading."""

from __future__ import annotations

import random
import zlib
from itertools import pairwise

import numpy as np
import pytest

from modrules import fingerprint as fp
from modrules.fingerprint import NUM_PERM, agreements, fingerprints, signatures

VOCAB = [f"w{i}" for i in range(40)] + ["the", "and", "ünïcode", "x"]
MASK = (1 << 64) - 1


def reference_signature(tokens: list[str]) -> list[int]:
    """MinHash of one list's words and word pairs, one shingle at a time."""
    if not tokens:
        return [0xFFFFFFFF] * NUM_PERM
    words = [zlib.crc32(t.encode()) for t in tokens[: fp.MAX_SHINGLES]]
    pairs = [
        ((((a * int(fp._PAIR)) & MASK) + ((b * int(fp._PAIR2)) & MASK)) & MASK) >> 32
        ^ int(fp._PAIR_SALT)
        for a, b in pairwise(words)
    ]
    shingles = [s & 0xFFFFFFFF for s in words + pairs]
    out = []
    for a in fp._A.tolist():
        permuted = [(s * a) & 0xFFFFFFFF for s in shingles]
        out.append(min(p ^ (p >> 15) for p in permuted))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_a_batch_gives_each_list_its_own_signature(seed: int) -> None:
    rng = random.Random(seed)
    lengths = [0, 1, 1, 2, 3, 7, 40, fp.MAX_SHINGLES + 30]
    lists = [
        [rng.choice(VOCAB) for _ in range(rng.choice(lengths))] for _ in range(rng.randint(1, 12))
    ]
    batch = signatures(lists)
    for row, tokens in enumerate(lists):
        assert batch[row].tolist() == reference_signature(tokens), tokens


@pytest.mark.parametrize("shape", [(0, NUM_PERM), (1, NUM_PERM), (37, NUM_PERM), (5, 9, NUM_PERM)])
def test_agreements_count_the_equal_values(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(len(shape) * 100 + shape[0])
    a = rng.integers(0, 3, size=shape, dtype=np.uint32)
    b = rng.integers(0, 3, size=shape[-1:], dtype=np.uint32)
    equal = a == b
    expected = equal.sum(axis=-1)
    assert agreements(equal).tolist() == expected.tolist()
    assert agreements(np.ones(shape, dtype=bool)).tolist() == np.full(shape[:-1], NUM_PERM).tolist()


def test_a_repeated_text_gets_the_fingerprint_of_a_fresh_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fp, "_RECENT", {})
    monkeypatch.setattr(fp, "MAX_RECENT", 5)
    rng = random.Random(7)
    texts = [" ".join(rng.choice(VOCAB) for _ in range(rng.randint(0, 12))) for _ in range(30)]
    stream = [rng.choice(texts) for _ in range(200)] + ["x" * (fp.MAX_CACHED_CHARS + 1)] * 2
    got = fingerprints(stream[:90]) + fingerprints(stream[90:])
    assert len(fp._RECENT) <= 5  # bounded
    for text, found in zip(stream, got, strict=True):
        fresh = fp._fingerprints([text], 4)[0]
        assert found.signature.tolist() == fresh.signature.tolist()
        assert (found.bands, found.incoherence, found.informative) == (
            fresh.bands,
            fresh.incoherence,
            fresh.informative,
        )
        assert not found.signature.flags.writeable  # shared by every copy of the text
