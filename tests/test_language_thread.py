"""`language` honours the thread's own `language`: a comment in the thread's language is
not foreign even when it is not the site's, the site's language stays allowed, other
languages stay foreign, and a thread that states no language changes nothing — in the
predicate and through `modrules check --threads`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from modrules.checkers.base import CompileContext, Document
from modrules.checkers.language import Language, LanguageConfig, thread_language
from modrules.model import Comment, Thread
from modrules.text import TextViews

pytest.importorskip("py3langid", reason="the language predicate needs py3langid (core dependency)")

RUSSIAN = "Правительство опять повышает налоги, а зарплаты стоят на месте уже третий год подряд."
UKRAINIAN = "Це просто ганьба, а не стаття, як завжди, ніхто не перевіряє факти."
GERMAN = "Die Regierung erhöht schon wieder die Steuern, und die Löhne stagnieren seit drei Jahren."
ENGLISH = "The government keeps raising taxes while wages have not moved for three years now."
TRANSLIT = "privet rebyata, eto prosto pozor, a ne statya, ya ne znayu kto eto pishet"


def doc(text: str, thread: dict[str, Any] | None) -> Document:
    parsed = Thread.model_validate(thread) if thread is not None else None
    return Document(Comment(id="c", text=text, thread_id="t"), TextViews(text), parsed)


def predicate(site_language: str = "en") -> Language:
    config = LanguageConfig.model_validate({"not": ["site"]})
    return Language(config, CompileContext(ruleset_dir=None, site_language=site_language))


@pytest.fixture(scope="module")
def pred() -> Language:
    return predicate()


def detected(pred: Language, text: str, thread: dict[str, Any] | None) -> str | None:
    hit = pred.evaluate(doc(text, thread))
    return None if hit is None else (hit.detail or "").split()[0]


def test_the_threads_language_is_allowed(pred: Language) -> None:
    assert detected(pred, RUSSIAN, {"id": "t", "language": "ru"}) is None
    assert detected(pred, TRANSLIT, {"id": "t", "language": "ru"}) is None
    # The same comments under an English thread (or none) are foreign.
    assert detected(pred, RUSSIAN, {"id": "t", "language": "en"}) == "ru"
    assert detected(pred, RUSSIAN, None) == "ru"
    assert detected(pred, TRANSLIT, {"id": "t"}) == "ru"


def test_the_sites_language_stays_allowed_and_others_stay_foreign(pred: Language) -> None:
    russian_thread = {"id": "t", "title": "Налоги", "language": "ru"}
    assert detected(pred, ENGLISH, russian_thread) is None
    assert detected(pred, UKRAINIAN, russian_thread) == "uk"
    assert detected(pred, GERMAN, russian_thread) == "de"


@pytest.mark.parametrize(
    ("code", "expected"),
    [("ru", {"ru"}), ("RU", {"ru"}), ("ru-RU", {"ru"}), ("ru_RU", {"ru"}), (" de ", {"de"}), ("", set())],
)
def test_thread_language_codes_are_normalised(code: str, expected: set[str]) -> None:
    assert thread_language(doc("x", {"id": "t", "language": code})) == expected


def test_a_thread_without_a_language_is_not_english_on_a_french_site() -> None:
    """Thread.language defaults to "en"; only a stated language counts, so English is
    still foreign on a French site under a thread that says nothing."""
    french_site = predicate("fr")
    assert thread_language(doc(ENGLISH, {"id": "t"})) == frozenset()
    assert detected(french_site, ENGLISH, {"id": "t", "title": "Impôts"}) == "en"
    assert detected(french_site, ENGLISH, {"id": "t", "language": "en"}) is None
    assert detected(french_site, RUSSIAN, {"id": "t", "language": "ru"}) is None


def test_hostile_thread_languages_do_not_crash(pred: Language) -> None:
    for code in ["-", "x" * 10_000, "\u202eru", "ру", "\x00"]:
        hit = pred.evaluate(doc(RUSSIAN, {"id": "t", "language": code}))
        assert hit is not None and (hit.detail or "").startswith("ru")


def test_check_cli_honours_the_thread_language(tmp_path: Path) -> None:
    threads = tmp_path / "threads.jsonl"
    threads.write_text(
        "\n".join(
            json.dumps(t, ensure_ascii=False)
            for t in [
                {"id": "ru-thread", "title": "Налоги растут", "body": "Правительство объявило.", "language": "ru"},
                {"id": "en-thread", "title": "Taxes rise", "body": "The government announced."},
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    rows = [
        {"id": "ru-in-ru", "thread_id": "ru-thread", "text": RUSSIAN},
        {"id": "en-in-ru", "thread_id": "ru-thread", "text": ENGLISH},
        {"id": "de-in-ru", "thread_id": "ru-thread", "text": GERMAN},
        {"id": "ru-in-en", "thread_id": "en-thread", "text": RUSSIAN},
    ]
    comments = tmp_path / "comments.jsonl"
    comments.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "verdicts.jsonl"
    env = {**os.environ, "MODRULES_NO_ML": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "modrules.cli", "check", str(comments), "--threads", str(threads), "--no-ml", "-o", str(out)],
        check=False,
        capture_output=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stderr.decode()  # every line judged
    verdicts = {v["comment_id"]: v for v in map(json.loads, out.read_text().splitlines())}

    def foreign(comment_id: str) -> bool:
        return any(x["category"] == "foreign-language" for x in verdicts[comment_id]["violations"])

    assert not foreign("ru-in-ru")
    assert not foreign("en-in-ru")
    assert foreign("de-in-ru")
    assert foreign("ru-in-en")
