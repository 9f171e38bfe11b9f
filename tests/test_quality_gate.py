"""Quality regression gate: the default ruleset on the labeled fixtures must not score below
the committed floors in fixtures/expected-quality.json.

If this fails after a rule change, the change costs quality: look at
`modrules eval fixtures/comments.jsonl --threads fixtures/threads.jsonl --format html -o /tmp/eval.html`.
If the loss is deliberate (or the figures went up), refresh the floors on purpose with
`.venv/bin/python scripts/refresh_quality_floors.py` and commit the file with a reason.
"""

from __future__ import annotations

import json

import pytest

from modrules import Moderator
from modrules.dumps import read_records, read_threads
from modrules.evaluation import LabeledComment, Report, evaluate
from tests.conftest import FIXTURES

EXPECTED = json.loads((FIXTURES / "expected-quality.json").read_text())


@pytest.fixture(scope="module")
def report(default_moderator: Moderator) -> Report:
    threads, errors = read_threads(str(FIXTURES / "threads.jsonl"))
    assert not errors
    labeled = list(read_records(str(FIXTURES / "comments.jsonl"), LabeledComment))
    assert all(isinstance(r, LabeledComment) for r in labeled)
    return evaluate(default_moderator, labeled, threads)  # type: ignore[arg-type]  # checked just above


def test_overall_figures_hold(report: Report) -> None:
    failures = []
    if report.macro_f1 < EXPECTED["macro_f1_min"]:
        failures.append(f"macro-F1 {report.macro_f1} < {EXPECTED['macro_f1_min']}")
    if report.micro_f1 < EXPECTED["micro_f1_min"]:
        failures.append(f"micro-F1 {report.micro_f1} < {EXPECTED['micro_f1_min']}")
    if report.clean_not_published > EXPECTED["clean_not_published_max"]:
        failures.append(f"clean not published {report.clean_not_published} > {EXPECTED['clean_not_published_max']}")
    if report.violating_published > EXPECTED["violating_published_max"]:
        failures.append(f"violating published {report.violating_published} > {EXPECTED['violating_published_max']}")
    assert not failures, "quality regression: " + "; ".join(failures)


def test_every_category_floor_holds(report: Report) -> None:
    scores = {c.category: c for c in report.categories}
    failures = []
    for category, floor in EXPECTED["category_f1_min"].items():
        score = scores.get(category)
        f1 = score.f1 if score else 0.0
        if f1 < floor:
            detail = f" (P {score.precision}, R {score.recall})" if score else ""
            failures.append(f"{category} F1 {f1} < {floor}{detail}")
    assert not failures, "quality regression: " + "; ".join(failures)


def test_expectation_file_is_sane() -> None:
    from modrules.model import CATEGORIES

    assert set(EXPECTED["category_f1_min"]) <= set(CATEGORIES)
    assert all(0.0 < v <= 1.0 for v in EXPECTED["category_f1_min"].values())
    assert 0.0 < EXPECTED["macro_f1_min"] <= 1.0
