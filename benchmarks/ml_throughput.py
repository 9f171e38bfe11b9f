#!/usr/bin/env python3
"""Comments/s of the full default ruleset with the ML checkers on (similar_to, relevance).

    python benchmarks/generate_corpus.py --n 20000 --seed 7 -o /tmp/corpus.jsonl.gz
    python benchmarks/ml_throughput.py /tmp/corpus.jsonl.gz --limit 3000
    python benchmarks/ml_throughput.py /tmp/corpus.jsonl.gz --ml-threads 1 --precision fp32
    python benchmarks/ml_throughput.py --compare   # bf16 vs fp32 on the dev set: verdicts, cosines
    python benchmarks/ml_throughput.py /tmp/corpus.jsonl.gz --limit 20000 --workers 2

`moderate_many` (batches of 64, one embedding per distinct comment text) over comments
parsed beforehand, after `--warmup` untimed comments; the model's settings come from
policy.yaml `models.embeddings` unless `--ml-threads` / `--precision` override them.
Prints comments/s, the process's CPU seconds, the model calls, the thread counts the
tuner used, and the machine's load average before and after (the machine is shared:
read every figure with its load).

`--workers N` times `modrules check --workers N` instead (N processes, one torch thread
each; the whole command: start-up, reading, the stateful part and writing included) over
the first `--limit` comments, and also reports the steady rate: verdicts written per second
after the first 10% are out (start-up and the first embedding of each thread are mostly
before that mark). CPU seconds there are those of all the command's processes.

`--compare` judges fixtures/dev-comments.jsonl (or the corpus, up to `--limit`) twice, float32 on one thread (the
reference) and with the settings given, and reports verdicts that differ (action, rules,
evidence) and the cosine between the two embeddings of every comment.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
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


def _lines_in(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    except FileNotFoundError:
        return 0


def measure_workers(args: argparse.Namespace) -> dict[str, Any]:
    """`modrules check --workers N` over the first --limit comments, timed from outside."""
    lines = read_lines(args.corpus, args.limit)
    threads_file = args.threads or threads_path_for(args.corpus)
    env = dict(os.environ)
    for name, value in (("MODRULES_ML_PRECISION", args.precision), ("MODRULES_ML_THREADS", args.ml_threads)):
        if value is not None:
            env[name] = value
    exe = Path(sys.executable).with_name("modrules")
    with tempfile.TemporaryDirectory(prefix="modrules-ml-") as tmp:
        source, output = Path(tmp) / "comments.jsonl", Path(tmp) / "verdicts.jsonl"
        source.write_bytes(b"".join(line if line.endswith(b"\n") else line + b"\n" for line in lines))
        distinct_threads = len({orjson.loads(line).get("thread_id") for line in lines})
        command = [str(exe), "check", str(source), "--threads", str(threads_file), "-q", "-o", str(output)]
        command += ["--workers", str(args.workers)]
        load_before = load()
        children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.Popen(command, env=env)
        marks: list[tuple[float, int]] = []
        while proc.poll() is None:
            time.sleep(0.25)
            marks.append((time.perf_counter() - start, _lines_in(output)))
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"modrules check exited {proc.returncode}")
        written = _lines_in(output)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (children.ru_utime - children0.ru_utime) + (children.ru_stime - children0.ru_stime)
    first_tenth = next(((t, n) for t, n in marks if n >= written // 10), (wall, written))
    steady = (written - first_tenth[1]) / max(wall - first_tenth[0], 1e-9)
    result = {
        "comments": written,
        "workers": args.workers,
        "distinct_threads": distinct_threads,
        "seconds": round(wall, 2),
        "comments_per_s": round(written / wall, 1),
        "steady_comments_per_s": round(steady, 1),
        "first_tenth_at_s": round(first_tenth[0], 2),
        "cpu_seconds": round(cpu, 2),
        "load_before": load_before,
        "load_after": load(),
    }
    print(
        f"modrules check --workers {args.workers}: {written} comments ({distinct_threads} threads) in "
        f"{wall:.2f} s = {written / wall:.1f} comments/s, steady {steady:.1f}/s after the first 10% "
        f"(out at {first_tenth[0]:.1f} s); CPU {cpu:.1f} s in all processes; "
        f"load average {load_before} -> {result['load_after']}"
    )
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
    ap.add_argument("--workers", type=int, default=None, help="time `modrules check --workers N` instead")
    ap.add_argument("--compare", action="store_true", help="dev-set verdicts and cosines vs float32")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args(argv)
    if args.compare:
        result = compare(args)
    elif args.corpus is None:
        ap.error("a corpus is needed (or --compare)")
    elif args.workers is not None:
        result = measure_workers(args)
    else:
        result = measure(args)
    if args.json:
        args.json.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
