"""POST /v1/moderate: read the body's shape, judge each comment within the time budget."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from modrules.middleware.judge import Judge
from modrules.model import Comment, Thread, Verdict
from modrules.server.schemas import CommentInThread


class BadRequest(Exception):
    """A body the service cannot judge: its status (400, 413, 422) and a clear message."""

    def __init__(self, status: int, error: str, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.details = status, error, message, details or []


class OverBudget(Exception):
    def __init__(self, judged: int, total: int) -> None:
        super().__init__(f"judged {judged} of {total} comments within the time budget")
        self.judged, self.total = judged, total


@dataclass(frozen=True)
class Item:
    comment: Comment
    thread: Thread | None
    parent: Comment | None


def parse(body: bytes, max_batch: int) -> tuple[list[Item], bool]:
    """The comments a body holds, and whether it was a list (answered with a list)."""
    if not body.strip():
        raise BadRequest(400, "empty-body", "send a comment object, or a list of them, as JSON")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(400, "bad-json", f"the body is not valid JSON: {exc}") from None
    if isinstance(document, list):
        if len(document) > max_batch:
            raise BadRequest(413, "batch-too-large", f"{len(document)} comments in one request; the limit is {max_batch}")
        return [_item(entry, i) for i, entry in enumerate(document)], True
    return [_item(document, None)], False


def _item(entry: Any, index: int | None) -> Item:
    where = f"item {index}: " if index is not None else ""
    if not isinstance(entry, dict):
        raise BadRequest(
            422, "wrong-shape", f"{where}expected a comment object or {{\"comment\": …, \"thread\": …}}, got {type(entry).__name__}"
        )
    try:
        if "comment" in entry and isinstance(entry["comment"], dict):
            wrapped = CommentInThread.model_validate(entry)
            return Item(wrapped.comment, wrapped.thread, wrapped.parent)
        return Item(Comment.model_validate(entry), None, None)
    except ValidationError as exc:
        details = [
            {"index": index, "field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()
        ]
        first = details[0]
        raise BadRequest(
            422, "invalid-comment", f"{where}{first['field'] or 'body'}: {first['problem']}", details
        ) from None


async def judge(judge_one: Judge, items: list[Item], budget_seconds: float) -> list[Verdict]:
    """Verdicts in order; OverBudget when the time budget runs out before the last one.

    Judged on the event loop (the work is CPU under the GIL: a thread would only add a
    hop), letting other requests in between the comments of a batch."""
    deadline = time.perf_counter() + budget_seconds
    out: list[Verdict] = []
    for n, item in enumerate(items):
        if n:
            if time.perf_counter() > deadline:
                raise OverBudget(n, len(items))
            await asyncio.sleep(0)
        out.append(judge_one(item.comment, thread=item.thread, parent=item.parent))
    return out

