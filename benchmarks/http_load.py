#!/usr/bin/env python3
"""Throughput and latency of `POST /v1/moderate` over loopback, single comments.

    python benchmarks/http_load.py                      # starts `modrules serve --no-ml` itself
    python benchmarks/http_load.py --workers 2 --store sqlite:////tmp/bench.db --concurrency 4
    python benchmarks/http_load.py --url http://127.0.0.1:8000 --requests 20000 --concurrency 16

A bounded load generator: `--concurrency` keep-alive connections, opened once like a
backend's connection pool, each sending one request at a time; `--warmup` untimed
requests go over the same connections first, then `--requests` timed ones. Requests are
hand-written HTTP/1.1 on asyncio streams (one process), so the
generator costs far less CPU than an HTTP client library would, which matters when it
shares the machine with the server. Comments come from the seeded synthetic corpus
(benchmarks/generate_corpus.py).

Prints requests/s, p50/p90/p99/max latency and the status counts; when it started the
server, also the CPU each server process spent in the timed phase (per request, and how
the keep-alive connections fell over the worker processes) and the generator's own CPU,
so a run on a busy machine can still be read. `--json` for a machine-readable line.

With `--workers 2` the kernel decides which worker accepts each connection, and a few
connections often land unevenly (3 and 1, or all 4 on one); `--even` re-opens
connections until each worker holds as many, like a pool of many clients would be.
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
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_corpus import generate

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


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


async def send_all(
    connection: Connection, queue: list[bytes], latencies: list[float], statuses: Counter[int]
) -> None:
    reader, writer = connection
    while queue:
        request = queue.pop()
        started = time.perf_counter()
        writer.write(request)
        status = await read_response(reader)
        latencies.append(time.perf_counter() - started)
        statuses[status] += 1


async def phase(pool: list[Connection], payloads: list[bytes]) -> tuple[list[float], Counter[int], float]:
    """Every payload answered, each connection one request at a time; the wall time."""
    queue = list(reversed(payloads))
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    started = time.perf_counter()
    await asyncio.gather(*(send_all(c, queue, latencies, statuses) for c in pool))
    return latencies, statuses, time.perf_counter() - started


async def measure(
    host: str, port: int, warmup: list[bytes], timed: list[bytes], concurrency: int, watch: ServerWatch | None = None,
    even: bool = False,
) -> tuple[list[float], Counter[int], float, float]:
    """The timed phase's latencies, statuses, wall time and this process's CPU time."""
    pool = [await asyncio.open_connection(host, port) for _ in range(concurrency)]
    try:
        if even and watch is not None:
            await spread_evenly(pool, host, port, watch, warmup[0])
        await phase(pool, warmup)
        if watch is not None:
            watch("start")
        cpu = time.process_time()
        latencies, statuses, elapsed = await phase(pool, timed)
        cpu = time.process_time() - cpu
        if watch is not None:
            watch("end")
    finally:
        for _, writer in pool:
            writer.close()
    return latencies, statuses, elapsed, cpu


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


# --- What the server processes did (Linux /proc; the generator started the server) ---


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (uvicorn's supervisor and its worker processes)."""
    out = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for child in children:
        out += process_tree(int(child))
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tcp_sockets(port: int) -> tuple[dict[str, int], set[str]]:
    """Sockets on local `port`: established ones (inode -> the client's port), listening ones."""
    established: dict[str, int] = {}
    listening: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rpartition(":")[2], 16) != port:
                continue
            if fields[3] == "01":
                established[fields[9]] = int(fields[2].rpartition(":")[2], 16)
            elif fields[3] == "0A":
                listening.add(fields[9])
    return established, listening


def _socket_inodes(pid: int) -> set[str]:
    out: set[str] = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return out
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            out.add(target[8:-1])
    return out


