"""Command grammars of the view CLIs, and the matcher that finds the first wrong word as they do.

A command's syntax is a string of word specs: a literal (``qos``), a choice (``{dscp|dot1p}``), an integer
in a range (``<int:0-7>``) or of a set (``<int:10,100>``), a list of them (``<ints:0-7>``, also ``1 to 3``), a
name (``<word>``), the rest of the line (``<text>``) or an interface (``<iface>``: ``100GE1/0/1`` or
``100ge 1/0/1``). Keywords may be abbreviated to any unambiguous prefix (``dis cur``), as on the real devices.
A failed match reports where and why, so the dialect can print its caret line and ``Unrecognized command`` /
``Wrong parameter`` / ``Incomplete command`` / ``Too many parameters`` / ``Ambiguous command``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Value = str | tuple[int, ...]
Resolver = Callable[[list[str]], tuple[str, int] | None]

ERROR_TEXT = {"unrecognized": "Unrecognized command", "wrong": "Wrong parameter", "incomplete": "Incomplete command",
              "too-many": "Too many parameters", "ambiguous": "Ambiguous command"}
_RANK = {"wrong": 4, "ambiguous": 3, "too-many": 2, "unrecognized": 1, "incomplete": 0}


@dataclass(frozen=True)
class Spec:
    """One word position of a syntax."""

    kind: str  # lit | int | ints | word | text | iface
    words: tuple[str, ...] = ()
    lo: int = 0
    hi: int = 0
    raw: str = ""


def parse_syntax(syntax: str) -> tuple[Spec, ...]:
    """``"qos queue <int:0-7> ecn"`` -> specs."""
    specs = []
    for raw in syntax.split():
        if raw.startswith("{"):
            specs.append(Spec("lit", tuple(raw.strip("{}").split("|")), raw=raw))
        elif m := re.fullmatch(r"<(ints?):(\d+)-(\d+)>", raw):
            specs.append(Spec(m.group(1), lo=int(m.group(2)), hi=int(m.group(3)), raw=raw))
        elif m := re.fullmatch(r"<int:(\d+(?:,\d+)+)>", raw):
            allowed = tuple(m.group(1).split(","))
            specs.append(Spec("int", allowed, lo=min(map(int, allowed)), hi=max(map(int, allowed)), raw=raw))
        elif raw in ("<word>", "<text>", "<iface>"):
            specs.append(Spec(raw.strip("<>"), raw=raw))
        else:
            specs.append(Spec("lit", (raw,), raw=raw))
    return tuple(specs)


@dataclass(frozen=True)
class Command:
    """A command of one view.

    ``mode``: ``config`` stores the line (its first ``key`` values name the setting; ``per_value`` splits an
    ``<ints>`` key into one statement per value), ``enter`` opens the view it names (``view`` gives the prompt
    label), ``action`` calls ``run(dialect, values)`` and prints what it returns. ``undo_clears_below``: its
    undo also removes the statements whose key starts with its own (by default an undo removes its statement
    only, as VRP and Comware document: ``undo trust dscp`` leaves ``trust upstream NAME``).
    """

    syntax: str
    mode: str = "config"
    key: int = 0
    per_value: bool = False
    view: str = ""
    label: Callable[[list[Value]], str] | None = None
    removable: bool = True
    undo_clears_below: bool = False
    run: Callable[[Any, list[Value]], str] | None = None
    specs: tuple[Spec, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "specs", parse_syntax(self.syntax))


@dataclass
class Match:
    """The outcome of matching a line: the command and its values, or the failing word and the reason."""

    command: Command | None
    values: list[Value]
    undo: bool = False
    pos: int = 0
    error: str = ""


@dataclass
class Line:
    """A typed line split into words, with each word's column."""

    text: str
    words: list[str]
    columns: list[int]

    @classmethod
    def parse(cls, text: str) -> Line:
        found = list(re.finditer(r"\S+", text))
        return cls(text, [m.group() for m in found], [m.start() for m in found])

    def column(self, pos: int) -> int:
        """The caret column of word ``pos`` (past the end for a missing word)."""
        return self.columns[pos] if pos < len(self.words) else len(self.text.rstrip()) + 1


