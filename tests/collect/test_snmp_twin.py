"""The SNMP source against the twin's agents through pysnmp: exact values, v2c and v3, every switch platform,
and the faults a real fleet throws at a collector (timeout, slow agent, reboot, 32-bit wrap)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from fabric.collect.process import RateState
from fabric.collect.run import Collector
from fabric.collect.snmp import WIDTHS, PollResult, SnmpAuth, SnmpPoller, SnmpTarget
from fabric.collect.table import snmp_groups
from fabric.core.sample import FieldValue, Sample
from fabric.inventory.load import load_inventory
from fabric.lab.control import Lab
from fabric.lab.snmp import load_credentials
from fabric.sink.base import Sink
from tests.conftest import INVENTORIES

SWITCHES = {"spine1": "nxos", "spine2": "huawei_ce", "leaf1": "sonic", "leaf2": "nvue", "leaf3": "eos",
            "leaf4": "comware"}


def targets(lab: Lab, devices: dict[str, str] = SWITCHES) -> list[SnmpTarget]:
    return [SnmpTarget(d, p, lab.endpoint(d, "snmp")["address"], int(lab.endpoint(d, "snmp")["port"]))
            for d, p in devices.items()]


def auth(lab: Lab, v3: bool = False) -> SnmpAuth:
    c = load_credentials(lab)
    return SnmpAuth(user=c.user, auth_key=c.auth_key, priv_key=c.priv_key) if v3 else SnmpAuth(c.community)


def poll(lab: Lab, devices: dict[str, str] = SWITCHES, v3: bool = False, deadline_s: float = 5.0
         ) -> dict[str, PollResult]:
    async def run() -> list[PollResult]:
        poller = SnmpPoller(auth(lab, v3), timeout_s=1.0, retries=0)
        try:
            return await poller.poll_all(targets(lab, devices), deadline_s)
        finally:
            poller.close()
    return {r.device: r for r in asyncio.run(run())}


def find(samples: list[Sample], measurement: str, **tags: str) -> Sample:
    [found] = [s for s in samples if s.measurement == measurement and all(s.tags.get(k) == v for k, v in tags.items())]
    return found


@pytest.mark.parametrize("v3", [False, True], ids=["v2c", "v3"])
def test_every_switch_every_port_with_exact_values(twin: Lab, v3: bool) -> None:
    twin.counters("leaf1", "Ethernet0", rx_pfc3_frames=7, tx_pfc3_frames=5, q3_drop_pkts=2, rx_errors=3)
    twin.counters("leaf3", "Ethernet1/1", rx_pfc3_frames=4)
    results = poll(twin, v3=v3)
    assert {d: r.error for d, r in results.items()} == dict.fromkeys(SWITCHES)
    inventory = load_inventory(INVENTORIES / "lab-roce").fabric.devices  # type: ignore[union-attr]
    for device, result in results.items():
        ports = {s.tags["interface"] for s in result.samples if s.measurement == "interface"}
        assert ports == set(inventory[device].interfaces)
        has_cisco = "cisco_pfc" in snmp_groups(SWITCHES[device])
        assert any(s.measurement == "pfc" for s in result.samples) == has_cisco
        assert any(s.measurement == "queue" for s in result.samples) == has_cisco
    leaf1 = results["leaf1"].samples
    truth = twin.counters("leaf1", "Ethernet0")
    interface = find(leaf1, "interface", interface="Ethernet0").fields
    assert interface["rx_errors"] == truth["rx_errors"] and interface["rx_pfc_frames"] == sum(
        truth[f"rx_pfc{p}_frames"] for p in range(8))
    assert find(leaf1, "pfc", interface="Ethernet0", priority="3").fields == {
        "tx_pfc_frames": truth["tx_pfc3_frames"], "rx_pfc_frames": truth["rx_pfc3_frames"]}
    assert find(leaf1, "queue", interface="Ethernet0", queue="3").fields["drop_pkts"] == truth["q3_drop_pkts"]
    eos = find(results["leaf3"].samples, "interface", interface="Ethernet1/1").fields
    assert eos["rx_pfc_frames"] == sum(twin.counters("leaf3", "Ethernet1/1")[f"rx_pfc{p}_frames"] for p in range(8))


def test_a_timed_out_agent_fails_alone_within_its_deadline(fresh_twin: Lab) -> None:
    fresh_twin.fault("leaf2", "snmp-timeout", 30)
    start = time.monotonic()
    results = poll(fresh_twin, deadline_s=2.0)
    assert time.monotonic() - start < 10  # generous: the point is "not waiting for retries forever"
    assert results["leaf2"].error is not None and not results["leaf2"].samples
    assert all(r.error is None and r.samples for d, r in results.items() if d != "leaf2")


def test_a_slow_agent_past_the_deadline_does_not_hold_the_cycle(fresh_twin: Lab) -> None:
    fresh_twin.fault("leaf4", "slow", 30)
    results = poll(fresh_twin, deadline_s=1.5)  # leaf4 answers each request 1 s late: its walk cannot finish
    assert all(r.error is None for d, r in results.items() if d != "leaf4")
    assert results["leaf4"].error == "no answer within 1.5 s" and results["leaf4"].seconds < 3


class Memory:
    """A sink that keeps what it was given (a real object with the Sink contract, no transport to fake)."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []

    def write(self, samples: list[Sample]) -> None:
        self.samples.extend(samples)

    def close(self) -> None:
        pass

    def health(self) -> dict[str, int]:
        return {}


