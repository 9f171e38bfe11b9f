"""The CLI end to end: the contract's exit codes, order, bad lines, gzip, stdin."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from modrules.cli import main
from tests.conftest import FIXTURES

MODRULES = [sys.executable, "-m", "modrules.cli"]


def run(args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*MODRULES, *args], check=False, input=stdin, capture_output=True, timeout=300)


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_check_fixtures_one_verdict_per_comment_in_order(tmp_path: Path) -> None:
    out = tmp_path / "verdicts.jsonl"
    result = run(["check", str(FIXTURES / "comments.jsonl"), "--threads", str(FIXTURES / "threads.jsonl"), "-o", str(out)])
    assert result.returncode == 0, result.stderr.decode()
    comments = lines(FIXTURES / "comments.jsonl")
    verdicts = lines(out)
    assert [v["comment_id"] for v in verdicts] == [c["id"] for c in comments]
    for verdict in verdicts:
        assert set(verdict) >= {"comment_id", "action", "account_action", "violations", "edited_text"}
        assert verdict["action"] in {"publish", "flag", "edit", "hold", "delete"}
        for violation in verdict["violations"]:  # type: ignore[attr-defined]
            assert set(violation) >= {"rule", "category", "clause", "action", "message", "score", "shadow", "evidence"}
    stderr = result.stderr.decode()
    assert "judged" in stderr and "actions:" in stderr
    assert any(v["action"] != "publish" for v in verdicts)


def test_bad_lines_are_reported_and_the_rest_judged(tmp_path: Path) -> None:
    dump = tmp_path / "dump.jsonl"
    big = "word " * 200_000  # a 1 MB comment
    rows = [
        json.dumps({"id": "ok1", "text": "A fine, civil comment."}).encode(),
        b"{not json",
        json.dumps({"id": "nofield"}).encode(),
        json.dumps({"id": "wrongtype", "text": 42}).encode(),
        b'{"id": "badutf8", "text": "\xff\xfe"}',
        json.dumps(["a", "list"]).encode(),
        json.dumps({"id": "big", "text": big}).encode(),
        b"",
        json.dumps({"id": 7, "text": "numeric id is fine", "extra": {"kept": True}}).encode(),
    ]
    dump.write_bytes(b"\n".join(rows) + b"\n")
    out, errors = tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    result = run(["check", str(dump), "-o", str(out), "--errors", str(errors)])
    assert result.returncode == 1
    assert [v["comment_id"] for v in lines(out)] == ["ok1", "big", "7"]
    reported = lines(errors)
    assert [e["line"] for e in reported] == [2, 3, 4, 5, 6]
    messages = {e["line"]: e["error"] for e in reported}
    assert "invalid JSON" in messages[2]
    assert "missing field 'text'" in messages[3]
    assert "text" in messages[4]
    assert "UTF-8" in messages[5] or "utf-8" in messages[5].lower()
    assert "expected a JSON object" in messages[6]
    stderr = result.stderr.decode()
    for line_no in (2, 3, 4, 5, 6):
        assert f"{dump}:{line_no}:" in stderr


def test_gzip_and_stdin(tmp_path: Path) -> None:
    rows = [{"id": f"c{i}", "text": text} for i, text in enumerate(["hello there", "what the f*ck", "BUY NOW at cheap-pills.example"])]
    payload = "".join(json.dumps(r) + "\n" for r in rows).encode()
    gz = tmp_path / "dump.jsonl.gz"
    gz.write_bytes(gzip.compress(payload))
    from_gz = run(["check", str(gz), "-q"])
    from_stdin = run(["check", "-", "-q"], stdin=payload)
    assert from_gz.returncode == 0 and from_stdin.returncode == 0, from_gz.stderr.decode()
    assert from_gz.stdout == from_stdin.stdout
    assert [json.loads(x)["comment_id"] for x in from_gz.stdout.splitlines()] == ["c0", "c1", "c2"]


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run(["check", str(tmp_path / "missing.jsonl")]).returncode == 2
    assert run(["check"]).returncode == 2
    bad_rules = tmp_path / "rules"
    bad_rules.mkdir()
    (bad_rules / "a.yaml").write_text("id: x\ncategory: nope\n")
    dump = tmp_path / "d.jsonl"
    dump.write_text('{"id": "1", "text": "hi"}\n')
    result = run(["check", str(dump), "--rules", str(bad_rules)])
    assert result.returncode == 2
    assert b"a.yaml:" in result.stderr


def test_table_format() -> None:
    result = CliRunner().invoke(main, ["check", str(FIXTURES / "comments.jsonl"), "--format", "table", "-q"])
    assert result.exit_code == 0
    assert "comment" in result.output and "action" in result.output


def test_explain_highlights_evidence() -> None:
    result = CliRunner().invoke(main, ["explain", "what the f*ck is this"])
    assert result.exit_code == 0, result.output
    assert "profanity" in result.output and "f*ck" in result.output
    as_json = CliRunner().invoke(main, ["explain", "--json", "what the f*ck is this"])
    verdict = json.loads(as_json.output)
    (evidence,) = [e for v in verdict["violations"] for e in v["evidence"] if v["category"] == "profanity"][:1]
    assert "what the f*ck is this"[evidence["start"] : evidence["end"]] == evidence["text"] == "f*ck"


def test_rule_test_command_on_default_ruleset() -> None:
    result = CliRunner().invoke(main, ["test"])
    assert result.exit_code == 0, result.output
    assert " passed, 0 failed" in result.output


def test_rule_test_command_reports_failures(make_ruleset) -> None:  # type: ignore[no-untyped-def]
    root = make_ruleset({"a.yaml": """\
        id: darn
        category: profanity
        clause: 12
        action: flag
        message: "m"
        when: {pattern: '\\bdarn\\b'}
        examples:
          match: ["darn", "not here"]
          no_match: ["fine", "darn again"]
        """})
    result = CliRunner().invoke(main, ["test", str(root)])
    assert result.exit_code == 1
    assert "[darn] should match: 'not here'" in result.output
    assert "[darn] should not match: 'darn again'" in result.output
    assert "2 passed, 2 failed" in result.output


@pytest.mark.parametrize("argv", [["lint"], ["lint", "rules/sputnik"]])
def test_lint_default_ruleset(argv: list[str]) -> None:
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 0, result.output
