"""`modrules check --resume`: an interrupted run continues where its output stops,
losing and duplicating nothing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modrules.runner import complete_lines, recorded_errors
from tests.conftest import FIXTURES, REPO

MODRULES = [sys.executable, "-m", "modrules.cli"]
THREADS = str(FIXTURES / "threads.jsonl")


def run(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*MODRULES, *args, "--no-ml"], capture_output=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def stateless_rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default ruleset without its stateful rules: a resumed run starts with an empty
    memory store, so only verdicts that need no earlier comment can match byte for byte."""
    rules = tmp_path_factory.mktemp("rules") / "sputnik"
    shutil.copytree(REPO / "rules" / "sputnik", rules)
    for stateful in [*rules.glob("16-*.yaml"), *rules.glob("17-*.yaml")]:
        stateful.unlink()
    return rules


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Fixtures and dev set five times over (fresh ids), with bad lines spread through."""
    path = tmp_path_factory.mktemp("dump") / "dump.jsonl"
    rows = (FIXTURES / "comments.jsonl").read_bytes().splitlines()
    rows += (FIXTURES / "dev-comments.jsonl").read_bytes().splitlines()
    out: list[bytes] = []
    for copy in range(5):
        for n, raw in enumerate(rows):
            record = json.loads(raw)
            record["id"] = f"{record['id']}-{copy}"
            out.append(json.dumps(record).encode())
            if n % 97 == 13:
                out.append(b"{broken line")
    path.write_bytes(b"\n".join(out) + b"\n")
    return path


@pytest.fixture(scope="module")
def full(dump: Path, stateless_rules: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """Verdicts and error records of one uninterrupted run (the ledger in a fresh SQLite file)."""
    out = tmp_path_factory.mktemp("full")
    result = run(["check", str(dump), "--rules", str(stateless_rules), "--threads", THREADS,
                  "-o", str(out / "v.jsonl"), "--errors", str(out / "e.jsonl"), "-q",
                  "--store", f"sqlite:///{out / 'state.db'}"])
    assert result.returncode == 1  # the broken lines
    return (out / "v.jsonl").read_bytes(), (out / "e.jsonl").read_bytes()


def errors_of(data: bytes) -> list[tuple[int, str]]:
    return [(r["line"], r["error"]) for r in map(json.loads, data.splitlines())]


def test_complete_lines_cuts_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(b'{"a":1}\n{"b":2}\n{"c":')
    assert complete_lines(path) == 2
    assert path.read_bytes() == b'{"a":1}\n{"b":2}\n'
    assert complete_lines(path) == 2  # idempotent
    assert complete_lines(tmp_path / "missing.jsonl") == 0
    path.write_bytes(b"no newline at all")
    assert complete_lines(path) == 0 and path.read_bytes() == b""


def test_recorded_errors_reads_back_the_error_records(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_bytes(b'{"source":"a.jsonl","line":3,"error":"x"}\nnot json\n{"source":"a.jsonl","li')
    assert recorded_errors(path) == {("a.jsonl", 3)}


@pytest.mark.parametrize(("cut", "workers"), [(0, "1"), (700, "2"), (2000, "1")])
def test_an_interrupted_run_resumed_gives_the_full_output(
    dump: Path, stateless_rules: Path, full: tuple[bytes, bytes], tmp_path: Path, cut: int, workers: str
) -> None:
    """The first run stops after `cut` input lines with half a verdict line written; its
    state (the ledger) is in SQLite; the resumed run completes the output byte for byte."""
    verdicts, errors = full
    source, out, err = tmp_path / "dump.jsonl", tmp_path / "v.jsonl", tmp_path / "e.jsonl"
    store = f"sqlite:///{tmp_path / 'state.db'}"
    common = ["--rules", str(stateless_rules), "--threads", THREADS, "-o", str(out), "--errors", str(err),
              "--store", store]
    rows = dump.read_bytes().splitlines(keepends=True)
    source.write_bytes(b"".join(rows[:cut]))
    if cut:
        assert run(["check", str(source), *common, "-q"]).returncode in (0, 1)
    written = out.read_bytes() if out.exists() else b""
    assert verdicts.startswith(written)
    torn = verdicts[len(written):].split(b"\n", 1)[0]
    with open(out, "ab") as stream:
        stream.write(torn[: len(torn) // 2])  # killed mid-write
    source.write_bytes(dump.read_bytes())
    result = run(["check", str(source), *common, "--resume", "--workers", workers])
    assert result.returncode == 1, result.stderr.decode()
    assert out.read_bytes() == verdicts
    assert errors_of(err.read_bytes()) == errors_of(errors)  # each bad line once
    if written:
        done = written.count(b"\n")
        assert f"resumed after {done:,}" in result.stderr.decode()


def test_resume_of_a_finished_run_appends_nothing(
    dump: Path, stateless_rules: Path, full: tuple[bytes, bytes], tmp_path: Path
) -> None:
    out = tmp_path / "v.jsonl"
    out.write_bytes(full[0])
    result = run(["check", str(dump), "--rules", str(stateless_rules), "-o", str(out), "--resume",
                  "--threads", THREADS])
    assert result.returncode == 1
    assert out.read_bytes() == full[0]
    assert "judged 0 comments" in result.stderr.decode()


def test_a_killed_run_resumes_without_loss_or_duplicates(
    dump: Path, stateless_rules: Path, full: tuple[bytes, bytes], tmp_path: Path
) -> None:
    """A real kill (the reader and its workers) mid-run: after --resume every comment has
    exactly one verdict, in input order, with the violations of the uninterrupted run.
    (Account actions may differ: the killed run's ledger saw comments it never wrote.)"""
    out = tmp_path / "v.jsonl"
    args = [*MODRULES, "check", str(dump), "--rules", str(stateless_rules), "--threads", THREADS,
            "-o", str(out), "--no-ml", "-q", "--workers", "2"]
    proc = subprocess.Popen(args, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.stat().st_size > 0:
            break
        time.sleep(0.05)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    result = run(["check", str(dump), "--rules", str(stateless_rules), "--threads", THREADS,
                  "-o", str(out), "--resume", "-q"])
    assert result.returncode == 1

    def judged(data: bytes) -> list[tuple[str, object]]:
        return [(v["comment_id"], v["violations"]) for v in map(json.loads, data.splitlines())]

    assert judged(out.read_bytes()) == judged(full[0])


def test_resume_needs_an_output_file(dump: Path) -> None:
    assert run(["check", str(dump), "--resume"]).returncode == 2
    assert run(["check", str(dump), "--resume", "-o", "x.jsonl", "--format", "table"]).returncode == 2