def cycles(lab: Lab, collector: Collector, before_each: list[object]) -> None:
    async def run() -> None:
        poller = SnmpPoller(collector.auth, timeout_s=1.0, retries=0)
        try:
            for action in before_each:
                if callable(action):
                    action()
                await collector.cycle(poller)
                await asyncio.sleep(0.3)
        finally:
            poller.close()
            if collector.cli is not None:
                collector.cli.close()
    asyncio.run(run())


def rates(samples: list[Sample], device: str, port: str) -> list[dict[str, FieldValue]]:
    return [s.fields for s in samples if s.measurement == "interface" and s.tags == {"device": device,
                                                                                     "interface": port}]


def test_reset_and_wrap_never_give_a_negative_or_absurd_rate(fresh_twin: Lab) -> None:
    memory = Memory()
    sink: Sink = memory
    leaf1 = {"leaf1": "sonic"}
    collector = Collector(targets(fresh_twin, leaf1), auth(fresh_twin), [sink])
    def step(**add: int) -> Callable[[], object]:
        return lambda: fresh_twin.counters("leaf1", "Ethernet0", **add)

    cycles(fresh_twin, collector, [
        step(rx_errors=100), step(rx_errors=100),
        lambda: fresh_twin.fault("leaf1", "counter-reset"), step(rx_errors=10), step(rx_errors=10),
        lambda: fresh_twin.fault("leaf1", "counter-wrap", 60), step(rx_errors=600), step(rx_errors=600)])
    seen = rates(memory.samples, "leaf1", "Ethernet0")
    assert len(seen) == 8
    per_s = [f.get("rx_errors_per_s") for f in seen]
    assert all(r is None or 0 <= float(str(r)) < 10_000 for r in per_s), per_s
    assert seen[2].get("discontinuity") is True  # the reboot
    assert seen[5].get("discontinuity") is True  # the wrap fault's jump of ~2^32 is not a rate
    assert int(str(seen[7]["rx_errors"])) < int(str(seen[6]["rx_errors"]))  # the 32-bit counter wrapped ...
    assert float(str(seen[7]["rx_errors_per_s"])) > 0 and "discontinuity" not in seen[7]  # ... the rate survived
    assert isinstance(collector.state, RateState) and WIDTHS.items() <= collector.state.widths.items()