class Grammar:
    """The commands of one view, with ``undo`` forms of the removable ones and abbreviation siblings."""

    def __init__(self, commands: list[Command]) -> None:
        self.entries: list[tuple[Command, bool, tuple[Spec, ...]]] = []
        for command in commands:
            self.entries.append((command, False, command.specs))
            if command.mode in ("config", "enter") and command.removable:
                undo = Spec("lit", ("undo",), raw="undo")
                if command.key:
                    self.entries.append((command, True, (undo, *command.specs[:command.key])))
                if command.key != len(command.specs):
                    self.entries.append((command, True, (undo, *command.specs)))
        self.siblings = [[self._siblings(specs, n) for n in range(len(specs))] for _, _, specs in self.entries]

    def _siblings(self, specs: tuple[Spec, ...], n: int) -> set[str]:
        prefix = [s.raw for s in specs[:n]]
        return {w for _, _, other in self.entries if len(other) > n and [s.raw for s in other[:n]] == prefix
                for w in other[n].words}

    def match(self, line: Line, resolve: Resolver) -> Match:
        """The first command the whole line matches, else the deepest failure."""
        best = Match(None, [], pos=-1, error="unrecognized")
        for (command, undo, specs), siblings in zip(self.entries, self.siblings, strict=True):
            values, pos, error = _match(specs, siblings, line, resolve)
            if not error:
                return Match(command, values, undo)
            if pos > best.pos or (pos == best.pos and _RANK[error] > _RANK[best.error]):
                best = Match(None, [], pos=pos, error=error)
        best.pos = max(best.pos, 0)
        return best


def _match(specs: tuple[Spec, ...], siblings: list[set[str]], line: Line,
           resolve: Resolver) -> tuple[list[Value], int, str]:
    words, i = line.words, 0
    values: list[Value] = []
    for n, spec in enumerate(specs):
        if i >= len(words):
            return values, i, "incomplete"
        value, used, error = _word(spec, siblings[n], line, i, resolve)
        if error:
            return values, i, error
        values.append(value)
        i += used
    return values, i, "too-many" if i < len(words) else ""


def _word(spec: Spec, siblings: set[str], line: Line, i: int, resolve: Resolver) -> tuple[Value, int, str]:
    word = line.words[i]
    if spec.kind == "lit":
        return _literal(word.lower(), spec.words, siblings)
    if spec.kind == "int":
        if not word.isdigit():
            return "", 0, "unrecognized" if not word[0].isdigit() else "wrong"
        if spec.words and str(int(word)) not in spec.words:  # a value of a set is no keyword: no abbreviation
            return "", 0, "wrong"
        return (word, 1, "") if spec.lo <= int(word) <= spec.hi else ("", 0, "wrong")
    if spec.kind == "ints":
        return _ints(spec, line.words[i:])
    if spec.kind == "word":
        return word, 1, ""
    if spec.kind == "text":
        return line.text[line.columns[i]:].rstrip(), len(line.words) - i, ""
    found = resolve(line.words[i:])
    return (found[0], found[1], "") if found else ("", 0, "wrong")


def _literal(word: str, accepted: tuple[str, ...], siblings: set[str]) -> tuple[Value, int, str]:
    if word in accepted:
        return word, 1, ""
    candidates = [w for w in siblings if w.startswith(word)]
    if len(candidates) == 1 and candidates[0] in accepted:
        return candidates[0], 1, ""
    if len(candidates) > 1 and any(c in accepted for c in candidates):
        return "", 0, "ambiguous"
    return "", 0, "unrecognized"


def _ints(spec: Spec, words: list[str]) -> tuple[Value, int, str]:
    """``3``, ``3 4``, ``0 to 3``: the sorted set, as many words as belong to the list."""
    found: set[int] = set()
    used = 0
    while used < len(words):
        word = words[used]
        if word.lower() == "to" and found and used + 1 < len(words) and words[used + 1].isdigit():
            low, high = max(found), int(words[used + 1])
            if high < low or high > spec.hi:
                return (), 0, "wrong"
            found.update(range(low, high + 1))
            used += 2
            continue
        if not word.isdigit():
            break
        if not spec.lo <= int(word) <= spec.hi:
            return (), 0, "wrong"
        found.add(int(word))
        used += 1
    return (tuple(sorted(found)), used, "") if used else ((), 0, "wrong")


def render(values: list[Value]) -> str:
    """Values back to the canonical statement text."""
    return " ".join(" ".join(map(str, v)) if isinstance(v, tuple) else v for v in values)
