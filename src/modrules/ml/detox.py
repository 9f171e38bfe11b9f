"""Toxicity scores from detoxify (or, offline, alt-profanity-check), batched and loaded once.

Facts about detoxify 0.5.4 handled here:
- it calls `<Config>.from_pretrained(model_type)` with the `model_type` stored *inside* the
  checkpoint (a hub name such as `bert-base-uncased`), so a checkpoint runs offline only when
  that name is a local directory, is in the Hugging Face cache, or when we substitute a local
  directory (`hf_config`) for it — done here by loading the checkpoint ourselves;
- `HF_HUB_OFFLINE` must be set before transformers is imported, or a missing file costs
  ~25 s of retries;
- `predict([])` raises and a one-item list returns floats instead of lists;
- torch on 2 threads next to a busy core ran 20–30x slower than on 1: threads are configurable.

Nothing here imports torch until a model is first needed; availability is decided from
files on disk (`find_spec`, the caches, a peek at the checkpoint's pickled config).
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import threading
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ModelType = Literal["original", "unbiased", "multilingual", "original-small", "unbiased-small"]
Label = Literal[
    "toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack", "sexual_explicit"
]
LABELS: tuple[str, ...] = Label.__args__  # type: ignore[attr-defined]

ENV_CHECKPOINT = "MODRULES_DETOXIFY_CHECKPOINT"
ENV_HF_CONFIG = "MODRULES_DETOXIFY_HF_CONFIG"
ML_EXTRA_MISSING = "the ML extra is not installed: pip install 'modrules[ml]'"

# detoxify 0.5.4's release files, and the Hugging Face model each was fine-tuned from.
DOWNLOAD_URL = "https://github.com/unitaryai/detoxify/releases/download/"
MODEL_FILES: dict[str, str] = {
    "original": "v0.1-alpha/toxic_original-c1212f89.ckpt",
    "unbiased": "v0.3-alpha/toxic_debiased-c7548aa0.ckpt",
    "multilingual": "v0.4-alpha/multilingual_debiased-0b549669.ckpt",
    "original-small": "v0.1.2/original-albert-0e1d6498.ckpt",
    "unbiased-small": "v0.1.2/unbiased-albert-c8519128.ckpt",
}
BASE_MODELS: dict[str, str] = {
    "original": "bert-base-uncased",
    "unbiased": "roberta-base",
    "multilingual": "xlm-roberta-base",
    "original-small": "albert-base-v2",
    "unbiased-small": "albert-base-v2",
}
_ORIGINAL_LABELS = ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack")
_UNBIASED_LABELS = (*_ORIGINAL_LABELS, "sexual_explicit")
# detoxify renames the Jigsaw class names to these.
_RENAMES = {"toxic": "toxicity", "identity_hate": "identity_attack", "severe_toxic": "severe_toxicity"}


class DetoxifySettings(BaseModel):
    """policy.yaml `models.toxicity`: which detoxify model, where its weights are, how it runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: ModelType = "original"
    # A local detoxify .ckpt file (relative paths: to the ruleset directory). Always offline.
    checkpoint: str | None = None
    # A local directory with the config and tokenizer files of the checkpoint's base model
    # (e.g. bert-base-uncased), for checkpoints that name a hub model not in the local cache.
    hf_config: str | None = None
    device: str = "cpu"
    batch_size: int = Field(default=32, ge=1, le=1024)
    threads: int | None = Field(default=1, ge=1, le=256)
    # Off: nothing is downloaded; the predicate is unavailable until weights are present.
    allow_download: bool = False
    # Longer comments are scored on their first characters (the model sees 512 tokens anyway).
    max_chars: int = Field(default=4000, ge=100)


def parse_settings(section: Any) -> DetoxifySettings:
    """The settings from policy.yaml's `models.toxicity`, with environment overrides applied."""
    data = dict(section) if isinstance(section, dict) else {}
    if os.environ.get(ENV_CHECKPOINT):
        data["checkpoint"] = os.environ[ENV_CHECKPOINT]
    if os.environ.get(ENV_HF_CONFIG):
        data["hf_config"] = os.environ[ENV_HF_CONFIG]
    return DetoxifySettings.model_validate(data)


