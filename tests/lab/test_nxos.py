"""spine1 (Cisco NX-OS) through the clients the deploy path uses: netmiko ``cisco_nxos`` and napalm ``nxos_ssh``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from fabric.lab.control import Lab

GOLDEN = Path(__file__).parents[1] / "golden" / "lab-roce" / "config" / "spine1" / "nxos.cfg"
ECN_400G = "policy-map type queuing QOS_EGRESS_roce_ecn_400g"
Q3 = "class type queuing c-out-8q-q3"
MY_WRED = ("random-detect minimum-threshold 500 kbytes maximum-threshold 2000 kbytes drop-probability 10 "
           "weight 0 ecn")


@contextmanager
def nxos(lab: Lab) -> Iterator[Any]:
    from netmiko import ConnectHandler

    ep = lab.endpoint("spine1")
    conn = ConnectHandler(device_type="cisco_nxos", host=ep["address"], port=ep["port"], username=ep["username"],
                          password=lab.password, allow_agent=False, use_keys=False)
    try:
        yield conn
    finally:
        conn.disconnect()


@contextmanager
def napalm_nxos(lab: Lab) -> Iterator[Any]:
    from napalm import get_network_driver

    ep = lab.endpoint("spine1")
    device = get_network_driver("nxos_ssh")(ep["address"], ep["username"], lab.password, timeout=20,
                                            optional_args={"port": ep["port"], "allow_agent": False,
                                                           "use_keys": False})
    device.open()
    try:
        yield device
    finally:
        device.close()


def golden_lines() -> list[str]:
    return GOLDEN.read_text().splitlines()


def body(running: str) -> str:
    """show running-config without its time-stamped header."""
    return "\n".join(line for line in running.splitlines() if not line.startswith("!"))


def block(config: str, *path: str) -> list[str]:
    """The lines directly under the block ``path`` (header lines, outermost first) of an indented config."""
    lines = config.splitlines()
    start, depth = 0, 0
    for header in path:
        start = next(i for i in range(start, len(lines)) if lines[i] == "  " * depth + header) + 1
        depth += 1
    found = []
    for line in lines[start:]:
        indent = len(line) - len(line.lstrip())
        if not line.strip() or indent < 2 * depth:
            break
        if indent == 2 * depth:
            found.append(line.strip())
    return found


def test_golden_config_and_a_change_of_mine_land_in_their_blocks(fresh_twin: Lab) -> None:
    with nxos(fresh_twin) as conn:
        output = conn.send_config_set(golden_lines())
        assert "%" not in output, output
        pushed = conn.send_command("show running-config")
        conn.send_config_set([ECN_400G, Q3, MY_WRED, "interface Ethernet1/4", "mtu 9000"])
        running = conn.send_command("show running-config")
        assert "\nCopy complete.\n" in conn.save_config()
        startup = conn.send_command("show startup-config")
    assert block(running, ECN_400G, Q3) == ["bandwidth remaining percent 50", MY_WRED]
    assert block(running, "policy-map type network-qos QOS_NETWORK", "class type network-qos c-8q-nq3") == [
        "mtu 9216", "pause pfc-cos 3"]
    assert block(running, "system qos") == ["service-policy type queuing output QOS_EGRESS_PORT",
                                            "service-policy type network-qos QOS_NETWORK"]
    assert "priority-flow-control watch-dog-interval on" in running.splitlines()  # global, not under an interface
    assert block(running, "interface Ethernet1/4") == [
        "description to leaf4:HundredGigE1/0/1", "mtu 9000", "priority-flow-control mode on",
        "priority-flow-control watch-dog-interval on", "service-policy type qos input QOS_CLASSIFICATION",
        "service-policy type queuing output QOS_EGRESS_roce_ecn_100g"]
    assert body(startup) == body(running)
    shown = {line.strip() for line in pushed.splitlines()}
    typed = {line.strip() for line in golden_lines() if line.strip() and not line.lstrip().startswith("!")}
    assert typed <= shown, typed - shown


def test_invalid_commands_are_refused_with_the_caret_and_change_nothing(twin: Lab) -> None:
    with nxos(twin) as conn:
        before = body(conn.send_command("show running-config"))
        output = conn.send_config_set(["interface Ethernet1/2", "mtu 99999", "priority-flow-control mode always",
                                       "interface Ethernet1/77", "policy-map type queuing"])
        after = body(conn.send_command("show running-config"))
        show = conn.send_command("show lossless-magic")
    assert "% Invalid number, range is (576:9216) at '^' marker." in output
    assert output.count("% Invalid command at '^' marker.") == 2
    assert "% Incomplete command at '^' marker." in output
    assert after == before
    assert "% Invalid command at '^' marker." in show
    caret, message = show.strip().splitlines()[-2:]
    assert message.startswith("%") and caret.strip() == "^"


def test_reject_config_refuses_configuration_until_cleared(fresh_twin: Lab) -> None:
    with nxos(fresh_twin) as conn:
        before = body(conn.send_command("show running-config"))
        conn.config_mode()
        fresh_twin.fault("spine1", "reject-config", 60)
        refused = conn.send_config_set(["interface Ethernet1/1", "mtu 9000"], enter_config_mode=False)
        conn.exit_config_mode()
        with pytest.raises(ValueError, match="configuration mode"):
            conn.send_config_set(["interface Ethernet1/1", "mtu 9000"])
        assert "% Permission denied for the role" in refused
        assert body(conn.send_command("show running-config")) == before
        fresh_twin.clear("spine1", "reject-config")
        conn.send_config_set(["interface Ethernet1/1", "mtu 9000"])
        assert "mtu 9000" in block(conn.send_command("show running-config"), "interface Ethernet1/1")


def pfc_row(table: str, port: str) -> list[str]:
    """One port's row of show interface priority-flow-control, cut at NX-OS's fixed columns."""
    line = next(line for line in table.splitlines() if line.startswith(port + " "))
    return [line[a:b].strip() for a, b in ((0, 19), (19, 24), (24, 38), (38, 49), (49, None))]


def test_counters_read_through_show_commands(fresh_twin: Lab) -> None:
    fresh_twin.counters("spine1", "Ethernet1/1", rx_pfc3_frames=5, tx_pfc3_frames=7, q3_tx_pkts=1000,
                        q3_ecn_marked_pkts=11, q3_drop_pkts=2)
    with nxos(fresh_twin) as conn:
        before = conn.send_command("show interface priority-flow-control")
        conn.send_config_set(["policy-map type network-qos QOS_NETWORK", "class type network-qos c-8q-nq3",
                              "pause pfc-cos 3", "system qos", "service-policy type network-qos QOS_NETWORK",
                              "policy-map type queuing EGRESS", "class type queuing c-out-8q-q3",
                              "bandwidth remaining percent 50", "interface Ethernet1/1",
                              "priority-flow-control mode on", "service-policy type queuing output EGRESS",
                              "interface Ethernet1/2", "priority-flow-control mode on"])
        pfc = conn.send_command("show interface priority-flow-control")
        queuing = conn.send_command("show queuing interface ethernet 1/1")
    assert pfc_row(before, "Ethernet1/1") == ["Ethernet1/1", "Auto", "Off", "5", "7"]
    assert pfc_row(pfc, "Ethernet1/1") == ["Ethernet1/1", "On", "On  (8)", "5", "7"]
    assert pfc_row(pfc, "Ethernet1/2") == ["Ethernet1/2", "On", "On  (8)", "0", "0"]
    group3 = queuing.split("QOS GROUP 3")[1].split("QOS GROUP 4")[0]
    rows = {cells[1].strip(): int(cells[2]) for cells in (line.split("|") for line in group3.splitlines())
            if len(cells) == 5 and cells[2].strip().isdigit()}
    assert rows["Tx Pkts"] == 1000 and rows["ECN Marked Pkts"] == 11 and rows["WRED/AFD & Tail Drop Pkts"] == 2
    assert "Egress Queuing for Ethernet1/1 [Interface]" in queuing
    assert re.search(r"^\s+3\s+50\s+-", queuing, re.M)  # EGRESS gives queue 3 50 %
    assert re.search(r"^\s+3\s+3\s+Inactive\s+7\s+Inactive\s+5$", queuing, re.M)


def test_napalm_merge_diff_then_discard_changes_nothing(twin: Lab) -> None:
    with napalm_nxos(twin) as device:
        before = device.get_config(retrieve="running")["running"]
        device.load_merge_candidate(config="interface Ethernet1/3\n  mtu 9100\n")
        diff = device.compare_config()
        device.discard_config()
        assert device.compare_config() == ""
        after = device.get_config(retrieve="running")["running"]
    assert diff == "interface Ethernet1/3\n  mtu 9100"
    assert body(after) == body(before)


def test_napalm_commit_then_rollback(fresh_twin: Lab) -> None:
    with napalm_nxos(fresh_twin) as device:
        before = body(device.get_config(retrieve="running")["running"])
        device.load_merge_candidate(config=GOLDEN.read_text())
        assert "pause pfc-cos 3" in device.compare_config()
        device.commit_config()
        committed = device.get_config()
        device.rollback()
        rolled_back = body(device.get_config(retrieve="running")["running"])
    assert block(committed["running"], "policy-map type network-qos QOS_NETWORK",
                 "class type network-qos c-8q-nq3") == ["mtu 9216", "pause pfc-cos 3"]
    assert body(committed["startup"]) == body(committed["running"])  # commit saves, as napalm does
    assert body(committed["running"]) != before
    assert rolled_back == before


def test_napalm_merge_with_an_invalid_line_fails_and_is_rolled_back(fresh_twin: Lab) -> None:
    from napalm.base.exceptions import MergeConfigException

    with napalm_nxos(fresh_twin) as device:
        before = body(device.get_config(retrieve="running")["running"])
        device.load_merge_candidate(config="interface Ethernet1/1\n  mtu 9000\n  priority-flow-control mode always\n")
        with pytest.raises(MergeConfigException, match="merge failed"):
            device.commit_config()
        after = body(device.get_config(retrieve="running")["running"])
    assert after == before  # the mtu line before the bad one was applied, then napalm rolled it back
