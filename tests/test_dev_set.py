"""The labeled development set (fixtures/dev-comments.jsonl) is well formed and covers every clause."""

from __future__ import annotations

import json
from collections import Counter

from modrules.evaluation import LabeledComment
from modrules.model import CATEGORIES, Thread
from tests.conftest import FIXTURES


def test_dev_set_is_valid_and_covers_every_category() -> None:
    threads = {
        Thread.model_validate_json(line).id
        for line in (FIXTURES / "threads.jsonl").read_text().splitlines()
        if line.strip()
    }
    rows = [
        LabeledComment.model_validate(json.loads(line))
        for line in (FIXTURES / "dev-comments.jsonl").read_text().splitlines()
        if line.strip()
    ]
    assert len(rows) >= 400
    ids = [r.id for r in rows]
    assert len(set(ids)) == len(ids)
    seen: set[str] = set()
    times = []
    for row in rows:
        assert row.thread_id in threads
        assert row.parent_id is None or row.parent_id in seen, row.id
        seen.add(row.id)
        times.append(row.created_at)
    assert times == sorted(times)
    counts = Counter(c for r in rows for c in r.categories)
    assert all(counts[c] >= 10 for c in CATEGORIES), counts
    assert sum(1 for r in rows if not r.categories) >= 150
