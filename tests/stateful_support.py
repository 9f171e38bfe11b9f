"""Shared by the flash-mob, flooding and retroactive tests: the scenario generator, a
ruleset of only the default stateful rules, and precision/recall."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from modrules import Moderator
from modrules.model import Verdict
from modrules.rules import load_ruleset

REPO = Path(__file__).resolve().parent.parent
DEFAULT_RULES = REPO / "rules" / "sputnik"
STATEFUL_FILES = ("16-flash-mob.yaml", "16-flash-mob-repeated.yaml", "17-flooding.yaml")
T0 = datetime(2017, 4, 19, 12, 0, tzinfo=UTC)


def scenario_generator() -> ModuleType:
    # benchmarks/ is a folder of scripts, not a package: load the file directly.
    name = "stateful_scenarios"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, REPO / "benchmarks" / "stateful_scenarios.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def scenarios(seed: int) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = list(scenario_generator().generate(seed))
    return lines


def stateful_rules_dir(tmp: Path) -> Path:
    """A ruleset of the default ruleset's policy and stateful rules only (fast to load)."""
    root = tmp / "stateful-rules"
    root.mkdir(exist_ok=True)
    for name in ("policy.yaml", *STATEFUL_FILES):
        shutil.copy(DEFAULT_RULES / name, root / name)
    return root


def stateful_moderator(tmp: Path, **kwargs: Any) -> Moderator:
    return Moderator(load_ruleset(stateful_rules_dir(tmp)), **kwargs)


def comment(
    cid: str, author: str | None, minutes: float, text: str, thread: str = "t1"
) -> dict[str, Any]:
    return {
        "id": cid,
        "thread_id": thread,
        "author_id": author,
        "text": text,
        "created_at": (T0 + timedelta(minutes=minutes)).isoformat(),
    }


def precision_recall(
    lines: Iterable[dict[str, Any]], verdicts: Iterable[Verdict], category: str
) -> tuple[float, float, int]:
    tp = fp = fn = 0
    for line, verdict in zip(lines, verdicts, strict=True):
        assert line["id"] == verdict.comment_id
        gold = category in line["categories"]
        found = category in verdict.categories
        tp += gold and found
        fp += found and not gold
        fn += gold and not found
    return tp / max(1, tp + fp), tp / max(1, tp + fn), tp + fn


MOB_TEXT = (
    "The minister lied to parliament about the pipeline deal, demand his resignation now #ResignNow"
)
MOB_VARIANTS = (
    MOB_TEXT,
    "the minister LIED to parliament about the pipeline deal!! demand his resignation now #resignnow",
    "Demand his resignation now: the minister lied to parliament about the pipeline deal 😡😡 #ResignNow",
    "The minister lied to parliment about the pipeline deal. Demand his resignation NOW #ResignNow",
    "RT The minister lied to parliament about the pipeline deal, demand his resignation now",
    "THE MINISTER LIED TO PARLIAMENT ABOUT THE PIPELINE DEAL, DEMAND HIS RESIGNATION NOW #RESIGNNOW",
    "The minister lied to parliament about the deal, demand his resignation now #ResignNow 🙏",
    "The minister lied to parliament about the pipeline deal - demand his resignation now! #ResignNow",
)
