"""The switch CLI collectors (EOS over eAPI, NX-OS, Comware and CloudEngine over SSH) against the twin: what
they read equals the twin's true counters, and equals what the same ports report over SNMP."""

from __future__ import annotations

import asyncio
from typing import Any

from fabric.collect.cli_source import CliPoller, SshLogin, SshTarget
from fabric.collect.run import Collector
from fabric.collect.snmp import PollResult, SnmpPoller
from fabric.core.sample import FieldValue, Sample
from fabric.inventory.load import load_inventory
from fabric.lab.control import Lab
from tests.collect.test_snmp_twin import Memory, auth, targets
from tests.conftest import INVENTORIES

PLATFORMS = {"spine1": "nxos", "spine2": "huawei_ce", "leaf3": "eos", "leaf4": "comware"}
PORTS = {"spine1": "Ethernet1/2", "spine2": "400GE1/0/1", "leaf3": "Ethernet2/1", "leaf4": "HundredGigE1/0/1"}
QUEUE = ("tx_pkts", "tx_bytes", "drop_pkts", "drop_bytes")


def cli_targets(lab: Lab, devices: list[str]) -> list[SshTarget]:
    fabric = load_inventory(INVENTORIES / "lab-roce").fabric
    assert fabric is not None
    found = []
    for name in devices:
        d = fabric.devices[name]
        transport = "http" if d.platform == "eos" else "ssh"
        ep = lab.endpoint(name, "eapi" if transport == "http" else "ssh")
        found.append(SshTarget(name, d.platform, ep["address"], int(ep["port"]), ep["username"], tuple(d.interfaces),
                               transport))
    return found


def configure(lab: Lab, device: str, lines: list[str]) -> None:
    """Type configuration lines into the device's shell, as an operator would."""
    async def run() -> None:
        import asyncssh

        ep = lab.endpoint(device, "ssh")
        async with asyncssh.connect(ep["address"], port=ep["port"], username=ep["username"], password=lab.password,
                                    known_hosts=str(lab.known_hosts)) as connection:
            await connection.run(input="\n".join([*lines, "quit"]) + "\n", term_type="vt100")
    asyncio.run(run())


def poll_both(lab: Lab, devices: list[str]) -> tuple[dict[str, PollResult], dict[str, PollResult]]:
    async def run() -> tuple[list[PollResult], list[PollResult]]:
        cli, snmp = CliPoller(SshLogin(lab.password, lab.known_hosts)), SnmpPoller(auth(lab))
        try:
            return await asyncio.gather(cli.poll_all(cli_targets(lab, devices), 20.0),
                                        snmp.poll_all(targets(lab, {d: PLATFORMS[d] for d in devices}), 20.0))
        finally:
            cli.close()
            snmp.close()
    by_cli, by_snmp = asyncio.run(run())
    return {r.device: r for r in by_cli}, {r.device: r for r in by_snmp}


def index(samples: list[Sample], port: str) -> dict[tuple[str, str], dict[str, FieldValue]]:
    """(measurement, priority/queue) -> fields of one port's samples (several samples of a key are merged)."""
    found: dict[tuple[str, str], dict[str, FieldValue]] = {}
    for s in samples:
        if s.tags.get("interface") == port:
            found.setdefault((s.measurement, s.tags.get("priority", s.tags.get("queue", ""))), {}).update(s.fields)
    return found


def test_cli_counters_equal_the_twin_and_snmp(fresh_twin: Lab) -> None:
    configure(fresh_twin, "leaf4", ["system-view", f"interface {PORTS['leaf4']}", "priority-flow-control enable",
                                    "priority-flow-control no-drop dot1p 3", "return"])
    configure(fresh_twin, "spine2", ["system-view", f"interface {PORTS['spine2']}", "dcb pfc enable mode manual",
                                     "commit", "return"])
    truth: dict[str, dict[str, int]] = {}
    for n, (device, port) in enumerate(PORTS.items(), start=1):
        truth[device] = fresh_twin.counters(device, port, rx_pfc3_frames=1000 * n + 7, tx_pfc3_frames=2000 * n + 3,
                                            q3_tx_pkts=5000 * n, q3_tx_bytes=4_000_000 * n, q3_drop_pkts=11 * n,
                                            q3_drop_bytes=11_000 * n, q3_ecn_marked_pkts=300 * n,
                                            q1_ecn_marked_pkts=n, q3_watermark_bytes=4096 * n)
    by_cli, by_snmp = poll_both(fresh_twin, list(PORTS))
    assert {d: r.error for d, r in by_cli.items()} == dict.fromkeys(PORTS)
    assert {d: r.error for d, r in by_snmp.items()} == dict.fromkeys(PORTS)

    for device, port in PORTS.items():
        t, cli, snmp = truth[device], index(by_cli[device].samples, port), index(by_snmp[device].samples, port)
        assert all(t[f"rx_pfc{p}_frames"] == 0 for p in range(8) if p != 3), device  # only priority 3 moved
        # CLI == the twin's counters
        assert cli[("pfc", "3")] == {"rx_pfc_frames": t["rx_pfc3_frames"], "tx_pfc_frames": t["tx_pfc3_frames"]}
        assert {k: cli[("queue", "3")][k] for k in QUEUE} == {k: t[f"q3_{k}"] for k in QUEUE}, device
        # CLI == SNMP: the IEEE port totals are the sum of the per-priority frames the CLI shows
        cli_pfc = [v for (m, _), v in cli.items() if m == "pfc"]
        assert snmp[("interface", "")]["rx_pfc_frames"] == sum(int(v["rx_pfc_frames"]) for v in cli_pfc), device
        assert snmp[("interface", "")]["tx_pfc_frames"] == sum(int(v["tx_pfc_frames"]) for v in cli_pfc), device
    # ECN marks: per queue on EOS and NX-OS, per port on CloudEngine; NX-OS queue depth
    for device in ("leaf3", "spine1"):
        marks = index(by_cli[device].samples, PORTS[device])
        assert marks[("queue", "3")]["ecn_marked_pkts"] == truth[device]["q3_ecn_marked_pkts"]
        assert marks[("queue", "1")]["ecn_marked_pkts"] == truth[device]["q1_ecn_marked_pkts"]
    huawei = index(by_cli["spine2"].samples, PORTS["spine2"])
    assert huawei[("interface", "")]["ecn_marked_pkts"] == sum(truth["spine2"][f"q{q}_ecn_marked_pkts"]
                                                               for q in range(8))
    nxos_cli, nxos_snmp = index(by_cli["spine1"].samples, PORTS["spine1"]), index(by_snmp["spine1"].samples,
                                                                                   PORTS["spine1"])
    assert nxos_cli[("queue", "3")]["depth_bytes"] == truth["spine1"]["q3_watermark_bytes"]
    # NX-OS's agent also serves the Cisco per-priority and per-queue tables: the same numbers
    for key in (("pfc", "3"), ("queue", "3"), ("queue", "0")):
        assert {k: v for k, v in nxos_cli[key].items() if k in nxos_snmp[key]} == nxos_snmp[key], key


