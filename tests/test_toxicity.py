"""The `toxicity` predicate: detoxify end to end on a tiny generated checkpoint, the
profanity-check backend, unavailable weights, `--no-ml`, batching and detoxify's quirks.

Nothing is downloaded: the checkpoint is built in a temp directory (tests/tiny_detoxify.py).
Tests that need the ML extra skip without it; the logic around the model runs everywhere.
"""

from __future__ import annotations

import json
import os
import pickle
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from modrules.cli import main
from modrules.engine import Moderator
from modrules.ml import detox
from modrules.ml.detox import DetoxifySettings, peek_checkpoint, predict_batched
from modrules.model import Action
from modrules.rules import RulesetError, load_ruleset
from modrules.rules.loader import ML_DISABLED, ml_switched_off

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ML_REASON = "the ML extra (torch, transformers, detoxify) is not installed"


def _skip_if_ml_switched_off() -> None:
    if ml_switched_off():
        pytest.skip("ML checkers are switched off (MODRULES_NO_ML)")


def _rule(rule_id: str, when: str, action: str = "hold", extra: str = "") -> str:
    return textwrap.dedent(
        f"""\
        id: {rule_id}
        category: insult-threat
        clause: 5
        action: {action}
        message: toxic
        when: {when}
        {extra}
        examples:
          match: ["you are a grobnik"]
          no_match: ["nice article"]
        """
    )


