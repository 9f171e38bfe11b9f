#!/usr/bin/env python3
"""Rewrite fixtures/expected-quality.json from today's figures on fixtures/comments.jsonl.

    .venv/bin/python scripts/refresh_quality_floors.py            # write it
    .venv/bin/python scripts/refresh_quality_floors.py --check    # only show the figures and the floors

tests/test_quality_gate.py fails when the default ruleset scores below these floors, so a
change that costs quality is seen in CI. Run this only on purpose: after a change that
improves the figures (to raise the floors), or after one whose loss you have decided to
accept; say why in the commit message. The floors hold for both a full and a light
install: each is the lower of the run with the ML checkers and the run without them,
minus a small margin (so a harmless one-comment wobble does not fail CI).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from modrules import Moderator
from modrules.dumps import read_records, read_threads
from modrules.evaluation import LabeledComment, Report, evaluate
from modrules.rules import load_ruleset

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
EXPECTATION = FIXTURES / "expected-quality.json"
MARGIN = 0.03


def score(disable_ml: bool) -> Report:
    threads, _ = read_threads(str(FIXTURES / "threads.jsonl"))
    labeled = [r for r in read_records(str(FIXTURES / "comments.jsonl"), LabeledComment) if isinstance(r, LabeledComment)]
    return evaluate(Moderator(load_ruleset(None, disable_ml=disable_ml)), labeled, threads)


def floor(value: float) -> float:
    return max(0.0, math.floor((value - MARGIN) * 100) / 100)


def ceiling(value: float) -> float:
    return min(1.0, math.ceil((value + MARGIN) * 100) / 100)


def expectation(reports: list[Report]) -> dict[str, object]:
    categories: dict[str, float] = {}
    for name in sorted({c.category for r in reports for c in r.categories}):
        worst = min(next((c.f1 for c in r.categories if c.category == name), 0.0) for r in reports)
        if floor(worst) > 0:  # a category scored 0 today has nothing to protect yet
            categories[name] = floor(worst)
    return {
        "about": "Floors for `modrules eval fixtures/comments.jsonl` with the default ruleset; checked by "
        "tests/test_quality_gate.py. Refresh on purpose with scripts/refresh_quality_floors.py.",
        "margin": MARGIN,
        "macro_f1_min": floor(min(r.macro_f1 for r in reports)),
        "micro_f1_min": floor(min(r.micro_f1 for r in reports)),
        "clean_not_published_max": ceiling(max(r.clean_not_published for r in reports)),
        "violating_published_max": ceiling(max(r.violating_published for r in reports)),
        "category_f1_min": categories,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="print, do not write")
    args = parser.parse_args()
    reports = [score(disable_ml=False), score(disable_ml=True)]
    for label, report in zip(("with ML", "without ML"), reports, strict=True):
        figures = ", ".join(f"{c.category} {c.f1:.2f}" for c in report.categories)
        print(f"{label}: macro-F1 {report.macro_f1:.3f}, micro-F1 {report.micro_f1:.3f}; {figures}", file=sys.stderr)
    text = json.dumps(expectation(reports), indent=2) + "\n"
    if args.check:
        sys.stdout.write(text)
    else:
        EXPECTATION.write_text(text)
        print(f"wrote {EXPECTATION.relative_to(REPO)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
