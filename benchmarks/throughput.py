#!/usr/bin/env python3
"""Measure modrules throughput and memory on a comment corpus, in one process.

    python benchmarks/generate_corpus.py --n 100000 --seed 7 -o /tmp/corpus.jsonl.gz
    python benchmarks/throughput.py /tmp/corpus.jsonl.gz            # both phases
    python benchmarks/throughput.py /tmp/corpus.jsonl.gz --profile  # cProfile, top 25

The ruleset is loaded (and compiled) once and its load time reported. After a warm-up,
two phases are timed, each on its own Moderator over that ruleset, so stateful checks
(flash mobs, flooding) start empty and never see a comment twice:

- pipeline: raw JSON line -> orjson -> Comment -> verdict -> JSON line, per comment,
  which is what `modrules check` does minus file I/O; also per-comment latency.
- engine: `Moderator.moderate_many` over comments parsed beforehand.

Reading and decompressing the corpus is not timed. Peak RSS (getrusage) includes the
corpus held in memory; the RSS after loading the ruleset is printed for comparison.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import gzip
import os
import pstats
import resource
import sys
import time
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
# generate_corpus is a sibling script, not a package module.
from generate_corpus import threads_path_for

from modrules import Comment, Moderator, Thread
from modrules.dumps import verdict_json
from modrules.rules import load_ruleset


@dataclass
class Result:
    phase: str
    comments: int
    seconds: float
    latencies_ns: array[int] = field(default_factory=lambda: array("q"))
    actions: dict[str, int] = field(default_factory=dict)
    # CPU time of this process (the machine may be shared: wall time then means little).
    cpu_seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.comments / self.seconds if self.seconds else float("inf")

    @property
    def cpu_rate(self) -> float:
        return self.comments / self.cpu_seconds if self.cpu_seconds else float("inf")

    def percentile_ms(self, q: float) -> float:
        if not self.latencies_ns:
            return float("nan")
        ordered = sorted(self.latencies_ns)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6


def open_bytes(path: Path) -> IO[bytes]:
    if path.name.endswith(".gz"):
        return cast(IO[bytes], gzip.open(path, "rb"))
    return open(path, "rb")


def read_lines(path: Path, limit: int | None) -> list[bytes]:
    lines: list[bytes] = []
    with open_bytes(path) as stream:
        for raw in stream:
            if raw.strip():
                lines.append(raw)
                if limit is not None and len(lines) >= limit:
                    break
    return lines


def read_threads(path: Path | None) -> dict[str, Thread]:
    if path is None or not path.exists():
        return {}
    return {
        t.id: t for t in (Thread.model_validate(orjson.loads(r)) for r in read_lines(path, None))
    }


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (
        peak / 2**20 if sys.platform == "darwin" else peak / 2**10
    )  # bytes on macOS, KiB elsewhere


def current_rss_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 2**10
    except OSError:
        pass
    return None


def fresh(loaded: Moderator) -> Moderator:
    """A Moderator with empty per-comment state sharing `loaded`'s compiled ruleset.

    Compiling is done once (it can take long: see the load time); each phase gets its
    own Moderator so stateful checks (flash mobs, flooding) do not see a comment twice.
    """
    return Moderator(loaded.ruleset)


def run_pipeline(mod: Moderator, lines: list[bytes], threads: dict[str, Thread]) -> Result:
    """The per-comment path of a dump checker: parse, judge, serialise."""
    latencies = array("q")
    actions: dict[str, int] = {}
    out_bytes = 0
    clock = time.perf_counter_ns
    cpu = time.process_time()
    start = clock()
    for raw in lines:
        t0 = clock()
        comment = Comment.model_validate(orjson.loads(raw))
        thread = threads.get(comment.thread_id) if comment.thread_id else None
        verdict = mod.moderate(comment, thread)
        out_bytes += len(verdict_json(verdict))  # what `modrules check` writes
        latencies.append(clock() - t0)
        actions[verdict.action.value] = actions.get(verdict.action.value, 0) + 1
    seconds = (clock() - start) / 1e9
    cpu = time.process_time() - cpu
    return Result("pipeline", len(lines), seconds, latencies, actions, cpu)


def run_engine(mod: Moderator, pairs: list[tuple[Comment, Thread | None]]) -> Result:
    actions: dict[str, int] = {}
    cpu = time.process_time()
    start = time.perf_counter()
    for verdict in mod.moderate_many(pairs):
        actions[verdict.action.value] = actions.get(verdict.action.value, 0) + 1
    seconds = time.perf_counter() - start
    return Result(
        "engine", len(pairs), seconds, actions=actions, cpu_seconds=time.process_time() - cpu
    )


def parse_all(
    lines: Iterable[bytes], threads: dict[str, Thread]
) -> list[tuple[Comment, Thread | None]]:
    pairs: list[tuple[Comment, Thread | None]] = []
    for raw in lines:
        c = Comment.model_validate(orjson.loads(raw))
        pairs.append((c, threads.get(c.thread_id) if c.thread_id else None))
    return pairs


def report(result: Result) -> dict[str, Any]:
    line = f"{result.phase:<9} {result.comments:>8} comments in {result.seconds:8.2f} s = {result.rate:10.0f} comments/s"
    if result.latencies_ns:
        line += (
            f"   latency ms p50 {result.percentile_ms(0.5):.3f} p90 {result.percentile_ms(0.9):.3f}"
            f" p99 {result.percentile_ms(0.99):.3f} max {max(result.latencies_ns) / 1e6:.1f}"
        )
    print(line)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{'':<9} CPU {result.cpu_seconds:.2f} s = {result.cpu_rate:.0f} comments/s"
        f" ({result.cpu_seconds / max(result.comments, 1) * 1e6:.1f} µs each), load average {load:.2f}"
    )
    print(
        f"{'':<9} actions: {dict(sorted(result.actions.items()))}   peak RSS so far {peak_rss_mb():.0f} MB"
    )
    out: dict[str, Any] = {
        "phase": result.phase,
        "comments": result.comments,
        "seconds": round(result.seconds, 4),
        "comments_per_s": round(result.rate, 1),
        "cpu_seconds": round(result.cpu_seconds, 4),
        "cpu_comments_per_s": round(result.cpu_rate, 1),
        "load_average": round(load, 2),
        "actions": result.actions,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    if result.latencies_ns:
        out.update(
            {f"p{int(q * 100)}_ms": round(result.percentile_ms(q), 4) for q in (0.5, 0.9, 0.99)}
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path, help="comments, .jsonl or .jsonl.gz")
    ap.add_argument(
        "--threads",
        type=Path,
        default=None,
        help="threads file (default: CORPUS.threads.jsonl[.gz] beside it, if present)",
    )
    ap.add_argument(
        "--rules", type=Path, default=None, help="ruleset directory (default: the bundled one)"
    )
    ap.add_argument(
        "--ml",
        action="store_true",
        help="keep the ML checkers (default: off, like `modrules check --no-ml`)",
    )
    ap.add_argument("--limit", type=int, default=None, help="use only the first N comments")
    ap.add_argument(
        "--warmup", type=int, default=1000, help="comments judged before timing (default 1000)"
    )
    ap.add_argument("--phase", choices=("both", "pipeline", "engine"), default="both")
    ap.add_argument(
        "--profile", action="store_true", help="cProfile the timed phases; print the top functions"
    )
    ap.add_argument(
        "--profile-sort", default="cumulative", choices=("cumulative", "tottime", "ncalls")
    )
    ap.add_argument("--profile-top", type=int, default=25)
    ap.add_argument(
        "--json", type=Path, default=None, help="also write the results as JSON to this file"
    )
    args = ap.parse_args(argv)

    lines = read_lines(args.corpus, args.limit)
    threads = read_threads(args.threads or threads_path_for(args.corpus))
    print(
        f"corpus    {len(lines)} comments, {sum(map(len, lines)) / 2**20:.1f} MB JSON, {len(threads)} threads"
    )

    t0 = time.perf_counter()
    loaded = Moderator(load_ruleset(args.rules, disable_ml=not args.ml))
    load_s = time.perf_counter() - t0
    rss = current_rss_mb()
    print(
        f"ruleset   {len(loaded.rules)} rules loaded in {load_s:.2f} s"
        + (f", RSS now {rss:.0f} MB" if rss is not None else "")
    )
    for _ in fresh(loaded).moderate_many(parse_all(lines[: args.warmup], threads)):
        pass

    results: list[dict[str, Any]] = []
    profiler = cProfile.Profile() if args.profile else None
    if args.phase in ("both", "pipeline"):
        mod = fresh(loaded)
        gc.collect()
        if profiler:
            profiler.enable()
        results.append(report(run_pipeline(mod, lines, threads)))
        if profiler:
            profiler.disable()
        del mod
    if args.phase in ("both", "engine"):
        pairs = parse_all(lines, threads)
        mod = fresh(loaded)
        gc.collect()
        if profiler:
            profiler.enable()
        results.append(report(run_engine(mod, pairs)))
        if profiler:
            profiler.disable()

    print(f"peak RSS  {peak_rss_mb():.0f} MB (includes the corpus in memory)")
    if profiler:
        print()
        pstats.Stats(profiler, stream=sys.stdout).sort_stats(args.profile_sort).print_stats(
            args.profile_top
        )
    if args.json:
        summary = {
            "corpus": str(args.corpus),
            "load_seconds": round(load_s, 3),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "phases": results,
        }
        args.json.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
