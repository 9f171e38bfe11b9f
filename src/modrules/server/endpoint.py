"""POST /v1/moderate from raw bytes to raw bytes: the token, the body's shape, the
verdicts within the time budget, the metrics and the JSON answer (errors included).

The service's outer layer (`limits.Gate`) calls it straight from ASGI, so the hot path
skips the framework's routing, request objects and exception machinery (with orjson and
cached metric children, that halved the service's own cost per comment, profiled
in-process); the FastAPI route calls the same code, which keeps the route in the
OpenAPI docs and serves it wherever the Gate does not (the app mounted under a prefix)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from modrules.dumps import verdict_json
from modrules.middleware.judge import Judge
from modrules.model import Verdict
from modrules.server.auth import UNAUTHORIZED, same, token_in
from modrules.server.metrics import Metrics
from modrules.server.moderation import BadRequest, OverBudget, judge, parse
from modrules.server.schemas import ErrorBody
from modrules.server.settings import ServerSettings

PATH = "/v1/moderate"
JSON = (b"content-type", b"application/json")
Headers = tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: Headers = ()

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The ASGI `http.response.start` headers."""
        return [JSON, (b"content-length", str(len(self.body)).encode()), *self.headers]


def error(status: int, name: str, message: str, details: list[dict[str, object]] | None = None, headers: Headers = ()) -> Answer:
    body = ErrorBody(error=name, message=message, details=details or [])
    return Answer(status, orjson.dumps(body.model_dump()), headers)


class ModerateEndpoint:
    def __init__(self, judge_one: Judge, settings: ServerSettings, metrics: Metrics) -> None:
        self.judge_one = judge_one
        self.settings = settings
        self.metrics = metrics

    async def answer(self, body: bytes, headers: Iterable[tuple[bytes, bytes]]) -> Answer:
        """One verdict for one comment, a list for a list; 400/401/413/422/503 otherwise."""
        settings = self.settings
        if settings.protect_moderate:
            supplied = token_in(headers)
            if supplied is None or not same(supplied, settings.token):
                return error(401, "unauthorized", UNAUTHORIZED, headers=((b"www-authenticate", b"Bearer"),))
        try:
            items, many = parse(body, settings.max_batch)
            started = time.perf_counter()
            verdicts = await judge(self.judge_one, items, settings.time_budget_ms / 1000)
        except BadRequest as exc:
            return error(exc.status, exc.error, exc.message, exc.details)
        except OverBudget as exc:
            return error(503, "time-budget-exceeded", str(exc), headers=((b"retry-after", b"1"),))
        self.metrics.judged(verdicts, time.perf_counter() - started)
        return Answer(200, _json(verdicts, many))


def _json(verdicts: list[Verdict], many: bool) -> bytes:
    # verdict_json is the CLI's JSON line (orjson for the common plain verdict); drop its newline.
    lines = [verdict_json(v)[:-1] for v in verdicts]
    return b"[" + b",".join(lines) + b"]" if many else lines[0]
