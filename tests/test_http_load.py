"""benchmarks/http_load.py, the service's load generator, against a real uvicorn server:
it answers every request over a fixed pool of keep-alive connections, counts statuses,
and reads from /proc where the connections landed and how much CPU a process used."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import time
from pathlib import Path
from types import ModuleType

import pytest

from modrules import Moderator, load_ruleset
from modrules.server import ServerSettings, create_app
from modrules.store import MemoryStore
from tests.test_server import TOKEN, LiveServer

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "http_load.py"


@pytest.fixture(scope="module")
def http_load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("http_load", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_run_answers_every_request_over_its_pool(http_load: ModuleType) -> None:
    store = MemoryStore()
    app = create_app(Moderator(load_ruleset(None, disable_ml=True), store=store), store, ServerSettings(token=TOKEN))
    with LiveServer(app) as server:
        payloads = http_load.requests_for(50, 7, f"127.0.0.1:{server.port}")
        bad = b"POST /v1/moderate HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{oops"
        watch = http_load.ServerWatch(os.getpid(), server.port)
        latencies, statuses, elapsed, cpu = asyncio.run(
            http_load.measure("127.0.0.1", server.port, payloads[:10], [*payloads[10:], bad], 3, watch)
        )
        workers = watch.workers()
    assert statuses == {200: 40, 400: 1}
    assert len(latencies) == 41 and all(0 < s <= elapsed for s in latencies) and cpu > 0
    # The server runs in this process: it holds the three accepted keep-alive connections
    # (this process holds the client ends too, which are not counted).
    assert watch.connections == {os.getpid(): 3}
    assert list(workers) == [os.getpid()] and workers[os.getpid()] == set()  # closed since
    report = watch.report(len(latencies))
    assert report["connections_per_worker"] == [3]


def test_even_spreads_the_pool_over_two_worker_processes(http_load: ModuleType, tmp_path: Path) -> None:
    port = http_load.free_port()
    server = http_load.start_server(port, 2, f"sqlite:///{tmp_path / 'load.db'}")
    try:
        payloads = http_load.requests_for(60, 7, f"127.0.0.1:{port}")
        watch = http_load.ServerWatch(server.pid, port)
        _, statuses, _, _ = asyncio.run(http_load.measure("127.0.0.1", port, payloads[:20], payloads[20:], 4, watch, True))
        workers = watch.workers()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert statuses == {200: 40}
    assert len(workers) == 2 and server.pid not in workers  # the supervisor accepts nothing
    assert sorted(watch.connections.values()) == [2, 2]
    report = watch.report(40)
    assert report["connections_per_worker"] == [2, 2] and report["server_cpu_ms_per_request"] > 0


def test_cpu_is_read_per_process(http_load: ModuleType) -> None:
    before = http_load.cpu_seconds(os.getpid())
    started = time.process_time()
    while time.process_time() - started < 0.3:
        sum(range(1000))
    assert http_load.cpu_seconds(os.getpid()) - before >= 0.2
    assert http_load.process_tree(os.getpid())[0] == os.getpid()
    assert http_load.cpu_seconds(2**22 + 12345) == 0.0  # a process that is gone counts nothing


def test_percentiles(http_load: ModuleType) -> None:
    values = [float(v) for v in range(1, 101)]
    assert http_load.percentile(values, 50) == 50.0
    assert http_load.percentile(values, 99) == 99.0
    assert http_load.percentile(values, 100) == 100.0
    assert http_load.percentile([3.0], 99) == 3.0