def settings_error(exc: ValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'models.toxicity'}: {e['msg']}" for e in exc.errors()
    )
    return f"policy.yaml models.toxicity: {problems}"


# ---------------------------------------------------------------- where the weights are


def extra_installed(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


def torch_hub_checkpoints() -> Path:
    """torch.hub's checkpoint cache, found the way torch finds it, without importing torch."""
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "torch"
    )
    return Path(torch_home) / "hub" / "checkpoints"


def cached_release(model: str) -> Path:
    return torch_hub_checkpoints() / Path(MODEL_FILES[model]).name


def hf_cached(repo_id: str) -> bool:
    """Whether the Hugging Face cache holds the model's config (so it loads offline)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    try:
        found = try_to_load_from_cache(repo_id, "config.json")
    except Exception:  # noqa: BLE001 - a malformed name is simply "not cached"
        return False
    return isinstance(found, str)


@dataclass(frozen=True)
class Weights:
    """Where the model will come from, once it is needed."""

    checkpoint: Path | None  # a local file (configured, or the torch hub cache); None: download
    hf_config: Path | None
    labels: tuple[str, ...] | None  # the model's labels, when known without loading it
    base_model: str | None  # the base model the checkpoint names


def locate(settings: DetoxifySettings, ruleset_dir: Path | None) -> Weights | str:
    """The weights to load, or why there are none (with how to get them)."""
    if not extra_installed("torch", "transformers", "detoxify"):
        return ML_EXTRA_MISSING
    hf_config = _local_path(settings.hf_config, ruleset_dir) if settings.hf_config else None
    if hf_config is not None and not (hf_config / "config.json").is_file():
        return f"detoxify hf_config {hf_config} has no config.json (models.toxicity.hf_config / {ENV_HF_CONFIG})"
    if settings.checkpoint:
        checkpoint: Path | None = _local_path(settings.checkpoint, ruleset_dir)
        assert checkpoint is not None
        if not checkpoint.is_file():
            return (
                f"detoxify checkpoint not found: {checkpoint} "
                f"(set models.toxicity.checkpoint in policy.yaml or {ENV_CHECKPOINT})"
            )
    else:
        cached = cached_release(settings.model)
        checkpoint = cached if cached.is_file() else None
        if checkpoint is None and not settings.allow_download:
            return no_weights_reason(settings.model)
    labels: tuple[str, ...] | None = None
    base: str | None = BASE_MODELS[settings.model]
    if checkpoint is not None:
        peeked = peek_checkpoint(checkpoint)
        if isinstance(peeked, str):
            return peeked
        if peeked is not None:
            base, labels = peeked
    elif settings.model in ("original", "original-small"):
        labels = _ORIGINAL_LABELS
    else:
        labels = _UNBIASED_LABELS
    offline = hf_config is None and not settings.allow_download
    if base is not None and offline and not Path(base).is_dir() and not hf_cached(base):
        return (
            f"the detoxify checkpoint needs the config and tokenizer of {base!r}, which are not "
            f"in the local Hugging Face cache: set models.toxicity.hf_config to a directory holding "
            f"them (`hf download {base} config.json vocab.txt tokenizer.json tokenizer_config.json "
            f"--local-dir DIR`, once, on a machine with network), or allow_download: true"
        )
    return Weights(checkpoint, hf_config, labels, base)


def no_weights_reason(model: str) -> str:
    return (
        f"no detoxify weights for model {model!r}: set models.toxicity.checkpoint in policy.yaml "
        f"(or {ENV_CHECKPOINT}) to a local .ckpt file, e.g. {DOWNLOAD_URL}{MODEL_FILES[model]}, "
        f"or set models.toxicity.allow_download: true to fetch it once into {torch_hub_checkpoints()}"
    )


def _local_path(value: str, ruleset_dir: Path | None) -> Path:
    path = Path(os.path.expanduser(value))
    if not path.is_absolute() and ruleset_dir is not None:
        path = ruleset_dir / path
    return path


class _Stub:
    """Stands in for any class a pickled checkpoint names: we only read its plain config."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def append(self, value: Any) -> None:
        pass

    def extend(self, values: Any) -> None:
        pass


_PLAIN = {("collections", "OrderedDict"), ("builtins", "dict"), ("builtins", "list"), ("builtins", "set")}


