"""What fabric owns on a device, per platform, and the stale lines a deploy removes.

A deploy converges the device to the rendered configuration *within what fabric renders* and never touches the
rest (management, routing, users, AAA...). The scope is derived from the templates (templates/<platform>/*.j2),
one table per platform below:

- CLI platforms (eos, nxos, comware, huawei_ce): top-level lines fabric renders (``lines``), named blocks it
  renders whole (``blocks``: everything inside is fabric's), lines it renders inside blocks it shares with the
  device (``inside``: an interface it lists, ``system qos``, Comware's map tables), and blocks named by a line it
  owns (``refs``: a WRED table an owned ``qos wred apply`` line points at). An interface the rendered file does
  not list is never touched.
- nvue: the ``qos`` subtrees and per-interface ``qos`` settings the templates set (``NVUE_UNSET``), cleared in
  the pending revision before the rendered ``nv set`` lines, so ``nv config diff`` lists what goes.
- sonic: the CONFIG_DB tables the templates render (``SONIC_TABLES``): per-port entries of the ports fabric
  lists (only the fields fabric sets), the maps it names (``ROCE``), and the named objects the rendered file has.
- linux_mlx5 and opensm need nothing here: every setting (file) is compared by value, whole.

"Stale" = an owned line the running configuration has and the rendered one does not; a deploy pushes its
negation (``no``/``undo`` in its block) before the additions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fabric.deploy.diff import Context, Node, Op, _escape, extra, negate, parse_tree, render_ops, to_push

IFACE = r"interface \S+"


@dataclass(frozen=True)
class CliScope:
    """The lines fabric owns on one CLI platform (regexes: a line matches from its start, a header whole)."""

    negation: str  # "no" / "undo"
    lines: tuple[str, ...] = ()  # top-level lines
    blocks: tuple[str, ...] = ()  # top-level blocks owned whole (their header)
    inside: tuple[tuple[str, str], ...] = ()  # (block header, line): owned lines inside a shared block
    refs: tuple[tuple[str, str], ...] = ()  # (owned line with (?P<name>...), header of the block it names)


SCOPES: dict[str, CliScope] = {
    # templates/eos: qos maps, PFC watchdog defaults, the QOS_ROCE* profiles, and per listed interface the
    # mtu / flowcontrol / service-profile lines (description is not owned: fabric sets it, never clears it)
    "eos": CliScope(
        negation="no",
        lines=(r"qos map dscp \S.* to traffic-class ", r"qos map traffic-class \S.* to tx-queue ",
               r"priority-flow-control pause watchdog (default|action) "),
        blocks=(r"qos profile QOS_ROCE(_\S+)?",),
        inside=((IFACE, r"(mtu|service-profile|flowcontrol (send|receive)) "),)),
    # templates/nxos: fabric's named policies (whole), the class-maps its classification policy names, the
    # system qos bindings of its policies, the watchdog line, per listed interface mtu / PFC / its policies
    "nxos": CliScope(
        negation="no",
        lines=(r"priority-flow-control watch-dog-interval ",),
        blocks=(r"policy-map type (qos QOS_CLASSIFICATION|queuing QOS_(EGRESS|PAUSE)_\S+|network-qos QOS_NETWORK)",),
        inside=(("system qos", r"service-policy type (network-qos|queuing output) QOS_"),
                (IFACE, r"(mtu |priority-flow-control (mode|watch-dog-interval) "
                        r"|service-policy type (qos input|queuing (input|output)) QOS_)")),
        refs=((r"class (?P<name>[^\s]+)$", "class-map type qos match-any {name}"),)),
    # templates/comware: deadlock action, the two map tables' entries, the WRED tables its ports apply, per listed
    # interface jumboframe / qos trust, wfq, wred apply / PFC / flow-control
    "comware": CliScope(
        negation="undo",
        lines=(r"priority-flow-control deadlock auto-recover action ",),
        inside=((r"qos map-table (dscp-dot1p|dot1p-lp)", r"import "),
                (IFACE, r"(jumboframe enable |qos (trust|wfq|wred apply) |flow-control$|priority-flow-control "
                        r"(enable$|auto$|no-drop dot1p |deadlock enable$|dot1p \d+ headroom ))")),
        refs=((r"qos wred apply (?P<name>\S+)$", "qos wred queue table {name}"),)),
    # templates/huawei_ce: deadlock timers, dcb pfc priorities, the roce DiffServ domain's entries, the drop
    # profiles its ports use, per listed interface jumboframe / trust / qos queue / dcb pfc / flow-control
    "huawei_ce": CliScope(
        negation="undo",
        lines=(r"dcb pfc deadlock-(detect|recovery) timer ",),
        inside=(("dcb pfc", r"priority "), ("diffserv domain roce", r"(ip-dscp|8021p)-inbound "),
                (IFACE, r"(jumboframe enable |trust (dscp|8021p|upstream)|qos drr "
                        r"|qos queue \d+ (drr weight |wred |ecn$)|dcb pfc (enable mode|buffer) |flow-control$)")),
        refs=((r"qos queue \d+ wred (?P<name>\S+)$", "drop-profile {name}"),)),
}


def stale(have: Node, want: Node, scope: CliScope) -> list[Op]:
    """The negations of the owned lines ``have`` shows and ``want`` (the rendered tree) lacks, in the order a
    device takes them (references before what they name). A block the rendered file no longer has goes by its
    header alone; a negated line (``no priority``) is not removed: the rendered positive form replaces it."""
    named = _named(have, want, scope)
    found = [(path, line) for path, line in extra(have, want)
             if not line.startswith(scope.negation + " ") and owns(scope, path, line, want, named)]
    gone = [(*path, line) for path, line in found if _children(have, (*path, line))]
    ops: list[Op] = []
    for path, line in found:
        if any(path[:len(block)] == block for block in gone):
            continue  # inside a block that goes whole
        if negate(line, scope.negation) in _children(want, path):
            continue  # the rendered file types this negation itself
        ops.append((path, negate(line, scope.negation)))
    return ops


def _children(root: Node, path: Context) -> dict[str, Node]:
    node: Node | None = root
    for line in path:
        node = node.children.get(line) if node is not None else None
    return node.children if node is not None else {}


def owns(scope: CliScope, path: Context, line: str, want: Node, named: frozenset[str] = frozenset()) -> bool:
    """Whether fabric owns ``line`` in its block ``path`` (``want``: the rendered tree, for listed interfaces)."""
    if not path:
        return any(re.match(p, line) for p in scope.lines) or _owned_block(scope, line, named)
    top = path[0]
    if _owned_block(scope, top, named):
        return True
    if len(path) != 1:
        return False
    if top.startswith("interface ") and top not in want.children:
        return False  # an interface fabric does not list
    return any(re.fullmatch(header, top) and re.match(pattern, line) for header, pattern in scope.inside)


def _owned_block(scope: CliScope, header: str, named: frozenset[str]) -> bool:
    return header in named or any(re.fullmatch(p, header) for p in scope.blocks)


def _named(have: Node, want: Node, scope: CliScope) -> frozenset[str]:
    """Block headers named by owned lines (``refs``) of either tree, minus those an unowned line still names."""
    if not scope.refs:
        return frozenset()
    owned: set[str] = set()
    kept: set[str] = set()
    for tree in (have, want):
        for path, line in _lines(tree):
            for pattern, header in scope.refs:
                found = re.search(pattern, line)
                if found is None:
                    continue
                target = header.format(name=found.group("name"))
                (owned if owns(scope, path, line, want) else kept).add(target)
    return frozenset(owned - kept)


def _lines(node: Node, path: Context = ()) -> list[Op]:
    ops: list[Op] = []
    for line, child in node.children.items():
        ops.append((path, line))
        ops += _lines(child, (*path, line))
    return ops


# -- NVUE ------------------------------------------------------------------------------------------------

# templates/nvue: the global qos subtrees it sets, and per listed interface the qos settings it sets (link-pause
# is only ever unset by fabric, so a device's own link pause setting stays).
NVUE_UNSET = ("qos mapping default-global", "qos egress-queue-mapping default-global",
              "qos egress-scheduler default-global", "qos congestion-control", "qos pfc", "qos pfc-watchdog",
              "qos traffic-pool", "qos advance-buffer-config default-global")
NVUE_UNSET_PORT = ("qos congestion-control", "qos pfc", "qos pfc-watchdog")


def nvue_unset(candidate_lines: list[str]) -> list[str]:
    """The ``nv unset`` lines that clear fabric's scope in a pending revision: typed before the rendered
    ``nv set`` lines, they make ``nv config diff`` list what the rendered file no longer sets."""
    ports = sorted({m.group(1) for line in candidate_lines if (m := re.match(r"nv set interface (\S+) ", line))})
    return [f"nv unset {path}" for path in NVUE_UNSET] + \
        [f"nv unset interface {port} {path}" for port in ports for path in NVUE_UNSET_PORT]


# -- SONiC -----------------------------------------------------------------------------------------------

# templates/sonic: table -> the fields fabric sets in it (None: every field of an entry fabric owns).
SONIC_TABLES: dict[str, frozenset[str] | None] = {
    "PORT_QOS_MAP": frozenset({"pfc_enable", "pfcwd_sw_enable", "pfc_to_queue_map", "pfc_to_pg_map",
                               "dscp_to_tc_map", "dot1p_to_tc_map", "tc_to_queue_map", "tc_to_pg_map"}),
    "QUEUE": frozenset({"scheduler", "wred_profile"}),
    "BUFFER_PG": frozenset({"profile"}),
    "PFC_WD": None, "DSCP_TO_TC_MAP": None, "DOT1P_TO_TC_MAP": None, "TC_TO_QUEUE_MAP": None,
    "TC_TO_PRIORITY_GROUP_MAP": None,
    "MAP_PFC_PRIORITY_TO_QUEUE": None, "PFC_PRIORITY_TO_PRIORITY_GROUP_MAP": None,
    "WRED_PROFILE": None, "BUFFER_PROFILE": None, "SCHEDULER": None,
}
SONIC_NAMES = frozenset({"ROCE", "GLOBAL"})  # the map names and the PFC_WD global key fabric renders
# fields that name another entry: fabric's only while they name one the render has (``ingress_lossy_profile`` on
# PG 0, ``scheduler.0``, the ``AZURE`` maps are the device's own and stay)
SONIC_REFS: dict[str, str | None] = {
    "scheduler": "SCHEDULER", "wred_profile": "WRED_PROFILE", "profile": "BUFFER_PROFILE",
    "pfc_to_queue_map": None, "pfc_to_pg_map": None, "dscp_to_tc_map": None, "dot1p_to_tc_map": None,
    "tc_to_queue_map": None, "tc_to_pg_map": None,
}


def _sonic_owns_key(table: str, key: str, want: dict[str, Any], ports: set[str]) -> bool:
    """A per-port entry of a port fabric lists, a name fabric renders, or an entry the rendered file has."""
    return key.split("|")[0] in ports or key in SONIC_NAMES or key in want.get(table, {})


def _sonic_owns_field(table: str, name: str, value: Any, want: dict[str, Any]) -> bool:
    """A field fabric sets in ``table``; a reference only while it names an entry the render has."""
    fields = SONIC_TABLES[table]
    if fields is not None and name not in fields:
        return False
    if fields is None or name not in SONIC_REFS:
        return True
    named = SONIC_REFS[name]
    return value in SONIC_NAMES if named is None else value in want.get(named, {})


def sonic_stale(want: dict[str, Any], have: dict[str, Any]) -> list[dict[str, Any]]:
    """RFC 6902 ``remove`` ops for the owned CONFIG_DB fields/entries/tables ``have`` has and ``want`` lacks.
    The ports fabric lists are the rendered PORT table's keys. An entry left with no field goes whole (unless the
    rendered file has it: its new fields follow in the same patch), a table left with no entry too (CONFIG_DB
    holds no empty ones)."""
    ports = set(want.get("PORT", {}))
    ops: list[dict[str, Any]] = []
    for table in SONIC_TABLES:
        entries = have.get(table)
        if not isinstance(entries, dict):
            continue
        table_ops: list[dict[str, Any]] = []
        emptied = 0
        for key, current in sorted(entries.items()):
            if not isinstance(current, dict) or not _sonic_owns_key(table, key, want, ports):
                continue
            wanted = want.get(table, {}).get(key)
            drop = [name for name, value in sorted(current.items())
                    if name not in (wanted or {}) and _sonic_owns_field(table, name, value, want)]
            path = f"/{table}/{_escape(key)}"
            if drop and len(drop) == len(current) and wanted is None:
                table_ops.append({"op": "remove", "path": path})
                emptied += 1
            else:
                table_ops += [{"op": "remove", "path": f"{path}/{_escape(name)}"} for name in drop]
        if emptied == len(entries) and table not in want:
            ops.append({"op": "remove", "path": f"/{table}"})
        else:
            ops += table_ops
    return ops


def plan(running: str, candidate: str, platform: str) -> tuple[list[Op], list[Op]]:
    """(removals, additions) that converge ``running`` to ``candidate`` within fabric's scope: the negated stale
    lines, then the rendered lines the device lacks (in the rendered order)."""
    scope = SCOPES[platform]
    have, want = parse_tree(running), parse_tree(candidate)
    return stale(have, want, scope), to_push(candidate, have, scope.negation)


def shown(removals: list[Op], additions: list[Op], platform: str) -> list[str]:
    """A plan for people: removed lines as the device shows them with ``-``, added ones with ``+``."""
    word = SCOPES[platform].negation
    return render_ops([(path, negate(line, word)) for path, line in removals], "-") + render_ops(additions)
