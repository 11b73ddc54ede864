"""NVUE's object model for what fabric configures on Cumulus Linux 5.x, and the revision trees built from it.

A config is a nested dict as ``nv config show`` prints it (YAML under ``- set:``). ``SCHEMA`` lists the paths
``nv set`` accepts: every path templates/nvue renders plus their documented neighbours (Cumulus Linux 5.14
"Quality of Service", "RoCE", "Switch Port Attributes"): interface description/type/link/ip/qos profiles,
qos roce/mapping/egress-queue-mapping/egress-scheduler/pfc/pfc-watchdog/link-pause/congestion-control/
traffic-pool/advance-buffer-config/egress-shaper, system hostname. Ids typed on the command line expand as NVUE
expands them: ``0,1,5-7`` for numbers, ``swp1-4,swp6`` for interfaces.
"""

from __future__ import annotations

import copy
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

import yaml

Tree = dict[Any, Any]


class NvueError(Exception):
    """A command or revision NVUE refuses; the message is what it prints."""


@dataclass(frozen=True)
class Leaf:
    """A value: ``parse`` turns the typed word into the stored value or raises ValueError."""

    parse: Callable[[str], Any]


@dataclass(frozen=True)
class Ids:
    """A collection keyed by ids typed on the command line."""

    expand: Callable[[str], list[Any]]
    child: Node


Node = dict[str, Union["Node", Leaf, Ids]]


def integer(low: int, high: int) -> Leaf:
    def parse(word: str) -> int:
        if not re.fullmatch(r"\d+", word) or not low <= int(word) <= high:
            raise ValueError(word)
        return int(word)
    return Leaf(parse)


def enum(*values: str) -> Leaf:
    def parse(word: str) -> str:
        if word not in values:
            raise ValueError(word)
        return word
    return Leaf(parse)


TEXT = Leaf(lambda word: word)
NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def numbers(low: int, high: int) -> Callable[[str], list[int]]:
    """``0,1,5-7`` -> [0, 1, 5, 6, 7] within [low, high]."""
    def expand(word: str) -> list[int]:
        result: list[int] = []
        for part in word.split(","):
            m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
            if m is None:
                raise ValueError(word)
            first, last = int(m.group(1)), int(m.group(2) or m.group(1))
            if not low <= first <= last <= high:
                raise ValueError(word)
            result += [n for n in range(first, last + 1) if n not in result]
        return result
    return expand


def names(word: str) -> list[str]:
    if not all(NAME.fullmatch(part) for part in word.split(",")):
        raise ValueError(word)
    return word.split(",")


def interfaces(word: str) -> list[str]:
    """``swp1-4,swp6,eth0`` -> the interface names."""
    result: list[str] = []
    for part in word.split(","):
        m = re.fullmatch(r"(swp|eth|bond|vlan|lo|peerlink)(\d*)(?:-(\d+))?", part)
        if m is None:
            raise ValueError(word)
        prefix, first, last = m.group(1), m.group(2), m.group(3)
        numbers_ = range(int(first), int(last) + 1) if last else [first]
        result += [f"{prefix}{n}" for n in numbers_]
    return result


def id_set(low: int, high: int) -> Ids:
    """A collection of small numbers (NVUE's ``[switch-priority]``, "Collection of switch priorities"), typed as
    ``3`` or ``3,4`` and kept as {3: {}, 4: {}}: ``nv set`` adds members, ``nv unset ... switch-priority 4``
    removes one, ``nv unset ... switch-priority`` all (NVUE reference, Set and Unset Commands: QoS)."""
    return Ids(numbers(low, high), {})


ENABLE = enum("enable", "disable")
ALPHA = enum("alpha_0", "alpha_1_128", "alpha_1_64", "alpha_1_32", "alpha_1_16", "alpha_1_8", "alpha_1_4",
             "alpha_1_2", "alpha_1", "alpha_2", "alpha_4", "alpha_8", "alpha_16", "alpha_32", "alpha_64",
             "alpha_infinity")
BYTES = integer(0, 2**32)
PROFILE: Node = {"profile": Leaf(lambda w: names(w)[0] if "," not in w else _refuse(w))}
BUFFER: Node = {"port-buffer": BYTES, "xoff-threshold": BYTES, "xon-threshold": BYTES,
                "cable-length": integer(1, 100000), "tx": ENABLE, "rx": ENABLE}


def _refuse(word: str) -> str:
    raise ValueError(word)


