"""Helpers the platform render tests share: build a fabric's intents, and read rendered CLI back by mode."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from fabric.intent import build_intent
from fabric.intent.models import DeviceIntent
from fabric.inventory.check import load_and_check

Blocks = dict[str, list[str]]
SYSTEM = ""  # commands typed straight into system view


def intents(folder: Path) -> dict[str, DeviceIntent]:
    """The intents of the inventory at ``folder``, which must validate without a problem."""
    result = load_and_check(str(folder))
    assert result.fabric is not None
    assert not result.report.errors, [str(p) for p in result.report.errors]
    return build_intent(result.fabric)


def blocks(text: str) -> Blocks:
    """Indented CLI (EOS, NX-OS): mode path ('qos profile X > uc-tx-queue 3') -> its lines, merged over
    re-entries; '!' lines skipped."""
    found: Blocks = {}
    stack: list[tuple[int, str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("!"):
            continue
        indent = len(raw) - len(raw.lstrip())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if stack:
            found.setdefault(" > ".join(mode for _, mode in stack), []).append(line)
        else:
            found.setdefault(line, [])
        stack.append((indent, line))
    return found


def views(text: str) -> Blocks:
    """View-based CLI closed by 'quit' (Comware, CloudEngine): 'interface X' -> its lines (all blocks
    merged), SYSTEM -> the commands typed in system view; '#' lines skipped."""
    found: Blocks = defaultdict(list)
    current: str | None = None
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if line == "quit":
            assert current is not None, "quit outside a view"
            current = None
        elif line.startswith(" "):
            assert current is not None, f"{line!r} is not inside a view"
            found[current].append(line.strip())
        else:
            current = line
            found[SYSTEM].append(line)
    return found