class _ConfigOnly(pickle.Unpickler):
    # Never builds the checkpoint's objects (tensors, lightning classes): only stubs. Safe
    # on an untrusted file, and no torch import; the tensors live outside data.pkl anyway.
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _PLAIN:
            return super().find_class(module, name)
        return _Stub

    def persistent_load(self, pid: Any) -> Any:
        return None


def peek_checkpoint(path: Path) -> tuple[str, tuple[str, ...]] | str | None:
    """(stored model_type, labels) read from a checkpoint's pickled config without loading it.

    A string is a reason the file is not a detoxify checkpoint; None means the format could
    not be peeked into (an old non-zip torch file): loading will tell.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
            if not names:
                return None
            with archive.open(names[0]) as stream:
                data = _ConfigOnly(stream).load()
    except (zipfile.BadZipFile, OSError):
        return None
    except Exception as exc:  # noqa: BLE001 - a corrupt pickle: report it, do not crash the load
        return f"cannot read the detoxify checkpoint {path}: {exc}"
    try:
        config = data["config"]
        args = config["arch"]["args"]
        classes = config["dataset"]["args"]["classes"]
        base = str(args["model_type"])
        labels = tuple(_RENAMES.get(str(c), str(c)) for c in classes)
    except (KeyError, TypeError):
        return f"{path} is not a detoxify checkpoint (it has no config.arch and config.dataset)"
    return base, labels


# ---------------------------------------------------------------- loading and scoring

_LOCK = threading.Lock()
# One model per process: keyed by what was loaded, shared by every ruleset that names it.
_MODELS: dict[tuple[Any, ...], Any] = {}


def _offline_env() -> None:
    # Before transformers is first imported; harmless after (then whoever imported it decided).
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def load_detoxify(settings: DetoxifySettings, weights: Weights) -> Any:
    """The loaded `detoxify.Detoxify`, built once per process for these settings."""
    key = (settings.model, str(weights.checkpoint), str(weights.hf_config), settings.device)
    with _LOCK:
        model = _MODELS.get(key)
        if model is None:
            try:
                model = _load(settings, weights)
            except Exception as exc:  # torch/transformers errors say little about the fix
                raise RuntimeError(
                    f"detoxify could not load ({weights.checkpoint or settings.model}): {exc}; "
                    "check the weights with `modrules models`"
                ) from exc
            _MODELS[key] = model
    return model


def _load(settings: DetoxifySettings, weights: Weights) -> Any:
    if not settings.allow_download:
        _offline_env()
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    if settings.threads is not None:
        torch.set_num_threads(settings.threads)
    from detoxify import Detoxify

    if weights.hf_config is None:
        # The stored model_type resolves locally (a directory or the HF cache): detoxify as is.
        if weights.checkpoint is None:
            return Detoxify(model_type=settings.model, device=settings.device)
        return Detoxify(checkpoint=str(weights.checkpoint), device=settings.device)
    return _load_with_local_config(settings, weights.checkpoint, weights.hf_config)


def _load_with_local_config(settings: DetoxifySettings, checkpoint: Path | None, hf_config: Path) -> Any:
    """detoxify's own load, with the checkpoint's hub model name replaced by a local directory."""
    import torch
    from detoxify import Detoxify
    from detoxify.detoxify import get_model_and_tokenizer

    if checkpoint is None:
        loaded = torch.hub.load_state_dict_from_url(
            DOWNLOAD_URL + MODEL_FILES[settings.model], map_location=settings.device, weights_only=False
        )
    else:
        loaded = torch.load(checkpoint, map_location=settings.device, weights_only=False)
    args = dict(loaded["config"]["arch"]["args"])
    args["model_type"] = str(hf_config)
    model, tokenizer = get_model_and_tokenizer(
        **args, state_dict=loaded["state_dict"], huggingface_config_path=str(hf_config)
    )
    detox = Detoxify.__new__(Detoxify)  # the rest of Detoxify.__init__, on our loaded parts
    detox.model, detox.tokenizer, detox.device = model, tokenizer, settings.device
    detox.class_names = [_RENAMES.get(c, c) for c in loaded["config"]["dataset"]["args"]["classes"]]
    detox.model.to(settings.device)
    return detox


def clean_text(text: str, max_chars: int) -> str:
    """The first `max_chars` characters, with lone surrogates (invalid UTF-8) replaced:
    tokenizers raise on them."""
    clipped = text[:max_chars]
    if clipped.isascii():
        return clipped
    return clipped.encode("utf-8", "replace").decode("utf-8")


def predict_batched(predict: Callable[[list[str]], dict[str, Any]], texts: Sequence[str], batch_size: int) -> list[dict[str, float]]:
    """Per-text label scores from detoxify's `predict`, whatever the number of texts.

    `predict([])` raises and a one-text call returns floats, not lists: both handled here.
    Empty or blank texts score 0 without the model.
    """
    results: list[dict[str, float]] = [{} for _ in texts]
    todo = [i for i, text in enumerate(texts) if text.strip()]
    for start in range(0, len(todo), batch_size):
        chunk = todo[start : start + batch_size]
        scores = predict([texts[i] for i in chunk])
        for label, values in scores.items():
            column = values if isinstance(values, list) else [values]
            for i, value in zip(chunk, column, strict=True):
                results[i][label] = float(value)
    return results


class DetoxifyScorer:
    """The shared batch preparer of every detoxify `toxicity` predicate with these settings."""

    signal = "toxicity:detoxify"

    def __init__(self, settings: DetoxifySettings, ruleset_dir: Path | None) -> None:
        self.settings = settings
        located = locate(settings, ruleset_dir)
        self.weights: Weights | None = located if isinstance(located, Weights) else None
        self.unavailable: str | None = located if isinstance(located, str) else None
        self.predict_calls = 0  # tests and benchmarks check batching with it

    def _predict(self, texts: list[str]) -> dict[str, Any]:
        assert self.weights is not None
        self.predict_calls += 1
        model = load_detoxify(self.settings, self.weights)
        if self.settings.threads is not None:
            import torch

            # The embedding model sets torch's (process-wide) thread count per call too.
            if torch.get_num_threads() != self.settings.threads:
                torch.set_num_threads(self.settings.threads)
        result: dict[str, Any] = model.predict(texts)
        return result

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        clipped = [clean_text(t, self.settings.max_chars) for t in texts]
        return predict_batched(self._predict, clipped, self.settings.batch_size)

    def prepare(self, docs: Sequence[Any]) -> None:
        if self.unavailable is not None:
            return
        for doc, scores in zip(docs, self.score([d.text for d in docs]), strict=True):
            doc.set_signal(self.signal, scores)

    def scores(self, doc: Any) -> dict[str, float]:
        """This comment's label scores (computed alone if no batch prepared them)."""
        result: dict[str, float] = doc.signal(self.signal, lambda d: self.score([d.text])[0])
        return result


