"""leaf3 (Arista EOS) over eAPI, driven by the clients the deploy path uses: napalm's eos driver and pyeapi."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyeapi  # type: ignore[import-untyped]
import pytest

from fabric.lab.control import Lab

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "lab-roce" / "config" / "leaf3" / "eos.cfg"
DEVICE = "leaf3"


@contextmanager
def napalm_eos(lab: Lab) -> Iterator[Any]:
    from napalm import get_network_driver

    ep = lab.endpoint(DEVICE, "eapi")
    driver = get_network_driver("eos")(ep["address"], ep["username"], lab.password, timeout=10,
                                       optional_args={"transport": "http", "port": ep["port"]})
    driver.open()
    try:
        yield driver
    finally:
        driver.close()


def running(driver: Any) -> str:
    return str(driver.get_config(retrieve="running")["running"])


def contexts(config: str) -> set[tuple[str, ...]]:
    """Every line of an EOS config with the blocks it sits in, from its indentation: {(parent, ..., line)}."""
    found: set[tuple[str, ...]] = set()
    stack: list[str] = []
    for raw in config.splitlines():
        line = raw.strip()
        if not line or line.startswith("!"):
            continue
        depth = (len(raw) - len(raw.lstrip())) // 3
        stack[depth:] = [line]
        found.add(tuple(stack))
    return found


def post(lab: Lab, cmds: list[str], fmt: str = "json", password: str | None = None) -> dict[str, Any]:
    ep = lab.endpoint(DEVICE, "eapi")
    body = json.dumps({"jsonrpc": "2.0", "method": "runCmds", "id": "t1",
                       "params": {"version": 1, "cmds": cmds, "format": fmt}}).encode()
    auth = base64.b64encode(f"admin:{lab.password if password is None else password}".encode()).decode()
    request = urllib.request.Request(f"http://{ep['address']}:{ep['port']}/command-api", data=body, method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": f"Basic {auth}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return answer


def test_golden_config_merges_diffs_and_commits_with_its_hierarchy(fresh_twin: Lab) -> None:
    golden = GOLDEN.read_text()
    with napalm_eos(fresh_twin) as driver:
        before = running(driver)
        driver.load_merge_candidate(filename=str(GOLDEN))
        diff = driver.compare_config()
        assert "+   priority-flow-control priority 3 no-drop" in diff
        assert "+      random-detect ecn minimum-threshold 800000 bytes maximum-threshold 3200000 bytes " \
               "max-mark-probability 20 weight 0" in diff
        assert running(driver) == before  # a candidate is not the running config
        driver.commit_config()
        after = running(driver)
    wanted = contexts(golden)
    assert {c[-1] for c in wanted} <= {c[-1] for c in contexts(after)}, "every rendered line is in the running config"
    profile, port = "qos profile QOS_ROCE_roce_ecn_400g", "interface Ethernet3/1"
    for path in [(profile, "uc-tx-queue 3", "random-detect ecn count"), (profile, "uc-tx-queue 6", "priority strict"),
                 (profile, "priority-flow-control priority 3 no-drop"), (port, "mtu 9214"),
                 (port, "service-profile QOS_ROCE_roce_ecn_400g"), (port, "flowcontrol receive off"),
                 ("qos map dscp 26 to traffic-class 3",)]:
        assert path in contexts(after), path
    assert ("qos profile QOS_ROCE_roce_ecn_400g", "uc-tx-queue 0", "random-detect ecn count") not in contexts(after)


def test_small_change_discard_commit_and_rollback(fresh_twin: Lab) -> None:
    change = "qos profile LOSSLESS\n   uc-tx-queue 4\n      bandwidth percent 30\ninterface Ethernet2/1\n   mtu 9000\n"
    with napalm_eos(fresh_twin) as driver:
        original = running(driver)
        driver.load_merge_candidate(config=change)
        assert "+   mtu 9000" in driver.compare_config()
        driver.discard_config()
        assert running(driver) == original
        assert driver.compare_config() == ""
        driver.load_merge_candidate(config=change)
        driver.commit_config()
        changed = running(driver)
        assert ("interface Ethernet2/1", "mtu 9000") in contexts(changed)
        assert ("qos profile LOSSLESS", "uc-tx-queue 4", "bandwidth percent 30") in contexts(changed)
        driver.rollback()
        assert running(driver) == original


def test_replace_candidate_starts_from_the_clean_config(fresh_twin: Lab) -> None:
    with napalm_eos(fresh_twin) as driver:
        original = running(driver)
        driver.load_replace_candidate(filename=str(GOLDEN))
        diff = driver.compare_config()
        assert "-hostname leaf3" in diff and "+   priority-flow-control on" in diff
        driver.discard_config()
        assert running(driver) == original


def test_invalid_line_raises_merge_exception_and_changes_nothing(twin: Lab) -> None:
    from napalm.base.exceptions import MergeConfigException

    with napalm_eos(twin) as driver:
        original = running(driver)
        with pytest.raises(MergeConfigException, match=r"Invalid input \(at token 0: 'frobnicate'\)"):
            driver.load_merge_candidate(config="interface Ethernet1/1\n   mtu 9000\n   frobnicate on\n")
        with pytest.raises(MergeConfigException, match=r"at token 1: '99999'"):
            driver.load_merge_candidate(config="interface Ethernet1/1\n   mtu 99999\n")
        assert running(driver) == original
        assert post(twin, ["enable", "show configuration sessions"])["result"][1]["sessions"] == {}


def test_reject_config_fault_refuses_the_commit(twin: Lab) -> None:
    with napalm_eos(twin) as driver:
        original = running(driver)
        twin.fault(DEVICE, "reject-config")
        try:
            driver.load_merge_candidate(config="interface Ethernet4/1\n   mtu 1500\n")
            with pytest.raises(pyeapi.eapilib.CommandError, match="could not run command"):
                driver.commit_config()
            driver.discard_config()
            refused = post(twin, ["enable", "configure", "hostname other"])
            assert refused["error"]["code"] == 1000
        finally:
            twin.clear(DEVICE)
        assert running(driver) == original


def test_raw_json_rpc_shapes_and_errors(twin: Lab) -> None:
    ok = post(twin, ["enable", "show version", "show hostname"])
    assert ok["id"] == "t1" and ok["result"][0] == {}
    assert ok["result"][1]["version"].startswith("4.") and ok["result"][2]["hostname"] == DEVICE
    bad = post(twin, ["enable", "show hostname", "show bogus", "show version"], fmt="text")
    assert bad["error"]["code"] == 1002
    assert bad["error"]["message"] == "CLI command 3 of 4 'show bogus' failed: invalid command"
    assert bad["error"]["data"][1]["output"].startswith("Hostname: leaf3")
    assert bad["error"]["data"][2] == {"output": "% Invalid input (at token 1: 'bogus')\n",
                                       "errors": ["Invalid input (at token 1: 'bogus')"]}
    unprivileged = post(twin, ["configure"])
    assert unprivileged["error"]["data"][0]["errors"] == ["Invalid input (privileged mode required)"]
    with pytest.raises(urllib.error.HTTPError) as denied:
        post(twin, ["show version"], password="wrong")
    assert denied.value.code == 401


def test_auth_fail_and_slow_faults(twin: Lab) -> None:
    twin.fault(DEVICE, "auth-fail")
    try:  # napalm's open() lets pyeapi's error through: its first call is ``show version``
        with pytest.raises(pyeapi.eapilib.ConnectionError, match="Unauthorized"), napalm_eos(twin):
            pass
    finally:
        twin.clear(DEVICE)
    twin.fault(DEVICE, "slow")
    try:
        started = time.monotonic()
        post(twin, ["show hostname"])
        assert time.monotonic() - started >= 0.9
    finally:
        twin.clear(DEVICE)


def test_pfc_and_queue_counters_through_pyeapi(twin: Lab) -> None:
    port = "Ethernet3/1"
    before = twin.counters(DEVICE, port)
    twin.counters(DEVICE, port, rx_pfc3_frames=5, tx_pfc3_frames=7, tx_pfc4_frames=1, q3_tx_pkts=100,
                  q3_drop_pkts=2, q3_ecn_marked_pkts=9)
    ep = twin.endpoint(DEVICE, "eapi")
    node = pyeapi.client.Node(pyeapi.client.make_connection(
        "http", host=ep["address"], port=ep["port"], username=ep["username"], password=twin.password))
    summary, detail, queues, ecn = node.enable([
        "show priority-flow-control counters", f"show interfaces {port} priority-flow-control counters detail",
        f"show interfaces {port} counters queue detail", f"show qos interfaces {port} ecn counters queue"])
    totals = summary["result"]["interfaceCounters"][port]
    assert totals["rxFrames"] == sum(before[f"rx_pfc{p}_frames"] for p in range(8)) + 5
    assert totals["txFrames"] == sum(before[f"tx_pfc{p}_frames"] for p in range(8)) + 8
    priority = detail["result"]["interfaces"][port]["priorities"]["3"]
    assert priority == {"rxFrames": before["rx_pfc3_frames"] + 5, "txFrames": before["tx_pfc3_frames"] + 7}
    tc3 = queues["result"]["egressQueueCounters"]["interfaces"][port]["ucastQueues"]["trafficClasses"]["TC3"]
    assert tc3["dropPrecedences"]["DP0"]["droppedPackets"] == before["q3_drop_pkts"] + 2
    assert tc3["enqueuedPackets"] == before["q3_tx_pkts"] + 100
    assert ecn["result"]["intfQueueCounters"][port]["queueCounters"]["3"] == before["q3_ecn_marked_pkts"] + 9
    text = node.run_commands(["show priority-flow-control counters"], encoding="text")[0]["output"]
    assert any(line.split() == ["Et3/1", str(totals["rxFrames"]), str(totals["txFrames"])]
               for line in text.splitlines())
