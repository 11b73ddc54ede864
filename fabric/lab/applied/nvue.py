"""Cumulus Linux (NVUE): the *applied* revision -> knobs (reference/lossless.md §2.1-2.2).

- Trust ``l3``/``both`` classify on DSCP (``mapping dscp N switch-priority``, unmapped DSCP/8), ``l2``/``port`` on
  PCP; switch-priority -> traffic class (the egress queue) from ``egress-queue-mapping``.
- PFC: the interface's ``qos pfc profile``; Cumulus derives the headroom from the profile's ``cable-length``
  (the formula of §1.3 with the switch's ASIC). Explicit ``port-buffer``/``xoff-threshold``/``xon-threshold``
  (qos_features.conf port_buffer_bytes/xoff_size/xon_delta) read as: XOFF sent when the port's reserved buffer
  holds xoff-threshold bytes, XON xon-threshold below it, the rest of port-buffer is headroom.
- ``qos roce`` (mode lossless/lossy) expands as §2.1 says: PFC on SP3 with cable 100 m (lossless only), ECN on
  TC3 at 150000/1500000 B, probability 100, trust DSCP.
- ECN: the interface's ``congestion-control`` profile, traffic classes with ``ecn enable``; probability in %.
- Watchdog: ``interface X qos pfc-watchdog``; detection = polling-interval x robustness (defaults 100 ms x 3),
  restoration one polling interval, action drop (Cumulus always drops).
- Lossless alpha: ``advance-buffer-config default-global ingress-lossless-buffer shared-alpha``; shared buffer:
  ``traffic-pool default-lossless memory-percent`` of the ASIC's buffer.
"""

from __future__ import annotations

from typing import Any

from fabric.lab.applied.common import DEFAULT_CABLE_M, Classification, PortDraft, derived_headroom, ecn, finish
from fabric.lab.applied.common import shared_buffer as shared
from fabric.lab.device import LabDevice
from fabric.lab.dialects.nvue import NvueState
from fabric.lab.physics.knobs import DEFAULT_DSCP_TO_TC, DeviceKnobs, EcnKnobs, WatchdogKnobs

ROCE_PRIORITY = 3
ROCE_CABLE_M = 100
ROCE_ECN = EcnKnobs(150_000, 1_500_000, 1.0)
DEFAULT_POLL_MS = 100
DEFAULT_ROBUSTNESS = 3


def alpha(name: str) -> float | None:
    """``alpha_1_8`` -> 0.125, ``alpha_4`` -> 4.0, ``alpha_infinity`` -> inf."""
    parts = name.removeprefix("alpha_").split("_")
    if parts == ["infinity"]:
        return float("inf")
    if all(p.isdigit() for p in parts) and len(parts) in (1, 2):
        return int(parts[0]) / (int(parts[1]) if len(parts) == 2 else 1)
    return None


def read(device: LabDevice) -> DeviceKnobs:
    state = device.config
    if not isinstance(state, NvueState):
        return DeviceKnobs(device=device.name)
    tree: dict[Any, Any] = state.applied
    qos = tree.get("qos", {})
    roce = qos.get("roce", {})
    roce_mode = roce.get("mode", "lossless") if roce and roce.get("enable", "on") == "on" else None
    drafts = {port: _port(device, tree, port, roce_mode) for port in device.inventory.interfaces}
    buffers = qos.get("advance-buffer-config", {}).get("default-global", {})
    lossless_alpha = alpha(str(buffers.get("ingress-lossless-buffer", {}).get("shared-alpha", "")))
    for draft in drafts.values():
        draft.alpha = lossless_alpha
    percent = qos.get("traffic-pool", {}).get("default-lossless", {}).get("memory-percent")
    reserved = sum((d.reserved_bytes or 0) * len(d.pfc) for d in drafts.values())
    buffer = shared(device, reserved, percent / 100) if isinstance(percent, int) else None
    return finish(device, _classification(qos, roce_mode is not None), drafts, buffer)


def _classification(qos: dict[str, Any], roce: bool) -> Classification:
    mapping = qos.get("mapping", {}).get("default-global", {})
    result = Classification()
    trust = mapping.get("trust", "both" if roce else "l2")
    if trust in ("l3", "both"):
        result.trust = "dscp"
    dscp = dict(DEFAULT_DSCP_TO_TC)
    for value, entry in mapping.get("dscp", {}).items():
        if "switch-priority" in entry:
            dscp[int(value)] = int(entry["switch-priority"])
    result.dscp_to_tc = dscp
    queues = qos.get("egress-queue-mapping", {}).get("default-global", {}).get("switch-priority", {})
    result.tc_to_queue = {sp: int(queues.get(sp, {}).get("traffic-class", sp)) for sp in range(8)}
    return result


def _port(device: LabDevice, tree: dict[Any, Any], port: str, roce_mode: str | None) -> PortDraft:
    qos = tree.get("qos", {})
    interface = tree.get("interface", {}).get(port, {})
    link = interface.get("link", {})
    speed = str(link.get("speed", ""))
    draft = PortDraft(mtu=link.get("mtu"), speed_gbps=int(speed[:-1]) if speed[:-1].isdigit() else None)
    port_qos = interface.get("qos", {})
    profile = qos.get("pfc", {}).get(port_qos.get("pfc", {}).get("profile"))
    if profile is not None:
        draft.pfc = {int(p) for p in profile.get("switch-priority", {})}
        _headroom(device, port, profile, draft)
    elif roce_mode == "lossless" and port.startswith("swp"):
        draft.pfc = {ROCE_PRIORITY}
        draft.derive(derived_headroom(device, port, draft.mtu, ROCE_CABLE_M))
    congestion = qos.get("congestion-control", {}).get(port_qos.get("congestion-control", {}).get("profile"))
    if congestion is not None:
        for tc, entry in congestion.get("traffic-class", {}).items():
            if entry.get("ecn") == "enable" and "min-threshold" in entry:
                draft.ecn[int(tc)] = ecn(entry["min-threshold"], entry.get("max-threshold", entry["min-threshold"]),
                                         entry.get("probability", 100))
    elif roce_mode is not None and port.startswith("swp"):
        draft.ecn[ROCE_PRIORITY] = ROCE_ECN
    if "pfc-watchdog" in port_qos:
        watchdog = qos.get("pfc-watchdog", {})
        poll = int(watchdog.get("polling-interval", DEFAULT_POLL_MS))
        draft.watchdog = WatchdogKnobs(detect_ms=poll * int(watchdog.get("robustness", DEFAULT_ROBUSTNESS)),
                                       restore_ms=poll, action="drop")
    return draft


def _headroom(device: LabDevice, port: str, profile: dict[str, Any], draft: PortDraft) -> None:
    if "xoff-threshold" in profile:
        draft.xoff_bytes = int(profile["xoff-threshold"])
        draft.xon_bytes = max(draft.xoff_bytes - int(profile.get("xon-threshold", 0)), 0)
        buffer = int(profile.get("port-buffer", draft.xoff_bytes))
        draft.headroom_bytes, draft.reserved_bytes = max(buffer - draft.xoff_bytes, 0), buffer
        return
    draft.derive(derived_headroom(device, port, draft.mtu, float(profile.get("cable-length", DEFAULT_CABLE_M))))
