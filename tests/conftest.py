from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modrules import Moderator

# Tests run torch on one thread (the machine is shared); `threads: auto` is for real runs.
os.environ.setdefault("MODRULES_ML_THREADS", "1")

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"


@pytest.fixture(scope="session")
def default_moderator() -> Moderator:
    return Moderator.from_path()


RulesetFactory = Callable[..., Path]


@pytest.fixture
def make_ruleset(tmp_path: Path) -> RulesetFactory:
    """Write a ruleset directory from {filename: yaml text} and return its path."""

    def make(files: dict[str, str], policy: str | None = None) -> Path:
        root = tmp_path / "ruleset"
        root.mkdir(exist_ok=True)
        (root / "policy.yaml").write_text(
            textwrap.dedent(policy) if policy is not None else "site:\n  name: Example\n  aliases: [Example News]\n"
        )
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        return root

    return make


@pytest.fixture
def window_fingerprints(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many texts this process's recent-comment window fingerprints, call by call
    (worker processes, forked after it or not, count in their own copies)."""
    import modrules.window

    computed: list[int] = []
    real = modrules.window.fingerprints

    def counting(texts: list[str], *args: Any) -> Any:
        computed.append(len(texts))
        return real(texts, *args)

    monkeypatch.setattr(modrules.window, "fingerprints", counting)
    return computed
