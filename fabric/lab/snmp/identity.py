"""How each switch platform introduces itself over SNMP: sysDescr, sysObjectID, ifIndex scheme, boot MTU.

ifIndex follows the real numbering where it is documented, so a poller must map names through ifName
rather than assume 1..N: SONiC ``EthernetN`` -> N+1 (sonic-snmpagent ``mibs.get_index_from_str``), NX-OS
``Ethernet<s>/<p>`` -> 0x1A000000 + (s-1)<<19 + (p-1)<<12 (Ethernet1/1 = 436207616), EOS ``Ethernet<m>/<p>``
-> m*1000+p and ``Ethernet<n>`` -> n. Cumulus numbers swp ports after lo and eth0 (kernel ifindex), Comware
and CloudEngine in port order. sysObjectIDs sit under each vendor's enterprise number (net-snmp's Linux OID
for SONiC, whose snmpd answers the system group).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from fabric.lab.device import LabDevice

IfIndexer = Callable[[list[str]], dict[str, int]]


def _position(name: str) -> tuple[tuple[int, ...], str]:
    """Sort key: the port's slot/port numbers (``400GE1/0/2`` -> (1, 0, 2)), so speed prefixes do not reorder."""
    match = re.search(r"(\d+(?:/\d+)*)$", name)
    return (tuple(int(n) for n in match.group(1).split("/")) if match else (), name)


def _sequential(first: int) -> IfIndexer:
    def index(ports: list[str]) -> dict[str, int]:
        return {port: first + n for n, port in enumerate(sorted(ports, key=_position))}
    return index


def _by_pattern(pattern: str, formula: Callable[..., int]) -> IfIndexer:
    """Ports matching ``pattern`` get ``formula(*numbers)``; any other port a free index after them."""
    regex = re.compile(pattern)

    def index(ports: list[str]) -> dict[str, int]:
        result: dict[str, int] = {}
        for port in ports:
            match = regex.fullmatch(port)
            if match:
                result[port] = formula(*(int(g) for g in match.groups()))
        spare = max(result.values(), default=0) + 1
        for port in sorted((p for p in ports if p not in result), key=_position):
            result[port], spare = spare, spare + 1
        return result
    return index


def _eos(ports: list[str]) -> dict[str, int]:
    plain = _by_pattern(r"Ethernet(\d+)", lambda n: n)([p for p in ports if "/" not in p])
    modular = _by_pattern(r"Ethernet(\d+)/(\d+)", lambda m, p: m * 1000 + p)([p for p in ports if "/" in p])
    return {**plain, **modular}


@dataclass(frozen=True)
class Identity:
    """One platform's SNMP self-description."""

    descr: str  # sysDescr; {hwsku} is filled per device
    object_id: tuple[int, ...]
    if_index: IfIndexer
    boot_mtu: int  # ifMtu of a port the inventory gives no MTU (factory default)
    # CISCO-PFC-EXT-MIB and CISCO-SWITCH-QOS-MIB: served by NX-OS and by SONiC's snmpagent (lossless.md §1.7);
    # the other platforms give per-priority PFC and per-queue counters only through their CLI or gNMI.
    cisco_mibs: bool = False


IDENTITIES: dict[str, Identity] = {
    "sonic": Identity(
        "SONiC Software Version: SONiC.202311.1-fabriclab - HwSku: {hwsku} - Distribution: Debian 12.5 - "
        "Kernel: 6.1.0-11-2-amd64", (1, 3, 6, 1, 4, 1, 8072, 3, 2, 10),
        _by_pattern(r"Ethernet(\d+)", lambda n: n + 1), 9100, cisco_mibs=True),
    "nvue": Identity(
        "Cumulus-Linux 5.9.1 (Linux Kernel 6.1.38-cl-1-amd64)", (1, 3, 6, 1, 4, 1, 40310),
        _sequential(3), 9216),
    "eos": Identity(
        "Arista Networks EOS version 4.32.2F running on an Arista Networks DCS-7060DX5-64S",
        (1, 3, 6, 1, 4, 1, 30065, 1, 3011, 7060, 2561, 64), _eos, 9214),
    "nxos": Identity(
        "Cisco NX-OS(tm) n9000, Software (NXOS 64-bit), Version 10.3(4a), RELEASE SOFTWARE Copyright (c) "
        "2002-2023 by Cisco Systems, Inc. Compiled 9/27/2023 6:00:00", (1, 3, 6, 1, 4, 1, 9, 12, 3, 1, 3, 2162),
        _by_pattern(r"Ethernet(\d+)/(\d+)", lambda s, p: 0x1A000000 + ((s - 1) << 19) + ((p - 1) << 12)), 1500,
        cisco_mibs=True),
    "comware": Identity(
        "H3C Comware Platform Software, Software Version 7.1.070, Release 6710\r\nH3C S9855-48CD8D\r\n"
        "Copyright (c) 2004-2023 New H3C Technologies Co., Ltd. All rights reserved.",
        (1, 3, 6, 1, 4, 1, 25506, 1, 2713), _sequential(1), 1500),
    "huawei_ce": Identity(
        "Huawei Versatile Routing Platform Software\r\nVRP (R) software, Version 8.220 (CE9860 V300R022C00SPC500)"
        "\r\nCopyright (C) 2012-2023 Huawei Technologies Co., Ltd.\r\nHUAWEI CE9860-4C-EI\r\n",
        (1, 3, 6, 1, 4, 1, 2011, 2, 239, 71), _sequential(1), 1500),
}

SONIC_HWSKU = {"spectrum2": "ACS-MSN3800", "spectrum3": "ACS-MSN4700", "spectrum4": "ACS-SN5600",
               "tomahawk3": "Arista-7060DX4-C64", "tomahawk4": "Arista-7060DX5-64S",
               "trident3": "Arista-7050CX3-32S-C32"}


def has_agent(device: LabDevice) -> bool:
    """Whether the twin serves SNMP for ``device``: every switch platform above (not hosts, not IB switches)."""
    return device.platform in IDENTITIES


def sys_descr(device: LabDevice) -> str:
    return IDENTITIES[device.platform].descr.format(hwsku=SONIC_HWSKU.get(device.inventory.asic or "", "ACS-MSN4700"))


def if_indexes(device: LabDevice, ports: Iterable[str]) -> dict[str, int]:
    """ifIndex of every port of ``device``."""
    return IDENTITIES[device.platform].if_index(list(ports))