class Cycle:
    """One collector cycle through the real pollers."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector

    def run(self) -> list[Sample]:
        async def go() -> Any:
            poller = SnmpPoller(self.collector.auth)
            try:
                return await self.collector.cycle(poller)
            finally:
                poller.close()
                if self.collector.cli is not None:
                    self.collector.cli.close()
        asyncio.run(go())
        memory = self.collector.sinks[0]
        assert isinstance(memory, Memory)
        return memory.samples


def test_cli_fills_what_snmp_lacks_without_writing_counters_twice(twin: Lab) -> None:
    login = SshLogin(twin.password, twin.known_hosts)
    both = Cycle(Collector(targets(twin, {"spine1": "nxos"}), auth(twin), [Memory()], deadline_s=20.0,
                           cli_targets=cli_targets(twin, ["spine1"]), login=login)).run()
    points: dict[tuple[str, tuple[tuple[str, str], ...]], list[str]] = {}
    for s in both:
        if s.measurement in ("interface", "pfc", "queue"):
            for name in s.fields:
                points.setdefault((s.measurement, tuple(sorted(s.tags.items()))), []).append(name)
    assert all(len(names) == len(set(names)) for names in points.values())  # no counter twice for one point
    queue3 = [s.fields for s in both if s.measurement == "queue" and s.tags == {
        "device": "spine1", "interface": "Ethernet1/2", "queue": "3"}]
    assert {"tx_pkts", "drop_pkts"} <= set(queue3[0]) and {"ecn_marked_pkts", "depth_bytes"} == set(queue3[1])
    [health] = [s for s in both if s.measurement == "collector"]
    assert health.tags == {"collector": "snmp+cli"} and health.fields["devices_ok"] == 1  # one device, two sources

    alone = Cycle(Collector([], auth(twin), [Memory()], deadline_s=20.0, cli_targets=cli_targets(twin, ["leaf3"]),
                            login=login)).run()
    [health] = [s for s in alone if s.measurement == "collector"]
    assert health.tags == {"collector": "cli"} and health.fields["devices_ok"] == 1
    assert {s.measurement for s in alone} == {"pfc", "queue", "collector"}


def test_an_eos_command_the_switch_refuses_loses_only_its_own_counters(twin: Lab, monkeypatch: Any) -> None:
    """eAPI ends a ``runCmds`` request at its first failing command, so a release or platform without one of the
    commands (``Unavailable command (not supported on this hardware platform)``) used to cost every command of the
    request: ``ssh: CommandError: ...`` and no samples. Now the results before it count, the commands after it
    run in a request of their own, and the failure is one line naming the command."""
    from fabric.collect.cli_source import CLI_COMMANDS, whole
    from fabric.collect.switch_parsers import eos_ecn

    pfc, *rest = CLI_COMMANDS["eos"]
    monkeypatch.setitem(CLI_COMMANDS, "eos", (pfc, ("show qos interfaces ecn counters queue bogus", whole(eos_ecn)),
                                              *rest))

    async def run() -> PollResult:
        cli = CliPoller(SshLogin(twin.password, twin.known_hosts))
        try:
            [result] = await cli.poll_all(cli_targets(twin, ["leaf3"]), 20.0)
            return result
        finally:
            cli.close()
    result = asyncio.run(run())
    assert result.error is not None and result.error.startswith(
        "`show qos interfaces ecn counters queue bogus` failed with eAPI error 1002: "), result.error
    assert "\n" not in result.error
    port = index(result.samples, PORTS["leaf3"])
    assert "rx_pfc_frames" in port[("pfc", "3")]  # the command before the failing one
    assert {"tx_pkts", "ecn_marked_pkts"} <= set(port[("queue", "3")])  # and the two after it
