"""The hand-written fixtures are valid, consistent data, and the corpus generator is deterministic."""

from __future__ import annotations

import gzip
import importlib.util
import json
import statistics
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from modrules.model import CATEGORIES, Comment, Thread

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
GENERATOR = REPO / "benchmarks" / "generate_corpus.py"


def _jsonl(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="module")
def threads() -> list[dict[str, Any]]:
    return _jsonl(FIXTURES / "threads.jsonl")


@pytest.fixture(scope="module")
def comments() -> list[dict[str, Any]]:
    return _jsonl(FIXTURES / "comments.jsonl")


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    # benchmarks/ is a folder of scripts, not a package: load the file directly.
    spec = importlib.util.spec_from_file_location("generate_corpus", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- fixtures


def test_threads_parse(threads: list[dict[str, Any]]) -> None:
    assert len(threads) == 3
    for raw in threads:
        t = Thread.model_validate(raw)
        assert t.title and t.body.count("\n\n") >= 2, "a title and a few paragraphs"
        assert t.language == "en" and t.tags
    assert len({t["id"] for t in threads}) == len(threads)


def test_comments_parse_with_valid_labels(comments: list[dict[str, Any]]) -> None:
    assert len(comments) >= 100
    for raw in comments:
        c = Comment.model_validate(raw)
        assert c.text.strip() and c.author_id and c.created_at is not None
        assert c.created_at.utcoffset() == timedelta(0)
        assert raw["created_at"].endswith("Z")
        assert isinstance(raw["categories"], list)
        assert set(raw["categories"]) <= set(CATEGORIES), raw["id"]
        assert len(set(raw["categories"])) == len(raw["categories"])


def test_comment_references_and_order(
    comments: list[dict[str, Any]], threads: list[dict[str, Any]]
) -> None:
    ids = [c["id"] for c in comments]
    assert len(set(ids)) == len(ids)
    thread_ids = {t["id"] for t in threads}
    seen: set[str] = set()
    for c in comments:
        assert c["thread_id"] in thread_ids
        if c["parent_id"] is not None:
            assert c["parent_id"] in seen, f"{c['id']} replies to a later or unknown comment"
            parent = next(p for p in comments if p["id"] == c["parent_id"])
            assert parent["thread_id"] == c["thread_id"]
        seen.add(c["id"])
    times = [Comment.model_validate(c).created_at for c in comments]
    stamps = [t for t in times if t is not None]
    assert len(stamps) == len(times) and stamps == sorted(stamps)
    assert all((t.year, t.month) == (2017, 4) and t.day in (19, 20) for t in stamps)


def test_every_category_is_covered(comments: list[dict[str, Any]]) -> None:
    counts = Counter(cat for c in comments for cat in c["categories"])
    for category in CATEGORIES:
        assert counts[category] >= 3, category
    assert sum(1 for c in comments if not c["categories"]) >= 40


def test_flash_mob_is_different_authors_within_minutes(comments: list[dict[str, Any]]) -> None:
    mob = [Comment.model_validate(c) for c in comments if "flash-mob" in c["categories"]]
    assert len(mob) >= 5
    assert len({c.author_id for c in mob}) == len(mob)
    assert len({c.thread_id for c in mob}) == 1
    times = [c.created_at for c in mob if c.created_at is not None]
    assert max(times) - min(times) <= timedelta(minutes=10)


def test_flooding_is_one_author_within_minutes(comments: list[dict[str, Any]]) -> None:
    flood = [Comment.model_validate(c) for c in comments if "flooding" in c["categories"]]
    assert len(flood) >= 6
    assert len({c.author_id for c in flood}) == 1
    times = [c.created_at for c in flood if c.created_at is not None]
    assert max(times) - min(times) <= timedelta(minutes=5)


def test_hard_negatives_are_present(comments: list[dict[str, Any]]) -> None:
    """The clean set must contain the traps a naive engine falls into."""
    clean = " ".join(c["text"] for c in comments if not c["categories"])
    for trap in (
        "NATO",
        "ISIS",
        "Suicide bombings",
        "Hate speech laws",
        "Scunthorpe",
        "https://",
        "£",
        "drug",
        "el enemigo",
        "Agreed.",
        "Source?",
        "@westbridge.gov.uk",
    ):
        assert trap in clean, trap


# --------------------------------------------------------------------------- generator


def test_generator_is_deterministic(generator: ModuleType, tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"
    generator.write_corpus(500, 7, a)
    generator.write_corpus(500, 7, b)
    assert a.read_bytes() == b.read_bytes()
    assert generator.threads_path_for(a).read_bytes() == generator.threads_path_for(b).read_bytes()
    c = tmp_path / "c.jsonl"
    generator.write_corpus(500, 8, c)
    assert _jsonl(c) != _jsonl(a), "a different seed gives a different corpus"


def test_generator_output_is_valid(generator: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "corpus.jsonl"
    kinds = generator.write_corpus(2000, 3, out)
    rows = _jsonl(out)
    threads = _jsonl(tmp_path / "corpus.threads.jsonl")
    assert len(rows) == 2000 == sum(kinds.values())
    thread_ids = {Thread.model_validate(t).id for t in threads}
    seen: set[str] = set()
    previous = None
    for raw in rows:
        c = Comment.model_validate(raw)
        assert c.thread_id in thread_ids
        assert c.parent_id is None or c.parent_id in seen
        assert c.id not in seen
        seen.add(c.id)
        assert c.created_at is not None and (previous is None or c.created_at >= previous)
        previous = c.created_at
    # Mostly clean, with several kinds of violation and the bursts mixed in.
    assert 0.75 < kinds["clean"] / 2000 < 0.95
    assert {"profanity", "spam", "caps", "foreign", "personal-data"} <= set(kinds)
    assert kinds["flash-mob"] + kinds["flooding"] > 0


def test_generator_length_distribution(generator: ModuleType) -> None:
    _, comments = generator.generate(3000, 11)
    words = [len(str(c["text"]).split()) for c in comments if c["kind"] == "clean"]
    assert 20 <= statistics.median(words) <= 40
    assert max(words) > 150 and min(words) <= 2


def test_generator_cli(generator: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "cli.jsonl.gz"
    assert generator.main(["--n", "50", "--seed", "1", "-o", str(out)]) == 0
    assert len(_jsonl(out)) == 50
    assert len(_jsonl(tmp_path / "cli.threads.jsonl.gz")) >= 3