class ProfanityScorer:
    """alt-profanity-check: one offensive-language probability, model in the wheel (offline).

    It cannot tell hate from swearing and misreads some non-English words; use it with cues.
    """

    signal = "toxicity:profanity-check"
    max_chars = 4000

    def __init__(self) -> None:
        self.unavailable: str | None = None if extra_installed("profanity_check", "sklearn") else ML_EXTRA_MISSING
        self._predict_prob: Callable[[list[str]], Any] | None = None
        self.predict_calls = 0

    def _model(self) -> Callable[[list[str]], Any]:
        with _LOCK:
            if self._predict_prob is None:
                from profanity_check import predict_prob  # loads its pickled model on import

                self._predict_prob = predict_prob
        return self._predict_prob

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        results: list[dict[str, float]] = [{"toxicity": 0.0} for _ in texts]
        todo = [i for i, text in enumerate(texts) if text.strip()]
        if todo:
            self.predict_calls += 1
            probs = self._model()([clean_text(texts[i], self.max_chars) for i in todo])
            for i, prob in zip(todo, probs, strict=True):
                results[i]["toxicity"] = float(prob)
        return results

    def prepare(self, docs: Sequence[Any]) -> None:
        if self.unavailable is not None:
            return
        for doc, scores in zip(docs, self.score([d.text for d in docs]), strict=True):
            doc.set_signal(self.signal, scores)

    def scores(self, doc: Any) -> dict[str, float]:
        result: dict[str, float] = doc.signal(self.signal, lambda d: self.score([d.text])[0])
        return result