def test_alerts_fire_from_real_counters_and_only_where_they_moved(fresh_twin: Lab) -> None:
    memory = Memory()
    collector = Collector(targets(fresh_twin, {"leaf1": "sonic"}), auth(fresh_twin), [memory])
    burst = lambda: fresh_twin.counters("leaf1", "Ethernet8", rx_pfc3_frames=5_000_000, q3_drop_pkts=40)  # noqa: E731
    cycles(fresh_twin, collector, [None, burst])
    first, second = collector.reports
    assert first.alerts == []
    raised = sorted((a.tags["rule"], a.tags["interface"], a.tags.get("priority", a.tags.get("queue", "")))
                    for a in second.alerts)
    assert raised == [("lossless_drop", "Ethernet8", "3"), ("pfc_storm", "Ethernet8", ""),
                      ("pfc_storm", "Ethernet8", "3")]
    assert [s for s in memory.samples if s.measurement == "alert"] == second.alerts
    health = [s for s in memory.samples if s.measurement == "collector"]
    assert [h.fields["alerts"] for h in health] == [0, 3] and health[-1].fields["devices_ok"] == 1


@pytest.mark.parametrize(("wrong", "says"), [
    ({"auth_key": "not-the-auth-key"}, "Wrong SNMP PDU digest; the agent does not accept the SNMPv3 auth key "
                                       "(FABRIC_SNMP_AUTH_KEY, SHA)"),
    ({"priv_key": "not-the-priv-key"}, "; the agent does not accept the SNMPv3 privacy key (FABRIC_SNMP_PRIV_KEY, "
                                       "AES-128)"),
    ({"user": "nobody"}, "Unknown USM user; the agent has no such SNMPv3 user (FABRIC_SNMP_USER)"),
    # pysnmp raised WrongValueError out of the poller for this one: a traceback instead of every device's line
    ({"priv_key": "short"}, "the SNMPv3 auth or privacy key is not usable (RFC 3414 wants 8 characters or more); "
                            "fix FABRIC_SNMP_AUTH_KEY/FABRIC_SNMP_PRIV_KEY")], ids=["auth", "priv", "user", "short"])
def test_wrong_snmpv3_credentials_say_which_setting(twin: Lab, wrong: dict[str, str], says: str) -> None:
    c = load_credentials(twin)
    given = {"user": c.user, "auth_key": c.auth_key, "priv_key": c.priv_key, **wrong}

    async def run() -> list[PollResult]:
        poller = SnmpPoller(SnmpAuth(**given), timeout_s=1.0, retries=0)
        try:
            return await poller.poll_all(targets(twin, {"leaf1": "sonic"}), 5.0)
        finally:
            poller.close()
    [result] = asyncio.run(run())
    assert result.error is not None and result.error.endswith(says) and not result.samples, result.error
    assert all(secret not in result.error for secret in (c.auth_key, c.priv_key, *wrong.values()) if secret != "nobody")


def test_a_walk_cut_by_the_deadline_keeps_the_columns_it_read(fresh_twin: Lab) -> None:
    """A big or slow agent (a 128-port NX-OS serves its queue table slowly) whose walk outlasts the deadline gave
    nothing at all, every cycle, though it had answered most of the walk. The rows read before the cut are kept
    (the in-step walk finishes IF-MIB and PFC before the deep queue table), the cut is the device's one line."""
    fresh_twin.fault("leaf1", "slow", 60)  # each request answered 1 s late

    async def run() -> PollResult:
        poller = SnmpPoller(auth(fresh_twin), timeout_s=3.0, retries=0)
        try:
            [result] = await poller.poll_all(targets(fresh_twin, {"leaf1": "sonic"}), 3.6)
            return result
        finally:
            poller.close()
    result = asyncio.run(run())
    error = str(result.error)
    assert error.startswith("walk cut at the 3.6 s deadline: ") and error.endswith(
        " columns read whole, the rest in part; a longer --deadline reads them whole"), error
    inventory = load_inventory(INVENTORIES / "lab-roce").fabric.devices  # type: ignore[union-attr]
    ports = {s.tags["interface"] for s in result.samples if s.measurement == "interface" and "rx_octets" in s.fields}
    assert ports and ports <= set(inventory["leaf1"].interfaces)  # the rows read before the cut, named
    assert any(s.measurement == "device" for s in result.samples)
