"""Durations as rules write them: `90s`, `10m`, `2h`, `1d` (or a number of seconds)."""

from __future__ import annotations

from typing import Annotated, Any

import regex
from pydantic import BeforeValidator

_DURATION = regex.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$")
_UNIT = {None: 1.0, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def seconds(value: Any, allow_zero: bool = False) -> float:
    """A duration in seconds (ValueError for anything else, or for zero unless allowed)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        amount = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        amount = float(m.group(1)) * _UNIT[m.group(2)]
    else:
        raise ValueError(f"not a duration: {value!r} (write e.g. 90s, 10m, 2h, 1d)")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValueError(f"a duration must be positive: {value!r}")
    return amount


Seconds = Annotated[float, BeforeValidator(seconds)]
"""A pydantic field type: a duration string or number, stored as seconds."""

Offset = Annotated[float, BeforeValidator(lambda value: seconds(value, allow_zero=True))]
"""A pydantic field type: a time offset (zero allowed), stored as seconds."""


def describe(amount: float) -> str:
    """`600.0` → "10 minutes", for messages."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if amount >= size and amount % size == 0:
            n = int(amount // size)
            return f"{n} {unit}{'s' if n != 1 else ''}"
    n = round(amount)
    return f"{n} second{'s' if n != 1 else ''}"
