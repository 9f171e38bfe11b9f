"""`modrules serve`: load the ruleset once per process, open the store, run uvicorn.

With `--workers N` uvicorn starts N processes, each building its app from the options
passed in the environment (`app_from_env`); they must share a store (SQLite or Redis)
so the review queue and the accounts are one."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from modrules.engine import Moderator
from modrules.rules import load_ruleset
from modrules.server.app import create_app
from modrules.server.metrics import MULTIPROC_ENV
from modrules.server.settings import ServerSettings
from modrules.store import StoreError, open_store

ENV = "MODRULES_SERVE_OPTIONS"


class ServeOptions(BaseModel):
    rules_dir: Path | None = None
    no_ml: bool = False
    store_url: str = "memory"
    settings: ServerSettings


def build(options: ServeOptions) -> FastAPI:
    """The app for one process (RulesetError or StoreError when they cannot load)."""
    store = open_store(options.store_url)
    ruleset = load_ruleset(options.rules_dir, disable_ml=options.no_ml)
    # The Moderator keeps the stateful window and the enforcement ledger in the store.
    moderator = Moderator(ruleset, store=store)
    app = create_app(moderator, store, options.settings, options.store_url)
    app.router.on_shutdown.append(store.close)
    return app


def app_from_env() -> FastAPI:
    """uvicorn's factory in each worker process."""
    return build(ServeOptions.model_validate_json(os.environ[ENV]))


@contextmanager
def _metrics_dir() -> Iterator[None]:
    """A fresh PROMETHEUS_MULTIPROC_DIR for the workers (they inherit the environment and
    import prometheus-client anew), so /metrics counts all of them; removed afterwards.
    A directory the operator set already is used as it is."""
    if os.environ.get(MULTIPROC_ENV):
        yield
        return
    path = tempfile.mkdtemp(prefix="modrules-metrics-")
    os.environ[MULTIPROC_ENV] = path
    try:
        yield
    finally:
        del os.environ[MULTIPROC_ENV]
        shutil.rmtree(path, ignore_errors=True)


def serve(
    options: ServeOptions, host: str, port: int, token_given: bool, workers: int = 1, log_level: str = "warning"
) -> None:
    """Raises RulesetError or StoreError (the CLI turns them into exit 2)."""
    if workers > 1 and options.store_url.strip() in ("memory", "memory://", "mem"):
        raise StoreError("--workers above 1 needs a shared store: --store sqlite:///PATH.db or redis://…")
    if not token_given:
        # Shown once, so the review page and the account API are usable at once.
        print(f"modrules: no --token given; this run's token is {options.settings.token}", file=sys.stderr, flush=True)
    common = {"host": host, "port": port, "log_level": log_level, "access_log": False, "server_header": False}
    if workers > 1:
        build(options)  # fail here, once, if the ruleset or the store is broken
        os.environ[ENV] = options.model_dump_json()
        print(f"modrules: {workers} workers on http://{host}:{port} (review page: /review, docs: /docs)", file=sys.stderr, flush=True)
        with _metrics_dir():
            uvicorn.run("modrules.server.run:app_from_env", factory=True, workers=workers, **common)  # type: ignore[arg-type]
        return
    app = build(options)
    print(f"modrules: serving on http://{host}:{port} (review page: /review, docs: /docs)", file=sys.stderr, flush=True)
    uvicorn.run(app, **common)  # type: ignore[arg-type]
