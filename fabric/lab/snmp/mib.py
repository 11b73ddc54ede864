"""One switch's MIB view: every object instance in lexicographic OID order, each read live from the device.

Served (reference/lossless.md §8, §1.7):
- SNMPv2-MIB system group ``1.3.6.1.2.1.1`` (sysUpTime from ``device.counters.uptime_ticks()``)
- IF-MIB ifNumber, ifTable ``1.3.6.1.2.1.2.2.1`` (Counter32) and ifXTable ``1.3.6.1.2.1.31.1.1.1`` (Counter64)
- CISCO-SWITCH-QOS-MIB csqIfQosGroupStatsValue ``1.3.6.1.4.1.9.9.580.1.5.5.1.4.<ifIndex>.<dir>.<queue>.<stat>``,
  indexed as sonic-snmpagent does: direction 2 (egress), queue 1-based, stat 1-8 (UC/MC pkts, bytes, drops)
- CISCO-PFC-EXT-MIB cpfcIfTable ``.813.1.1.1.{1,2}`` and cpfcIfPriorityTable ``.813.1.2.1.{2,3}.<ifIndex>.<prio>``
- IEEE8021-PFC-MIB ieee8021PfcRequests/Indications ``1.3.111.2.802.1.1.21.1.1.1.{2,3}.<ifIndex>``

Faults: ``counter-wrap`` serves every Counter32 as (value + 2^32 - 1000) mod 2^32, so it wraps after 1000
more events; ``link-down`` (or a port in ``device.link_down``) makes ifOperStatus down(2). ``counter-reset``
needs nothing here: the twin zeroes the counters the getters read.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from typing import Any

from pysnmp.proto import rfc1902, rfc1905

from fabric.lab.device import LabDevice
from fabric.lab.snmp.identity import IDENTITIES, if_indexes, sys_descr

Oid = tuple[int, ...]
Getter = Callable[[], Any]

SYSTEM = (1, 3, 6, 1, 2, 1, 1)
IF_NUMBER = (1, 3, 6, 1, 2, 1, 2, 1)
IF_ENTRY = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IFX_ENTRY = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
CSQ_STATS_VALUE = (1, 3, 6, 1, 4, 1, 9, 9, 580, 1, 5, 5, 1, 4)
CPFC_IF_ENTRY = (1, 3, 6, 1, 4, 1, 9, 9, 813, 1, 1, 1)
CPFC_PRIORITY_ENTRY = (1, 3, 6, 1, 4, 1, 9, 9, 813, 1, 2, 1)
IEEE_PFC_IF_ENTRY = (1, 3, 111, 2, 802, 1, 1, 21, 1, 1, 1)

EGRESS = 2
WRAP_OFFSET = 2**32 - 1000
UP, DOWN = 1, 2
ETHERNET_CSMACD = 6

# ifTable / ifXTable counter columns -> canonical counter name (fabric.lab.device.port_counter_names)
IF_COUNTERS = {10: "rx_octets", 11: "rx_ucast_pkts", 13: "rx_discards", 14: "rx_errors",
               16: "tx_octets", 17: "tx_ucast_pkts", 19: "tx_discards", 20: "tx_errors"}
IFX_COUNTERS = {6: "rx_octets", 7: "rx_ucast_pkts", 10: "tx_octets", 11: "tx_ucast_pkts"}
# csqIfQosGroupStatsType -> queue counter suffix; multicast (3, 4, 7, 8) is 0: the lab carries no multicast
CSQ_STATS = {1: "tx_pkts", 2: "tx_bytes", 3: None, 4: None, 5: "drop_pkts", 6: "drop_bytes", 7: None, 8: None}
PFC_TX = tuple(f"tx_pfc{p}_frames" for p in range(8))
PFC_RX = tuple(f"rx_pfc{p}_frames" for p in range(8))


class DeviceMib:
    """The object instances of one switch, sorted; ``get``/``next`` answer a GET or GETNEXT for one varbind."""

    def __init__(self, device: LabDevice) -> None:
        self.device = device
        entries = sorted(_instances(device), key=lambda entry: entry[0])
        self.oids: list[Oid] = [oid for oid, _ in entries]
        self.names = [rfc1902.ObjectName(oid) for oid in self.oids]
        self.getters: list[Getter] = [getter for _, getter in entries]
        self.position = {oid: n for n, oid in enumerate(self.oids)}
        self.objects = _objects(self.oids)
        if len(self.position) != len(self.oids):
            raise ValueError(f"{device.name}: two ports share an ifIndex")

    def get(self, oid: Oid) -> Any:
        """The value of ``oid``, or noSuchInstance/noSuchObject as SNMPv2 GET answers."""
        n = self.position.get(oid)
        if n is not None:
            return self.getters[n]()
        if any(oid[:k] in self.objects for k in range(len(oid) - 1, len(SYSTEM) - 1, -1)):
            return rfc1905.noSuchInstance
        return rfc1905.noSuchObject

    def next(self, oid: Oid) -> tuple[Any, Any] | None:
        """The (name, value) of the first instance after ``oid``; None past the last one (endOfMibView)."""
        n = bisect_right(self.oids, oid)
        if n == len(self.oids):
            return None
        return self.names[n], self.getters[n]()


def _objects(oids: list[Oid]) -> set[Oid]:
    """The OIDs of the served object types (scalars and columns): a GET below one is noSuchInstance."""
    tables = (IF_ENTRY, IFX_ENTRY, CPFC_IF_ENTRY, CPFC_PRIORITY_ENTRY, IEEE_PFC_IF_ENTRY)
    columns = {oid[:len(t) + 1] for oid in oids for t in tables if oid[:len(t)] == t}
    scalars = {oid[:-1] for oid in oids if oid[:len(SYSTEM)] == SYSTEM or oid[:-1] == IF_NUMBER}
    return columns | scalars | {CSQ_STATS_VALUE}


def _instances(device: LabDevice) -> list[tuple[Oid, Getter]]:
    ports = device.inventory.interfaces
    found = [*_system(device), ((*IF_NUMBER, 0), _const(rfc1902.Integer32(len(ports))))]
    for port, i in if_indexes(device, ports).items():
        found += _interface(device, port, i) + _ieee_pfc(device, port, i)
        if IDENTITIES[device.platform].cisco_mibs:
            found += _cisco_pfc(device, port, i) + _queues(device, port, i)
    return found


def _system(device: LabDevice) -> list[tuple[Oid, Getter]]:
    identity = IDENTITIES[device.platform]
    values = {1: _const(rfc1902.OctetString(sys_descr(device))),
              2: _const(rfc1902.ObjectIdentifier(identity.object_id)),
              3: lambda: rfc1902.TimeTicks(device.counters.uptime_ticks() % 2**32),
              4: _const(rfc1902.OctetString("")),  # sysContact, unset as after boot
              5: _const(rfc1902.OctetString(device.name)),
              6: _const(rfc1902.OctetString("")),  # sysLocation
              7: _const(rfc1902.Integer32(6))}  # sysServices: datalink + internet
    return [((*SYSTEM, column, 0), getter) for column, getter in values.items()]


def _interface(device: LabDevice, port: str, i: int) -> list[tuple[Oid, Getter]]:
    """ifTable and ifXTable columns of one port."""
    spec = device.inventory.interfaces[port]
    speed_mbps = int(spec.speed_gbps * 1000)
    if_entry = {1: _const(rfc1902.Integer32(i)), 2: _const(rfc1902.OctetString(port)),
                3: _const(rfc1902.Integer32(ETHERNET_CSMACD)),
                4: _const(rfc1902.Integer32(spec.mtu or IDENTITIES[device.platform].boot_mtu)),
                5: _const(rfc1902.Gauge32(min(speed_mbps * 1_000_000, 2**32 - 1))),
                7: _const(rfc1902.Integer32(UP)),
                8: lambda: rfc1902.Integer32(DOWN if _link_down(device, port) else UP)}
    if_entry |= {column: _counter32(device, port, (name,)) for column, name in IF_COUNTERS.items()}
    ifx_entry = {1: _const(rfc1902.OctetString(port)), 15: _const(rfc1902.Gauge32(speed_mbps)),
                 18: _const(rfc1902.OctetString(spec.description or ""))}
    ifx_entry |= {column: _counter64(device, port, (name,)) for column, name in IFX_COUNTERS.items()}
    return ([((*IF_ENTRY, column, i), getter) for column, getter in if_entry.items()]
            + [((*IFX_ENTRY, column, i), getter) for column, getter in ifx_entry.items()])


def _ieee_pfc(device: LabDevice, port: str, i: int) -> list[tuple[Oid, Getter]]:
    """IEEE8021-PFC-MIB per-port totals (32-bit), which every platform serves."""
    return [((*IEEE_PFC_IF_ENTRY, 2, i), _counter32(device, port, PFC_TX)),
            ((*IEEE_PFC_IF_ENTRY, 3, i), _counter32(device, port, PFC_RX))]


def _cisco_pfc(device: LabDevice, port: str, i: int) -> list[tuple[Oid, Getter]]:
    """CISCO-PFC-EXT-MIB per-port totals (64-bit) and per-priority table."""
    found: list[tuple[Oid, Getter]] = [((*CPFC_IF_ENTRY, 1, i), _counter64(device, port, PFC_TX)),
             ((*CPFC_IF_ENTRY, 2, i), _counter64(device, port, PFC_RX))]
    for p in range(8):
        found += [((*CPFC_PRIORITY_ENTRY, 2, i, p), _counter64(device, port, (PFC_TX[p],))),
                  ((*CPFC_PRIORITY_ENTRY, 3, i, p), _counter64(device, port, (PFC_RX[p],)))]
    return found


def _queues(device: LabDevice, port: str, i: int) -> list[tuple[Oid, Getter]]:
    """csqIfQosGroupStatsValue of the port's 8 egress queues."""
    return [((*CSQ_STATS_VALUE, i, EGRESS, q + 1, stat),
             _counter64(device, port, (f"q{q}_{suffix}",) if suffix else ()))
            for q in range(8) for stat, suffix in CSQ_STATS.items()]


def _const(value: Any) -> Getter:
    return lambda: value


def _link_down(device: LabDevice, port: str) -> bool:
    return port in device.link_down or device.faults.active("link-down")


def _total(device: LabDevice, port: str, names: tuple[str, ...]) -> int:
    values = device.counters.ports.get(port, {})
    return sum(values.get(name, 0) for name in names)


def _counter32(device: LabDevice, port: str, names: tuple[str, ...]) -> Getter:
    def read() -> Any:
        value = _total(device, port, names)
        if device.faults.active("counter-wrap"):
            value += WRAP_OFFSET
        return rfc1902.Counter32(value % 2**32)
    return read


def _counter64(device: LabDevice, port: str, names: tuple[str, ...]) -> Getter:
    return lambda: rfc1902.Counter64(_total(device, port, names) % 2**64)
