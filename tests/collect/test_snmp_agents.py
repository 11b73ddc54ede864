"""The SNMP source against agents the twin does not model, served by a real snmpsim responder on loopback (one
``<community>.snmprec`` per agent, stopped by PID): a view without sysUpTime, a wrong type in a counter column,
an IPv6 management address, and a hostname that does not resolve. Each is one device's one-line failure (or
none), never an exception that ends the whole collection."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fabric.collect.snmp import PollResult, SnmpAuth, SnmpPoller, SnmpTarget

RESPONDER = str(Path(sys.executable).parent / "snmpsim-command-responder")  # installed with the venv
IF, IFX = "1.3.6.1.2.1.2.2.1", "1.3.6.1.2.1.31.1.1.1"
# sysUpTime left out of the view: IF-MIB only
NO_UPTIME = [f"{IF}.8.1|2|1", f"{IF}.13.1|65|5", f"{IFX}.1.1|4|Ethernet0", f"{IFX}.6.1|70|12345678901"]
# an AgentX subagent that fails (net-snmp answers genErr for the request, as SONiC's snmpd does when
# sonic_ax_impl times out): here the CISCO-SWITCH-QOS-MIB queue table's first row
QOS = "1.3.6.1.4.1.9.9.580.1.5.5.1.4"
GENERR = ["1.3.6.1.2.1.1.3.0|67|4200", *(f"{IF}.{c}.1|{t}|{v}" for c, t, v in
                                       ((8, 2, 1), (13, 65, 5), (14, 65, 6), (19, 65, 7), (20, 65, 8))),
          f"{IFX}.1.1|4|Ethernet0", *(f"{IFX}.{c}.1|70|{c}000" for c in (6, 7, 10, 11)), f"{IFX}.15.1|66|100000",
          f"{QOS}.1.2.4.1|70:error|op=any,status=generror"]
# two ports whose ifName is empty (an agent's internal ports) next to a named one
EMPTY_NAMES = ["1.3.6.1.2.1.1.3.0|67|4200", f"{IF}.13.1|65|5", f"{IF}.13.7|65|70", f"{IF}.13.8|65|80",
               f"{IFX}.1.1|4|Ethernet0", f"{IFX}.1.7|4|", f"{IFX}.1.8|4|"]
WITH_UPTIME = ["1.3.6.1.2.1.1.3.0|67|4200", *NO_UPTIME]
# an agent that serves a string where IF-MIB has a Counter32 (ifInDiscards)
WRONG_TYPE = ["1.3.6.1.2.1.1.3.0|67|4200", f"{IF}.8.1|2|1", f"{IF}.13.1|4|n/a", f"{IFX}.1.1|4|Ethernet0"]


def _free_port(family: socket.AddressFamily, host: str) -> int:
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def agents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """(IPv4 port, IPv6 port) of one snmpsim process; the community picks the data file."""
    if not Path(RESPONDER).exists():
        pytest.skip("snmpsim is not installed")
    data = tmp_path_factory.mktemp("snmpsim")
    for community, records in (("noup", NO_UPTIME), ("full", WITH_UPTIME), ("wrongtype", WRONG_TYPE),
                               ("empty", EMPTY_NAMES), ("generr", GENERR)):
        (data / f"{community}.snmprec").write_text("\n".join(records) + "\n")
    v4, v6 = _free_port(socket.AF_INET, "127.0.0.1"), _free_port(socket.AF_INET6, "::1")
    process = subprocess.Popen(
        [RESPONDER, f"--data-dir={data}", f"--agent-udpv4-endpoint=127.0.0.1:{v4}",
         f"--agent-udpv6-endpoint=[::1]:{v6}", "--log-level=error", f"--cache-dir={data / 'cache'}"],
        env={**os.environ, "SNMPSIM_ALLOW_ROOT": "true"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not poll("full", "127.0.0.1", v4)[0].samples:  # ready when it answers
            assert process.poll() is None and time.monotonic() < deadline, "snmpsim did not start"
            time.sleep(0.2)
        yield v4, v6
    finally:
        process.terminate()
        process.wait(timeout=10)


def poll(community: str, address: str, port: int, others: tuple[SnmpTarget, ...] = ()) -> list[PollResult]:
    async def run() -> list[PollResult]:
        poller = SnmpPoller(SnmpAuth(community=community), timeout_s=0.5, retries=0)
        try:
            return await poller.poll_all([SnmpTarget("leaf9", "eos", address, port), *others], 3.0)
        finally:
            poller.close()
    return asyncio.run(run())


def test_an_agent_without_sysuptime_still_gives_its_counters(agents: tuple[int, int]) -> None:
    """noSuchObject for sysUpTime used to raise ValueError out of the poller and end the cycle for every device."""
    [result] = poll("noup", "127.0.0.1", agents[0])
    assert result.error is None
    assert [(s.measurement, s.tags, s.fields) for s in result.samples] == [
        ("interface", {"device": "leaf9", "interface": "Ethernet0"},
         {"oper_status": 1, "rx_octets": 12345678901, "rx_discards": 5})]


def test_a_wrong_type_in_a_counter_column_is_that_devices_one_line_error(agents: tuple[int, int]) -> None:
    [result] = poll("wrongtype", "127.0.0.1", agents[0])
    assert result.error == ("1.3.6.1.2.1.2.2.1.13.1 is 'n/a' (OctetString), not a counter; the agent serves a "
                            "wrong type there (check its MIB support)")
    assert not result.samples


def test_an_ipv6_management_address_is_polled(agents: tuple[int, int]) -> None:
    [result] = poll("full", "::1", agents[1])
    assert result.error is None
    assert {s.measurement: s.fields for s in result.samples}["device"] == {"uptime_ticks": 4200}


def test_a_hostname_that_does_not_resolve_fails_alone(agents: tuple[int, int], monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    """The resolver's answer is stood in for (no DNS query leaves the machine); pysnmp's PySnmpError used to end
    the whole collection with a traceback."""
    real = socket.getaddrinfo

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if host == "leaf8.mgmt.example":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    results = poll("full", "127.0.0.1", agents[0], (SnmpTarget("leaf8", "eos", "leaf8.mgmt.example", 161),))
    assert results[0].error is None and results[0].samples
    assert results[1].error == ("cannot resolve SNMP address 'leaf8.mgmt.example' (Name or service not "
                                "known); fix the device's hostname in the inventory or its DNS record")


def test_ports_with_an_empty_ifname_stay_apart(agents: tuple[int, int]) -> None:
    """Two ports with ``ifName = ""`` gave two points with the same tags (the empty tag is left out of line
    protocol): the server kept one, and their rates were computed against each other."""
    [result] = poll("empty", "127.0.0.1", agents[0])
    ports = {s.tags["interface"]: s.fields["rx_discards"] for s in result.samples if s.measurement == "interface"}
    assert ports == {"Ethernet0": 5, "7": 70, "8": 80}


@pytest.mark.parametrize(("auth", "names_community"), [(SnmpAuth(community="public"), True),
                                                       (SnmpAuth(user="u", auth_key="a" * 8, priv_key="p" * 8), False)],
                         ids=["v2c", "v3"])
def test_a_silent_agent_says_what_to_check(auth: SnmpAuth, names_community: bool) -> None:
    """A v2c agent ignores a wrong community, so a timeout names it; under SNMPv3 a wrong credential is answered
    with a report, so a timeout there does not point at the community."""
    async def run() -> list[PollResult]:
        poller = SnmpPoller(auth, timeout_s=0.3, retries=0)
        try:
            return await poller.poll_all([SnmpTarget("leaf9", "eos", "127.0.0.1",
                                                     _free_port(socket.AF_INET, "127.0.0.1"))], 3.0)
        finally:
            poller.close()
    [result] = asyncio.run(run())
    assert result.error is not None and result.error.startswith("No SNMP response received before timeout; check the "
                                                                "address and UDP port")
    assert ("FABRIC_SNMP_COMMUNITY" in result.error) == names_community


def test_a_column_the_agent_fails_costs_only_that_column(agents: tuple[int, int]) -> None:
    """One column answered with genErr (a subagent behind net-snmp that timed out) failed the whole device with
    a bare 'genErr': its IF-MIB counters, which the agent served, were lost too."""
    async def run() -> list[PollResult]:
        poller = SnmpPoller(SnmpAuth(community="generr"), timeout_s=0.5, retries=0)
        try:
            return await poller.poll_all([SnmpTarget("leaf9", "sonic", "127.0.0.1", agents[0])], 3.0)
        finally:
            poller.close()
    [result] = asyncio.run(run())
    assert result.error == (f"the agent answered genErr walking {QOS}; the rows before it and the other columns "
                            "were read")
    interface = [s.fields for s in result.samples if s.measurement == "interface"]
    assert interface == [{"oper_status": 1, "rx_octets": 6000, "rx_ucast_pkts": 7000, "tx_octets": 10000,
                          "tx_ucast_pkts": 11000, "rx_discards": 5, "rx_errors": 6, "tx_discards": 7, "tx_errors": 8}]
