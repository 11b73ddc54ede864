"""The Arista EOS configuration model of the twin: the CLI grammar, config trees, and their EOS rendering.

A configuration is a tree of ``Block``s (the top level, ``interface X``, ``qos profile X``, ``uc-tx-queue N``
inside a profile, ...). ``ConfigCursor`` applies typed lines the way the EOS parser does: indentation is
irrelevant, a line that is not a command of the current mode is tried in the parent modes (leaving the
sub-mode), and a line no mode knows is refused with EOS's own text (``Invalid input (at token N: 'x')``,
``Incomplete command``) and changes nothing. Re-entering a setting replaces it; ``no``/``default`` remove it.
Keywords must be typed in full: eAPI does not auto-complete unless asked to.

The grammar covers what fabric renders for EOS (reference/lossless.md §3.1, AVD's eos_cli_config_gen forms)
plus the few lines of a factory configuration; anything else is refused, as an unknown command would be.
"""

from __future__ import annotations

import difflib
import itertools
import re
from dataclasses import dataclass, field

INDENT = "   "
MODEL = "DCS-7060DX5-64S"
VERSION = "4.30.0F"
INCOMPLETE = "Incomplete command"


class ConfigError(Exception):
    """A line or operation EOS refuses; ``str(error)`` is EOS's text without the leading ``% ``."""


# -- grammar ---------------------------------------------------------------------------------------

_IFTYPES = ("Port-Channel", "Ethernet", "Loopback", "Management", "Vlan")  # EOS lists interfaces in this order
_IFNAME = re.compile(r"(?i)(port-channel|po|ethernet|eth|et|loopback|lo|management|ma|vlan|vl)(\d+(?:/\d+){0,2})")
_ALIASES = {"po": "Port-Channel", "et": "Ethernet", "eth": "Ethernet", "lo": "Loopback", "ma": "Management",
            "vl": "Vlan"}


def interface_name(token: str) -> str | None:
    """EOS's canonical name of an interface token (``Et1/1``, ``ethernet1/1`` -> ``Ethernet1/1``), or None."""
    match = _IFNAME.fullmatch(token)
    if match is None:
        return None
    prefix = match.group(1).lower()
    kind = _ALIASES.get(prefix) or next(t for t in _IFTYPES if t.lower() == prefix)
    return kind + match.group(2)


@dataclass(frozen=True)
class Atom:
    """One token position of a command: literal alternatives and/or one typed parameter."""

    literals: frozenset[str]
    param: str = ""  # int | list | seconds | word | line | ifname | prefix
    low: int = 0
    high: int = 0

    @classmethod
    def parse(cls, word: str) -> Atom:
        literals, param, low, high = set(), "", 0, 0
        for alt in word.split("|"):
            if not alt.startswith("<"):
                literals.add(alt)
                continue
            inner = alt.removesuffix("+")[1:-1]
            numbers = re.fullmatch(r"(\d+)-(\d+)", inner)
            if numbers:
                param = "list" if alt.endswith("+") else "int"
                low, high = int(numbers.group(1)), int(numbers.group(2))
            else:
                param = inner.lower()
        return cls(frozenset(literals), param, low, high)

    def accepts(self, token: str) -> bool:
        if token in self.literals:
            return True
        if self.param in ("int", "list"):
            return token.isdigit() and self.low <= int(token) <= self.high
        if self.param == "seconds":
            return re.fullmatch(r"\d+(\.\d{1,3})?", token) is not None and 0 < float(token) <= 60
        if self.param == "ifname":
            return interface_name(token) is not None
        if self.param == "prefix":
            return re.fullmatch(r"(\d{1,3}\.){3}\d{1,3}/\d{1,2}", token) is not None
        return self.param in ("word", "line")

    def canonical(self, token: str) -> str:
        if token in self.literals:
            return token
        if self.param in ("int", "list"):
            return str(int(token))
        if self.param == "seconds":
            return f"{float(token):g}"
        if self.param == "ifname":
            return interface_name(token) or token
        return token


def _expand(spec: str) -> tuple[tuple[Atom, ...], ...]:
    """Every pattern of a spec: ``[...]`` groups are optional, ``a|b`` alternatives, ``<...>`` parameters
    (``<0-7>+``: one or more numbers)."""
    parts = re.findall(r"\[[^\]]*\]|\S+", spec)
    choices = [[(), tuple(p[1:-1].split())] if p.startswith("[") else [(p,)] for p in parts]
    return tuple(tuple(Atom.parse(w) for group in combo for w in group) for combo in itertools.product(*choices))