def write_ruleset(root: Path, rules: list[str], models: dict[str, Any] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    policy: dict[str, Any] = {"site": {"name": "Example"}}
    if models is not None:
        policy["models"] = models
    (root / "policy.yaml").write_text(json.dumps(policy), encoding="utf-8")  # JSON is YAML
    (root / "05-toxicity.yaml").write_text("---\n".join(rules), encoding="utf-8")
    return root


@pytest.fixture(autouse=True)
def _no_cached_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No test may see a developer's cached weights or environment overrides.
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.delenv(detox.ENV_CHECKPOINT, raising=False)
    monkeypatch.delenv(detox.ENV_HF_CONFIG, raising=False)


# ------------------------------------------------------------ logic that needs no model


class TestConfig:
    def test_shorthands(self, tmp_path: Path) -> None:
        root = write_ruleset(
            tmp_path / "r",
            [_rule("by-label", "{toxicity: insult}"), _rule("by-threshold", "{toxicity: 0.9}")],
        )
        ruleset = load_ruleset(root)
        by_label = next(ruleset.rule("by-label").condition.predicates())
        by_threshold = next(ruleset.rule("by-threshold").condition.predicates())
        assert (by_label.label, by_label.above) == ("insult", 0.8)  # type: ignore[attr-defined]
        assert (by_threshold.label, by_threshold.above) == ("toxicity", 0.9)  # type: ignore[attr-defined]

    @pytest.mark.parametrize(
        "when",
        [
            "{toxicity: {label: rudeness}}",
            "{toxicity: {above: 1.5}}",
            "{toxicity: {label: insult, backend: profanity-check}}",
            "{toxicity: {label: insult, treshold: 0.5}}",
        ],
    )
    def test_bad_configs_fail_at_load(self, tmp_path: Path, when: str) -> None:
        with pytest.raises(RulesetError):
            load_ruleset(write_ruleset(tmp_path / "r", [_rule("bad", when)]))

    def test_bad_model_settings_name_the_section(self, tmp_path: Path) -> None:
        root = write_ruleset(
            tmp_path / "r", [_rule("t", "{toxicity: insult}")], models={"toxicity": {"model": "huge"}}
        )
        with pytest.raises(RulesetError, match="models.toxicity"):
            load_ruleset(root)


class TestUnavailable:
    def test_no_weights_skips_with_how_to_fix(self, tmp_path: Path) -> None:
        ruleset = load_ruleset(write_ruleset(tmp_path / "r", [_rule("t", "{toxicity: insult}")]))
        reason = ruleset.rule("t").unavailable
        assert reason is not None
        if ml_switched_off():
            assert reason == ML_DISABLED
        elif detox.extra_installed("torch", "transformers", "detoxify"):
            assert "checkpoint" in reason and "allow_download" in reason
        else:
            assert "pip install" in reason
        verdict = Moderator(ruleset).moderate({"id": "c", "text": "you are a grobnik"})
        assert verdict.action is Action.PUBLISH
        assert [(s.rule, s.reason) for s in verdict.skipped] == [("t", reason)]

    def test_missing_checkpoint_file_is_named(self, tmp_path: Path) -> None:
        _skip_if_ml_switched_off()
        pytest.importorskip("detoxify", reason=ML_REASON)
        root = write_ruleset(
            tmp_path / "r", [_rule("t", "{toxicity: insult}")], models={"toxicity": {"checkpoint": "nope.ckpt"}}
        )
        reason = load_ruleset(root).rule("t").unavailable
        assert reason is not None and "not found" in reason and "nope.ckpt" in reason

    def test_on_unavailable_hold_raises_the_action(self, tmp_path: Path) -> None:
        root = write_ruleset(tmp_path / "r", [_rule("t", "{toxicity: insult}", extra="on_unavailable: hold")])
        verdict = Moderator(load_ruleset(root)).moderate({"id": "c", "text": "nice article"})
        assert verdict.action is Action.HOLD
        assert verdict.skipped[0].rule == "t"

    def test_on_unavailable_error_fails_the_load(self, tmp_path: Path) -> None:
        root = write_ruleset(tmp_path / "r", [_rule("t", "{toxicity: insult}", extra="on_unavailable: error")])
        with pytest.raises(RulesetError, match="cannot run"):
            load_ruleset(root)

    def test_no_ml_disables_every_ml_predicate(self, tmp_path: Path) -> None:
        root = write_ruleset(
            tmp_path / "r",
            [
                _rule("detox", "{toxicity: insult}"),
                _rule("profanity", "{toxicity: {backend: profanity-check, above: 0.9}}"),
                _rule("plain", "{pattern: grobnik}"),
            ],
        )
        ruleset = load_ruleset(root, disable_ml=True)
        assert ruleset.rule("detox").unavailable == ML_DISABLED
        assert ruleset.rule("profanity").unavailable == ML_DISABLED
        assert ruleset.rule("plain").unavailable is None
        verdict = Moderator(ruleset).moderate({"id": "c", "text": "you are a grobnik"})
        assert [v.rule for v in verdict.violations] == ["plain"]
        assert {s.rule for s in verdict.skipped} == {"detox", "profanity"}

    def test_cli_check_no_ml(self, tmp_path: Path) -> None:
        root = write_ruleset(tmp_path / "r", [_rule("profanity", "{toxicity: {backend: profanity-check}}")])
        comments = tmp_path / "c.jsonl"
        comments.write_text('{"id": "c1", "text": "what a load of crap"}\n', encoding="utf-8")
        result = CliRunner().invoke(main, ["check", str(comments), "--rules", str(root), "--no-ml", "-q"])
        assert result.exit_code == 0, result.output
        verdict = json.loads(result.stdout.splitlines()[0])
        assert verdict["skipped"] == [{"rule": "profanity", "reason": ML_DISABLED}]


class TestBatchingQuirks:
    def test_empty_and_blank_texts_never_reach_the_model(self) -> None:
        calls: list[list[str]] = []

        def predict(texts: list[str]) -> dict[str, Any]:
            calls.append(texts)
            raise AssertionError("not called")

        assert predict_batched(predict, [], 8) == []
        assert predict_batched(predict, ["", "  \n"], 8) == [{}, {}]
        assert calls == []

    def test_one_item_floats_and_chunks(self) -> None:
        calls: list[list[str]] = []

        def predict(texts: list[str]) -> dict[str, Any]:
            calls.append(texts)
            scores = [len(t) / 10 for t in texts]
            # detoxify's quirk: a one-text batch gives floats, not lists.
            return {"toxicity": scores[0] if len(scores) == 1 else scores}

        out = predict_batched(predict, ["a", "", "bb", "ccc", "dddd", "eeeee"], 2)
        assert [len(c) for c in calls] == [2, 2, 1]
        assert [o.get("toxicity") for o in out] == [0.1, None, 0.2, 0.3, 0.4, 0.5]


class TestPeek:
    def test_not_a_zip_is_left_to_the_loader(self, tmp_path: Path) -> None:
        path = tmp_path / "old.ckpt"
        path.write_bytes(b"\x80\x02 legacy torch file")
        assert peek_checkpoint(path) is None

    def test_a_zip_without_detoxify_config_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "other.ckpt"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("other/data.pkl", pickle.dumps({"state_dict": {}}))
        reason = peek_checkpoint(path)
        assert isinstance(reason, str) and "not a detoxify checkpoint" in reason

    def test_peek_never_builds_foreign_objects(self, tmp_path: Path) -> None:
        path = tmp_path / "evil.ckpt"
        payload = pickle.dumps({"config": os.system})  # would name os.system on load
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("evil/data.pkl", payload)
        assert "not a detoxify checkpoint" in str(peek_checkpoint(path))


def test_models_command_lists_every_backend() -> None:
    result = CliRunner().invoke(main, ["models"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name in ("detoxify", "profanity-check", "MiniLM", "language-ID"):
        assert name in result.output


# ------------------------------------------------------------ detoxify, end to end


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A tiny detoxify checkpoint whose stored model_type is its local tokenizer directory."""
    _skip_if_ml_switched_off()
    pytest.importorskip("torch", reason=ML_REASON)
    pytest.importorskip("transformers", reason=ML_REASON)
    pytest.importorskip("detoxify", reason=ML_REASON)
    import torch

    torch.set_num_threads(1)
    from tests.tiny_detoxify import build_checkpoint

    yield build_checkpoint(tmp_path_factory.mktemp("tiny-detoxify"))


def _models(checkpoint: Path, **extra: Any) -> dict[str, Any]:
    return {"toxicity": {"checkpoint": str(checkpoint), "threads": 1, **extra}}


class TestDetoxify:
    def test_verdict_depends_on_the_model(self, tmp_path: Path, tiny: Path) -> None:
        root = write_ruleset(
            tmp_path / "r",
            [
                _rule("insult", "{toxicity: {label: insult, above: 0.5}}", action="delete"),
                _rule("threat", "{toxicity: {label: threat, above: 0.5}}", action="hold"),
            ],
            models=_models(tiny),
        )
        moderator = Moderator(load_ruleset(root))
        assert all(rule.unavailable is None for rule in moderator.rules)
        insult = moderator.moderate({"id": "a", "text": "you are a grobnik"})
        assert insult.action is Action.DELETE
        assert [v.rule for v in insult.violations] == ["insult"]
        assert insult.violations[0].score > 0.9
        assert insult.violations[0].evidence[0].text == "you are a grobnik"
        threat = moderator.moderate({"id": "b", "text": "Kablam, today."})
        assert [v.rule for v in threat.violations] == ["threat"]
        # Length does not dilute it: the model attends to the word wherever it is.
        long_text = "thanks for the article " * 80 + "vlemp"
        assert moderator.moderate({"id": "c", "text": long_text}).action is Action.DELETE
        for clean in ("nice article, thanks", "the government said war", "grob nik", ""):
            verdict = moderator.moderate({"id": "d", "text": clean})
            assert verdict.action is Action.PUBLISH, clean
            assert verdict.skipped == []

    def test_one_predict_call_per_batch_shared_by_rules(self, tmp_path: Path, tiny: Path) -> None:
        root = write_ruleset(
            tmp_path / "r",
            [_rule("insult", "{toxicity: insult}"), _rule("toxic", "{toxicity: {above: 0.5}}")],
            models=_models(tiny, batch_size=4),
        )
        moderator = Moderator(load_ruleset(root))
        scorers = {id(p.batch_preparer()) for r in moderator.rules for p in r.condition.predicates()}
        assert len(scorers) == 1  # both rules read one scorer
        scorer = next(moderator.rules[0].condition.predicates()).batch_preparer()
        texts = ["fine words", "you grobnik"] * 5
        verdicts = list(moderator.moderate_many({"id": str(i), "text": t} for i, t in enumerate(texts)))
        assert [v.action is Action.HOLD for v in verdicts] == [False, True] * 5
        assert scorer.predict_calls == 3  # type: ignore[union-attr]  # 10 texts, batches of 4
        moderator.moderate({"id": "x", "text": "one alone"})
        assert scorer.predict_calls == 4  # type: ignore[union-attr]

    def test_relative_checkpoint_and_env_override(
        self, tmp_path: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        root = tmp_path / "r"
        root.mkdir()
        (root / "weights").symlink_to(tiny.parent)
        write_ruleset(root, [_rule("t", "{toxicity: insult}")], models=_models(Path("weights") / tiny.name))
        assert load_ruleset(root).rule("t").unavailable is None
        other = write_ruleset(tmp_path / "o", [_rule("t", "{toxicity: insult}")])
        monkeypatch.setenv(detox.ENV_CHECKPOINT, str(tiny))
        assert load_ruleset(other).rule("t").unavailable is None

    def test_label_the_model_lacks_is_unavailable(self, tmp_path: Path, tiny: Path) -> None:
        root = write_ruleset(tmp_path / "r", [_rule("t", "{toxicity: sexual_explicit}")], models=_models(tiny))
        reason = load_ruleset(root).rule("t").unavailable
        assert reason is not None and "sexual_explicit" in reason

    def test_hub_named_checkpoint_runs_offline_with_hf_config(self, tmp_path: Path, tiny: Path) -> None:
        from tests.tiny_detoxify import build_checkpoint

        hub_named = build_checkpoint(tmp_path / "hub", stored_model_type="bert-base-uncased")
        rules = [_rule("t", "{toxicity: {label: insult, above: 0.5}}")]
        without = load_ruleset(write_ruleset(tmp_path / "a", rules, models=_models(hub_named)))
        reason = without.rule("t").unavailable
        if reason is not None:  # a developer's HF cache may hold bert-base-uncased
            assert "hf_config" in reason
        hf_dir = tmp_path / "hub" / "tiny-bert"
        with_config = write_ruleset(tmp_path / "b", rules, models=_models(hub_named, hf_config=str(hf_dir)))
        moderator = Moderator(load_ruleset(with_config))
        assert moderator.moderate({"id": "a", "text": "what a grobnik"}).action is Action.HOLD
        assert moderator.moderate({"id": "b", "text": "what a day"}).action is Action.PUBLISH

    def test_detoxify_quirks_are_real(self, tiny: Path) -> None:
        from detoxify import Detoxify

        model = Detoxify(checkpoint=str(tiny))
        one = model.predict(["a grobnik"])
        assert isinstance(one["insult"], float)
        with pytest.raises(IndexError):
            model.predict([])
        scorer = detox.DetoxifyScorer(DetoxifySettings(checkpoint=str(tiny), batch_size=2), None)
        scores = scorer.score(["a grobnik", "", "fine", "kablam", "ok"])
        assert scores[0]["insult"] > 0.9 and scores[1] == {} and scores[2]["insult"] < 0.1
        assert scores[3]["threat"] > 0.9
        assert scorer.predict_calls == 2

    def test_hostile_text(self, tmp_path: Path, tiny: Path) -> None:
        root = write_ruleset(tmp_path / "r", [_rule("t", "{toxicity: {label: insult, above: 0.5}}")], models=_models(tiny))
        moderator = Moderator(load_ruleset(root))
        hostile = [
            "grobnik " * 50_000,  # clipped to max_chars before tokenising
            "\u202e\u200b\ufeff" * 2000,
            "😀" * 5000 + " grobnik",
            "a\x00b\ud7ff\U0010ffff",
            "\ud800 lone surrogate \udfff grobnik",
            "ГРОБНИК grobnik",
        ]
        verdicts = list(moderator.moderate_many({"id": str(i), "text": t} for i, t in enumerate(hostile)))
        assert verdicts[0].action is Action.HOLD
        assert verdicts[4].action is Action.HOLD
        assert verdicts[5].action is Action.HOLD


# ------------------------------------------------------------ profanity-check backend


class TestProfanityCheck:
    def test_scores_and_batches(self, tmp_path: Path) -> None:
        _skip_if_ml_switched_off()
        pytest.importorskip("profanity_check", reason="the ML extra (alt-profanity-check) is not installed")
        root = write_ruleset(tmp_path / "r", [_rule("p", "{toxicity: {backend: profanity-check, above: 0.9}}")])
        moderator = Moderator(load_ruleset(root))
        assert moderator.rules[0].unavailable is None
        texts = ["you are a fucking idiot", "thanks, a balanced article on the budget", "", "shit shit \ud800 shit"]
        verdicts = list(moderator.moderate_many({"id": str(i), "text": t} for i, t in enumerate(texts)))
        assert [v.action is Action.HOLD for v in verdicts] == [True, False, False, True]
        scorer = next(moderator.rules[0].condition.predicates()).batch_preparer()
        assert scorer.predict_calls == 1  # type: ignore[union-attr]
