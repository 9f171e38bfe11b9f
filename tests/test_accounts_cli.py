"""`modrules check --store` keeps accounts across runs; `modrules accounts …` acts on them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from modrules.cli import main

RUDE = "You are a fucking idiot, shut the fuck up."


def dump(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    path.write_text(
        "".join(
            json.dumps({"id": cid, "author_id": author, "text": text, "created_at": at}) + "\n"
            for cid, author, text, at in rows
        )
    )
    return path


def check(runner: CliRunner, source: Path, store: str) -> list[dict[str, object]]:
    result = runner.invoke(main, ["check", str(source), "--no-ml", "-q", "--store", store])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_check_store_persists_blocks_across_runs(tmp_path: Path) -> None:
    runner = CliRunner()
    store = f"sqlite:///{tmp_path / 'state.db'}"
    first = dump(
        tmp_path / "day1.jsonl",
        [(f"r{i}", "troll", RUDE, f"2024-05-01T10:{i:02d}:00Z") for i in range(8)]
        + [("n1", "kind", "Thanks for the article.", "2024-05-01T10:30:00Z")],
    )
    verdicts = check(runner, first, store)
    actions = [v["account_action"] for v in verdicts]
    assert "warn" in actions and "block" in actions
    assert actions[-1] == "none"
    blocked_at = actions.index("block")
    assert all(v["account_reason"] for v in verdicts[blocked_at:-1])

    second = dump(
        tmp_path / "day2.jsonl",
        [
            ("t1", "troll", "Thanks for the article.", "2024-05-02T09:00:00Z"),
            ("t2", "kind", "Thanks for the article.", "2024-05-02T09:00:00Z"),
        ],
    )
    troll, kind = check(runner, second, store)
    assert (troll["action"], troll["account_action"]) == ("delete", "block")
    assert "blocked until 2024-05-08" in str(troll["account_reason"])
    assert (kind["action"], kind["account_action"]) == ("publish", "none")
    assert "account_reason" not in kind
    # The memory store starts empty every run.
    troll_again, _ = check(runner, second, "memory")
    assert (troll_again["action"], troll_again["account_action"]) == ("publish", "none")


def test_accounts_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    store = f"sqlite:///{tmp_path / 'state.db'}"
    check(
        runner,
        dump(
            tmp_path / "a.jsonl",
            [(f"r{i}", "troll", RUDE, f"2024-05-01T10:{i:02d}:00Z") for i in range(8)],
        ),
        store,
    )

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(main, ["accounts", *args, "--store", store])
        return result.exit_code, result.output

    code, out = run("show", "troll")
    assert code == 0 and "blocked" in out and "never" not in out
    code, out = run("show", "troll", "--json")
    assert json.loads(out)["status"] == "blocked"
    code, out = run(
        "appeal",
        "troll",
        "--subject",
        "Unfair",
        "--explanation",
        "I was quoting.",
        "--at",
        "2024-05-01T12:00:00Z",
    )
    assert code == 0 and "appeal logged" in out
    assert run("appeal", "troll", "--subject", "", "--explanation", "x")[0] == 2
    code, out = run(
        "restore",
        "troll",
        "--by",
        "mod-ann",
        "--reason",
        "first offence",
        "--at",
        "2024-05-02T00:00:00Z",
    )
    assert code == 0 and "restored by mod-ann" in out
    code, out = run("restore", "troll", "--by", "mod-ann", "--reason", "again")
    assert code == 2 and "not blocked" in out

    # The second block is permanent: restoring it is refused, and says why.
    check(
        runner,
        dump(
            tmp_path / "b.jsonl",
            [(f"s{i}", "troll", RUDE, f"2024-05-03T10:{i:02d}:00Z") for i in range(8)],
        ),
        store,
    )
    code, out = run(
        "restore", "troll", "--by", "mod-ann", "--reason", "please", "--at", "2024-05-04T00:00:00Z"
    )
    assert code == 2 and "never be restored" in out
    code, out = run("history", "troll", "--json")
    kinds = [json.loads(line)["kind"] for line in out.splitlines()]
    assert [k for k in kinds if k != "strike"] == [
        "warn",
        "block",
        "appeal",
        "restore",
        "warn",
        "permanent-block",
        "restore-refused",
    ]
    code, out = run("history", "troll", "--limit", "2")
    assert code == 0 and "restore-refused" in out and "appeal" not in out

    # A moderator's block by hand: first until restored, the second permanent.
    code, out = run("block", "spammer", "--by", "mod-ann", "--reason", "ads", "--at", "2024-05-01T00:00:00Z")
    assert code == 0 and "until restored" in out
    code, out = run("block", "spammer", "--by", "mod-ann", "--reason", "ads")
    assert code == 2 and "cannot be blocked" in out
    assert run("restore", "spammer", "--by", "mod-bob", "--reason", "sorry")[0] == 0
    code, out = run("block", "spammer", "--by", "mod-ann", "--reason", "ads again")
    assert code == 0 and "permanently" in out
    code, out = run("restore", "spammer", "--by", "mod-bob", "--reason", "please")
    assert code == 2 and "never be restored" in out
    code, out = run("show", "spammer", "--json")
    assert json.loads(out)["status"] == "permanently-blocked"
    code, out = run("history", "spammer", "--json")
    assert [json.loads(line)["kind"] for line in out.splitlines()] == [
        "block",
        "restore",
        "permanent-block",
        "restore-refused",
    ]

    code, out = run(
        "delete", "kind", "--by", "mod-ann", "--reason", "asked", "--at", "2024-05-01T00:00:00Z"
    )
    assert code == 0
    code, out = run(
        "undelete", "kind", "--by", "mod-ann", "--reason", "late", "--at", "2024-06-15T00:00:00Z"
    )
    assert code == 2 and "only until 2024-05-31" in out
    code, out = run(
        "undelete", "kind", "--by", "mod-ann", "--reason", "ok", "--at", "2024-05-20T00:00:00Z"
    )
    assert code == 0 and "status active" in out

    code, out = run("list", "--status", "permanently-blocked")
    assert code == 0 and "troll" in out and "kind" not in out
    assert run("show", "troll", "--at", "yesterday")[0] == 2  # no such option: a usage error
    assert run("restore", "troll", "--by", "m", "--reason", "r", "--at", "not-a-time")[0] == 2
    bad = runner.invoke(main, ["accounts", "show", "x", "--store", "mongodb://nowhere"])
    assert bad.exit_code == 2 and "unknown store" in bad.output
