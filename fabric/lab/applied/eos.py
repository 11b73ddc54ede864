"""Arista EOS: the running-config tree (fabric.lab.eos_config Blocks) -> knobs (reference/lossless.md §3.1).

A port's settings are its ``service-profile``'s overlaid by its own lines (EOS applies both; the interface wins).
- ``qos map dscp .. to traffic-class N`` over EOS's default map (DSCP/8, DSCP 0-7 -> TC 1, the cos 0 -> TC 1
  default); ``qos map traffic-class .. to tx-queue N`` over identity. ``qos trust dscp|cos``; unset, routed
  ports trust DSCP and switched ports CoS.
- PFC: ``priority-flow-control on`` with ``priority N no-drop``; EOS sizes headroom itself: the §1.3 formula.
- ECN: ``random-detect ecn minimum-threshold A U maximum-threshold B U [max-mark-probability P]`` on
  ``[uc-]tx-queue N``; units bytes, kbytes, mbytes (binary), segments (the ASIC's cells), milliseconds (at port
  speed).
- Watchdog: ``priority-flow-control pause watchdog`` in the profile/interface; timers from the port ``timer``
  line or the global ``default timeout/recovery-time``; ``port action notify-only`` -> alert, global
  ``action no-drop`` -> forward.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fabric.lab.applied.common import (
    Action,
    Classification,
    PortDraft,
    cell_bytes,
    derived_headroom,
    ecn,
    finish,
    majority,
    speed_of,
)
from fabric.lab.device import LabDevice
from fabric.lab.eos_config import Block
from fabric.lab.eos_state import EosState
from fabric.lab.physics.knobs import DeviceKnobs, EcnKnobs, WatchdogKnobs

UNITS = {"bytes": 1, "kbytes": 1024, "mbytes": 1024 * 1024}
EOS_DEFAULT_DSCP_TO_TC = {dscp: dscp >> 3 if dscp >= 8 else 1 for dscp in range(64)}


@dataclass
class Settings:
    """The lines of a qos profile or an interface that matter here, flattened to word lists."""

    lines: list[list[str]] = field(default_factory=list)
    queues: dict[int, list[list[str]]] = field(default_factory=dict)
    heads: dict[tuple[str, ...], list[list[str]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for words in self.lines:  # by first two words: a lookup scans a handful of lines, not all of them
            self.heads.setdefault(tuple(words[:2]), []).append(words)
            self.heads.setdefault(tuple(words[:1]), []).append(words)

    def overlay(self, other: Settings) -> Settings:
        queues = {**self.queues, **other.queues}
        return Settings(self.lines + other.lines, queues)

    def find(self, *prefix: str) -> list[str] | None:
        """The last line starting with ``prefix`` (a later line overrides an earlier one)."""
        wanted = list(prefix)
        found = None
        for words in self.heads.get(prefix[:2] if len(prefix) > 1 else prefix, []):
            if words[:len(wanted)] == wanted:
                found = words
        return found


def _settings(block: Block | None) -> Settings:
    if block is None:
        return Settings()
    queues = {int(child.header.split()[1]): [text.split() for _, _, text in child.lines.values()]
              for child in block.children.values() if child.mode == "queue"}
    return Settings([text.split() for _, _, text in block.lines.values()], queues)


def read(device: LabDevice) -> DeviceKnobs:
    state = device.config
    if not isinstance(state, EosState):
        return DeviceKnobs(device=device.name)
    root = state.running
    profiles = {child.header.split()[2]: child for child in root.children.values() if child.mode == "qos-profile"}
    interfaces = {child.header.split()[1]: child for child in root.children.values() if child.mode == "interface"}
    top = _settings(root)
    dscp_to_tc, tc_to_queue = dict(EOS_DEFAULT_DSCP_TO_TC), {tc: tc for tc in range(8)}
    for (_, head, tail), entries in root.maps.items():
        target = dscp_to_tc if (head, tail) == ("qos map dscp", "to traffic-class") else \
            tc_to_queue if (head, tail) == ("qos map traffic-class", "to tx-queue") else None
        if target is not None:
            target.update({int(k): int(v) for k, v in entries.items()})
    drafts: dict[str, PortDraft] = {}
    classes: dict[str, Classification] = {}
    profile_settings: dict[str, Settings] = {}
    for port in device.inventory.interfaces:
        own = _settings(interfaces.get(port))
        profile = own.find("service-profile")
        name = profile[1] if profile else ""
        if name not in profile_settings:
            profile_settings[name] = _settings(profiles.get(name))
        settings = profile_settings[name].overlay(own)
        classes[port] = Classification("dscp" if _trusts_dscp(settings, own) else "pcp", dscp_to_tc, tc_to_queue)
        drafts[port] = _port(device, port, settings, top)
    return finish(device, majority(classes), drafts)


def _trusts_dscp(settings: Settings, own: Settings) -> bool:
    """The last trust statement (the interface's overrides its profile's); unset, a routed port (``no
    switchport``) trusts DSCP and a switched port CoS, as EOS defaults them."""
    trust = [w for w in settings.lines if w[:2] == ["qos", "trust"] or w == ["no", "qos", "trust"]]
    if trust:
        return trust[-1] == ["qos", "trust", "dscp"]
    return ["no", "switchport"] in own.lines


def _port(device: LabDevice, port: str, settings: Settings, top: Settings) -> PortDraft:
    mtu = settings.find("mtu")
    draft = PortDraft(mtu=int(mtu[1]) if mtu else None)
    if settings.find("priority-flow-control", "on"):
        draft.pfc = {int(w[2]) for w in settings.lines if w[:2] == ["priority-flow-control", "priority"]
                     and w[3] == "no-drop"}
    if draft.pfc:
        draft.derive(derived_headroom(device, port, draft.mtu))
    for queue, lines in settings.queues.items():
        for words in lines:
            if words[:3] == ["random-detect", "ecn", "minimum-threshold"]:
                draft.ecn[queue] = _ecn(device, port, words)
    if ["priority-flow-control", "pause", "watchdog"] in settings.lines:
        draft.watchdog = _watchdog(settings, top)
    return draft


def _ecn(device: LabDevice, port: str, words: list[str]) -> EcnKnobs:
    low, high = _bytes(device, port, words[3], words[4]), _bytes(device, port, words[6], words[7])
    pmax = float(words[words.index("max-mark-probability") + 1]) if "max-mark-probability" in words else 100.0
    return ecn(low, high, pmax)


def _bytes(device: LabDevice, port: str, value: str, unit: str) -> float:
    if unit == "segments":
        return float(value) * cell_bytes(device, 208)
    if unit == "milliseconds":
        return float(value) * speed_of(device, port) * 1e9 / 8 / 1000
    return float(value) * UNITS[unit]


def _watchdog(settings: Settings, top: Settings) -> WatchdogKnobs:
    defaults = WatchdogKnobs()
    timer = settings.find("priority-flow-control", "pause", "watchdog", "port", "timer")
    timeout = top.find("priority-flow-control", "pause", "watchdog", "default", "timeout")
    recovery = top.find("priority-flow-control", "pause", "watchdog", "default", "recovery-time")
    detect_s = float(timer[6]) if timer else float(timeout[5]) if timeout else defaults.detect_ms / 1000
    restore_s = float(timer[timer.index("recovery-time") + 1]) if timer else \
        float(recovery[5]) if recovery else defaults.restore_ms / 1000
    port_action = settings.find("priority-flow-control", "pause", "watchdog", "port", "action")
    global_action = top.find("priority-flow-control", "pause", "watchdog", "action")
    action: Action = "alert" if port_action and port_action[5] == "notify-only" else \
        "forward" if not port_action and global_action and global_action[4] == "no-drop" else "drop"
    return WatchdogKnobs(detect_ms=round(detect_s * 1000), restore_ms=round(restore_s * 1000), action=action)
