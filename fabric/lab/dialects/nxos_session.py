"""Applying NX-OS configuration lines in context: which mode takes a line, and what it changes.

A configuration session stands at a path of sub-modes (``interface Ethernet1/1`` -> ``config-if``). A line
the current mode does not take is tried in the enclosing modes, as NX-OS does, so an unindented pasted
config lands where its indentation says (``class type queuing c-out-8q-q6`` after a class of the same
policy closes the first class). The same engine replays checkpoint files for ``rollback``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fabric.lab.dialects.nxos_config import ConfigNode
from fabric.lab.dialects.nxos_grammar import CONFIG_MODES, Failure, Match, match, tokenize

Path = list[tuple[str, str]]  # (mode, line of the block that opened it), below the "config" level


@dataclass
class Located:
    """A configuration line some mode of the path accepts: the match and the depth of that mode."""

    match: Match
    level: int


def best_failure(failures: list[Failure]) -> Failure:
    """The refusal NX-OS reports: the one whose caret got furthest (on a tie a specific reason, then the first)."""
    return max(failures, key=lambda f: (f.column, f.reason != "Invalid command"))


def locate(path: Path, line: str, ports: frozenset[str]) -> Located | list[Failure]:
    """The innermost mode of ``path`` (or an enclosing one) that takes ``line``, else each mode's refusal."""
    tokens = tokenize(line)
    negate = bool(tokens) and tokens[0].text.lower() == "no"
    body = tokens[1:] if negate else tokens
    modes = ["config", *(mode for mode, _ in path)]
    failures: list[Failure] = []
    for level in range(len(modes) - 1, -1, -1):
        result = match(CONFIG_MODES[modes[level]], body, ports, line, negate)
        if isinstance(result, Match):
            return Located(result, level)
        failures.append(result)
    return failures


def node_at(root: ConfigNode, path: Path) -> ConfigNode:
    node = root
    for _, line in path:
        node = node.enter(line)
    return node


def is_change(located: Located) -> bool:
    return located.match.rule.action not in ("exit", "end")


def apply(root: ConfigNode, path: Path, located: Located) -> Path | None:
    """Carry out a located line on ``root``; the new path, or None when the session leaves configuration."""
    m, path = located.match, path[:located.level]
    action = m.rule.action
    if action == "end" or (action == "exit" and not path):
        return None
    if action == "exit":
        return path[:-1]
    node = node_at(root, path)
    if m.negated:
        node.remove(list(m.words[:m.rule.key or len(m.words)]))
    elif action.startswith("enter:"):
        node.enter(m.line)
        return [*path, (action.removeprefix("enter:"), m.line)]
    else:
        node.set(m.line, m.rule.key)
    return path


@dataclass
class Replay:
    """A configuration file replayed into a fresh tree (checkpoint files, for rollback and diff)."""

    root: ConfigNode = field(default_factory=lambda: ConfigNode(""))
    error: str | None = None


def replay(text: str, ports: frozenset[str]) -> Replay:
    """Run every line of a saved configuration in config mode; the first refused line is the error."""
    result = Replay()
    path: Path = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("!") or (not line.startswith(" ") and stripped.startswith("version ")):
            continue
        located = locate(path, line, ports)
        if not isinstance(located, Located):
            result.error = f"line {number}: {stripped}: {best_failure(located).reason}"
            return result
        path = apply(result.root, path, located) or []
    return result
