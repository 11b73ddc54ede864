"""NX-OS show commands that read state: version, PFC and queuing counters, bootflash listing.

Counters come from ``LabDevice.counters`` (canonical names, see ``fabric.lab.device.port_counter_names``);
modes, bitmaps, bandwidths and pause thresholds come from the running configuration, so a configuration
change shows in these tables as it does on a switch. Layouts follow NX-OS 9.x/10.x output on Nexus 9000
(lossless.md §4.2); the ``ECN Marked Pkts`` row is [unverified] (no public capture found).
"""

from __future__ import annotations

import re
import time
from datetime import datetime

from fabric.lab.device import LabDevice
from fabric.lab.dialects.nxos_config import BIOS_VERSION, NXOS_VERSION, ConfigNode, hostname, interface_sort_key

_BOX = "+" + "-" * 61 + "+"
_QUEUE_ROWS = (("Tx Pkts", "q{q}_tx_pkts"), ("Tx Byts", "q{q}_tx_bytes"),
               ("WRED/AFD & Tail Drop Pkts", "q{q}_drop_pkts"), ("WRED/AFD & Tail Drop Byts", "q{q}_drop_bytes"),
               ("Q Depth Byts", "q{q}_watermark_bytes"), ("ECN Marked Pkts", "q{q}_ecn_marked_pkts"))


def ports(device: LabDevice) -> list[str]:
    return sorted(device.inventory.interfaces, key=interface_sort_key)


def _cos_list(text: str) -> set[int]:
    result: set[int] = set()
    for part in text.split(","):
        low, _, high = part.partition("-")
        result.update(range(int(low), int(high or low) + 1))
    return result


def pfc_cos(root: ConfigNode) -> set[int]:
    """The no-drop CoS values of the system network-qos policy (``pause pfc-cos``)."""
    system = root.child("system qos")
    name = system.value("service-policy", "type", "network-qos") if system else None
    policy = root.child(f"policy-map type network-qos {name}") if name else None
    cos: set[int] = set()
    for cls in policy.children if policy else []:
        value = cls.value("pause", "pfc-cos")
        cos |= _cos_list(value) if value else set()
    return cos


def port_up(device: LabDevice, root: ConfigNode, port: str) -> bool:
    iface = root.child(f"interface {port}")
    shut = iface is not None and iface.value("shutdown") is not None
    return not shut and port not in device.link_down and not device.faults.active("link-down")


def pfc_table(device: LabDevice, root: ConfigNode) -> str:
    """``show interface priority-flow-control``: per port admin mode, oper state with VL bitmap, Rx/Tx PPP."""
    bitmap = sum(1 << cos for cos in pfc_cos(root))
    rule = "=" * 60
    lines = [rule, "Port               Mode Oper(VL bmap)  RxPPP      TxPPP     ", rule, ""]
    for port in ports(device):
        iface = root.child(f"interface {port}")
        mode = (iface.value("priority-flow-control", "mode") if iface else None) or "auto"
        oper = f"On  ({bitmap:x})" if mode == "on" and port_up(device, root, port) else "Off"
        counters = device.counters.port(port)
        rx = sum(counters.get(f"rx_pfc{p}_frames", 0) for p in range(8))
        tx = sum(counters.get(f"tx_pfc{p}_frames", 0) for p in range(8))
        lines.append(f"{port:<19}{mode.capitalize():<5}{oper:<14}{rx:<11}{tx:<10}")
    return "\n".join(lines)


def _queuing_policy(root: ConfigNode, port: str, direction: str) -> tuple[ConfigNode | None, str]:
    iface = root.child(f"interface {port}")
    name = iface.value("service-policy", "type", "queuing", direction) if iface else None
    where = "Interface"
    if name is None and direction == "output":
        system = root.child("system qos")
        name, where = (system.value("service-policy", "type", "queuing", "output") if system else None), "System"
    return (root.child(f"policy-map type queuing {name}") if name else None), where


def _queue_class(policy: ConfigNode | None, prefix: str, group: int) -> ConfigNode | None:
    name = f"{prefix}{group}" if group else f"{prefix}-default"
    return policy.child(f"class type queuing {name}") if policy else None


def _scheduling(policy: ConfigNode | None) -> list[str]:
    lines = ["-" * 77, "QoS-Group# Bandwidth% PrioLevel                Shape                   QLimit",
             "                                   Min          Max        Units   ", "-" * 77]
    for group in range(7, -1, -1):
        # without a policy the system default-out-policy applies: everything in q-default
        default = "100" if policy is None and group == 0 else "0"
        level, bandwidth = _class_scheduling(_queue_class(policy, "c-out-8q-q", group), default)
        lines.append(f"{group:>7}{bandwidth:>14}{level:>10}{'-':>12}{'-':>13}{'-':>6}{'6(D)':>16}")
    return lines


def _class_scheduling(cls: ConfigNode | None, default_bandwidth: str) -> tuple[str, str]:
    """(priority level, bandwidth %) of one egress queue class."""
    if cls is not None and cls.value("priority") is not None:
        return cls.value("priority", "level") or "1", "-"
    bandwidth = (cls.value("bandwidth", "remaining", "percent") or cls.value("bandwidth", "percent")) if cls else None
    return "-", bandwidth or default_bandwidth


