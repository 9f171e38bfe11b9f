"""`modrules check --workers 2` against one process on the same dump (issue 7: ≥ 1.8×).

    python benchmarks/workers.py --n 50000
    python benchmarks/workers.py --corpus /tmp/corpus.jsonl.gz --workers 1 2 --json out.json

Runs `modrules check --no-ml -q -o FILE` once per worker count (`--rounds` times, the
counts interleaved) on a generated corpus (benchmarks/generate_corpus.py, seeded), and
reports for each run: wall time, comments/s, the speed-up over the first count, the CPU
seconds of the reading process (per 1,000 comments: with workers, the stateful part runs
there, so this bounds the speed-up) and of all processes, and the load average before and
after (the machine is shared: a wall figure means little when the load is not low). Checks
that the outputs are byte for byte the same. Model loading is included (once per worker).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# Runs the CLI and writes its own CPU seconds and its workers' (waited for, so counted
# as its children) to the file named first.
_MEASURED = """
import atexit, json, resource, sys

def _report(path=sys.argv[1]):
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(path, "w") as f:
        json.dump({"reader": own.ru_utime + own.ru_stime, "workers": kids.ru_utime + kids.ru_stime}, f)

atexit.register(_report)
from modrules.cli import main
sys.argv = ["modrules", *sys.argv[2:]]
main()
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--threads", type=Path, default=None, help="the thread map (default: the corpus's own)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=1)
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
    threads = args.threads or Path(str(corpus).replace(".jsonl", ".threads.jsonl"))
    runs = [_run(corpus, threads, workers, args.workdir) for _ in range(args.rounds) for workers in args.workers]
    base = min(run["seconds"] for run in runs if run["workers"] == args.workers[0])
    for run in runs:
        run["speedup"] = round(base / run["seconds"], 2)
    print(json.dumps(runs, indent=2))
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2) + "\n")
    same = len({run["sha256"] for run in runs}) == 1  # --workers must not change a verdict
    return 0 if same else 1


def _run(corpus: Path, threads: Path, workers: int, workdir: Path) -> dict[str, Any]:
    out = workdir / f"verdicts-{workers}.jsonl"
    with tempfile.NamedTemporaryFile(suffix=".json") as usage:
        command = [sys.executable, "-c", _MEASURED, usage.name, "check", str(corpus), "--no-ml", "-q",
                   "-o", str(out), "--workers", str(workers)]
        if threads.exists():
            command += ["--threads", str(threads)]
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        code = subprocess.run(command, check=False).returncode
        seconds = time.perf_counter() - started
        cpu = json.loads(Path(usage.name).read_text())
    data = out.read_bytes()
    judged = data.count(b"\n")
    return {
        "workers": workers, "exit_code": code, "comments": judged, "seconds": round(seconds, 2),
        "comments_per_s": round(judged / seconds),
        "reader_cpu_s": round(cpu["reader"], 2),
        "reader_cpu_ms_per_1000": round(1e6 * cpu["reader"] / max(judged, 1), 1),
        "total_cpu_s": round(cpu["reader"] + cpu["workers"], 2),
        "load": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "sha256": hashlib.sha256(data).hexdigest(),
    }


if __name__ == "__main__":
    raise SystemExit(main())
