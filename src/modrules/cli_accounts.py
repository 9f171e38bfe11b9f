"""`modrules accounts …`: look at and act on authors' standing in a store.

Refusals the standards require (restoring a permanent block, undeleting after 30 days,
restoring an account that is not blocked) print why and exit 2, like usage errors: the
request was not carried out. Everything else that is wrong with the request (a bad store
URL, a bad time) also exits 2."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from pydantic import TypeAdapter, ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from modrules.ledger import AppealRequest, Ledger, LedgerError
from modrules.rules import RulesetError
from modrules.rules.loader import _load_policy, default_ruleset_dir
from modrules.store import Account, AccountStatus, AuditEvent, StoreError, open_store

EXIT_USAGE = 2
T = TypeVar("T")


class _Time(click.ParamType[datetime]):
    """An ISO 8601 time (`2024-05-01T12:00:00Z`); naive times are UTC."""

    name = "TIME"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return TypeAdapter(datetime).validate_python(value)
        except ValidationError:
            self.fail(f"{value!r} is not an ISO 8601 time (e.g. 2024-05-01T12:00:00Z)", param, ctx)


store_option = click.option(
    "--store",
    "store_url",
    required=True,
    envvar="MODRULES_STORE",
    help="The store: sqlite:///PATH.db or redis://HOST:PORT/DB (env MODRULES_STORE).",
)
rules_option = click.option(
    "--rules",
    "rules_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Ruleset whose policy.yaml `enforcement:` applies (default: the bundled one).",
)
at_option = click.option(
    "--at", "at", type=_Time(), default=None, help="When it happened (default: now, UTC)."
)
by_option = click.option("--by", "actor", required=True, help="The moderator's name.")
reason_option = click.option("--reason", required=True, help="Why (kept in the audit log).")


def _fail(message: str) -> NoReturn:
    Console(stderr=True).print(f"[red]error[/red] {escape(message)}", soft_wrap=True)
    raise SystemExit(EXIT_USAGE)


@contextmanager
def _ledger(store_url: str, rules_dir: Path | None) -> Iterator[Ledger]:
    issues: list[Any] = []
    policy = _load_policy(rules_dir or default_ruleset_dir(), issues)
    if issues:
        _fail(str(RulesetError(issues)))
    try:
        store = open_store(store_url)
    except StoreError as exc:
        _fail(str(exc))
    with store:
        yield Ledger(store, policy.enforcement)


def _run(action: Callable[[], T]) -> T:
    """Run a ledger request; refusals and store failures exit 2 with the reason."""
    try:
        return action()
    except (LedgerError, StoreError) as exc:
        _fail(str(exc))


def _print_account(ledger: Ledger, account: Account) -> None:
    console = Console()
    table = Table(show_header=False, box=None)
    status = account.status.value if account.version else "active (no record)"
    table.add_row("author", escape(account.author_id))
    table.add_row("status", status)
    table.add_row(
        "strike points",
        f"{ledger.points(account):g}  (warn at {ledger.policy.warn_at:g}, block at {ledger.policy.block_at:g})",
    )
    table.add_row("blocks so far", f"{account.blocks}  (the second is permanent)")
    if account.status in (AccountStatus.BLOCKED, AccountStatus.PERMANENTLY_BLOCKED):
        until = (
            account.blocked_until.isoformat()
            if account.blocked_until
            else "until a moderator restores it"
        )
        if account.status is AccountStatus.PERMANENTLY_BLOCKED:
            until = "never restorable"
        table.add_row("blocked", f"{account.blocked_at} — {until}")
        table.add_row("reason", escape(account.block_reason or ""))
    if account.deleted_at:
        limit = account.deleted_at + ledger.policy.undelete_within
        table.add_row("deleted", f"{account.deleted_at} (restorable until {limit})")
    if account.warned_at:
        table.add_row("last warned", str(account.warned_at))
    console.print(table)
    counting = [s for s in account.strikes if s.counts_at(account.updated_at or s.at)]
    if counting:
        strikes = Table("comment", "rule", "severity", "weight", "at", "expires")
        for s in counting:
            strikes.add_row(
                escape(s.comment_id),
                s.rule,
                s.severity.value,
                f"{s.weight:g}",
                str(s.at),
                str(s.expires_at or "never"),
            )
        console.print(strikes)


def _print_events(events: list[AuditEvent]) -> None:
    table = Table("at", "event", "by", "reason")
    for event in events:
        table.add_row(str(event.at), event.kind, escape(event.actor), escape(event.reason))
    Console().print(table)


@click.group()
def accounts() -> None:
    """Authors' standing: strikes, warnings, blocks, appeals and deletions."""


