"""The CLI source over SSH against the twin's dialects (SONiC, NVUE, ConnectX hosts), and the ECN-before-PFC
alert, which needs both sources: PFC pauses from SNMP and ECN marks from the CLI."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

import pytest

from fabric.collect.alerts import AlertThresholds
from fabric.collect.cli_parsers import rdma_hw_counters
from fabric.collect.cli_source import CLI_COMMANDS, CliPoller, SshLogin, SshTarget, whole
from fabric.collect.run import Collector
from fabric.collect.snmp import PollResult
from fabric.inventory.load import load_inventory
from fabric.lab.control import Lab
from tests.collect.test_snmp_twin import Memory, auth, cycles, targets
from tests.conftest import INVENTORIES


def ssh_targets(lab: Lab, devices: list[str]) -> list[SshTarget]:
    fabric = load_inventory(INVENTORIES / "lab-roce").fabric
    assert fabric is not None
    found = []
    for name in devices:
        d, ep = fabric.devices[name], lab.endpoint(name, "ssh")
        found.append(SshTarget(name, d.platform, ep["address"], int(ep["port"]), ep["username"],
                               tuple(d.interfaces)))
    return found


def poll(lab: Lab, devices: list[str], deadline_s: float = 10.0) -> dict[str, PollResult]:
    async def run() -> list[PollResult]:
        poller = CliPoller(SshLogin(lab.password, lab.known_hosts))
        try:
            return await poller.poll_all(ssh_targets(lab, devices), deadline_s)
        finally:
            poller.close()
    return {r.device: r for r in asyncio.run(run())}


def test_cli_collectors_read_the_true_counters(twin: Lab) -> None:
    twin.counters("leaf1", "Ethernet16", q3_ecn_marked_pkts=77, q3_watermark_bytes=4096)
    twin.counters("leaf2", "swp2", q3_ecn_marked_pkts=55, tx_pfc3_pause_us=900)
    results = poll(twin, ["leaf1", "leaf2", "gpu02"])
    assert {d: r.error for d, r in results.items()} == {"leaf1": None, "leaf2": None, "gpu02": None}
    sonic = {(s.tags["interface"], s.tags["queue"], k): v
             for s in results["leaf1"].samples for k, v in s.fields.items()}
    truth = twin.counters("leaf1", "Ethernet16")
    assert sonic[("Ethernet16", "3", "ecn_marked_pkts")] == truth["q3_ecn_marked_pkts"]
    assert sonic[("Ethernet16", "3", "watermark_bytes")] == truth["q3_watermark_bytes"]
    nvue = {(s.measurement, s.tags["interface"]): s.fields for s in results["leaf2"].samples}
    truth = twin.counters("leaf2", "swp2")
    assert nvue[("queue", "swp2")]["ecn_marked_pkts"] == sum(truth[f"q{q}_ecn_marked_pkts"] for q in range(8))
    assert nvue[("pfc", "swp2")]["tx_pause_duration_us"] == truth["tx_pfc3_pause_us"]
    host = results["gpu02"].samples
    assert {s.tags.get("interface") or s.tags["rdma_device"] for s in host} == {"ens1np0", "ens2np0", "mlx5_0",
                                                                                "mlx5_1"}
    assert all(s.measurement == "nic_rdma" for s in host)


def test_a_dead_ssh_device_fails_alone(fresh_twin: Lab) -> None:
    fresh_twin.fault("leaf1", "auth-fail", 30)
    results = poll(fresh_twin, ["leaf1", "leaf2"], deadline_s=5.0)
    assert results["leaf1"].error is not None and results["leaf2"].error is None


def test_ecn_absent_while_pfc_pauses_needs_both_sources(fresh_twin: Lab) -> None:
    memory = Memory()
    login = SshLogin(fresh_twin.password, fresh_twin.known_hosts)
    collector = Collector(targets(fresh_twin, {"leaf1": "sonic"}), auth(fresh_twin), [memory],
                          AlertThresholds(ecn_absent_pause_frames_per_s=100), 10.0,
                          ssh_targets(fresh_twin, ["leaf1"]), login)
    def pause(**more: int) -> Callable[[], object]:
        return lambda: fresh_twin.counters("leaf1", "Ethernet24", tx_pfc3_frames=100_000, **more)

    cycles(fresh_twin, collector, [None, pause(), pause(q3_ecn_marked_pkts=5000)])
    rules = [[(a.tags["rule"], a.tags["interface"]) for a in r.alerts] for r in collector.reports]
    assert rules == [[], [("ecn_absent", "Ethernet24")], []]


def test_a_failing_command_is_one_line_and_the_others_still_count(twin: Lab,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A command that exits non-zero (an inventory port the host lacks: ethtool's ``No such device``) is reported
    as that command with its exit status and first stderr line, not asyncssh's bare ``non-zero exit status``; an
    output that does not parse is its ParseError line. Neither discards what the device's other commands gave."""
    [target] = ssh_targets(twin, ["gpu02"])
    unparsable = ("echo '% Invalid input'", whole(rdma_hw_counters))
    monkeypatch.setitem(CLI_COMMANDS, "linux_mlx5", (*CLI_COMMANDS["linux_mlx5"], unparsable))

    async def run() -> PollResult:
        poller = CliPoller(SshLogin(twin.password, twin.known_hosts))
        try:
            return await poller.poll(replace(target, ports=("ens1np0", "ens9np0")), 10.0)
        finally:
            poller.close()

    result = asyncio.run(run())
    assert result.error is not None and "\n" not in result.error
    failed, unparsed = result.error.split("; ", 1)
    assert failed == "`ethtool -S ens9np0` exited 71: Cannot get driver information: No such device"
    assert unparsed.startswith("gpu02: cannot parse `grep -H . /sys/class/infiniband/*/ports/*/hw_counters/*`: no ")
    assert "(output starts '% Invalid input')" in unparsed
    assert {s.tags.get("interface") or s.tags["rdma_device"] for s in result.samples} == {"ens1np0", "mlx5_0",
                                                                                         "mlx5_1"}


