"""NX-OS running configuration: an ordered tree of command lines, printed as ``show running-config`` does.

Each node is one canonical command line (``interface Ethernet1/1``, ``mtu 9216``); its children are the lines
entered in the sub-mode it opens. Which lines replace one another is the grammar's business (a rule's key:
``mtu 9000`` replaces ``mtu 9216``, ``match dscp 48`` adds to ``match dscp 26``), passed in as ``key_words``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

INDENT = "  "
NXOS_VERSION = "10.3(4a)"
BIOS_VERSION = "05.47"

# show running-config prints features in a fixed order, not in the order they were typed
_SECTION_ORDER = (("hostname", 0), ("class-map", 10), ("policy-map type qos", 20),
                  ("policy-map type queuing", 30), ("policy-map type network-qos", 40), ("system qos", 50),
                  ("priority-flow-control", 60), ("interface", 90))
_INTERFACE_RANK = 90
# modes that hold nothing of their own: shown only while a line is set inside them
_SHOWN_WHEN_SET = ("system qos",)
# what "show running-config all" adds to an interface that does not set it
_INTERFACE_DEFAULTS = (("mtu", "mtu 1500"), ("priority-flow-control mode", "priority-flow-control mode auto"),
                       ("shutdown", "no shutdown"))
# interface lines print in NX-OS's order, whatever order they were typed in
_INTERFACE_ORDER = ("description", "mtu", "priority-flow-control mode", "priority-flow-control watch-dog-interval",
                    "service-policy type qos", "service-policy type queuing input",
                    "service-policy type queuing output", "shutdown", "no shutdown")


@dataclass
class ConfigNode:
    """One configuration line and the lines of the sub-mode it opens."""

    line: str
    children: list[ConfigNode] = field(default_factory=list)

    def child(self, line: str) -> ConfigNode | None:
        return next((node for node in self.children if node.line == line), None)

    def enter(self, line: str) -> ConfigNode:
        """The child block ``line``, created (at the end) when it does not exist yet."""
        node = self.child(line)
        if node is None:
            node = ConfigNode(line)
            self.children.append(node)
        return node

    def set(self, line: str, key_words: int | None) -> None:
        """Add ``line``; it replaces, in place, the children whose first ``key_words`` words equal its own."""
        if key_words is None:
            if self.child(line) is None:
                self.children.append(ConfigNode(line))
            return
        key = line.split()[:key_words]
        kept: list[ConfigNode] = []
        placed = False
        for node in self.children:
            if node.line.split()[:key_words] != key:
                kept.append(node)
            elif not placed:
                kept.append(ConfigNode(line))
                placed = True
        if not placed:
            kept.append(ConfigNode(line))
        self.children = kept

    def remove(self, words: list[str]) -> None:
        """Drop the children whose line starts with ``words`` (the whole line for an exact removal)."""
        self.children = [node for node in self.children if node.line.split()[:len(words)] != words]

    def value(self, *prefix: str) -> str | None:
        """The rest of the first child line that starts with ``prefix`` words, e.g. value("mtu") -> "9216"."""
        for node in self.children:
            words = node.line.split()
            if words[:len(prefix)] == list(prefix):
                return " ".join(words[len(prefix):])
        return None


def interface_sort_key(name: str) -> tuple[int, ...]:
    """Ethernet1/2 before Ethernet1/10."""
    return tuple(int(n) for n in re.findall(r"\d+", name))


def _order(node: ConfigNode) -> tuple[int, tuple[int, ...]]:
    rank = next((r for prefix, r in _SECTION_ORDER if node.line.startswith(prefix)), 5)
    return rank, interface_sort_key(node.line) if rank == _INTERFACE_RANK else ()


def _interface_rank(node: ConfigNode) -> int:
    return next((rank for rank, prefix in enumerate(_INTERFACE_ORDER) if node.line.startswith(prefix)), 0)


def _node_lines(node: ConfigNode, depth: int, defaults: bool) -> list[str]:
    children = node.children
    if node.line.startswith("interface "):
        if defaults:
            children = children + [ConfigNode(line) for key, line in _INTERFACE_DEFAULTS
                                   if node.value(*key.split()) is None]
        children = sorted(children, key=_interface_rank)
    lines = [INDENT * depth + node.line]
    for child in children:
        lines.extend(_node_lines(child, depth + 1, defaults))
    return lines


def running_lines(root: ConfigNode, defaults: bool = False) -> list[str]:
    """The body of ``show running-config`` (``defaults``: ``... all``), sections apart as NX-OS 9+ prints them."""
    lines = [f"version {NXOS_VERSION} Bios:version {BIOS_VERSION}"]
    previous = -1
    for node in sorted(root.children, key=_order):
        if node.line in _SHOWN_WHEN_SET and not node.children:
            continue  # an emptied ``system qos`` (its policies removed, e.g. by a rollback) prints nothing
        rank = _order(node)[0]
        if rank != previous or rank == _INTERFACE_RANK:
            lines.append("")
        lines.extend(_node_lines(node, 0, defaults))
        previous = rank
    return lines


def rollback_patch(current: ConfigNode, target: ConfigNode, depth: int = 0) -> list[str]:
    """The commands that turn ``current`` into ``target``: removals first, then additions, in context."""
    patch = [INDENT * depth + "no " + node.line for node in current.children if target.child(node.line) is None]
    for node in target.children:
        old = current.child(node.line)
        if old is None:
            patch.extend(_node_lines(node, depth, False))
            continue
        nested = rollback_patch(old, node, depth + 1)
        if nested:
            patch += [INDENT * depth + node.line, *nested]
    return patch


def hostname(root: ConfigNode) -> str:
    return root.value("hostname") or "switch"