@dataclass(frozen=True)
class Syntax:
    """One command of a mode. ``key``: how many leading tokens name the setting (0: all), or a fixed slot.

    ``enters`` names the mode the command opens; ``stores=False`` marks a command that restores the
    default (its slot is cleared); ``is_map`` marks ``qos map A B C to ... N`` (one entry per value).
    """

    spec: str
    key: int | tuple[str, ...] = 0
    enters: str = ""
    stores: bool = True
    is_map: bool = False
    patterns: tuple[tuple[Atom, ...], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "patterns", _expand(self.spec))

    def key_of(self, canon: list[str]) -> tuple[str, ...]:
        return self.key if isinstance(self.key, tuple) else tuple(canon[: self.key or len(canon)])

    @property
    def section(self) -> str:
        """The feature a top-level line belongs to; EOS separates features with ``!``."""
        return self.spec.removeprefix("no ").split()[0]


_UNIT = "segments|bytes|kbytes|mbytes|milliseconds"
_QUEUE_BLOCKS = [Syntax("tx-queue <0-7>", 2, "queue"), Syntax("uc-tx-queue <0-7>", 2, "queue"),
                 Syntax("mc-tx-queue <0-7>", 2, "queue")]
_TRUST = [Syntax("qos trust dscp|cos", 2), Syntax("no qos trust", ("qos", "trust")), Syntax("qos cos <0-7>", 2),
          Syntax("qos dscp <0-63>", 2)]
_PFC = [Syntax("priority-flow-control on", 1), Syntax("priority-flow-control priority <0-7> drop|no-drop", 3)]

# The order of each list is the order EOS renders a mode's settings in.
GRAMMAR: dict[str, list[Syntax]] = {
    "config": [
        Syntax("hostname <WORD>", 1),
        Syntax("spanning-tree mode mstp|rstp|rapid-pvst|none", 2),
        Syntax("qos rewrite dscp"),
        Syntax("qos map cos <0-7>+ to traffic-class <0-7>", is_map=True),
        Syntax("qos map dscp <0-63>+ to traffic-class <0-7>", is_map=True),
        Syntax("qos map traffic-class <0-7>+ to cos <0-7>", is_map=True),
        Syntax("qos map traffic-class <0-7>+ to dscp <0-63>", is_map=True),
        Syntax("qos map traffic-class <0-7>+ to tx-queue <0-7>", is_map=True),
        Syntax("qos random-detect ecn allow non-ect [chip-based]", 5),
        Syntax("priority-flow-control all off"),
        Syntax("priority-flow-control pause watchdog default timeout <SECONDS>", 5),
        Syntax("priority-flow-control pause watchdog default recovery-time <SECONDS>", 5),
        Syntax("priority-flow-control pause watchdog default polling-interval <SECONDS>", 5),
        Syntax("priority-flow-control pause watchdog action drop|no-drop", 4),
        Syntax("priority-flow-control pause watchdog override action drop"),
        Syntax("qos profile <WORD>", 3, "qos-profile"),
        Syntax("interface <IFNAME>", 2, "interface"),
        Syntax("ip routing", 2), Syntax("no ip routing", ("ip", "routing")),
        Syntax("management api http-commands", 0, "management-api"),
    ],
    "interface": [
        Syntax("description <LINE>", 1),
        Syntax("shutdown"),
        Syntax("mtu <68-9214>", 1),
        Syntax("flowcontrol send on|off", 2),
        Syntax("flowcontrol receive on|off", 2),
        Syntax("no switchport", ("switchport",)), Syntax("switchport", ("switchport",), stores=False),
        Syntax("ip address <PREFIX>", 2),
        *_TRUST,
        Syntax("service-profile <WORD>", 1),
        *_PFC,
        *_QUEUE_BLOCKS,
    ],
    "qos-profile": [
        *_TRUST,
        *_QUEUE_BLOCKS,
        *_PFC,
        Syntax("priority-flow-control pause watchdog"),
        Syntax("priority-flow-control pause watchdog port action drop|notify-only", 5),
        Syntax("priority-flow-control pause watchdog port timer timeout <SECONDS> polling-interval auto|<SECONDS> "
               "recovery-time <SECONDS> [forced]", 5),
    ],
    "queue": [
        Syntax("bandwidth percent <1-100>", 2),
        Syntax("bandwidth guaranteed percent <1-100>", 3),
        Syntax("priority strict", 1), Syntax("no priority", ("priority",)),
        Syntax(f"random-detect ecn minimum-threshold <1-256000000> {_UNIT} maximum-threshold <1-256000000> {_UNIT} "
               "[max-mark-probability <1-100>] [weight <0-15>]", 2),
        Syntax("random-detect ecn count"),
    ],
    "management-api": [
        Syntax("no shutdown", ("shutdown",)), Syntax("shutdown", ("shutdown",), stores=False),
        Syntax("protocol http|https", 2),
    ],
}


