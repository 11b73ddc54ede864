"""H3C Comware 7: the running view configuration -> knobs (reference/lossless.md §5.1).

- ``qos trust dscp`` on the interface classifies DSCP -> 802.1p (``qos map-table dscp-dot1p``, default DSCP/8)
  -> local precedence = queue (``qos map-table dot1p-lp``, default 0->2, 1->0, 2->1, 3..7 identity [unverified]).
- PFC: ``priority-flow-control enable`` with ``no-drop dot1p``; ``auto`` needs DCBX, which the twin does not
  negotiate: no PFC. ``dot1p P headroom N`` is headroom in cells; ``ingress-buffer static N`` a static XOFF in
  cells (XON ``ingress-threshold-offset`` cells below it); cells are the ASIC's.
- ECN: the interface's ``qos wred apply`` table, queues with ``queue Q ecn``: low/high limits in cells
  [unverified unit, as the template], discard-probability %.
- Deadlock detection (the watchdog): ``priority-flow-control deadlock enable``; detection = ``deadlock cos C
  interval N`` x precision (high 10 ms, normal 100 ms, low 1000 ms), restoration ``auto-recover cos C delay D``
  x 100 ms; defaults N = D = 15 [unverified]; action discard -> drop, forwarding (default) -> forward.
"""

from __future__ import annotations

from fabric.lab.applied.common import Classification, PortDraft, cell_bytes, ecn, finish, majority
from fabric.lab.applied.views import lines_of, running, sections_of
from fabric.lab.device import LabDevice
from fabric.lab.physics.knobs import DEFAULT_DSCP_TO_TC, DeviceKnobs, WatchdogKnobs

DOT1P_LP = {0: 2, 1: 0, 2: 1, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7}
PRECISION_MS = {"high": 10, "normal": 100, "low": 1000}
DEFAULT_INTERVAL = 15
DEFAULT_DELAY = 15
DELAY_UNIT_MS = 100
DEFAULT_CELL = 256


def read(device: LabDevice) -> DeviceKnobs:
    config = running(device)
    if config is None:
        return DeviceKnobs(device=device.name)
    dscp_dot1p = dict(DEFAULT_DSCP_TO_TC)
    dot1p_lp = dict(DOT1P_LP)
    for words in lines_of(config, "qos map-table dscp-dot1p"):
        dscp_dot1p[int(words[1])] = int(words[3])
    for words in lines_of(config, "qos map-table dot1p-lp"):
        dot1p_lp[int(words[1])] = int(words[3])
    tables = {header.split()[-1]: lines for header, lines in sections_of(config, "wred-table").items()}
    glob = lines_of(config, "")
    cell = cell_bytes(device, DEFAULT_CELL)
    classes: dict[str, Classification] = {}
    drafts: dict[str, PortDraft] = {}
    for port in device.inventory.interfaces:
        lines = lines_of(config, f"interface {port}")
        dscp = ["qos", "trust", "dscp"] in lines
        classes[port] = Classification("dscp" if dscp else "pcp", dscp_dot1p, dot1p_lp)
        drafts[port] = _port(lines, tables, glob, cell)
    return finish(device, majority(classes), drafts)


def _port(lines: list[list[str]], tables: dict[str, list[list[str]]], glob: list[list[str]],
          cell: int) -> PortDraft:
    draft = PortDraft()
    for words in lines:
        if words[:2] == ["jumboframe", "enable"]:
            draft.mtu = int(words[2]) if len(words) > 2 else 9216
    if ["priority-flow-control", "enable"] in lines:
        for words in lines:
            if words[:3] == ["priority-flow-control", "no-drop", "dot1p"]:
                draft.pfc = {int(w) for w in words[3:]}
    for words in lines:
        if words[:2] == ["priority-flow-control", "dot1p"] and int(words[2]) in draft.pfc:
            if words[3] == "headroom":
                draft.headroom_bytes = int(words[4]) * cell
            elif words[3:5] == ["ingress-buffer", "static"]:
                draft.xoff_bytes = int(words[5]) * cell
            elif words[3] == "ingress-threshold-offset":
                draft.xon_bytes = -int(words[4]) * cell  # resolved against the XOFF below
    if draft.xoff_bytes is not None and draft.xon_bytes is not None:
        draft.xon_bytes = max(draft.xoff_bytes + draft.xon_bytes, 0)
    elif draft.xon_bytes is not None:
        draft.xon_bytes = None
    applied = next((w[3] for w in lines if w[:3] == ["qos", "wred", "apply"]), None)
    table = tables.get(applied or "", [])
    for words in table:
        if words[0] == "queue" and words[2] == "low-limit" and ["queue", words[1], "ecn"] in table:
            pmax = float(words[words.index("discard-probability") + 1]) if "discard-probability" in words else 10.0
            draft.ecn[int(words[1])] = ecn(int(words[3]) * cell, int(words[5]) * cell, pmax)
    if ["priority-flow-control", "deadlock", "enable"] in lines and draft.pfc:
        draft.watchdog = _watchdog(glob, min(draft.pfc))
    return draft


def _watchdog(glob: list[list[str]], cos: int) -> WatchdogKnobs:
    precision, interval, delay, action = "normal", DEFAULT_INTERVAL, DEFAULT_DELAY, "forward"
    for words in glob:
        if words[:2] != ["priority-flow-control", "deadlock"]:
            continue
        rest = words[2:]
        if rest[:1] == ["precision"]:
            precision = rest[1]
        elif rest[:2] == ["cos", str(cos)] and rest[2] == "interval":
            interval = int(rest[3])
        elif rest[:3] == ["auto-recover", "cos", str(cos)] and rest[3] == "delay":
            delay = int(rest[4])
        elif rest[:2] == ["auto-recover", "action"]:
            action = "drop" if rest[2] == "discard" else "forward"
    return WatchdogKnobs(detect_ms=interval * PRECISION_MS.get(precision, 100), restore_ms=delay * DELAY_UNIT_MS,
                         action="drop" if action == "drop" else "forward")