def _group_box(counters: dict[str, int], group: int) -> list[str]:
    lines = [_BOX, f"|{' ' * 30}{f'QOS GROUP {group}':<31}|", _BOX,
             f"|{' ' * 27}|  Unicast       |Multicast       |", _BOX]
    for label, name in _QUEUE_ROWS:
        lines.append(f"|{label:>26} |{counters.get(name.format(q=group), 0):>16}|{0:>16}|")
    return [*lines, _BOX]


def _ingress(root: ConfigNode, counters: dict[str, int], port: str) -> list[str]:
    policy, _ = _queuing_policy(root, port, "input")
    lines = [f"Ingress Queuing for {port}", "-" * 53, "QoS-Group#                 Pause",
             "           Buff Size       Pause Th      Resume Th", "-" * 53]
    for group in range(7, -1, -1):
        cls = _queue_class(policy, "c-in-q", group)
        pause = cls.value("pause", "buffer-size") if cls else None
        values = re.findall(r"\d+", pause) if pause else ["-", "-", "-"]
        lines.append(f"{group:>7}{values[0]:>15}{values[1]:>13}{values[2]:>13}")
    lines += ["Per Port Ingress Statistics", "-" * 56, _stat("Hi Priority Drop Pkts", 0),
              _stat("Low Priority Drop Pkts", counters.get("rx_discards", 0)),
              _stat("Ingress Overflow Drop Pkts", counters.get("rx_discards", 0)), "-" * 56, ""]
    return lines


def _stat(label: str, value: int) -> str:
    return f"{label:<35}{value:>19}"


def _pfc_statistics(root: ConfigNode, counters: dict[str, int]) -> list[str]:
    no_drop = pfc_cos(root)
    tx = sum(counters.get(f"tx_pfc{p}_frames", 0) for p in range(8))
    rx = sum(counters.get(f"rx_pfc{p}_frames", 0) for p in range(8))
    rule = "-" * 78
    lines = ["PFC Statistics", rule, f"TxPPP: {tx:>20},   RxPPP: {rx:>20}", rule,
             "PFC_COS QOS_Group   TxPause             TxCount   RxPause             RxCount"]
    for cos in range(8):
        group = cos if cos in no_drop else 0
        lines.append(f"{cos:>7}{group:>10}  {'Inactive':<8}{counters.get(f'tx_pfc{cos}_frames', 0):>20}"
                     f"  {'Inactive':<8}{counters.get(f'rx_pfc{cos}_frames', 0):>20}")
    return [*lines, rule]


def queuing_interface(device: LabDevice, root: ConfigNode, port: str) -> str:
    """``show queuing interface ethernetX/Y``: egress scheduling and per QoS-group counters, ingress pause
    thresholds and drops, PFC frames per CoS."""
    counters = device.counters.port(port)
    policy, where = _queuing_policy(root, port, "output")
    lines = ["slot  1", "=======", "", "", f"Egress Queuing for {port} [{where}]", *_scheduling(policy)]
    for group in range(8):
        lines += _group_box(counters, group)
    wred = sum(counters.get(f"q{q}_wred_drop_pkts", 0) for q in range(8))
    lines += ["Port Egress Statistics", "-" * 56, _stat("Pause Flush Drop Pkts", 0), _stat("WRED Drop Pkts", wred),
              "-" * 56, "", *_ingress(root, counters, port), *_pfc_statistics(root, counters)]
    return "\n".join(lines)


def version(device: LabDevice, root: ConfigNode) -> str:
    """``show version``, the lines napalm's get_facts and operators read."""
    up = int(time.time() - device.counters.boot_time)
    days, rest = divmod(up, 86400)
    uptime = f"{days} day(s), {rest // 3600} hour(s), {rest % 3600 // 60} minute(s), {rest % 60} second(s)"
    return "\n".join([
        "Cisco Nexus Operating System (NX-OS) Software", "TAC support: http://www.cisco.com/tac",
        "Copyright (C) 2002-2023, Cisco and/or its affiliates.", "All rights reserved.", "",
        "Software", f"  BIOS: version {BIOS_VERSION}", f"  NXOS: version {NXOS_VERSION} [Maintenance Release]",
        f"  NXOS image file is: bootflash:///nxos64-cs.{NXOS_VERSION.replace('(', '.').rstrip(')')}.M.bin", "",
        "Hardware", "  cisco Nexus9000 C9364C-GX Chassis", "  Intel(R) Xeon(R) CPU D-1633N @ 2.50GHz with "
        "32803148 kB of memory.", "", f"  Device name: {hostname(root)}", "  bootflash:  115805708 kB", "",
        f"Kernel uptime is {uptime}"])


def dir_listing(files: dict[str, tuple[int, datetime]], name: str | None) -> str:
    """``dir [file]``: size, time and name per file, then the usage summary."""
    if name is not None and name not in files:
        return "No such file or directory"
    shown = [name] if name is not None else sorted(files)
    lines = [f"{files[n][0]:>11}    {files[n][1]:%b %d %H:%M:%S %Y}  {n}" for n in shown]
    used = sum(size for size, _ in files.values()) + 6211682304
    total = 116526366720
    return "\n".join([*lines, "", "Usage for bootflash://sup-local", f"{used:>12} bytes used",
                      f"{total - used:>12} bytes free", f"{total:>12} bytes total"])