# -- matching --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Walk:
    """How far a line got through a pattern: ``full``, ``incomplete`` (a valid prefix) or ``fail`` at ``at``."""

    status: str
    at: int
    canon: tuple[str, ...] = ()

    def better(self, other: Walk) -> Walk:
        order = {"full": 2, "incomplete": 1, "fail": 0}
        return max(self, other, key=lambda w: (order[w.status], w.at))


def walk(pattern: tuple[Atom, ...], tokens: list[str], i: int = 0, j: int = 0, canon: tuple[str, ...] = ()) -> Walk:
    """Match ``tokens[i:]`` against ``pattern[j:]``; lists take one or more values, a line the rest."""
    if j == len(pattern):
        return Walk("full" if i == len(tokens) else "fail", i, canon)
    if i == len(tokens):
        return Walk("incomplete", i, canon)
    atom = pattern[j]
    if atom.param == "line":
        return Walk("full", len(tokens), (*canon, " ".join(tokens[i:])))
    if not atom.accepts(tokens[i]):
        return Walk("fail", i, canon)
    step = (*canon, atom.canonical(tokens[i]))
    result = walk(pattern, tokens, i + 1, j + 1, step)
    if atom.param == "list" and result.status != "full":
        result = result.better(walk(pattern, tokens, i + 1, j, step))
    return result


def refusal(tokens: list[str], miss: Walk) -> ConfigError:
    if miss.status == "incomplete":
        return ConfigError(INCOMPLETE)
    return ConfigError(f"Invalid input (at token {miss.at}: '{tokens[miss.at]}')")


# -- configuration trees ---------------------------------------------------------------------------

@dataclass
class Block:
    """One configuration mode instance; the top level has an empty header."""

    header: str = ""
    mode: str = "config"
    rank: int = 0
    physical: bool = False  # a hardware interface: ``no interface`` empties it instead of deleting it
    lines: dict[tuple[str, ...], tuple[int, str, str]] = field(default_factory=dict)  # key -> rank, section, text
    maps: dict[tuple[int, str, str], dict[int, str]] = field(default_factory=dict)  # (rank, head, tail) -> value: to
    children: dict[tuple[str, ...], Block] = field(default_factory=dict)

    def clear(self) -> None:
        self.lines.clear()
        self.maps.clear()
        self.children.clear()


def _map_parts(syntax: Syntax, canon: tuple[str, ...]) -> tuple[str, list[int], str, str]:
    at = next(i for i, a in enumerate(syntax.patterns[0]) if a.param == "list")
    tail = len(syntax.patterns[0]) - at - 1
    return " ".join(canon[:at]), [int(v) for v in canon[at:len(canon) - tail]], " ".join(canon[-tail:-1]), canon[-1]


def _apply(block: Block, syntax: Syntax, rank: int, canon: tuple[str, ...]) -> Block | None:
    """Apply a matched command to ``block``; the block it opens, if any."""
    if syntax.is_map:
        head, values, tail, target = _map_parts(syntax, canon)
        entries = block.maps.setdefault((rank, head, tail), {})
        entries.update(dict.fromkeys(values, target))
        return None
    key = syntax.key_of(list(canon))
    if syntax.enters:
        return block.children.setdefault(key, Block(" ".join(canon), syntax.enters, rank))
    if syntax.stores:
        block.lines[key] = (rank, syntax.section, " ".join(canon))
    else:
        block.lines.pop(key, None)
    return None


def _remove(block: Block, rest: list[str]) -> Walk:
    """``no``/``default`` + ``rest``: clear the setting ``rest`` names; a full Walk when something matched."""
    best = Walk("fail", 0)
    for syntax in GRAMMAR[block.mode]:
        if syntax.spec.startswith("no ") or not (syntax.stores or syntax.enters):
            continue
        for pattern in syntax.patterns:
            found = walk(pattern, rest)
            need = len(syntax.key) if isinstance(syntax.key, tuple) else (syntax.key or len(pattern))
            if syntax.is_map and found.status == "full":
                head, values, tail, _ = _map_parts(syntax, found.canon)
                for (_, h, t), entries in block.maps.items():
                    for value in values if (h, t) == (head, tail) else []:
                        entries.pop(value, None)
                return found
            if not syntax.is_map and found.status != "fail" and len(found.canon) >= need:
                key = syntax.key_of(list(found.canon[:need]))
                child = block.children.get(key)
                if child is not None and child.physical:
                    child.clear()
                elif block.children.pop(key, None) is None:
                    block.lines.pop(key, None)
                return Walk("full", len(rest))
            best = best.better(found)
    return best