class ServerWatch:
    """The server's worker processes: which holds each connection, and their CPU over the
    timed phase."""

    def __init__(self, pid: int, port: int) -> None:
        self.pid, self.port = pid, port
        self.start: dict[int, float] = {}
        self.end: dict[int, float] = {}
        self.connections: dict[int, int] = {}

    def workers(self) -> dict[int, set[int]]:
        """Each worker process (it holds the listening socket; uvicorn's supervisor does
        too, but accepts nothing) and the client ports of the connections it holds."""
        established, listening = _tcp_sockets(self.port)
        held = {pid: _socket_inodes(pid) for pid in process_tree(self.pid)}
        workers = [pid for pid, inodes in held.items() if inodes & listening]
        if len(workers) > 1:
            workers = [pid for pid in workers if pid != self.pid]
        return {pid: {client for inode, client in established.items() if inode in held[pid]} for pid in workers}

    def __call__(self, moment: str) -> None:
        pids = process_tree(self.pid)
        if moment == "start":
            self.connections = {pid: len(clients) for pid, clients in self.workers().items()}
            self.start = {p: cpu_seconds(p) for p in pids}
        else:
            self.end = {p: cpu_seconds(p) for p in pids}

    def report(self, requests: int) -> dict[str, Any]:
        used = {p: self.end.get(p, 0.0) - self.start.get(p, 0.0) for p in self.start}
        workers = sorted(self.connections)
        return {
            "server_cpu_ms_per_request": round(sum(used.values()) / max(requests, 1) * 1000, 3),
            "worker_cpu_s": [round(used.get(p, 0.0), 2) for p in workers],
            "connections_per_worker": [self.connections[p] for p in workers],
        }


async def spread_evenly(pool: list[Connection], host: str, port: int, watch: ServerWatch, probe: bytes) -> int:
    """Re-open connections of the busiest worker until every worker holds as many (±1):
    a pool spread evenly, as many clients or a balancer would spread it. The kernel still
    picks the worker of each new connection. Returns how many were re-opened."""

    async def answered(connection: Connection) -> None:  # so a worker has accepted it
        connection[1].write(probe)
        await read_response(connection[0])

    for connection in pool:
        await answered(connection)
    for reopened in range(200):
        workers = watch.workers()
        owner = {client: pid for pid, clients in workers.items() for client in clients}
        mine = [owner.get(writer.get_extra_info("sockname")[1]) for _, writer in pool]
        counts = Counter({pid: mine.count(pid) for pid in workers})
        if not counts or max(counts.values()) - min(counts.values()) <= 1:
            return reopened
        index = mine.index(counts.most_common(1)[0][0])
        pool[index][1].close()
        pool[index] = await asyncio.open_connection(host, port)
        await answered(pool[index])
    raise SystemExit("could not spread the connections evenly over the workers in 200 re-opens")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server (default: start `modrules serve --no-ml` on a free port)")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=1_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=1, help="server processes (above 1: give --store)")
    parser.add_argument("--store", default="memory", help="the server's store, e.g. sqlite:////tmp/bench.db")
    parser.add_argument(
        "--even", action="store_true",
        help="re-open connections until each server worker holds as many (the kernel spreads a few unevenly)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.even and args.url:
        parser.error("--even needs the server this script starts (it reads the workers from /proc)")

    server = None
    if args.url:
        parts = urlsplit(args.url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
    else:
        host, port = "127.0.0.1", free_port()
        server = start_server(port, args.workers, args.store)
    watch = ServerWatch(server.pid, port) if server is not None else None
    try:
        payloads = requests_for(args.warmup + args.requests, args.seed, f"{host}:{port}")
        latencies, statuses, elapsed, cpu = asyncio.run(
            measure(host, port, payloads[: args.warmup], payloads[args.warmup :], args.concurrency, watch, args.even)
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
    latencies.sort()
    result: dict[str, Any] = {
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
        "generator_cpu_ms_per_request": round(cpu / max(len(latencies), 1) * 1000, 3),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    if watch is not None:
        result |= watch.report(len(latencies))
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['requests']} requests, concurrency {args.concurrency}: {result['requests_per_second']} req/s; "
            f"latency p50 {result['p50_ms']} ms, p90 {result['p90_ms']} ms, p99 {result['p99_ms']} ms, "
            f"max {result['max_ms']} ms; statuses {result['statuses']}"
        )
        cpu_line = f"CPU per request: generator {result['generator_cpu_ms_per_request']} ms"
        if watch is not None:
            cpu_line += (
                f", server {result['server_cpu_ms_per_request']} ms (worker CPU s {result['worker_cpu_s']}, "
                f"connections per worker {result['connections_per_worker']})"
            )
        print(f"{cpu_line}; load average {result['load_average']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
