"""The twin's SNMP agent, read by two real managers: net-snmp (snmpget/snmpgetnext/snmpbulkwalk) and pysnmp."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest

from fabric.inventory.models import Device
from fabric.lab.control import Lab
from fabric.lab.snmp import load_credentials
from tests.conftest import INVENTORIES

SWITCHES = {"spine1": "nxos", "spine2": "huawei_ce", "leaf1": "sonic", "leaf2": "nvue", "leaf3": "eos",
            "leaf4": "comware"}
ENTERPRISE = {"nxos": "9", "huawei_ce": "2011", "sonic": "8072", "nvue": "40310", "eos": "30065", "comware": "25506"}
SYS = ".1.3.6.1.2.1.1"
IF_ENTRY = ".1.3.6.1.2.1.2.2.1"
IFX_ENTRY = ".1.3.6.1.2.1.31.1.1.1"
CPFC_PRIO = ".1.3.6.1.4.1.9.9.813.1.2.1"
CSQ_VALUE = ".1.3.6.1.4.1.9.9.580.1.5.5.1.4"
IEEE_PFC = ".1.3.111.2.802.1.1.21.1.1.1"
END = "endOfMibView"

Var = tuple[str, Any]  # (net-snmp type word, value)


# -- net-snmp ----------------------------------------------------------------------------------------------

def netsnmp(lab: Lab, device: str, tool: str, *args: str, v3: bool = False, timeout_s: float = 2.0,
            community: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run a net-snmp tool against ``device`` (v2c, or v3 authPriv SHA/AES) with numeric OIDs."""
    ep, creds = lab.endpoint(device, "snmp"), load_credentials(lab)
    auth = (["-v3", "-l", "authPriv", "-u", creds.user, "-a", "SHA", "-A", creds.auth_key, "-x", "AES",
             "-X", creds.priv_key] if v3 else ["-v2c", "-c", community or creds.community])
    return subprocess.run([tool, *auth, "-On", "-t", str(timeout_s), "-r", "0", f"udp:{ep['address']}:{ep['port']}",
                           *args], capture_output=True, text=True, timeout=30)


VARBIND = re.compile(r"^(\.[\d.]+) = (?:([\w-]+): )?(.*)$")
EXCEPTIONS = {"No Such Instance": "noSuchInstance", "No Such Object": "noSuchObject", "No more variables": END}


def parse(text: str) -> list[tuple[str, Var]]:
    """net-snmp's ``OID = TYPE: value`` lines as [(oid, (type, value))]; multi-line strings are joined."""
    found: list[tuple[str, Var]] = []
    for line in text.split("\n"):
        match = VARBIND.match(line)
        if match:
            found.append((match.group(1), _value(match.group(2) or "STRING", match.group(3))))
        elif found and line:
            oid, (kind, value) = found[-1]
            found[-1] = (oid, (kind, f"{value}\n{line}"))
    return [(oid, (kind, value.strip('"') if kind == "STRING" else value)) for oid, (kind, value) in found]


def _value(kind: str, value: str) -> Var:
    for text, exception in EXCEPTIONS.items():
        if value.startswith(text):
            return exception, None
    if kind == "Timeticks":
        return kind, int(value[1:value.index(")")])
    if kind in ("INTEGER", "Counter32", "Counter64", "Gauge32"):
        return kind, int(value)
    return kind, value


def get(lab: Lab, device: str, *oids: str, v3: bool = False) -> dict[str, Var]:
    result = netsnmp(lab, device, "snmpget", *oids, v3=v3)
    assert result.returncode == 0, result.stderr
    return dict(parse(result.stdout))


def walk(lab: Lab, device: str, oid: str = ".1", v3: bool = False) -> dict[str, Var]:
    """snmpbulkwalk below ``oid``; a walk of the whole view must end in endOfMibView (left out of the result)."""
    result = netsnmp(lab, device, "snmpbulkwalk", "-Cr25", oid, v3=v3)
    assert result.returncode == 0, result.stderr
    found = parse(result.stdout)
    if oid == ".1":
        assert found[-1][1] == (END, None) and found[-2][0] == found[-1][0]
        found.pop()
    assert all(kind != END for _, (kind, _) in found)
    return dict(found)


