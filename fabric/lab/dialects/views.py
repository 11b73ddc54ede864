"""The session engine shared by the view CLIs (H3C Comware, Huawei VRP): user view, system view, sub-views.

``<leaf4>`` is the user view; ``system-view`` opens ``[leaf4]``; a view command (``interface X``) opens a
sub-view ``[leaf4-X]``; ``quit`` goes up one level (and logs out from the user view), ``return`` goes back to
the user view. Lines starting with ``#`` (the separators of ``display current-configuration``) are no-ops.
A platform subclass gives the grammars, its error prefix, its interface names and its display commands;
configuration commands go through ``apply`` so a two-stage platform can aim them at a candidate.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from fabric.lab.device import LabDevice
from fabric.lab.dialects.base import Dialect, EndSession
from fabric.lab.dialects.viewconfig import GLOBAL, Key, Section, ViewConfig, ViewDeviceState
from fabric.lab.dialects.viewgrammar import ERROR_TEXT, Command, Grammar, Line, Match, Value, render

_IFACE = re.compile(r"(.*?)(\d+(?:/\d+)+)")
_NUMBER = re.compile(r"\d+(?:/\d+)+")


@dataclass
class View:
    """One level of the view stack: its kind (grammar), its config section header and its prompt label."""

    kind: str
    header: str
    label: str = ""


@dataclass
class Question:
    """A confirmation the device is waiting for: the prompt text and what the answer does."""

    text: str
    answer: Callable[[str], str]


class ViewDialect(Dialect):
    """Base of the view-CLI dialects; see the module docstring."""

    error_prefix: ClassVar[str] = "Error: "
    global_indent: ClassVar[str] = ""
    kind_order: ClassVar[list[str]] = ["interface"]
    interface_types: ClassVar[list[str]] = []
    interface_aliases: ClassVar[dict[str, str]] = {}
    grammars: ClassVar[dict[str, Grammar]] = {}

    def __init__(self, device: LabDevice, username: str) -> None:
        super().__init__(device, username)
        self.stack: list[View] = []
        self.question: Question | None = None

    @classmethod
    def boot_config(cls, device: LabDevice) -> ViewDeviceState:
        """Running config of a fresh device: its name and one empty view per physical port."""
        running = ViewConfig(sysname=device.name)
        running.sections[GLOBAL].set(("sysname",), f"sysname {device.name}")
        for port in device.inventory.interfaces:
            running.section(f"interface {port}", "interface")
        return ViewDeviceState(running)

    @property
    def state(self) -> ViewDeviceState:
        state = self.device.config
        assert isinstance(state, ViewDeviceState)
        return state

    # -- hooks a platform overrides -------------------------------------------------------------------------
    def edit_config(self) -> ViewConfig:
        """The configuration that configuration commands change (the running one, unless two-stage)."""
        return self.state.running

    def mark(self) -> str:
        """Text between ``[`` and the device name in system views (Huawei's ``~``/``*``)."""
        return ""

    def refused(self) -> str:
        """The platform's answer to a configuration command while the device refuses changes."""
        raise NotImplementedError

    def check(self, config: ViewConfig, view: View, command: Command, values: list[Value], undo: bool) -> str:
        """A platform's semantic refusal of a statement (e.g. a profile that does not exist), else ""."""
        return ""

    def recorded(self, view: View, command: Command, values: list[Value], undo: bool) -> None:
        """Called after a configuration command changed ``edit_config()`` (two-stage platforms log it)."""

    # -- the session ----------------------------------------------------------------------------------------
    def prompt(self) -> str:
        if self.question is not None:
            return self.question.text
        name = self.state.running.sysname or self.device.name
        if not self.stack:
            return f"<{name}>"
        label = self.stack[-1].label
        return f"[{self.mark()}{name}{'-' + label if label else ''}]"

    def handle(self, line: str) -> str:
        if self.question is not None:
            question, self.question = self.question, None
            return question.answer(line.strip())
        if not line.strip() or line.lstrip().startswith("#"):
            return ""
        parsed = Line.parse(line)
        found = self.match(parsed)
        if found.command is None:
            return self.error(parsed, found)
        return self.execute(found)

    def view(self) -> View:
        return self.stack[-1] if self.stack else View("user", GLOBAL)

    def match(self, line: Line) -> Match:
        return self.grammars[self.view().kind].match(line, self.resolve)

    def error(self, line: Line, found: Match) -> str:
        caret = " " * (len(self.prompt()) + line.column(found.pos)) + "^"
        return f"{caret}\n{self.error_prefix}{ERROR_TEXT[found.error]} found at '^' position."

    def execute(self, found: Match) -> str:
        command = found.command
        assert command is not None
        values = found.values[1:] if found.undo else found.values
        if command.mode == "action":
            assert command.run is not None
            return command.run(self, values)
        opens_existing = command.mode == "enter" and not found.undo and render(values) in self.edit_config().sections
        if self.device.faults.active("reject-config") and not opens_existing:
            return self.refused()  # entering an existing view changes nothing, so even a locked device allows it
        view = self.stack[-1]
        if command.mode == "enter":
            view = self.stack[0]
            del self.stack[1:]  # a view command typed in a sub-view runs in system view
        problem = self.check(self.edit_config(), view, command, values, found.undo)
        if problem:
            return problem
        if not opens_existing:
            apply(self.edit_config(), view, command, values, found.undo)
            self.recorded(view, command, values, found.undo)
        if command.mode == "enter" and not found.undo:
            label = command.label(values) if command.label else render(values)
            self.stack.append(View(command.view, render(values), label))
        return ""

    # -- navigation -----------------------------------------------------------------------------------------
    def system_view(self, values: list[Value]) -> str:
        self.stack = [View("system", GLOBAL)]
        return self.system_view_banner()

    def system_view_banner(self) -> str:
        raise NotImplementedError

    def quit(self, values: list[Value]) -> str:
        if not self.stack:
            raise EndSession
        self.stack.pop()
        return ""

    def return_(self, values: list[Value]) -> str:
        self.stack = []
        return ""

    # -- shared displays ------------------------------------------------------------------------------------
    def config_lines(self, config: ViewConfig, only: str | None = None) -> list[str]:
        return config.render(self.kind_order, self.global_indent, only)

    def display_this(self, values: list[Value]) -> str:
        view = self.view()
        config = self.edit_config()
        if view.header == GLOBAL:
            return "\n".join(["#", *(self.global_indent + line for line in config.sections[GLOBAL].lines()),
                              "#", "return"])
        return "\n".join([*self.config_lines(config, view.header), "#", "return"])

    def ports(self) -> list[str]:
        return list(self.device.inventory.interfaces)

    def resolve(self, words: list[str]) -> tuple[str, int] | None:
        """``100GE1/0/1`` or ``100ge 1/0/1`` (any unambiguous type prefix or alias) -> (port, words used)."""
        found = _IFACE.fullmatch(words[0])
        if found and found.group(1):
            kind, number, used = found.group(1), found.group(2), 1
        elif len(words) > 1 and _NUMBER.fullmatch(words[1]):
            kind, number, used = words[0], words[1], 2
        else:
            return None
        canonical = self.interface_type(kind)
        if canonical is None or f"{canonical}{number}" not in self.ports():
            return None
        return f"{canonical}{number}", used

    @classmethod
    def interface_type(cls, word: str) -> str | None:
        """The interface type ``word`` names (``hge``, ``100ge``, ``FiftyGigE``), None if none or several."""
        lower = word.lower()
        exact = [t for t in cls.interface_types if t.lower() == lower]
        if exact:
            return exact[0]
        if lower in cls.interface_aliases:
            return cls.interface_aliases[lower]
        prefixed = [t for t in cls.interface_types if t.lower().startswith(lower)]
        return prefixed[0] if len(prefixed) == 1 else None


def act(method: str) -> Callable[[ViewDialect, list[Value]], str]:
    """A command action that calls the dialect's method ``method(values)``."""
    def run(dialect: ViewDialect, values: list[Value]) -> str:
        result: str = getattr(dialect, method)(values)
        return result
    return run


def statement_entries(command: Command, values: list[Value]) -> list[tuple[Key, str]]:
    """(key, text) of the statement(s) a command stores; ``per_value`` gives one per value of its list."""
    key_len = command.key or len(values)
    lists = [i for i, v in enumerate(values[:key_len]) if isinstance(v, tuple)]
    if not command.per_value or not lists:
        return [(tuple(render([v]) for v in values[:key_len]), render(values))]
    index = lists[0]
    spread = []
    for one in values[index]:
        assert isinstance(one, int)
        each = [*values[:index], (one,), *values[index + 1:]]
        spread.append((tuple(render([v]) for v in each[:key_len]), render(each)))
    return spread


def apply(config: ViewConfig, view: View, command: Command, values: list[Value], undo: bool) -> None:
    """Change ``config`` as the command does in ``view`` (for ``enter``: create or remove the view it names)."""
    if command.mode == "enter":
        if undo:
            config.drop(render(values))
        else:
            config.section(render(values), command.view)
        return
    section = config.sections[view.header]
    if values[0] == "sysname":
        config.sysname = "" if undo else render(values[1:])
    if command.key and len(values) > command.key and isinstance(values[-1], tuple) and _merges(command):
        _merge(section, command, values, undo)
        return
    for key, line in statement_entries(command, values):
        if undo:
            section.unset(key, prefix=command.undo_clears_below)
        else:
            section.set(key, line)


def _merges(command: Command) -> bool:
    """A command whose last word is a list adds to the list already set (Huawei ``priority 3`` then ``4``)."""
    return command.specs[-1].kind == "ints" and command.key == len(command.specs) - 1


def _merge(section: Section, command: Command, values: list[Value], undo: bool) -> None:
    key = tuple(render([v]) for v in values[:command.key])
    current: set[int] = set()
    for old_key, line in section.entries:
        if old_key == key:
            current = {int(w) for w in line.split()[len(" ".join(key).split()):]}
    change = values[-1]
    assert isinstance(change, tuple)
    merged = current - set(change) if undo else current | set(change)
    if merged:
        section.set(key, render([*values[:-1], tuple(sorted(merged))]))
    else:
        section.unset(key)
