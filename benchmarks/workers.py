"""`modrules check --workers 2` against one process on the same dump (issue 7: ≥ 1.8×).

    python benchmarks/workers.py --n 50000
    python benchmarks/workers.py --corpus /tmp/corpus.jsonl.gz --workers 1 2 --json out.json

Runs `modrules check --no-ml -q -o FILE` once per worker count on a generated corpus
(benchmarks/generate_corpus.py, seeded), reports wall time, comments/s and the speed-up
over the first count, and checks that the outputs are byte for byte the same.
Model loading is included (it happens once per worker); use a large `--n` to amortise it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/modrules-workers"))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    args.workdir.mkdir(parents=True, exist_ok=True)
    corpus = args.corpus or args.workdir / f"corpus-{args.n}.jsonl.gz"
    if not corpus.exists():
        subprocess.run(
            [sys.executable, str(HERE / "generate_corpus.py"), "--n", str(args.n), "--seed", "7", "-o", str(corpus)],
            check=True,
        )
    threads = Path(str(corpus).replace(".jsonl", ".threads.jsonl"))
    runs = []
    for workers in args.workers:
        out = args.workdir / f"verdicts-{workers}.jsonl"
        command = [sys.executable, "-m", "modrules.cli", "check", str(corpus), "--no-ml", "-q", "-o", str(out),
                   "--workers", str(workers)]
        if threads.exists():
            command += ["--threads", str(threads)]
        started = time.perf_counter()
        code = subprocess.run(command, check=False).returncode
        seconds = time.perf_counter() - started
        data = out.read_bytes()
        judged = data.count(b"\n")
        runs.append({"workers": workers, "exit_code": code, "comments": judged, "seconds": round(seconds, 2),
                     "comments_per_s": round(judged / seconds), "sha256": hashlib.sha256(data).hexdigest()})
    base = runs[0]["seconds"]
    for run in runs:
        run["speedup"] = round(base / run["seconds"], 2)
    print(json.dumps(runs, indent=2))
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2) + "\n")
    same = len({run["sha256"] for run in runs}) == 1  # --workers must not change a verdict
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
