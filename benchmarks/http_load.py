#!/usr/bin/env python3
"""Throughput and latency of `POST /v1/moderate` over loopback, single comments.

    python benchmarks/http_load.py                      # starts `modrules serve --no-ml` itself
    python benchmarks/http_load.py --url http://127.0.0.1:8000 --requests 20000 --concurrency 16

A bounded load generator: `--concurrency` keep-alive connections, each sending one
request at a time until `--requests` have been answered (after `--warmup` untimed
ones). Requests are hand-written HTTP/1.1 on asyncio streams (one process), so the
generator costs far less CPU than an HTTP client library would, which matters when it
shares the machine with the server. Comments come from the seeded synthetic corpus
(benchmarks/generate_corpus.py). Prints requests/s, p50/p90/p99/max latency and the
status counts; `--json` for a machine-readable line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_corpus import generate


def requests_for(n: int, seed: int, host: str) -> list[bytes]:
    _, comments = generate(n, seed)
    out = []
    for comment in comments:
        comment.pop("kind", None)
        body = json.dumps(comment).encode()
        head = (
            f"POST /v1/moderate HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        out.append(head + body)
    return out


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def worker(
    host: str, port: int, queue: list[bytes], latencies: list[float], statuses: Counter[int], record: bool
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while queue:
            request = queue.pop()
            started = time.perf_counter()
            writer.write(request)
            status = await read_response(reader)
            if record:
                latencies.append(time.perf_counter() - started)
                statuses[status] += 1
    finally:
        writer.close()


async def run(host: str, port: int, payloads: list[bytes], concurrency: int, record: bool) -> tuple[list[float], Counter[int], float]:
    queue = list(reversed(payloads))
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    started = time.perf_counter()
    await asyncio.gather(*(worker(host, port, queue, latencies, statuses, record) for _ in range(concurrency)))
    return latencies, statuses, time.perf_counter() - started


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, workers: int, store: str) -> subprocess.Popen[bytes]:
    modrules = Path(sys.executable).with_name("modrules")
    env = {**os.environ, "MODRULES_NO_ML": "1"}
    process = subprocess.Popen(
        [str(modrules), "serve", "--no-ml", "--port", str(port), "--token", "benchmark-token",
         "--workers", str(workers), "--store", store],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit("the server exited before it listened") from None
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start within 60 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server (default: start `modrules serve --no-ml` on a free port)")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=1_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=1, help="server processes (above 1: give --store)")
    parser.add_argument("--store", default="memory", help="the server's store, e.g. sqlite:////tmp/bench.db")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    server = None
    if args.url:
        parts = urlsplit(args.url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
    else:
        host, port = "127.0.0.1", free_port()
        server = start_server(port, args.workers, args.store)
    try:
        payloads = requests_for(args.warmup + args.requests, args.seed, f"{host}:{port}")
        asyncio.run(run(host, port, payloads[: args.warmup], args.concurrency, record=False))
        latencies, statuses, elapsed = asyncio.run(
            run(host, port, payloads[args.warmup :], args.concurrency, record=True)
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
    latencies.sort()
    result = {
        "requests": len(latencies),
        "workers": args.workers if server is not None else None,
        "concurrency": args.concurrency,
        "seconds": round(elapsed, 3),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 3),
        "p90_ms": round(percentile(latencies, 90) * 1000, 3),
        "p99_ms": round(percentile(latencies, 99) * 1000, 3),
        "max_ms": round(latencies[-1] * 1000, 3) if latencies else None,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['requests']} requests, concurrency {args.concurrency}: {result['requests_per_second']} req/s; "
            f"latency p50 {result['p50_ms']} ms, p90 {result['p90_ms']} ms, p99 {result['p99_ms']} ms, "
            f"max {result['max_ms']} ms; statuses {result['statuses']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
