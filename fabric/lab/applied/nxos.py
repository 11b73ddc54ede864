"""Cisco NX-OS: the running-config tree (ConfigNode) -> knobs (reference/lossless.md §4.1).

- Classification: the interface's ``service-policy type qos input`` policy; its classes' ``match dscp`` lists
  set ``qos-group N`` (qos-group N is egress queue N, c-out-8q-qN); unmatched traffic takes class-default's
  group. A policy matching only ``cos`` (or none) is PCP trust.
- PFC: ``priority-flow-control mode on`` on the interface, priorities = ``pause pfc-cos`` of the system
  network-qos policy. ``mode auto`` needs a DCBX peer the twin does not model: no PFC.
- Headroom: an input queuing policy's ``pause buffer-size B pause-threshold X resume-threshold Y`` is a static
  XOFF at X, XON at Y and B - X of headroom; without one NX-OS sizes it itself (the §1.3 formula).
- ECN: the interface's (else the system's) output queuing policy, ``random-detect ... ecn`` per class; bytes,
  kbytes and mbytes are binary (1024) units; ``drop-probability`` in %.
- Watchdog: ``priority-flow-control watch-dog-interval on`` (interface, else global). The timers are NX-OS
  defaults the lab cannot change: poll 100 ms x shutdown-multiplier 1 to detect, x auto-restore-multiplier 10
  to restore [defaults from the N9K QoS guide, unverified on hardware], action drop (the queue is shut).
"""

from __future__ import annotations

from fabric.lab.applied.common import Classification, PortDraft, derived_headroom, ecn, finish, int_list, majority
from fabric.lab.device import LabDevice
from fabric.lab.dialects.nxos import NxosState
from fabric.lab.dialects.nxos_config import ConfigNode
from fabric.lab.physics.knobs import DeviceKnobs, WatchdogKnobs

UNITS = {"bytes": 1, "kbytes": 1024, "mbytes": 1024 * 1024}
WATCHDOG = WatchdogKnobs(detect_ms=100 * 1, restore_ms=100 * 10, action="drop")


def _queue(class_name: str) -> int:
    """``c-out-8q-q3`` / ``c-in-q3`` / ``c-8q-nq3`` -> 3; the ``-default`` classes -> 0."""
    tail = class_name.rsplit("q", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def read(device: LabDevice) -> DeviceKnobs:
    state = device.config
    if not isinstance(state, NxosState):
        return DeviceKnobs(device=device.name)
    root = state.running
    blocks = {node.line: node for node in root.children}
    system = [node for node in root.children if node.line == "system qos"]

    def system_policy(kind: str) -> ConfigNode | None:
        for node in system:
            name = node.value("service-policy", "type", *kind.split())
            if name is not None:
                return blocks.get(f"policy-map type {kind.split()[0]} {name}")
        return None

    network = system_policy("network-qos")
    pfc_cos = {p for cls in (network.children if network else [])
               for p in int_list(cls.value("pause", "pfc-cos") or "")}
    global_watchdog = root.value("priority-flow-control", "watch-dog-interval") == "on"
    drafts: dict[str, PortDraft] = {}
    classes: dict[str, Classification] = {}
    policies: dict[str | None, Classification] = {}
    for port in device.inventory.interfaces:
        node = blocks.get(f"interface {port}", ConfigNode(f"interface {port}"))
        classify = node.value("service-policy", "type", "qos", "input")
        if classify not in policies:  # one per policy, not one per port
            policies[classify] = _classification(blocks, blocks.get(f"policy-map type qos {classify}"))
        classes[port] = policies[classify]
        output = node.value("service-policy", "type", "queuing", "output")
        egress = blocks.get(f"policy-map type queuing {output}") if output else system_policy("queuing output")
        pause = node.value("service-policy", "type", "queuing", "input")
        drafts[port] = _port(device, node, pfc_cos, egress, blocks.get(f"policy-map type queuing {pause}"),
                             global_watchdog)
    return finish(device, majority(classes), drafts)


def _classification(blocks: dict[str, ConfigNode], policy: ConfigNode | None) -> Classification:
    result = Classification()
    if policy is None:
        return result
    groups: dict[int, int] = {}
    default = 0
    for cls in policy.children:
        group = cls.value("set", "qos-group")
        if group is None:
            continue
        name = cls.line.split()[1]
        if name == "class-default":
            default = int(group)
            continue
        class_map = blocks.get(f"class-map type qos match-any {name}") or blocks.get(
            f"class-map type qos match-all {name}")
        for match in class_map.children if class_map else []:
            words = match.line.split()
            if words[:2] == ["match", "dscp"]:
                groups.update(dict.fromkeys(int_list(words[2]), int(group)))
    if groups:
        result.trust = "dscp"
        result.dscp_to_tc = {dscp: groups.get(dscp, default) for dscp in range(64)}
    return result


def _port(device: LabDevice, node: ConfigNode, pfc_cos: set[int], egress: ConfigNode | None,
          pause: ConfigNode | None, global_watchdog: bool) -> PortDraft:
    port = node.line.split()[1]
    mtu = node.value("mtu")
    draft = PortDraft(mtu=int(mtu) if mtu else None)
    if node.value("priority-flow-control", "mode") == "on":
        draft.pfc = set(pfc_cos)
    if draft.pfc:
        _headroom(device, port, pause, draft)
    for cls in egress.children if egress else []:
        for line in cls.children:
            words = line.line.split()
            if words[0] == "random-detect" and words[-1] == "ecn":
                draft.ecn[_queue(cls.line.split()[-1])] = ecn(
                    int(words[2]) * UNITS[words[3]], int(words[5]) * UNITS[words[6]], float(words[8]))
    watchdog = node.value("priority-flow-control", "watch-dog-interval")
    if watchdog == "on" or (watchdog is None and global_watchdog):
        draft.watchdog = WATCHDOG
    return draft


def _headroom(device: LabDevice, port: str, pause: ConfigNode | None, draft: PortDraft) -> None:
    for cls in pause.children if pause else []:
        line = cls.value("pause", "buffer-size")
        if line is not None and _queue(cls.line.split()[-1]) in draft.pfc:
            words = line.split()  # B pause-threshold X resume-threshold Y
            buffer, xoff, xon = int(words[0]), int(words[2]), int(words[4])
            draft.xoff_bytes, draft.xon_bytes = xoff, xon
            draft.headroom_bytes, draft.reserved_bytes = buffer - xoff, buffer
            return
    draft.derive(derived_headroom(device, port, draft.mtu))