INTERFACE: Node = {
    "description": TEXT,
    "type": enum("swp", "eth", "bond", "loopback", "svi", "sub", "peerlink"),
    "link": {"mtu": integer(552, 9216), "state": enum("up", "down"), "auto-negotiation": enum("on", "off"),
             "duplex": enum("full", "half"), "fec": enum("auto", "baser", "off", "rs", "driver-auto"),
             "speed": enum("auto", "10M", "100M", "1G", "10G", "25G", "40G", "50G", "100G", "200G", "400G", "800G")},
    "ip": {"address": Ids(lambda w: ["dhcp"] if w == "dhcp" else _prefixes(w), {}), "vrf": TEXT},
    "qos": {"pfc": PROFILE, "link-pause": PROFILE, "congestion-control": PROFILE, "egress-scheduler": PROFILE,
            "mapping": PROFILE, "egress-queue-mapping": PROFILE, "egress-shaper": PROFILE, "pfc-watchdog": {}},
}
QOS: Node = {
    "roce": {"mode": enum("lossless", "lossy", "lossless-single-ipool", "lossy-multi-tc"), "enable": enum("on", "off")},
    "mapping": Ids(names, {"trust": enum("l2", "l3", "both", "port"), "port-default-sp": integer(0, 7),
                           "dscp": Ids(numbers(0, 63), {"switch-priority": integer(0, 7)}),
                           "pcp": Ids(numbers(0, 7), {"switch-priority": integer(0, 7)})}),
    "egress-queue-mapping": Ids(names, {"switch-priority": Ids(numbers(0, 7), {"traffic-class": integer(0, 7)})}),
    "egress-scheduler": Ids(names, {"traffic-class": Ids(numbers(0, 7), {"mode": enum("dwrr", "strict"),
                                                                         "bw-percent": integer(0, 100)})}),
    "pfc": Ids(names, {"switch-priority": id_set(0, 7), **BUFFER}),
    "link-pause": Ids(names, BUFFER),
    "pfc-watchdog": {"polling-interval": integer(100, 5000), "robustness": integer(1, 1000)},
    "congestion-control": Ids(names, {"traffic-class": Ids(numbers(0, 7), {
        "min-threshold": integer(1, 2**32), "max-threshold": integer(1, 2**32), "probability": integer(0, 100),
        "ecn": ENABLE, "red": ENABLE})}),
    "traffic-pool": Ids(names, {"memory-percent": integer(0, 100), "switch-priority": id_set(0, 7)}),
    "advance-buffer-config": Ids(names, {
        "ingress-lossless-buffer": {"shared-alpha": ALPHA, "reserved": BYTES},
        "egress-lossless-buffer": {"shared-alpha": ALPHA, "reserved": BYTES},
        "ingress-lossy-buffer": {"priority-group": Ids(names, {"shared-alpha": ALPHA, "reserved": BYTES,
                                                               "switch-priority": id_set(0, 7)})},
        "egress-lossy-buffer": {"traffic-class": Ids(numbers(0, 7), {"shared-alpha": ALPHA, "reserved": BYTES})}}),
    "egress-shaper": Ids(names, {"port-max-rate": integer(0, 2**32), "traffic-class": Ids(numbers(0, 7), {
        "min-rate": integer(0, 2**32), "max-rate": integer(0, 2**32)})}),
}
SCHEMA: Node = {"interface": Ids(interfaces, INTERFACE), "qos": QOS, "system": {"hostname": TEXT}}


def _prefixes(word: str) -> list[str]:
    if not all(re.fullmatch(r"[0-9a-fA-F:.]+/\d{1,3}", part) for part in word.split(",")):
        raise ValueError(word)
    return word.split(",")


def invalid(verb: str, words: list[str]) -> NvueError:
    return NvueError(f"Error: Invalid Command: {' '.join([verb, *words]).strip()}")


def set_path(tree: Tree, words: list[str]) -> Tree:
    """``nv set WORDS``: a new tree with the path created and its value set; NvueError if the path is unknown."""
    result = copy.deepcopy(tree)
    targets, node, i = [result], SCHEMA, 0
    while i < len(words):
        child = node.get(words[i]) if isinstance(node, dict) else None
        key = words[i]
        if isinstance(child, Leaf):
            if i != len(words) - 2:
                raise invalid("set", words)
            try:
                value = child.parse(words[i + 1])
            except ValueError:
                raise invalid("set", words) from None
            for target in targets:
                target[key] = copy.deepcopy(value)
            break
        if isinstance(child, Ids):
            try:
                ids = child.expand(words[i + 1]) if i + 1 < len(words) else []
            except ValueError:
                raise invalid("set", words) from None
            if not ids:
                raise invalid("set", words)
            targets = [t.setdefault(key, {}).setdefault(n, {}) for t in targets for n in ids]
            if key == "interface":
                for name, target in zip(ids, targets, strict=True):
                    if name.startswith("swp"):
                        target.setdefault("type", "swp")  # NVUE derives the type from the name
            node, i = child.child, i + 2
        elif isinstance(child, dict):
            targets = [t.setdefault(key, {}) for t in targets]
            node, i = child, i + 1
        else:
            raise invalid("set", words)
    return result


def unset_path(tree: Tree, words: list[str]) -> Tree:
    """``nv unset WORDS``: a new tree without that node (nothing to remove is fine); empty parents go too."""
    result = copy.deepcopy(tree)
    node: Node | Leaf | Ids = SCHEMA
    paths: list[list[Any]] = [[]]
    i = 0
    while i < len(words):
        child = node.get(words[i]) if isinstance(node, dict) else None
        if child is None:
            raise invalid("unset", words)
        paths = [[*p, words[i]] for p in paths]
        if isinstance(child, Ids) and i + 1 < len(words):
            try:
                ids = child.expand(words[i + 1])
            except ValueError:
                raise invalid("unset", words) from None
            paths = [[*p, n] for p in paths for n in ids]
            node, i = child.child, i + 2
        elif isinstance(child, Leaf):
            if i < len(words) - 2:
                raise invalid("unset", words)
            break
        else:
            node, i = (child.child if isinstance(child, Ids) else child), i + 1
    for path in paths:
        _remove(result, path)
    return result