@accounts.command()
@click.argument("author")
@store_option
@rules_option
@click.option("--json", "as_json", is_flag=True, help="Print the account as JSON.")
def show(author: str, store_url: str, rules_dir: Path | None, as_json: bool) -> None:
    """An author's account: status, strike points, blocks."""
    with _ledger(store_url, rules_dir) as ledger:
        account = _run(lambda: ledger.account(author))
        if as_json:
            click.echo(account.model_dump_json(indent=2))
        else:
            _print_account(ledger, account)


@accounts.command(name="list")
@store_option
@click.option("--status", type=click.Choice([s.value for s in AccountStatus]), default=None)
def list_accounts(store_url: str, status: str | None) -> None:
    """Known accounts, optionally of one status."""
    with _ledger(store_url, None) as ledger:
        found = _run(lambda: ledger.store.accounts(AccountStatus(status) if status else None))
        table = Table("author", "status", "points", "blocks")
        for account in found:
            table.add_row(
                escape(account.author_id),
                account.status.value,
                f"{ledger.points(account):g}",
                str(account.blocks),
            )
        Console().print(table)


@accounts.command()
@click.argument("author")
@store_option
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the latest N events.")
@click.option("--json", "as_json", is_flag=True, help="One JSON event a line.")
def history(author: str, store_url: str, limit: int | None, as_json: bool) -> None:
    """An author's audit log, oldest first."""
    with _ledger(store_url, None) as ledger:
        events = _run(lambda: ledger.history(author, limit))
        if as_json:
            for event in events:
                click.echo(event.model_dump_json())
        else:
            _print_events(events)


@accounts.command()
@click.argument("author")
@by_option
@reason_option
@store_option
@rules_option
@at_option
def restore(
    author: str,
    actor: str,
    reason: str,
    store_url: str,
    rules_dir: Path | None,
    at: datetime | None,
) -> None:
    """Lift a first block (a second block can never be restored: exit 2)."""
    with _ledger(store_url, rules_dir) as ledger:
        account = _run(lambda: ledger.restore(author, actor, reason, at))
        click.echo(f"{author}: restored by {actor} (status {account.status.value})")


@accounts.command()
@click.argument("author")
@by_option
@reason_option
@store_option
@at_option
def block(author: str, actor: str, reason: str, store_url: str, at: datetime | None) -> None:
    """Block an author by hand: the first block lasts until a moderator restores it, a
    second one is permanent (blocking a blocked or deleted account: exit 2)."""
    with _ledger(store_url, None) as ledger:
        account = _run(lambda: ledger.block(author, actor, reason, at))
        final = account.status is AccountStatus.PERMANENTLY_BLOCKED
        note = "permanently (second block; never restorable)" if final else "until restored"
        click.echo(f"{author}: blocked by {actor} {note}")


@accounts.command()
@click.argument("author")
@click.option("--subject", required=True, help="The request's subject.")
@click.option("--explanation", required=True, help="The user's explanation.")
@store_option
@at_option
def appeal(
    author: str, subject: str, explanation: str, store_url: str, at: datetime | None
) -> None:
    """Log a user's request to restore access (moderators decide with `restore`)."""
    try:
        request = AppealRequest(subject=subject, user_id=author, explanation=explanation)
    except ValidationError as exc:
        _fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
    with _ledger(store_url, None) as ledger:
        event = _run(lambda: ledger.appeal(request, at))
        note = (
            "a moderator may restore it"
            if event.details["restorable"]
            else "it cannot be granted: " + event.details["status"]
        )
        click.echo(f"{author}: appeal logged ({note})")


@accounts.command()
@click.argument("author")
@by_option
@reason_option
@store_option
@at_option
def delete(author: str, actor: str, reason: str, store_url: str, at: datetime | None) -> None:
    """Delete an account (restorable within the policy's `undelete_within`, 30 days)."""
    with _ledger(store_url, None) as ledger:
        account = _run(lambda: ledger.delete_account(author, actor, reason, at))
        click.echo(f"{author}: deleted at {account.deleted_at}")


@accounts.command()
@click.argument("author")
@by_option
@reason_option
@store_option
@rules_option
@at_option
def undelete(
    author: str,
    actor: str,
    reason: str,
    store_url: str,
    rules_dir: Path | None,
    at: datetime | None,
) -> None:
    """Restore a deleted account within 30 days of its deletion (later: exit 2)."""
    with _ledger(store_url, rules_dir) as ledger:
        account = _run(lambda: ledger.undelete(author, actor, reason, at))
        click.echo(f"{author}: restored by {actor} (status {account.status.value})")