def run_line(block: Block, tokens: list[str]) -> Block | Walk | None:
    """Run one line in ``block``'s mode: the block it opens, None when applied, or the Walk of a refusal."""
    best = Walk("fail", 0)
    for rank, syntax in enumerate(GRAMMAR[block.mode]):
        for pattern in syntax.patterns:
            found = walk(pattern, tokens)
            if found.status == "full":
                return _apply(block, syntax, rank, found.canon)
            best = best.better(found)
    if tokens[0] in ("no", "default") and len(tokens) > 1:
        removed = _remove(block, tokens[1:])
        if removed.status == "full":
            return None
        best = best.better(Walk(removed.status, removed.at + 1))
    return best


class ConfigCursor:
    """Applies configuration lines to a tree, tracking the mode stack as the EOS CLI does."""

    def __init__(self, root: Block) -> None:
        self.stack = [root]

    def apply(self, line: str) -> bool:
        """Apply one line; False when it leaves configuration mode (``end``, or ``exit`` at the top).

        Raises ConfigError, with nothing changed, when no mode on the stack accepts the line.
        """
        tokens = line.split()
        if not tokens or tokens[0].startswith("!"):
            return True
        if tokens[0] in ("end", "exit") and len(tokens) == 1:
            if tokens[0] == "end" or len(self.stack) == 1:
                return False
            self.stack.pop()
            return True
        best = Walk("fail", 0)
        for depth in range(len(self.stack) - 1, -1, -1):
            outcome = run_line(self.stack[depth], tokens)
            if isinstance(outcome, Walk):
                best = best.better(outcome)
                continue
            del self.stack[depth + 1:]
            if outcome is not None:
                self.stack.append(outcome)
            return True
        raise refusal(tokens, best)


# -- rendering -------------------------------------------------------------------------------------

def _natural(text: str) -> tuple[object, ...]:
    kind = next((i for i, t in enumerate(_IFTYPES) if f" {t}" in text), len(_IFTYPES))
    return (kind, *[int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)])


def _items(block: Block) -> list[tuple[str, str] | Block]:
    """A block's settings in EOS order: (section, text) lines and child blocks."""
    ordered: list[tuple[tuple[object, ...], tuple[str, str] | Block]] = []
    for rank, section, text in block.lines.values():
        ordered.append(((rank, _natural(text)), (section, text)))
    for (rank, head, tail), entries in block.maps.items():
        for target in sorted({int(t) for t in entries.values()}):
            values = " ".join(str(v) for v in sorted(v for v, t in entries.items() if int(t) == target))
            ordered.append(((rank, (target,)), (head.split()[0], f"{head} {values} {tail} {target}")))
    for child in block.children.values():
        ordered.append(((child.rank, _natural(child.header)), child))
    return [item for _, item in sorted(ordered, key=lambda pair: pair[0])]


def _block_lines(block: Block, depth: int) -> list[str]:
    out, after_block, pad = [INDENT * depth + block.header], False, INDENT * (depth + 1)
    for item in _items(block):
        if isinstance(item, Block):
            out += [pad + "!", *_block_lines(item, depth + 1)]
            after_block = True
            continue
        if after_block:
            out.append(pad + "!")
            after_block = False
        out.append(pad + item[1])
    return out


def hostname(root: Block) -> str:
    line = root.lines.get(("hostname",))
    return line[2].split()[1] if line else "localhost"


def render_body(root: Block) -> list[str]:
    """``show running-config`` without its ``! Command:`` line, as EOS prints it."""
    out = [f"! device: {hostname(root)} ({MODEL}, EOS-{VERSION})", "!", "! boot system flash:/EOS.swi", "!"]
    previous = ""  # the section of the last plain line; "!" right after a block
    for item in _items(root):
        if isinstance(item, Block):
            if previous not in ("", "!"):
                out.append("!")
            out += [*_block_lines(item, 0), "!"]
            previous = "!"
            continue
        if previous not in ("", "!", item[0]):
            out.append("!")
        out.append(item[1])
        previous = item[0]
    return [*out, *(["!"] if previous not in ("", "!") else []), "end"]


def render_json(block: Block) -> dict[str, object]:
    """The JSON form of a configuration (``show running-config`` with format json)."""
    cmds: dict[str, object] = {}
    for item in _items(block):
        if isinstance(item, Block):
            cmds[item.header] = render_json(item)
        else:
            cmds[item[1]] = None
    return {"cmds": cmds, "comments": []}


def diff(running: list[str], candidate: list[str], session: str) -> str:
    """``show session-config named S diffs``: a unified diff of the running and the session config."""
    lines = difflib.unified_diff(running, candidate, "system:/running-config", f"session:/{session}-session-config",
                                 lineterm="")
    text = "\n".join(lines)
    return text + "\n" if text else ""
