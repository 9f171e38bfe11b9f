#!/usr/bin/env python3
"""Comments/s of the full default ruleset with the ML checkers on (similar_to, relevance).

    python benchmarks/generate_corpus.py --n 20000 --seed 7 -o /tmp/corpus.jsonl.gz
    python benchmarks/ml_throughput.py /tmp/corpus.jsonl.gz --limit 3000
    python benchmarks/ml_throughput.py /tmp/corpus.jsonl.gz --ml-threads 1 --precision fp32
    python benchmarks/ml_throughput.py --compare   # bf16 vs fp32 on the dev set: verdicts, cosines

`moderate_many` (batches of 64, one embedding per distinct comment text) over comments
parsed beforehand, after `--warmup` untimed comments; the model's settings come from
policy.yaml `models.embeddings` unless `--ml-threads` / `--precision` override them.
Prints comments/s, the process's CPU seconds, the model calls, the thread counts the
tuner used, and the machine's load average before and after (the machine is shared:
read every figure with its load).

`--compare` judges fixtures/dev-comments.jsonl (or the corpus, up to `--limit`) twice, float32 on one thread (the
reference) and with the settings given, and reports verdicts that differ (action, rules,
evidence) and the cosine between the two embeddings of every comment.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
# throughput and generate_corpus are sibling scripts, not package modules.
from generate_corpus import threads_path_for
from throughput import parse_all, read_lines, read_threads

from modrules import Comment, Moderator
from modrules.checkers.semantic import Embedder
from modrules.rules import load_ruleset

REPO = Path(__file__).resolve().parent.parent
DEV = REPO / "fixtures" / "dev-comments.jsonl"
DEV_THREADS = REPO / "fixtures" / "threads.jsonl"


def moderator(threads: str | None, precision: str | None) -> Moderator:
    """The bundled ruleset with ML on, its embedder built with these overrides."""
    for name, value in (("MODRULES_ML_THREADS", threads), ("MODRULES_ML_PRECISION", precision)):
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    return Moderator(load_ruleset(None, disable_ml=False))


def embedder_of(mod: Moderator) -> Embedder:
    found = [p for p in mod._preparers if isinstance(p, Embedder)]
    if not found:
        raise SystemExit("no embedding model in this ruleset (is the ML extra installed?)")
    return found[0]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def measure(args: argparse.Namespace) -> dict[str, Any]:
    lines = read_lines(args.corpus, args.limit + args.warmup)
    threads = read_threads(args.threads or threads_path_for(args.corpus))
    pairs = parse_all(lines, threads)
    warm, timed = pairs[: args.warmup], pairs[args.warmup :]
    mod = moderator(args.ml_threads, args.precision)
    embedder = embedder_of(mod)
    for _ in mod.moderate_many(warm):
        pass
    used: Counter[int] = Counter()
    choose = embedder.tuner.choose

    def counted(learn: bool = True) -> int:
        n = choose(learn)
        used[n] += 1
        return n

    embedder.tuner.choose = counted  # type: ignore[method-assign]
    calls = embedder.calls
    load_before = load()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    actions = Counter(v.action.value for v in mod.moderate_many(timed))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    result = {
        "comments": len(timed),
        "seconds": round(wall, 2),
        "comments_per_s": round(len(timed) / wall, 1),
        "cpu_seconds": round(cpu, 2),
        "model_calls": embedder.calls - calls,
        "bf16": embedder.bf16,
        "thread_candidates": list(embedder.tuner.candidates),
        "threads_used": dict(sorted(used.items())),
        "cost_per_kchar_ms": {k: round(v * 1e6, 3) for k, v in sorted(embedder.tuner.cost.items())},
        "load_before": load_before,
        "load_after": load(),
        "actions": dict(sorted(actions.items())),
    }
    print(
        f"{len(timed)} comments in {wall:.2f} s = {len(timed) / wall:.1f} comments/s "
        f"(CPU {cpu:.1f} s; bf16 {embedder.bf16}; threads used {dict(used)}; "
        f"load average {result['load_before']} -> {result['load_after']})"
    )
    print(f"actions {result['actions']}; model calls {result['model_calls']}; tuner cost {result['cost_per_kchar_ms']}")
    return result


def _verdict_key(verdict: Any) -> tuple[Any, ...]:
    return (
        verdict.action.value,
        tuple((v.rule, tuple((e.start, e.end) for e in v.evidence)) for v in verdict.violations),
    )


def compare(args: argparse.Namespace) -> dict[str, Any]:
    source = args.corpus or DEV
    comments = [
        Comment.model_validate(orjson.loads(r))
        for r in read_lines(source, args.limit if args.corpus else None)
    ]
    threads_file = (args.threads or threads_path_for(args.corpus)) if args.corpus else DEV_THREADS
    threads = read_threads(threads_file)
    reference = moderator("1", "fp32")
    candidate = moderator(args.ml_threads, args.precision)
    ref = list(reference.moderate_many(comments, threads))
    new = list(candidate.moderate_many(comments, threads))
    differ = [(a, b) for a, b in zip(ref, new, strict=True) if _verdict_key(a) != _verdict_key(b)]
    score_gap = max(
        (
            abs(x.score - y.score)
            for a, b in zip(ref, new, strict=True)
            if _verdict_key(a) == _verdict_key(b)
            for x, y in zip(a.violations, b.violations, strict=True)
        ),
        default=0.0,
    )
    texts = [c.text for c in comments]
    ref_vectors = embedder_of(reference).encode(texts)
    new_vectors = embedder_of(candidate).encode(texts)
    cosines = sorted(float(a @ b) for a, b in zip(ref_vectors, new_vectors, strict=True))
    result = {
        "set": str(source),
        "comments": len(comments),
        "candidate_bf16": embedder_of(candidate).bf16,
        "verdicts_differing": len(differ),
        "max_score_difference": round(score_gap, 4),
        "cosine_min": round(cosines[0], 6),
        "cosine_mean": round(sum(cosines) / len(cosines), 6),
    }
    print(
        f"{source.name}, {len(comments)} comments: {len(differ)} verdicts differ from float32/1 thread "
        f"(bf16 {result['candidate_bf16']}); largest score difference {score_gap:.4f}; "
        f"embedding cosine min {cosines[0]:.6f}, mean {result['cosine_mean']:.6f}"
    )
    for a, b in differ[:10]:
        print(f"  {a.comment_id}: {_verdict_key(a)} -> {_verdict_key(b)}")
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path, nargs="?", help="comments, .jsonl or .jsonl.gz")
    ap.add_argument("--threads", type=Path, default=None, help="threads file (default: beside the corpus)")
    ap.add_argument("--limit", type=int, default=3000, help="comments timed (default 3000)")
    ap.add_argument("--warmup", type=int, default=200, help="comments judged before timing")
    ap.add_argument("--ml-threads", default=None, help="torch threads: N or auto (default: policy.yaml)")
    ap.add_argument("--precision", choices=("auto", "fp32", "bf16"), default=None)
    ap.add_argument("--compare", action="store_true", help="dev-set verdicts and cosines vs float32")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args(argv)
    if args.compare:
        result = compare(args)
    elif args.corpus is None:
        ap.error("a corpus is needed (or --compare)")
    else:
        result = measure(args)
    if args.json:
        args.json.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
