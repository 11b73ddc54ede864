"""leaf4 (H3C Comware 7) through netmiko's ``hp_comware`` driver, the client the deploy path uses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from fabric.lab.control import Lab

GOLDEN = Path(__file__).parents[1] / "golden" / "lab-roce" / "config" / "leaf4" / "comware.cfg"
PORT = "HundredGigE1/0/1"


@contextmanager
def comware(lab: Lab) -> Iterator[object]:
    from netmiko import ConnectHandler

    ep = lab.endpoint("leaf4")
    conn = ConnectHandler(device_type="hp_comware", host=ep["address"], port=ep["port"], username=ep["username"],
                          password=lab.password, allow_agent=False, use_keys=False)
    try:
        yield conn
    finally:
        conn.disconnect()


def blocks(text: str) -> dict[str, set[str]]:
    """``display current-configuration`` -> {view header ("" for global): its statements}."""
    found: dict[str, set[str]] = {"": set()}
    header = ""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(("#", "!")) or line in ("return", ""):
            header = ""
        elif line.startswith(" "):
            found.setdefault(header, set()).add(line.strip())
        elif index + 1 < len(lines) and lines[index + 1].startswith(" "):
            header = line
            found.setdefault(header, set())
        else:
            found[""].add(line)  # a global statement of a CLI that does not indent them (VRP)
    return found


def rendered(path: Path) -> list[tuple[str, str]]:
    """(view header, statement) pairs of a rendered config file; "" for statements typed in system view."""
    pairs, header = [], ""
    lines = [line for line in path.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for index, line in enumerate(lines):
        if line == "quit":
            header = ""
        elif line.startswith(" "):
            pairs.append((header, line.strip()))
        elif index + 1 < len(lines) and lines[index + 1].startswith(" "):
            header = line
        else:
            pairs.append(("", line))
    return pairs


def test_golden_config_and_own_change_are_running_and_saved(fresh_twin: Lab) -> None:
    with comware(fresh_twin) as conn:
        output = conn.send_config_set(GOLDEN.read_text().splitlines())
        output += conn.send_config_set([f"interface {PORT}", "priority-flow-control dot1p 3 headroom 300",
                                        "qos wfq 3 group 1 byte-count 60"])
        assert "successfully" in conn.save_config()
        running = conn.send_command("display current-configuration")
        saved = conn.send_command("display saved-configuration")
    assert " % " not in output
    shown = blocks(running)
    for header, statement in rendered(GOLDEN):
        if statement == "undo flow-control":
            assert "flow-control" not in shown[header]
        elif header == f"interface {PORT}" and statement.startswith(("priority-flow-control dot1p 3 headroom",
                                                                      "qos wfq 3 ")):
            continue
        else:
            assert statement in shown[header], (header, statement)
    ours = shown[f"interface {PORT}"]
    assert {"priority-flow-control dot1p 3 headroom 300", "qos wfq 3 group 1 byte-count 60"} <= ours
    assert "priority-flow-control dot1p 3 headroom 208" not in ours
    assert saved == running and running.startswith("#\n version 7.1") and running.endswith("#\nreturn")


def test_invalid_commands_are_rejected_with_caret_and_change_nothing(fresh_twin: Lab) -> None:
    with comware(fresh_twin) as conn:
        before = conn.send_command(f"display current-configuration interface {PORT}")
        conn.config_mode()
        conn.send_command(f"interface {PORT}", expect_string=r"\]")
        prompt = f"[leaf4-{PORT}]"
        replies = {line: conn.send_command(line, expect_string=r"\]")
                   for line in ("qos wfq 9 group 1 byte-count 50", "priority-flow-control no-drop",
                                "qos trust dscp extra", "bogus command")}
        conn.exit_config_mode()
        after = conn.send_command(f"display current-configuration interface {PORT}")
    assert replies["qos wfq 9 group 1 byte-count 50"].splitlines() == [
        " " * (len(prompt) + len("qos wfq ")) + "^", " % Wrong parameter found at '^' position."]
    assert "% Incomplete command found at '^' position." in replies["priority-flow-control no-drop"]
    assert "% Too many parameters found at '^' position." in replies["qos trust dscp extra"]
    assert replies["bogus command"].splitlines()[0] == " " * len(prompt) + "^"
    assert before == after and "qos wfq" not in after


def test_invalid_line_in_a_config_set_raises_in_netmiko(fresh_twin: Lab) -> None:
    from netmiko.exceptions import ConfigInvalidException

    with comware(fresh_twin) as conn, pytest.raises(ConfigInvalidException, match="Unrecognized command"):
        conn.send_config_set([f"interface {PORT}", "qos trsut dscp"], error_pattern=r"% \w.*")


def test_reject_config_fault_refuses_changes_until_cleared(fresh_twin: Lab) -> None:
    change = [f"interface {PORT}", "description refused"]
    fresh_twin.fault("leaf4", "reject-config", 60)
    with comware(fresh_twin) as conn:
        output = conn.send_config_set(change)
        refused = conn.send_command(f"display current-configuration interface {PORT}")
        fresh_twin.clear("leaf4")
        assert " % " not in conn.send_config_set(change)
        accepted = conn.send_command(f"display current-configuration interface {PORT}")
    assert "% The configuration is locked by another user." in output
    assert "description refused" not in refused
    assert " description refused" in accepted.splitlines()


def test_pfc_and_queue_counters_are_displayed(fresh_twin: Lab) -> None:
    fresh_twin.counters("leaf4", PORT, rx_pfc3_frames=11, tx_pfc3_frames=22, q3_tx_pkts=33, q3_tx_bytes=4400,
                        q3_drop_pkts=5, q3_drop_bytes=600)
    with comware(fresh_twin) as conn:
        conn.send_config_set([f"interface {PORT}", "priority-flow-control enable",
                              "priority-flow-control no-drop dot1p 3 4"])
        pfc = conn.send_command(f"display priority-flow-control interface {PORT}")
        queues = conn.send_command(f"display qos queue-statistics interface {PORT} outbound")
    header, first, second = pfc.splitlines()
    assert header.split() == ["Interface", "AdminMode", "OperMode", "Dot1pList", "Prio", "Recv", "Send", "Inpps",
                              "Outpps"]
    assert first.split() == ["HGE1/0/1", "Enabled", "Enabled", "3,4", "3", "11", "22", "0", "0"]
    assert second.split() == ["4", "0", "0", "0", "0"]
    assert " Queue 3\n  Forwarded: 33 packets, 4400 bytes, 0 pps, 0 bps\n  Dropped: 5 packets, 600 bytes" in queues
    assert queues.startswith(f"Interface: {PORT}\n Direction: outbound\n Forwarded: 33 packets, 4400 bytes")


@pytest.mark.parametrize("platform", ["comware", "huawei_ce"])
def test_every_port_name_the_generator_writes_is_an_interface_type(platform: str) -> None:
    """``fabric inventory generate`` names ports per speed (``FiftyGigE1/0/1``, ``800GE1/0/1``); a name the twin
    does not know is refused at ``interface ...`` and the whole deploy of a generated fabric fails."""
    from fabric.core.units import SPEEDS_GBPS
    from fabric.inventory.generate import PORT_NAMES
    from fabric.lab.dialects.comware import ComwareDialect
    from fabric.lab.dialects.huawei_ce import HuaweiCeDialect

    dialect = {"comware": ComwareDialect, "huawei_ce": HuaweiCeDialect}[platform]
    kinds = {speed: PORT_NAMES[platform](1, speed).removesuffix("1/0/1") for speed in SPEEDS_GBPS}
    assert {speed: dialect.interface_type(kind) for speed, kind in kinds.items()} == kinds
