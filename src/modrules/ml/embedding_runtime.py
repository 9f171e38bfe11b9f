"""How the sentence-embedding model runs: threads, precision, batch size.

policy.yaml `models.embeddings` (environment overrides: MODRULES_ML_THREADS,
MODRULES_ML_PRECISION):

- `threads: auto` tries one torch thread and every core the process may use, and keeps
  whichever is faster per unit of work, probing the other now and then: a second thread
  can only help on an idle core, and was slower than one whenever another process held
  a core here (the issue saw 20-30x slower), which changes from minute to minute.
- `precision: auto` (the default) computes the matrix products in bfloat16 where the
  CPU multiplies bfloat16 natively (AMX or AVX512-BF16; torch autocast, layer norms and
  softmax stay float32), float32 elsewhere: ~1.8x less CPU per comment, embeddings within
  cosine 0.9999 of float32. Scores move by up to ~0.0015, which can flip a comment sitting
  exactly on a threshold (1 of the 454 dev-set comments: an off-topic similarity of 0.0508
  in float32, 0.04998 in bfloat16, threshold 0.05). `fp32` keeps float32 everywhere (the
  same scores on every CPU); `bf16` forces bfloat16 (slow where it is emulated).

Nothing here imports torch at module level.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ENV_THREADS = "MODRULES_ML_THREADS"
ENV_PRECISION = "MODRULES_ML_PRECISION"
MAX_AUTO_THREADS = 8


class EmbeddingSettings(BaseModel):
    """policy.yaml `models.embeddings`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threads: Annotated[int, Field(ge=1, le=256)] | Literal["auto"] = "auto"
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    # Texts per forward pass. The texts of a call are sorted by length first, so small
    # passes pad little. `auto`: 8 in float32 and 16 in bfloat16, the fastest measured
    # here (float32 16: -15%; bfloat16 8: -8%, 32: -20%).
    batch_size: Annotated[int, Field(ge=1, le=256)] | Literal["auto"] = "auto"

    def forward_batch(self, bf16: bool) -> int:
        if self.batch_size != "auto":
            return self.batch_size
        return 16 if bf16 else 8

    def thread_candidates(self) -> tuple[int, ...]:
        if self.threads != "auto":
            return (self.threads,)
        cores = min(available_cores(), MAX_AUTO_THREADS)
        return (1, cores) if cores > 1 else (1,)


def parse_embedding_settings(section: Any) -> EmbeddingSettings:
    """The settings from policy.yaml's `models.embeddings`, with environment overrides."""
    data = dict(section) if isinstance(section, dict) else {}
    threads = os.environ.get(ENV_THREADS, "").strip().lower()
    if threads:
        data["threads"] = threads if threads == "auto" else _int_or_raw(threads)
    precision = os.environ.get(ENV_PRECISION, "").strip().lower()
    if precision:
        data["precision"] = precision
    return EmbeddingSettings.model_validate(data)


def embedding_settings_error(exc: ValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'models.embeddings'}: {e['msg']}" for e in exc.errors()
    )
    return f"invalid models.embeddings settings in policy.yaml (or {ENV_THREADS}/{ENV_PRECISION}): {problems}"


def _int_or_raw(value: str) -> int | str:
    try:
        return int(value)
    except ValueError:
        return value  # left for validation to report


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (else autocast emulates)."""
    import torch

    cpu = getattr(torch, "cpu", None)
    for probe in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"):
        check = getattr(cpu, probe, None)
        if check is not None and check():
            return True
    return False


def use_bf16(settings: EmbeddingSettings) -> bool:
    if settings.precision == "auto":
        return native_bf16()
    return settings.precision == "bf16"


def prepare_environment(settings: EmbeddingSettings) -> None:
    """Before torch is first imported: OpenMP threads that sleep when idle instead of
    spinning, so two threads next to a busy core degrade instead of collapsing."""
    if max(settings.thread_candidates()) > 1:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class ThreadTuner:
    """Picks the thread count for each model call from measured cost per unit of work.

    Each candidate is tried first (its first call, which pays one-off set-up, is not
    counted); then the cheapest is used and another is probed every `probe_every`
    calls — an interval that doubles (up to `max_probe_every`) while probes confirm
    the choice and resets when the choice changes, so a slow probe costs little.
    Only calls of one kind (`learn=True`: full batches of comments) are compared; small
    calls have a fixed overhead that would blur the comparison, and just use the best.
    """

    def __init__(
        self,
        candidates: Sequence[int],
        probe_every: int = 16,
        max_probe_every: int = 256,
        alpha: float = 0.5,
    ) -> None:
        self.candidates = tuple(dict.fromkeys(max(1, c) for c in candidates)) or (1,)
        self.base_probe = probe_every
        self.max_probe = max_probe_every
        self.probe_every = probe_every
        self.alpha = alpha
        self.cost: dict[int, float] = {}  # moving average of seconds per unit of work
        self._seen: dict[int, int] = {}
        self._since_probe = 0
        self._best: int | None = None

    def best(self) -> int:
        """The cheapest thread count measured so far (the first candidate before that)."""
        measured = [c for c in self.candidates if c in self.cost]
        return min(measured, key=self.cost.__getitem__) if measured else self.candidates[0]

    def choose(self, learn: bool = True) -> int:
        if len(self.candidates) == 1 or not learn:
            return self.best()
        for candidate in self.candidates:
            if candidate not in self.cost:
                return candidate
        best = self.best()
        if best != self._best:
            self._best = best
            self.probe_every = self.base_probe
            self._since_probe = 0
        self._since_probe += 1
        if self._since_probe >= self.probe_every:
            self._since_probe = 0
            self.probe_every = min(self.max_probe, self.probe_every * 2)
            others = [c for c in self.candidates if c != best]
            return min(others, key=self.cost.__getitem__)
        return best

    def record(self, threads: int, work: float, seconds: float) -> None:
        if threads not in self.candidates or work <= 0 or seconds < 0:
            return
        self._seen[threads] = self._seen.get(threads, 0) + 1
        if self._seen[threads] == 1 and len(self.candidates) > 1:
            return  # the first call of a thread count pays thread start-up and kernel set-up
        sample = seconds / work
        old = self.cost.get(threads)
        self.cost[threads] = sample if old is None else old + self.alpha * (sample - old)
