"""Jinja2 filters: formatting only (units are already converted by the intent builders)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from typing import Any


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


# Quoting: defence in depth behind the inventory validation. Rendered configs are one command per line, so a
# value holding a line break or another control character is refused outright (no quoting makes it safe).
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")
_DQ_SPECIAL = re.compile(r'["\\$`!]')


class UnsafeValue(ValueError):
    """A value that cannot be written into a one-command-per-line config."""


def oneline(value: Any) -> str:
    """The value as text, refused (UnsafeValue) if it holds a line break or control character: for values that
    run to the end of a line (``description TEXT``, comments)."""
    text = str(value)
    if _CONTROL.search(text):
        raise UnsafeValue(f"refusing to render {text!r}: it holds a line break or control character")
    return text


def shquote(value: Any) -> str:
    """One shell word (shlex.quote): plain names stay bare (``ens1np0``), others are single-quoted
    (``'ens 1'``)."""
    return shlex.quote(oneline(value))


def dquote(value: Any) -> str:
    """One shell word in double quotes (``"to gpu01"``), as the NVUE templates write free text; a value holding
    a character that is special inside double quotes (``" \\ $ `` backquote, ``!`` in an interactive shell) is
    single-quoted instead (shlex.quote), so it stays one literal word."""
    text = oneline(value)
    return shlex.quote(text) if _DQ_SPECIAL.search(text) else f'"{text}"'


FILTERS = {"ranges": ranges, "join_ints": join_ints, "kbytes": kbytes, "number": number, "seconds": seconds,
           "oneline": oneline, "shquote": shquote, "dquote": dquote}