def _remove(tree: Tree, path: list[Any]) -> None:
    chain = [tree]
    for key in path[:-1]:
        if not isinstance(chain[-1].get(key), dict):
            return
        chain.append(chain[-1][key])
    chain[-1].pop(path[-1], None)
    for parent, key in zip(reversed(chain[:-1]), reversed(path[:-1]), strict=True):
        if parent[key] == {}:
            del parent[key]


# -- rendering ---------------------------------------------------------------------------------------------------


def to_commands(tree: Tree, verb: str = "set") -> list[str]:
    """``nv config show -o commands``: one ``nv set`` line per leaf or empty object."""
    lines: list[str] = []
    _commands(tree, SCHEMA, [], lines, verb)
    return lines


def _commands(tree: Tree, node: Node, prefix: list[str], lines: list[str], verb: str) -> None:
    if not tree and prefix:
        lines.append(f"nv {verb} {' '.join(prefix)}")
    for key in sorted(tree, key=natural_order):
        child, value = node.get(str(key)) if isinstance(key, str) else None, tree[key]
        if isinstance(child, Leaf):
            text = ",".join(str(n) for n in value) if isinstance(value, dict) else str(value)
            words = [*prefix, key] if verb == "unset" else [*prefix, key, _quote(text)]
            lines.append(f"nv {verb} {' '.join(words)}")
        elif isinstance(child, Ids):
            for ident in sorted(value, key=natural_order):
                _commands(value[ident], child.child, [*prefix, key, str(ident)], lines, verb)
        elif isinstance(child, dict):
            _commands(value, child, [*prefix, key], lines, verb)


def natural_order(key: Any) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(key))]


def _quote(text: str) -> str:
    return text if re.fullmatch(r"[\w.,:/@+-]+", text) else "'" + text.replace("'", "'\\''") + "'"


def diff(applied: Tree, pending: Tree) -> tuple[Tree, Tree]:
    """(unset, set): what ``nv config diff`` lists to go from ``applied`` to ``pending``."""
    removed: Tree = {}
    added: Tree = {}
    for key in applied:
        if key not in pending:
            removed[key] = copy.deepcopy(applied[key])
        elif isinstance(applied[key], dict) and isinstance(pending[key], dict) and pending[key] and applied[key]:
            sub_removed, _ = diff(applied[key], pending[key])
            if sub_removed:
                removed[key] = sub_removed
    for key in pending:
        if key not in applied:
            added[key] = copy.deepcopy(pending[key])
        elif pending[key] != applied[key]:
            if isinstance(pending[key], dict) and isinstance(applied[key], dict) and pending[key] and applied[key]:
                _, sub_added = diff(applied[key], pending[key])
                if sub_added:
                    added[key] = sub_added
            else:
                added[key] = copy.deepcopy(pending[key])
    return removed, added


def tree_from_yaml(text: str, name: str) -> Tree:
    """The config of a YAML file as ``nv config show`` writes it (``- set:`` list, or a bare object), checked
    against the schema by replaying it as ``nv set`` commands; NvueError names what does not fit."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise NvueError(f"Error: {name} is not valid YAML: {exc}") from None
    if isinstance(doc, list):
        doc = next((d["set"] for d in doc if isinstance(d, dict) and "set" in d), {})
    if not isinstance(doc, dict):
        raise NvueError(f"Error: {name} does not hold an NVUE configuration")
    unknown = _unknown(doc, SCHEMA, [])
    if unknown:
        raise NvueError(f"Error: Invalid config in {name}: {unknown} is not a valid path")
    rebuilt: Tree = {}
    for command in to_commands(doc):  # values are checked as nv set checks them
        rebuilt = set_path(rebuilt, shlex.split(command)[2:])
    return rebuilt


def _unknown(doc: Any, node: Node, path: list[str]) -> str:
    """The first key of ``doc`` the schema does not know, as words ('' when all are known)."""
    if not isinstance(doc, dict):
        return " ".join(path)
    for key, value in doc.items():
        child = node.get(str(key))
        if child is None:
            return " ".join([*path, str(key)])
        if isinstance(child, Ids):
            if not isinstance(value, dict):
                return " ".join([*path, str(key)])
            found = next((f for i, v in value.items() if (f := _unknown(v, child.child, [*path, key, str(i)]))), "")
        elif isinstance(child, dict):
            found = _unknown(value, child, [*path, key])
        else:
            found = ""
        if found:
            return found
    return ""


def merge_trees(base: Tree, patch: Tree) -> Tree:
    """``nv config patch``: the patch's leaves set over ``base``."""
    result = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and value and isinstance(result.get(key), dict):
            result[key] = merge_trees(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result
