"""`batch_gc`: long runs collect less often, and the host process gets its settings back."""

from __future__ import annotations

import gc

import pytest

from modrules.gc_tuning import BATCH_THRESHOLDS, batch_gc


def test_settings_apply_inside_and_are_restored_after() -> None:
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    held = [object() for _ in range(1000)]
    with batch_gc():
        assert gc.get_threshold() == BATCH_THRESHOLDS
        assert gc.get_freeze_count() >= frozen + len(held)  # what existed is out of collection
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_restored_when_the_run_fails() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), batch_gc():
        raise RuntimeError("a failing run")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_cycles_made_inside_are_still_collected() -> None:
    class Node:
        other: object = None

    with batch_gc():
        a, b = Node(), Node()
        a.other, b.other = b, a
        del a, b
        assert gc.collect() >= 2
