"""Huawei CloudEngine (VRP V8): the committed running configuration -> knobs (reference/lossless.md §5.2).

- ``trust dscp`` classifies through the DiffServ domain of ``trust upstream NAME`` (``ip-dscp-inbound D phb P``;
  PHBs BE, AF1-AF4, EF, CS6, CS7 are queues 0-7), else the default domain (DSCP/8). TC = queue here.
- PFC: ``dcb pfc enable [mode manual]`` on the interface with the ``dcb pfc`` profile's ``priority`` list (the
  default profile holds priority 3); ``mode auto`` needs DCBX: no PFC.
- ``dcb pfc buffer Q hdrm|xoff|xon|xon-offset [static] N cells|kbytes`` per queue: headroom, static XOFF,
  effective XON = max(xon, xoff - xon-offset) (``display dcb pfc buffer``); kbytes are 1024 B, cells the ASIC's.
- ECN: ``qos queue Q wred PROFILE`` + ``qos queue Q ecn``; the drop profile's ``ecn buffer-size`` (or green
  ``color ... buffer-size``) limits in bytes, discard-percentage %.
- Deadlock detection: ``dcb pfc deadlock-detect timer`` / ``deadlock-recovery timer`` in ms (or the profile's
  ``priority P deadlock-detect time T deadlock-recovery time R`` x ``deadlock-detect interval``, 10 ms by
  default); ``deadlock recovery-behavior`` discard (default) -> drop, forwarding -> forward.
"""

from __future__ import annotations

from fabric.lab.applied.common import KIB, Classification, PortDraft, cell_bytes, ecn, finish, majority
from fabric.lab.applied.views import lines_of, running, sections_of
from fabric.lab.device import LabDevice
from fabric.lab.physics.knobs import DEFAULT_DSCP_TO_TC, DeviceKnobs, EcnKnobs, WatchdogKnobs

PHB = ("be", "af1", "af2", "af3", "af4", "ef", "cs6", "cs7")
DEFAULT_PFC = {3}
DEFAULT_CELL = 254
DEFAULT_PRECISION_MS = 10


def read(device: LabDevice) -> DeviceKnobs:
    config = running(device)
    if config is None:
        return DeviceKnobs(device=device.name)
    domains = {header.split()[-1]: _domain(lines) for header, lines in sections_of(config, "dsdomain").items()}
    profile = lines_of(config, "dcb pfc")
    priorities = next(({int(w) for w in words[1:]} for words in profile
                       if words[0] == "priority" and "deadlock-detect" not in words and "turn-off" not in words),
                      DEFAULT_PFC)
    drops = {header.split()[-1]: _drop(lines) for header, lines in sections_of(config, "drop").items()}
    watchdog = _watchdog(lines_of(config, ""), profile)
    cell = cell_bytes(device, DEFAULT_CELL)
    classes: dict[str, Classification] = {}
    drafts: dict[str, PortDraft] = {}
    for port in device.inventory.interfaces:
        lines = lines_of(config, f"interface {port}")
        upstream = next((w[2] for w in lines if w[:2] == ["trust", "upstream"]), None)
        if ["trust", "dscp"] in lines:
            classes[port] = Classification("dscp", domains.get(upstream or "", dict(DEFAULT_DSCP_TO_TC)))
        else:
            classes[port] = Classification()
        drafts[port] = _port(lines, priorities, drops, watchdog, cell)
    return finish(device, majority(classes), drafts)


def _domain(lines: list[list[str]]) -> dict[int, int]:
    mapping = dict(DEFAULT_DSCP_TO_TC)
    for words in lines:
        if words[0] == "ip-dscp-inbound":
            mapping[int(words[1])] = PHB.index(words[3])
    return mapping


def _drop(lines: list[list[str]]) -> EcnKnobs | None:
    for words in lines:
        if words[:2] == ["ecn", "buffer-size"] or words[:4] == ["color", "green", "buffer-size", "low-limit"]:
            at = words.index("low-limit")
            return ecn(int(words[at + 1]), int(words[at + 3]), float(words[at + 5]))
    return None


def _port(lines: list[list[str]], priorities: set[int], drops: dict[str, EcnKnobs | None],
          watchdog: WatchdogKnobs | None, cell: int) -> PortDraft:
    draft = PortDraft()
    for words in lines:
        if words[:2] == ["jumboframe", "enable"]:
            draft.mtu = int(words[2]) if len(words) > 2 else 9216
    if ["dcb", "pfc", "enable"] in lines or ["dcb", "pfc", "enable", "mode", "manual"] in lines:
        draft.pfc = set(priorities)
    thresholds: dict[str, int] = {}
    for words in lines:
        if words[:3] == ["dcb", "pfc", "buffer"] and int(words[3]) in draft.pfc and words[-1] in ("cells", "kbytes"):
            thresholds[words[4]] = int(words[-2]) * (cell if words[-1] == "cells" else KIB)
    draft.headroom_bytes = thresholds.get("hdrm")
    draft.xoff_bytes = thresholds.get("xoff")
    if draft.xoff_bytes is not None and ("xon" in thresholds or "xon-offset" in thresholds):
        draft.xon_bytes = max(thresholds.get("xon", 0), draft.xoff_bytes - thresholds.get("xon-offset", 0))
    for words in lines:
        if words[:2] == ["qos", "queue"] and words[3] == "wred" and ["qos", "queue", words[2], "ecn"] in lines:
            marking = drops.get(words[4])
            if marking is not None:
                draft.ecn[int(words[2])] = marking
    draft.watchdog = watchdog
    return draft


def _watchdog(glob: list[list[str]], profile: list[list[str]]) -> WatchdogKnobs | None:
    detect = restore = None
    unit, action = DEFAULT_PRECISION_MS, "drop"
    for words in glob:
        if words[:3] == ["dcb", "pfc", "deadlock-detect"] and words[3] == "timer":
            detect = int(words[4])
        elif words[:3] == ["dcb", "pfc", "deadlock-recovery"] and words[3] == "timer":
            restore = int(words[4])
        elif words[:4] == ["dcb", "pfc", "deadlock-detect", "interval"]:
            unit = int(words[4])
        elif words[:4] == ["dcb", "pfc", "deadlock", "recovery-behavior"]:
            action = "drop" if words[4] == "discard" else "forward"
    for words in profile:
        if words[0] == "priority" and "deadlock-detect" in words and detect is None:
            detect, restore = int(words[4]) * unit, int(words[7]) * unit
    if detect is None and restore is None:
        return None
    defaults = WatchdogKnobs()
    return WatchdogKnobs(detect_ms=detect or defaults.detect_ms, restore_ms=restore or defaults.restore_ms,
                         action="drop" if action == "drop" else "forward")