def column(lab: Lab, device: str, base: str, col: int) -> dict[int, Any]:
    """One column of an ifIndex-indexed table as {ifIndex: value}."""
    prefix = f"{base}.{col}."
    return {int(oid[len(prefix):]): value for oid, (_, value) in walk(lab, device, f"{base}.{col}").items()
            if oid.startswith(prefix)}


# -- pysnmp ------------------------------------------------------------------------------------------------

PYSNMP_TYPES = {"Integer32": "INTEGER", "Integer": "INTEGER", "OctetString": "STRING", "ObjectIdentifier": "OID",
                "TimeTicks": "Timeticks", "Counter32": "Counter32", "Counter64": "Counter64", "Gauge32": "Gauge32"}


def pysnmp_walk(lab: Lab, device: str) -> dict[str, Var]:
    """The whole agent through pysnmp's bulk walk (v2c), in net-snmp's vocabulary."""
    from pysnmp.hlapi.v3arch.asyncio import (
        CommunityData,
        ContextData,
        ObjectIdentity,
        ObjectType,
        SnmpEngine,
        UdpTransportTarget,
        bulk_walk_cmd,
    )

    async def run() -> dict[str, Var]:
        engine, ep = SnmpEngine(), lab.endpoint(device, "snmp")
        target = await UdpTransportTarget.create((ep["address"], ep["port"]), timeout=2, retries=0)
        found: dict[str, Var] = {}
        async for error, status, _, var_binds in bulk_walk_cmd(
                engine, CommunityData(load_credentials(lab).community), target, ContextData(), 0, 25,
                ObjectType(ObjectIdentity("1.3.6")), lookupMib=False, lexicographicMode=True):
            assert not error and not status, (error, status)
            for name, value in var_binds:
                kind = PYSNMP_TYPES[type(value).__name__]
                text = "." + str(value) if kind == "OID" else value.prettyPrint()
                found["." + str(name)] = (kind, text if kind in ("STRING", "OID") else int(value))
        engine.close_dispatcher()
        return found

    return asyncio.run(run())


# -- inventory and polling ---------------------------------------------------------------------------------

@cache
def inventory() -> dict[str, Device]:
    from fabric.intent.check import validate_inventory

    fabric = validate_inventory(str(INVENTORIES / "lab-roce")).fabric
    assert fabric is not None
    return dict(fabric.devices)


def if_index(lab: Lab, device: str) -> dict[str, int]:
    return {name: index for index, name in column(lab, device, IFX_ENTRY, 1).items()}


