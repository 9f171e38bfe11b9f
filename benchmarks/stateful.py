#!/usr/bin/env python3
"""Throughput and memory of the stateful checks (flash mob + flooding) over a stream.

    python benchmarks/generate_corpus.py --n 100000 --seed 7 -o /tmp/corpus.jsonl.gz
    python benchmarks/stateful.py /tmp/corpus.jsonl.gz --store sqlite --window-comments 50000

Runs the default ruleset's `repetition` (flash mob, site-wide) and `rate` (flooding)
rules — nothing else — through `Moderator.moderate_many`, i.e. with the retroactive
buffer, on one core. The rules' time window is set so that it holds
`--window-comments` comments of this stream (the time the stream takes to post that
many). Comments are parsed from JSON before the clock starts; the figure covers
validation, fingerprinting, the window, revisions, store writes and output order.

Prints comments/s, the peak resident memory (ru_maxrss) and the most comments the
in-process window held, for the memory store and/or an SQLite file.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core: no BLAS threads
os.environ.setdefault("MODRULES_NO_ML", "1")

from modrules import Moderator
from modrules.gc_tuning import batch_gc
from modrules.rules import load_ruleset
from modrules.store import open_store

RULES = Path(__file__).resolve().parent.parent / "rules" / "sputnik"


def read(path: str, limit: int | None) -> list[dict[str, Any]]:
    opener = gzip.open if path.endswith(".gz") else open
    out: list[dict[str, Any]] = []
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            out.append(json.loads(line))
            if limit is not None and len(out) >= limit:
                break
    return out


def window_seconds(comments: list[dict[str, Any]], size: int) -> int:
    """Seconds the stream takes to post `size` comments (at least a minute)."""
    times = sorted(datetime.fromisoformat(str(c["created_at"])) for c in comments)
    size = min(size, len(times) - 1)
    spans = [
        (times[i + size] - times[i]).total_seconds()
        for i in range(0, len(times) - size, max(1, size // 10))
    ]
    return max(60, int(sum(spans) / len(spans)))


def ruleset_dir(root: Path, window: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(RULES / "policy.yaml", root / "policy.yaml")
    for name in ("16-flash-mob.yaml", "17-flooding.yaml"):
        text = (RULES / name).read_text().replace("window: 10m", f"window: {window}s")
        (root / name).write_text(text)
    return root


def flush_redis(url: str) -> None:
    """Start from an empty database, as a fresh SQLite file does."""
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def run(
    comments: list[dict[str, Any]],
    rules: Path,
    store_url: str,
    ledger: bool,
    dump: list[str] | None = None,
) -> dict[str, Any]:
    store = open_store(store_url)
    ruleset = load_ruleset(rules, disable_ml=True)
    # Without --ledger the store holds the window only: the checks are what is measured.
    moderator = Moderator(ruleset, store=store) if ledger else Moderator(ruleset)
    retro = moderator._retro
    assert retro is not None
    retro.window.use_store(store)
    most = 0
    flagged = 0
    started, cpu = time.perf_counter(), time.process_time()
    with batch_gc():  # as `modrules check` runs
        for index, verdict in enumerate(moderator.moderate_many(comments)):
            flagged += bool(verdict.violations)
            if dump is not None:  # for comparing verdicts across versions (slows the run)
                dump.append(verdict.model_dump_json())
            if index % 1000 == 0:
                most = max(most, len(retro.window))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    store.close()
    return {
        "store": store_url.split(":")[0],
        "ledger": ledger,
        "comments": len(comments),
        "seconds": round(seconds, 2),
        "comments_per_s": round(len(comments) / seconds),
        # CPU time of this process: what one core does, whatever else the machine runs.
        "comments_per_cpu_s": round(len(comments) / cpu),
        "flagged": flagged,
        "window_max_entries": most,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--window-comments", type=int, default=50_000)
    parser.add_argument("--store", choices=["memory", "sqlite", "redis"], default="sqlite")
    parser.add_argument(
        "--redis-url", default="redis://127.0.0.1:6379/0", help="with --store redis (flushed!)"
    )
    parser.add_argument(
        "--ledger", action="store_true", help="also enforce every verdict (strikes)"
    )
    parser.add_argument(
        "--verdicts", help="also write every verdict (JSON Lines) here, to compare versions"
    )
    args = parser.parse_args(argv)
    comments = read(args.corpus, args.limit)
    window = window_seconds(comments, args.window_comments)
    with tempfile.TemporaryDirectory() as tmp:
        rules = ruleset_dir(Path(tmp) / "rules", window)
        url = {
            "memory": "memory",
            "sqlite": f"sqlite:///{Path(tmp) / 'state.db'}",
            "redis": args.redis_url,
        }[args.store]
        if args.store == "redis":
            flush_redis(url)
        dump: list[str] | None = [] if args.verdicts else None
        result = run(comments, rules, url, args.ledger, dump)
        if args.verdicts and dump is not None:
            Path(args.verdicts).write_text("".join(line + "\n" for line in dump))
        result["window_seconds"] = window
        if args.store == "sqlite":
            result["db_mb"] = round(
                sum(p.stat().st_size for p in Path(tmp).glob("state.db*")) / 1e6, 1
            )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