def test_nvue_counters_carry_the_fabrics_lossless_priority(fresh_twin: Lab) -> None:
    """NVUE's RoCE counters are those of the port's lossless switch-priority. They were always tagged priority 3
    and queue 3: a fabric whose RoCE runs on priority 4 had priority 4's pauses written as priority 3's."""
    from fabric.cli.collect import _cli_targets

    async def configure() -> None:
        import asyncssh

        ep = fresh_twin.endpoint("leaf2", "ssh")
        async with asyncssh.connect(ep["address"], port=ep["port"], username=ep["username"],
                                    password=fresh_twin.password, known_hosts=str(fresh_twin.known_hosts)) as c:
            for command in ("nv set qos pfc roce4 switch-priority 4", "nv set interface swp2 qos pfc profile roce4",
                            "nv config apply -y"):
                assert (await c.run(command)).exit_status == 0
    asyncio.run(configure())
    truth = fresh_twin.counters("leaf2", "swp2", tx_pfc4_pause_us=4444, tx_pfc3_pause_us=333, q4_watermark_bytes=8192)
    fabric = load_inventory(INVENTORIES / "lab-roce").fabric
    assert fabric is not None
    fabric = fabric.model_copy(update={"spec": fabric.spec.model_copy(update={
        "pfc": fabric.spec.pfc.model_copy(update={"priorities": [4]})})})
    cli_targets, login = _cli_targets(fabric, fresh_twin.state_dir)
    [target] = [t for t in cli_targets if t.device == "leaf2"]
    assert target.lossless == 4

    async def run() -> PollResult:
        assert login is not None
        poller = CliPoller(login)
        try:
            return await poller.poll(replace(target, ports=("swp2",)), 10.0)
        finally:
            poller.close()
    result = asyncio.run(run())
    assert result.error is None, result.error
    got = {(s.measurement, s.tags.get("priority", s.tags.get("queue"))): s.fields for s in result.samples}
    assert got[("pfc", "4")]["tx_pause_duration_us"] == truth["tx_pfc4_pause_us"] == 4444
    assert got[("queue", "4")]["watermark_bytes"] == 8192 and ("pfc", "3") not in got
