"""Peak memory of `modrules check` over a large generated dump: it must not grow with the input.

    python benchmarks/streaming_memory.py                      # 1,000,000 comments, one process
    python benchmarks/streaming_memory.py --n 200000 --workers 2 --json out.json

Generates the corpus (benchmarks/generate_corpus.py, seeded) unless `--corpus` names one,
runs `modrules check --no-ml -o FILE` on it, and samples the resident memory of the
whole process tree (the reader and any workers) every 0.2 s together with how many
verdicts have been written. Reported: peak RSS, and the RSS when 10%, 50% and 100% of
the verdicts were out — flat figures mean nothing accumulates.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


class LineCounter:
    """Lines in a growing file, reading only what was appended since the last call."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset, self.lines = path, 0, 0

    def __call__(self) -> int:
        if not self.path.exists():
            return 0
        with open(self.path, "rb") as stream:
            stream.seek(self.offset)
            while chunk := stream.read(1 << 20):
                self.lines += chunk.count(b"\n")
                self.offset += len(chunk)
        return self.lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="comments to generate")
    parser.add_argument("--corpus", type=Path, default=None, help="an existing .jsonl(.gz) dump instead")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--store", default="memory",
        help="state store URL; the memory store keeps accounts and the audit log in RAM "
        "(they grow with authors and strikes), sqlite:///PATH keeps them on disk",
    )
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/modrules-streaming"))
    parser.add_argument("--json", type=Path, default=None, help="write the figures here too")
    args = parser.parse_args(argv)

    args.workdir.mkdir(parents=True, exist_ok=True)
    corpus = args.corpus or args.workdir / f"corpus-{args.n}.jsonl.gz"
    if not corpus.exists():
        subprocess.run(
            [sys.executable, str(HERE / "generate_corpus.py"), "--n", str(args.n), "--seed", "7", "-o", str(corpus)],
            check=True,
        )
    threads = Path(str(corpus).replace(".jsonl", ".threads.jsonl"))
    out = args.workdir / "verdicts.jsonl"
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", "modrules.cli", "check", str(corpus), "--no-ml", "-q", "-o", str(out),
               "--workers", str(args.workers), "--store", args.store]
    if threads.exists():
        command += ["--threads", str(threads)]
    started = time.perf_counter()
    count_lines = LineCounter(out)
    child = subprocess.Popen(command)
    proc = psutil.Process(child.pid)
    samples: list[tuple[float, int, int]] = []  # (seconds, verdicts written, tree RSS)
    while child.poll() is None:
        try:
            rss = tree_rss(proc)
        except psutil.NoSuchProcess:
            break
        samples.append((time.perf_counter() - started, count_lines(), rss))
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    judged = count_lines()
    peak = max(rss for _, _, rss in samples) if samples else 0
    counted = [(n, rss) for _, n, rss in samples]

    def rss_at(share: float) -> int:
        target = share * judged
        best = max(((n, rss) for n, rss in counted if n <= target), default=(0, 0))
        return best[1]

    figures = {
        "comments": judged,
        "workers": args.workers,
        "store": args.store,
        "exit_code": child.returncode,
        "seconds": round(seconds, 1),
        "comments_per_s": round(judged / seconds) if seconds else 0,
        "peak_rss_mb": round(peak / 2**20, 1),
        "rss_mb_at_10pct": round(rss_at(0.1) / 2**20, 1),
        "rss_mb_at_50pct": round(rss_at(0.5) / 2**20, 1),
        "rss_mb_at_end": round((counted[-1][1] if counted else 0) / 2**20, 1),
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if child.returncode in (0, 1) else 1


if __name__ == "__main__":
    raise SystemExit(main())
