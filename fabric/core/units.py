"""Units live in names and types: ``kmin_bytes: Bytes``, ``cable_length_m: Meters``.

Each type accepts a bare number in its own unit, or a string with an explicit unit
(``"150KB"``, ``"40m"``, ``"400G"``, ``"200ms"``), and rejects a wrong unit with a message that
names the expected one.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import BeforeValidator, Field

SPEEDS_GBPS = (10, 25, 40, 50, 100, 200, 400, 800)

_NUMBER = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$")

_BYTE_UNITS = {
    "": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3, "k": 1000, "m": 1000**2,
}
_LENGTH_UNITS = {"": 1.0, "m": 1.0, "km": 1000.0, "cm": 0.01}
_SPEED_UNITS = {"": 1, "g": 1, "gb": 1, "gbps": 1, "gbe": 1, "ge": 1, "t": 1000, "tbps": 1000}
_TIME_UNITS_MS = {"": 1.0, "ms": 1.0, "s": 1000.0}


def _parse(value: object, units: dict[str, float] | dict[str, int], what: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected {what}, got a boolean")
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:  # an int beyond a float's range: pydantic reports a ValueError, not this
            raise ValueError(f"expected {what}, got a number too large for a float") from None
    if not isinstance(value, str):
        raise ValueError(f"expected {what}, got {type(value).__name__}")
    match = _NUMBER.match(value)
    if not match:
        raise ValueError(f"expected {what}, got {value!r}")
    number, unit = match.groups()
    if unit.lower() not in units:
        valid = ", ".join(u for u in units if u)
        raise ValueError(f"unit {unit!r} is not valid here; expected {what} (units: {valid})")
    return float(number) * units[unit.lower()]


def _finite(number: float, what: str) -> float:
    """``number`` if finite; inf/nan (YAML ``.inf``, ``.nan``) as a ValueError (``math.ceil``/``round`` of inf
    raise OverflowError, which pydantic does not turn into a validation error)."""
    if not math.isfinite(number):
        raise ValueError(f"expected {what}, got {number}: not a finite number")
    return number


def _bytes(value: object) -> int:
    what = "a size in bytes such as 150000 or '150KB'"
    return math.ceil(_finite(_parse(value, _BYTE_UNITS, what), what))


def _meters(value: object) -> float:
    what = "a length in metres such as 40 or '40m'"
    if type(value) is int or type(value) is float:  # a bare number, by far the most common: no parsing needed
        return _finite(float(value), what)
    return _finite(_parse(value, _LENGTH_UNITS, what), what)


def _millis(value: object) -> int:
    what = "a time in milliseconds such as 200 or '200ms'"
    return round(_finite(_parse(value, _TIME_UNITS_MS, what), what))


def _gbps(value: object) -> int:
    if type(value) is int and value in SPEEDS_GBPS:  # a bare valid speed, by far the most common
        return value
    speed = _parse(value, _SPEED_UNITS, "a port speed in Gb/s such as 100 or '400G'")
    if speed not in SPEEDS_GBPS:
        raise ValueError(f"{speed:g} Gb/s is not a port speed; use one of {', '.join(map(str, SPEEDS_GBPS))}")
    return int(speed)


# Field(ge=0) before the BeforeValidator: the bound then sits on the number schema, checked in pydantic-core,
# instead of a Python after-validator per value (same error); the unit parser still runs first.
Bytes = Annotated[int, Field(ge=0), BeforeValidator(_bytes)]
Meters = Annotated[float, Field(ge=0), BeforeValidator(_meters)]
Millis = Annotated[int, Field(ge=0), BeforeValidator(_millis)]
Gbps = Annotated[int, BeforeValidator(_gbps)]


def ceil_to(value: float, step: int) -> int:
    """Round ``value`` up to a multiple of ``step`` (SONiC's ceil_1024)."""
    return int(math.ceil(value / step) * step)
