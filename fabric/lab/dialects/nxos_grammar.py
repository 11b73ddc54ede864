"""NX-OS command grammar: the commands each mode accepts, matched the way the NX-OS parser does.

A rule is a spec of tokens: a literal keyword (``mtu``), a choice (``{auto|on|off}``), or a value
(``<576-9216>`` a number in range, ``<list:0-63>`` a list such as ``24,26-27``, ``<name>``, ``<iface>`` a
port of this device, ``<file>`` a bootflash file, ``<line>`` the rest of the line). Keywords may be
abbreviated while unambiguous (``sh run``, ``conf t``). A line no rule takes is answered with NX-OS's caret
message (``% Invalid command at '^' marker.``) pointing at the first token no rule accepts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z0-9_][\w.\-]{0,39}")
_FILE = re.compile(r"(?i)(?:bootflash:)?/*([\w.\-]{1,64})")
_IFACE = re.compile(r"(?i)e(?:t(?:h(?:e(?:r(?:n(?:e(?:t)?)?)?)?)?)?)?(\d+/\d+)")
_LIST = re.compile(r"\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*")


@dataclass(frozen=True)
class Token:
    text: str
    column: int


def tokenize(line: str) -> list[Token]:
    """Words with their columns; ``ethernet 1/1`` is one token, as NX-OS reads it."""
    raw = [Token(m.group(), m.start()) for m in re.finditer(r"\S+", line)]
    tokens: list[Token] = []
    for token in raw:
        previous = tokens[-1] if tokens else None
        if (previous and re.fullmatch(r"\d+/\d+", token.text)
                and "ethernet".startswith(previous.text.lower())):
            tokens[-1] = Token(previous.text + token.text, previous.column)
        else:
            tokens.append(token)
    return tokens


@dataclass(frozen=True)
class Rule:
    """One command: its token spec, what it does, and how many leading words identify its setting."""

    spec: tuple[str, ...]
    action: str
    key: int | None = None  # None: the whole line (a list entry such as "match dscp 26")
    negatable: bool = True


def rule(spec: str, action: str, key: int | None = None, negatable: bool = True) -> Rule:
    return Rule(tuple(spec.split()), action, key, negatable)


@dataclass(frozen=True)
class Match:
    rule: Rule
    words: tuple[str, ...]
    negated: bool = False

    @property
    def line(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class Failure:
    """Why a line was refused, and where: rendered under the echoed line as NX-OS does."""

    reason: str
    column: int

    def text(self, prompt: str) -> str:
        return " " * (len(prompt) + self.column) + "^\n" + f"% {self.reason} at '^' marker."


def _value(spec: str, text: str, ports: frozenset[str]) -> str | None:
    """The canonical form of ``text`` for a value spec, or None when it does not fit."""
    kind = spec[1:-1]
    if kind == "name":
        return text if _NAME.fullmatch(text) else None
    if kind == "file":
        m = _FILE.fullmatch(text)
        return m.group(1) if m else None
    if kind == "iface":
        m = _IFACE.fullmatch(text)
        name = f"Ethernet{m.group(1)}" if m else ""
        return name if name in ports else None
    low, high = (int(n) for n in kind.removeprefix("list:").split("-"))
    if kind.startswith("list:"):
        numbers = [int(n) for n in re.split(r"[,-]", text)] if _LIST.fullmatch(text) else [-1]
        return text if all(low <= n <= high for n in numbers) else None
    return str(int(text)) if text.isdigit() and low <= int(text) <= high else None


def _range_reason(spec: str) -> str | None:
    m = re.fullmatch(r"<(?:list:)?(\d+)-(\d+)>", spec)
    return f"Invalid number, range is ({m.group(1)}:{m.group(2)})" if m else None


def _options(spec: str) -> list[str] | None:
    if spec.startswith("{"):
        return spec[1:-1].split("|")
    return None if spec.startswith("<") else [spec]


def _step(alive: list[tuple[Rule, tuple[str, ...]]], i: int, token: Token,
          ports: frozenset[str]) -> tuple[list[tuple[Rule, tuple[str, ...]]], str]:
    """Advance every candidate rule over token ``i``: the survivors, and why none survived."""
    word = token.text.lower()
    exact = {o for r, _ in alive if i < len(r.spec) for o in (_options(r.spec[i]) or []) if o == word}
    prefixed = {o for r, _ in alive if i < len(r.spec) for o in (_options(r.spec[i]) or []) if o.startswith(word)}
    survivors: list[tuple[Rule, tuple[str, ...]]] = []
    reason = "Invalid command"
    for r, words in alive:
        if i >= len(r.spec):
            continue
        spec = r.spec[i]
        options = _options(spec)
        if options is not None:
            # an exact keyword wins over longer ones it abbreviates ("priority" vs "priority-flow-control")
            hits = [o for o in options if o in exact] if exact else [o for o in options if o.startswith(word)]
            if hits and (exact or len(prefixed) == 1):
                survivors.append((r, (*words, hits[0])))
            elif hits:
                reason = "Ambiguous command"
            continue
        value = _value(spec, token.text, ports)
        if value is not None:
            survivors.append((r, (*words, value)))
        elif token.text.isdigit() and _range_reason(spec):
            reason = _range_reason(spec) or reason
    return survivors, reason


def match(rules: list[Rule], tokens: list[Token], ports: frozenset[str], line: str,
          negate: bool = False) -> Match | Failure:
    """The first rule ``tokens`` complete (``negate``: a ``no`` form, complete once its key words are given)."""
    alive: list[tuple[Rule, tuple[str, ...]]] = [(r, ()) for r in rules if r.negatable or not negate]
    for i, token in enumerate(tokens):
        for r, words in alive:
            if i < len(r.spec) and r.spec[i] == "<line>":
                return Match(r, (*words, line[token.column:].rstrip()), negate)
        alive, reason = _step(alive, i, token, ports)
        if not alive:
            return Failure(reason, token.column)
    n = len(tokens)
    for r, words in alive:
        if len(r.spec) == n or (negate and n >= (r.key or len(r.spec))):
            return Match(r, words, negate)
    return Failure("Incomplete command", len(line.rstrip()) + 1)


# -- the modes -------------------------------------------------------------------------------------------

_OUT_QUEUES = [f"c-out-8q-q{q}" for q in range(1, 8)] + ["c-out-8q-q-default"]
_IN_QUEUES = [f"c-in-q{q}" for q in range(1, 8)] + ["c-in-q-default"]
_NQ_CLASSES = [f"c-8q-nq{q}" for q in range(1, 8)] + ["c-8q-nq-default"]
_UNIT = "{bytes|kbytes|mbytes}"
_WRED = (f"random-detect minimum-threshold <1-52428800> {_UNIT} maximum-threshold <1-52428800> {_UNIT} "
         "drop-probability <0-100> weight <0-15>")
_MODE_EXITS = [rule("exit", "exit", negatable=False), rule("end", "end", negatable=False)]

CONFIG_MODES: dict[str, list[Rule]] = {
    "config": [
        rule("interface <iface>", "enter:config-if", negatable=False),
        rule("class-map type qos match-any <name>", "enter:config-cmap-qos"),
        rule("class-map type qos match-all <name>", "enter:config-cmap-qos"),
        rule("policy-map type qos <name>", "enter:config-pmap-qos"),
        rule("policy-map type queuing <name>", "enter:config-pmap-que"),
        rule("policy-map type network-qos <name>", "enter:config-pmap-nqos"),
        rule("system qos", "enter:config-sys-qos", negatable=False),
        rule("hostname <name>", "set", key=1, negatable=False),
        rule("priority-flow-control watch-dog-interval {on|off}", "set", key=2),
    ],
    "config-if": [
        rule("description <line>", "set", key=1),
        rule("mtu <576-9216>", "set", key=1),
        rule("shutdown", "set", key=1),
        rule("priority-flow-control mode {auto|on|off}", "set", key=2),
        rule("priority-flow-control watch-dog-interval {on|off}", "set", key=2),
        rule("service-policy type qos input <name>", "set", key=4),
        rule("service-policy type queuing input <name>", "set", key=4),
        rule("service-policy type queuing output <name>", "set", key=4),
    ],
    "config-cmap-qos": [
        rule("match dscp <list:0-63>", "set"),
        rule("match cos <list:0-7>", "set"),
        rule("description <line>", "set", key=1),
    ],
    "config-pmap-qos": [
        rule("class <name>", "enter:config-pmap-c-qos"),
        rule("description <line>", "set", key=1),
    ],
    "config-pmap-c-qos": [
        rule("set qos-group <0-7>", "set", key=2),
        rule("set dscp <0-63>", "set", key=2),
        rule("set cos <0-7>", "set", key=2),
    ],
    "config-pmap-que": [
        rule("class type queuing {" + "|".join(_OUT_QUEUES + _IN_QUEUES) + "}", "enter:config-pmap-c-que"),
        rule("description <line>", "set", key=1),
    ],
    "config-pmap-c-que": [
        rule("bandwidth percent <0-100>", "set", key=1),
        rule("bandwidth remaining percent <0-100>", "set", key=1),
        rule("priority", "set", key=1),
        rule("priority level <1-8>", "set", key=1),
        rule(_WRED, "set", key=1),
        rule(_WRED + " ecn", "set", key=1),
        rule("pause buffer-size <1-10485760> pause-threshold <1-10485760> resume-threshold <1-10485760>",
             "set", key=2),
    ],
    "config-pmap-nqos": [
        rule("class type network-qos {" + "|".join(_NQ_CLASSES) + "}", "enter:config-pmap-nqos-c"),
        rule("description <line>", "set", key=1),
    ],
    "config-pmap-nqos-c": [
        rule("mtu <576-9216>", "set", key=1),
        rule("pause pfc-cos <list:0-7>", "set", key=2),
    ],
    "config-sys-qos": [
        rule("service-policy type network-qos <name>", "set", key=3),
        rule("service-policy type queuing output <name>", "set", key=4),
        rule("service-policy type queuing input <name>", "set", key=4),
        rule("service-policy type qos input <name>", "set", key=4),
    ],
}
for _rules in CONFIG_MODES.values():
    _rules.extend(_MODE_EXITS)

EXEC_RULES: list[Rule] = [
    rule("configure terminal", "configure"),
    rule("terminal length <0-511>", "terminal-length"),
    rule("terminal width <24-511>", "terminal-width"),
    rule("terminal dont-ask", "dont-ask"),
    rule("no terminal dont-ask", "no-dont-ask"),
    rule("show running-config", "show-running"),
    rule("show running-config all", "show-running-all"),
    rule("show startup-config", "show-startup"),
    rule("show version", "show-version"),
    rule("show hostname", "show-hostname"),
    rule("show interface priority-flow-control", "show-pfc"),
    rule("show queuing interface <iface>", "show-queuing"),
    rule("show diff rollback-patch file <file> file <file>", "show-diff"),
    rule("copy running-config startup-config", "copy-run-start"),
    rule("checkpoint file <file>", "checkpoint"),
    rule("rollback running-config file <file>", "rollback"),
    rule("rollback running-config file <file> atomic", "rollback"),
    rule("dir", "dir"),
    rule("dir <file>", "dir"),
    rule("delete <file>", "delete"),
    rule("exit", "exit"),
]
# exec commands NX-OS also takes in configuration modes (with or without "do")
EXEC_IN_CONFIG = [r for r in EXEC_RULES if r.action not in ("configure", "exit")]
