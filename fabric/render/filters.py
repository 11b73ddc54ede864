"""Jinja2 filters: formatting only (units are already converted by the intent builders)."""

from __future__ import annotations

from collections.abc import Iterable


def ranges(values: Iterable[int], sep: str = ",", dash: str = "-") -> str:
    """Compress integers into ranges: [0,1,2,5] -> '0-2,5'."""
    parts: list[str] = []
    run: list[int] = []
    for value in sorted(set(values)):
        if run and value != run[-1] + 1:
            parts.append(_run_text(run, dash))
            run = []
        run.append(value)
    if run:
        parts.append(_run_text(run, dash))
    return sep.join(parts)


def _run_text(run: list[int], dash: str) -> str:
    return str(run[0]) if len(run) == 1 else f"{run[0]}{dash}{run[-1]}"


def join_ints(values: Iterable[int], sep: str = ",") -> str:
    """[3, 4] -> '3,4'."""
    return sep.join(str(v) for v in values)


def kbytes(value: int) -> int:
    """Bytes to whole kilobytes (1 KB = 1024 bytes), rounded up, for CLIs that take kbytes."""
    return -(-value // 1024)


def number(value: float) -> str:
    """1.0 -> '1', 2.5 -> '2.5' (no trailing zeros)."""
    return f"{value:g}"


def seconds(value_ms: int) -> str:
    """Milliseconds to seconds text: 200 -> '0.2'."""
    return f"{value_ms / 1000:g}"


FILTERS = {"ranges": ranges, "join_ints": join_ints, "kbytes": kbytes, "number": number, "seconds": seconds}
