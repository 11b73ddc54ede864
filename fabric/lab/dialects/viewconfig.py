"""The configuration of a "view" CLI (H3C Comware, Huawei VRP): global statements plus named views.

A view is a header line typed in system view (``interface 100GE1/0/1``, ``drop-profile roce``) holding its
own statements. Every statement has a key (the words that name the setting, e.g. ``description``); typing a
statement with the key of an existing one replaces it, as the real CLIs do, and ``undo <key>`` removes it
(that statement only: ``undo trust dscp`` leaves ``trust upstream NAME``, a command of its own).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

Key = tuple[str, ...]
Entry = tuple[Key, str]
GLOBAL = ""


@dataclass
class Section:
    """One view (or the global statements when its header is ``GLOBAL``): its kind and ordered statements."""

    kind: str
    entries: list[Entry] = field(default_factory=list)

    def set(self, key: Key, line: str) -> None:
        """Replace the statement with ``key``, or append a new one."""
        for index, (old_key, _) in enumerate(self.entries):
            if old_key == key:
                self.entries[index] = (key, line)
                return
        self.entries.append((key, line))

    def unset(self, key: Key, prefix: bool = False) -> bool:
        """Remove the statement with ``key`` (with ``prefix``: every statement whose key starts with it); False
        when there was none. ``undo trust dscp`` removes ``trust dscp`` and leaves ``trust upstream roce``: on
        VRP and Comware each command has its own undo form."""
        kept = [(k, line) for k, line in self.entries if (k[:len(key)] if prefix else k) != key]
        removed = len(kept) != len(self.entries)
        self.entries = kept
        return removed

    def lines(self) -> list[str]:
        return [line for _, line in self.entries]


@dataclass
class ViewConfig:
    """A running (or candidate) configuration: ``sections`` by header, in creation order."""

    sections: dict[str, Section] = field(default_factory=lambda: {GLOBAL: Section("system")})
    sysname: str = ""

    def section(self, header: str, kind: str) -> Section:
        """The view named ``header``, created empty if it does not exist yet."""
        return self.sections.setdefault(header, Section(kind))

    def drop(self, header: str) -> bool:
        return self.sections.pop(header, None) is not None

    def headers(self, kind: str) -> list[str]:
        return [h for h, s in self.sections.items() if s.kind == kind]

    def copy(self) -> ViewConfig:
        return copy.deepcopy(self)

    def render(self, kind_order: list[str], global_indent: str, only: str | None = None) -> list[str]:
        """Lines as ``display current-configuration`` prints them: ``#`` between blocks, views by kind."""
        out: list[str] = []
        if only is None:  # the device name first, then the other global statements as one block
            names = self.sections[GLOBAL].lines()
            for block in ([n for n in names if n.startswith("sysname ")], [n for n in names if
                                                                          not n.startswith("sysname ")]):
                out += ["#", *(global_indent + line for line in block)] if block else []
        ranked = sorted((h for h in self.sections if h != GLOBAL),
                        key=lambda h: kind_order.index(self.sections[h].kind))
        for header in ranked:
            if only is None or header == only:
                out += ["#", header] + [" " + line for line in self.sections[header].lines()]
        return out


@dataclass
class ViewDeviceState:
    """What a view-CLI device keeps: the running configuration and the text last saved to flash."""

    running: ViewConfig
    saved_text: str = ""
    committed_at: str = ""
    committed_by: str = ""