def eventually(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def timed_out(result: subprocess.CompletedProcess[str]) -> bool:
    return result.returncode != 0 and "Timeout" in result.stderr


# -- the session twin: read-only, or exact against the values the control channel reports ------------------

def test_every_switch_has_an_snmp_endpoint_and_status_prints_no_secret(twin: Lab) -> None:
    status = twin.status()
    for name, device in status["devices"].items():
        snmp = [e for e in device["endpoints"] if e["protocol"] == "snmp"]
        assert len(snmp) == (1 if name in SWITCHES else 0), name
    ep = twin.endpoint("leaf1", "snmp")
    assert ep["address"] == "127.0.1.11" and ep["v3_user"] == "fabric" and ep["versions"] == ["2c", "3"]
    creds, text = load_credentials(twin), json.dumps(status) + (twin.state_dir / "lab.json").read_text()
    for secret in (creds.community, creds.auth_key, creds.priv_key, twin.password):
        assert secret not in text


@pytest.mark.parametrize("device", sorted(SWITCHES))
def test_system_group(twin: Lab, device: str) -> None:
    values = get(twin, device, *(f"{SYS}.{n}.0" for n in (1, 2, 3, 5)), v3=device.startswith("spine"))
    assert values[f"{SYS}.5.0"] == ("STRING", device)
    kind, object_id = values[f"{SYS}.2.0"]
    assert kind == "OID" and f"{object_id}.".startswith(f".1.3.6.1.4.1.{ENTERPRISE[SWITCHES[device]]}.")
    assert values[f"{SYS}.1.0"][1]
    kind, ticks = values[f"{SYS}.3.0"]
    assert kind == "Timeticks" and ticks > 0
    eventually(lambda: get(twin, device, f"{SYS}.3.0")[f"{SYS}.3.0"][1] > ticks)


@pytest.mark.parametrize("device", sorted(SWITCHES))
def test_interfaces_are_the_inventory_ports(twin: Lab, device: str) -> None:
    ports = inventory()[device].interfaces
    index = if_index(twin, device)
    assert sorted(index) == sorted(ports)
    assert column(twin, device, IF_ENTRY, 1) == {i: i for i in index.values()}
    high_speed = column(twin, device, IFX_ENTRY, 15)
    assert {name: high_speed[i] for name, i in index.items()} == {n: p.speed_gbps * 1000 for n, p in ports.items()}
    assert set(column(twin, device, IF_ENTRY, 3).values()) == {6}  # ethernetCsmacd
    assert set(column(twin, device, IF_ENTRY, 8).values()) == {1}  # ifOperStatus up
    descr = column(twin, device, IF_ENTRY, 2)
    assert {descr[i] for i in index.values()} == set(ports)


def test_if_index_numbering_follows_the_platform(twin: Lab) -> None:
    assert if_index(twin, "leaf1")["Ethernet8"] == 9  # SONiC: EthernetN -> N+1
    assert if_index(twin, "spine1")["Ethernet1/2"] == 436211712  # NX-OS: 0x1A000000 + (port-1) << 12
    assert if_index(twin, "leaf3")["Ethernet2/1"] == 2001  # EOS: module*1000 + port


def test_v3_authpriv_walk_equals_pysnmp_walk_in_lexicographic_order(twin: Lab) -> None:
    netsnmp_view = walk(twin, "leaf1", v3=True)
    pysnmp_view = pysnmp_walk(twin, "leaf1")
    assert list(netsnmp_view) == list(pysnmp_view)
    oids = [tuple(int(n) for n in oid[1:].split(".")) for oid in netsnmp_view]
    assert oids == sorted(oids) and len(set(oids)) == len(oids)
    uptime = f"{SYS}.3.0"
    assert {k: v for k, v in netsnmp_view.items() if k != uptime} == {
        k: v for k, v in pysnmp_view.items() if k != uptime}
    tables = {IF_ENTRY, IFX_ENTRY, CPFC_PRIO, CSQ_VALUE, IEEE_PFC}
    assert all(any(oid.startswith(t + ".") for oid in netsnmp_view) for t in tables)


def test_getnext_crosses_tables_and_ends_the_view(twin: Lab) -> None:
    index = sorted(if_index(twin, "leaf2").values())
    result = netsnmp(twin, "leaf2", "snmpgetnext", f"{IF_ENTRY}.20.{index[-1]}", f"{IEEE_PFC}.3.{index[-1]}")
    assert result.returncode == 0, result.stderr
    assert parse(result.stdout) == [
        (f"{IFX_ENTRY}.1.{index[0]}", ("STRING", "swp1")), (f"{IEEE_PFC}.3.{index[-1]}", (END, None))]
    missing = get(twin, "leaf2", f"{IF_ENTRY}.2.{index[-1] + 1}", ".1.3.6.1.2.1.99.1.0")
    assert [kind for kind, _ in missing.values()] == ["noSuchInstance", "noSuchObject"]


def test_wrong_credentials_and_set_are_refused(twin: Lab) -> None:
    assert timed_out(netsnmp(twin, "leaf3", "snmpget", f"{SYS}.5.0", community="public", timeout_s=0.3))
    refused = netsnmp(twin, "leaf3", "snmpset", f"{SYS}.5.0", "s", "renamed")
    assert refused.returncode != 0 and "noAccess" in refused.stdout + refused.stderr
    assert get(twin, "leaf3", f"{SYS}.5.0")[f"{SYS}.5.0"] == ("STRING", "leaf3")


def test_counters_are_the_labs_counters(twin: Lab) -> None:
    port = "Ethernet1/3"
    deltas = {"rx_octets": 123_456_789_012, "tx_octets": 5_000_000_000, "rx_ucast_pkts": 77, "tx_ucast_pkts": 88,
              "rx_discards": 3, "tx_discards": 4, "rx_errors": 5, "tx_errors": 6, "tx_pfc3_frames": 1000,
              "rx_pfc3_frames": 2000, "tx_pfc0_frames": 7, "rx_pfc6_frames": 9, "q3_tx_pkts": 11, "q3_tx_bytes": 12,
              "q3_drop_pkts": 13, "q3_drop_bytes": 14, "q0_tx_pkts": 15}
    counters = twin.counters("spine1", port, **deltas)
    i = if_index(twin, "spine1")[port]
    c32 = {13: "rx_discards", 14: "rx_errors", 19: "tx_discards", 20: "tx_errors", 10: "rx_octets"}
    c64 = {6: "rx_octets", 7: "rx_ucast_pkts", 10: "tx_octets", 11: "tx_ucast_pkts"}
    queue3 = {1: "q3_tx_pkts", 2: "q3_tx_bytes", 5: "q3_drop_pkts", 6: "q3_drop_bytes"}
    expected = {f"{IF_ENTRY}.{col}.{i}": ("Counter32", counters[name] % 2**32) for col, name in c32.items()}
    expected |= {f"{IFX_ENTRY}.{col}.{i}": ("Counter64", counters[name]) for col, name in c64.items()}
    expected |= {f"{CSQ_VALUE}.{i}.2.4.{stat}": ("Counter64", counters[name]) for stat, name in queue3.items()}
    expected |= {
        f"{IEEE_PFC}.2.{i}": ("Counter32", sum(counters[f"tx_pfc{p}_frames"] for p in range(8))),
        f"{IEEE_PFC}.3.{i}": ("Counter32", sum(counters[f"rx_pfc{p}_frames"] for p in range(8))),
        f"{CPFC_PRIO}.2.{i}.3": ("Counter64", counters["tx_pfc3_frames"]),
        f"{CPFC_PRIO}.3.{i}.3": ("Counter64", counters["rx_pfc3_frames"]),
        f"{CPFC_PRIO}.3.{i}.6": ("Counter64", counters["rx_pfc6_frames"]),
        f"{CSQ_VALUE}.{i}.2.1.1": ("Counter64", counters["q0_tx_pkts"]),
        f"{CSQ_VALUE}.{i}.2.4.3": ("Counter64", 0),  # multicast: the lab carries none
    }
    assert [oid for oid, (_, value) in expected.items() if not value] == [f"{CSQ_VALUE}.{i}.2.4.3"]
    assert get(twin, "spine1", *expected) == expected
    assert get(twin, "spine1", *expected, v3=True) == expected


# -- faults, each on a twin of its own ----------------------------------------------------------------------

def test_counters_are_zero_at_boot_and_counter_reset_zeroes_them(fresh_twin: Lab) -> None:
    counters = {oid: v for oid, v in walk(fresh_twin, "leaf1").items() if v[0] in ("Counter32", "Counter64")}
    assert len(counters) > 100 and {value for _, value in counters.values()} == {0}
    i = if_index(fresh_twin, "leaf1")["Ethernet0"]
    fresh_twin.counters("leaf1", "Ethernet0", rx_octets=10**12, tx_pfc3_frames=42)
    oids = (f"{IFX_ENTRY}.6.{i}", f"{CPFC_PRIO}.2.{i}.3", f"{SYS}.3.0")
    before = get(fresh_twin, "leaf1", *oids)
    assert [value for _, value in before.values()][:2] == [10**12, 42]
    fresh_twin.fault("leaf1", "counter-reset")
    after = get(fresh_twin, "leaf1", *oids)
    assert [value for _, value in after.values()][:2] == [0, 0]
    assert after[f"{SYS}.3.0"][1] < before[f"{SYS}.3.0"][1]


def test_snmp_timeout_silences_only_that_switch_until_cleared(fresh_twin: Lab) -> None:
    fresh_twin.fault("spine1", "snmp-timeout")
    assert timed_out(netsnmp(fresh_twin, "spine1", "snmpget", f"{SYS}.5.0", timeout_s=0.3))
    assert timed_out(netsnmp(fresh_twin, "spine1", "snmpget", f"{SYS}.5.0", v3=True, timeout_s=0.3))
    assert get(fresh_twin, "spine2", f"{SYS}.5.0")[f"{SYS}.5.0"] == ("STRING", "spine2")
    fresh_twin.clear("spine1")
    assert get(fresh_twin, "spine1", f"{SYS}.5.0", v3=True)[f"{SYS}.5.0"] == ("STRING", "spine1")


def test_snmp_timeout_expires(fresh_twin: Lab) -> None:
    fresh_twin.fault("leaf2", "snmp-timeout", 0.5)
    assert timed_out(netsnmp(fresh_twin, "leaf2", "snmpget", f"{SYS}.5.0", timeout_s=0.2))
    eventually(lambda: netsnmp(fresh_twin, "leaf2", "snmpget", f"{SYS}.5.0", timeout_s=0.2).returncode == 0)


def test_counter_wrap_serves_32_bit_counters_near_the_top(fresh_twin: Lab) -> None:
    i = if_index(fresh_twin, "leaf3")["Ethernet1/1"]
    octets32, octets64, pfc32 = f"{IF_ENTRY}.10.{i}", f"{IFX_ENTRY}.6.{i}", f"{IEEE_PFC}.2.{i}"
    fresh_twin.fault("leaf3", "counter-wrap")
    assert get(fresh_twin, "leaf3", octets32, pfc32) == {octets32: ("Counter32", 2**32 - 1000),
                                                         pfc32: ("Counter32", 2**32 - 1000)}
    fresh_twin.counters("leaf3", "Ethernet1/1", rx_octets=1500, tx_pfc3_frames=999)
    assert get(fresh_twin, "leaf3", octets32, octets64, pfc32) == {
        octets32: ("Counter32", 500), octets64: ("Counter64", 1500), pfc32: ("Counter32", 2**32 - 1)}
    fresh_twin.clear("leaf3", "counter-wrap")
    assert get(fresh_twin, "leaf3", octets32, pfc32) == {octets32: ("Counter32", 1500), pfc32: ("Counter32", 999)}


def test_link_down_sets_oper_status_down(fresh_twin: Lab) -> None:
    fresh_twin.fault("leaf1", "link-down")
    assert set(column(fresh_twin, "leaf1", IF_ENTRY, 8).values()) == {2}
    assert set(column(fresh_twin, "leaf1", IF_ENTRY, 7).values()) == {1}  # admin still up
    assert set(column(fresh_twin, "leaf2", IF_ENTRY, 8).values()) == {1}
    fresh_twin.clear("leaf1")
    assert set(column(fresh_twin, "leaf1", IF_ENTRY, 8).values()) == {1}


def test_cisco_mibs_only_where_the_platform_serves_them(twin: Lab) -> None:
    for device, served in (("leaf1", True), ("spine1", True), ("leaf4", False), ("leaf2", False),
                           ("spine2", False), ("leaf3", False)):
        oids = [oid for oid in walk(twin, device) if oid.startswith((CPFC_PRIO, CSQ_VALUE))]
        assert bool(oids) is served, device


def test_one_port_link_down(fresh_twin: Lab) -> None:
    index = if_index(fresh_twin, "leaf1")
    down, up = index["Ethernet0"], index["Ethernet8"]
    fresh_twin.fault("leaf1", "link-down", port="Ethernet0")
    status = get(fresh_twin, "leaf1", f"{IF_ENTRY}.8.{down}", f"{IF_ENTRY}.8.{up}")
    assert [value for _, value in status.values()] == [2, 1]
    fresh_twin.clear("leaf1")
    assert [v for _, v in get(fresh_twin, "leaf1", f"{IF_ENTRY}.8.{down}").values()] == [1]
