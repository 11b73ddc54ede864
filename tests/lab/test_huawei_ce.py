"""spine2 (Huawei CloudEngine, VRP V8) through netmiko's ``huawei_vrpv8`` driver, the client the deploy path uses.

netmiko's Huawei ``check_config_mode`` waits 2 s for silence each time, so only the golden push goes through
``send_config_set`` + ``commit()``; the other tests type lines with ``send_command`` on the same real client.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fabric.lab.control import Lab
from tests.lab.test_comware import blocks, rendered

GOLDEN = Path(__file__).parents[1] / "golden" / "lab-roce" / "config" / "spine2" / "huawei_ce.cfg"
PORT = "100GE1/0/4"
PROMPT_OR_QUESTION = r"(?:[\]>]|\]:)\s*$"


@contextmanager
def huawei(lab: Lab) -> Iterator[Any]:
    from netmiko import ConnectHandler

    ep = lab.endpoint("spine2")
    conn = ConnectHandler(device_type="huawei_vrpv8", host=ep["address"], port=ep["port"], username=ep["username"],
                          password=lab.password, allow_agent=False, use_keys=False)
    try:
        yield conn
    finally:
        conn.disconnect()


def type_lines(conn: Any, *lines: str) -> list[str]:
    """Each line's reply, the prompt that follows it included (to see ``~``/``*``)."""
    return [conn.send_command(line, expect_string=PROMPT_OR_QUESTION, strip_prompt=False) for line in lines]


def running(conn: Any, port: str | None = None) -> str:
    command = "display current-configuration" + (f" interface {port}" if port else "")
    return str(conn.send_command(command, expect_string=PROMPT_OR_QUESTION))


def test_golden_config_is_a_candidate_until_commit(fresh_twin: Lab) -> None:
    own = [f"interface {PORT}", "qos queue 3 drr weight 60", "dcb pfc buffer 3 hdrm 64 kbytes", "quit"]
    with huawei(fresh_twin) as conn:
        output = conn.send_config_set([*GOLDEN.read_text().splitlines(), *own])
        before = running(conn)
        candidate = conn.send_command("display configuration candidate", expect_string=PROMPT_OR_QUESTION)
        committed = conn.commit()
        after = running(conn)
        saved = conn.save_config()
    assert "Error" not in output and output.rstrip().endswith("[*spine2]")
    assert "drop-profile roce_ecn_100g" not in before and "drop-profile roce_ecn_100g" in candidate
    assert "[~spine2]" in committed and "Failed" not in committed
    shown = blocks(after)
    for header, statement in rendered(GOLDEN):
        if statement == "undo flow-control":
            assert "flow-control" not in shown[header]
        elif header != f"interface {PORT}" or not statement.startswith(("qos queue 3 drr", "dcb pfc buffer 3")):
            assert statement in shown[header], (header, statement)
    assert {"qos queue 3 drr weight 60", "dcb pfc buffer 3 hdrm 64 kbytes"} <= shown[f"interface {PORT}"]
    assert "dcb pfc buffer 3 hdrm 52 kbytes" not in shown[f"interface {PORT}"]
    assert "Save the configuration successfully" in saved


def test_commit_applies_all_pending_changes_or_none(fresh_twin: Lab) -> None:
    with huawei(fresh_twin) as first, huawei(fresh_twin) as second:
        type_lines(first, "system-view", "drop-profile tmp", "ecn buffer-size low-limit 1 high-limit 2 "
                   "discard-percentage 5", "commit", f"interface {PORT}", "description atomic", "qos queue 5 wred tmp")
        type_lines(second, "system-view", "undo drop-profile tmp", "commit")
        failed = type_lines(first, "commit")[0]
        unchanged = running(first, PORT)
        leave = type_lines(first, "return", "n")
    assert "Error: Failed to generate committed config" in failed and failed.rstrip().endswith("[*spine2-100GE1/0/4]")
    assert "description atomic" not in unchanged and "wred" not in unchanged
    assert "Uncommitted configurations found" in leave[0] and leave[1].rstrip().endswith("<spine2>")


def test_invalid_commands_are_rejected_with_caret_and_change_nothing(fresh_twin: Lab) -> None:
    with huawei(fresh_twin) as conn:
        before = running(conn, PORT)
        type_lines(conn, "system-view", f"interface {PORT}")
        prompt = f"[~spine2-{PORT}]"
        wrong, incomplete, unknown = type_lines(conn, "qos queue 9 drr weight 50", "dcb pfc buffer 3 hdrm",
                                                "bogus command")
        missing = type_lines(conn, "qos queue 3 wred nosuch")[0]
        type_lines(conn, "return")
        after = running(conn, PORT)
    assert wrong.splitlines()[:2] == [" " * (len(prompt) + len("qos queue ")) + "^",
                                      "Error: Wrong parameter found at '^' position."]
    assert "Error: Incomplete command found at '^' position." in incomplete
    assert unknown.splitlines()[0] == " " * len(prompt) + "^" and "Unrecognized command" in unknown
    assert "Error: The drop-profile does not exist." in missing
    assert all(reply.rstrip().endswith(prompt) for reply in (wrong, incomplete, unknown, missing))
    assert before == after


def test_reject_config_fault_refuses_changes_until_cleared(fresh_twin: Lab) -> None:
    fresh_twin.fault("spine2", "reject-config", 60)
    with huawei(fresh_twin) as conn:
        refused = type_lines(conn, "system-view", "drop-profile blocked", f"interface {PORT}", "description refused")
        fresh_twin.clear("spine2")
        accepted = type_lines(conn, f"interface {PORT}", "description accepted", "commit", "return")
        after, running_all = running(conn, PORT), running(conn)
    assert all("Error: The configuration is locked by another user." in refused[i] for i in (1, 3))
    assert refused[2].rstrip() == f"[~spine2-{PORT}]"  # an existing view may still be entered: nothing changes
    assert refused[3].rstrip().endswith(f"[~spine2-{PORT}]")
    assert accepted[1].rstrip().endswith(f"[*spine2-{PORT}]") and accepted[2].rstrip().endswith(f"[~spine2-{PORT}]")
    assert " description accepted" in after.splitlines() and "refused" not in after
    assert "drop-profile blocked" not in running_all


def test_pfc_queue_and_ecn_counters_are_displayed(fresh_twin: Lab) -> None:
    fresh_twin.counters("spine2", PORT, rx_pfc3_frames=11, tx_pfc3_frames=22, q3_tx_pkts=33, q3_tx_bytes=4400,
                        q3_drop_pkts=5, q3_drop_bytes=600, q3_ecn_marked_pkts=7)
    with huawei(fresh_twin) as conn:
        type_lines(conn, "system-view", f"interface {PORT}", "dcb pfc enable mode manual", "commit", "return")
        pfc = conn.send_command(f"display dcb pfc interface {PORT}")
        queues = conn.send_command(f"display qos queue statistics interface {PORT}")
        ecn = conn.send_command(f"display qos ecn statistics interface {PORT}")
    rows = [line.split() for line in pfc.splitlines() if not line.startswith("-")]
    assert rows[2:] == [[PORT, "3", "11", "0", "0"], ["22", "0", "0"]]
    queue3 = queues.splitlines()[3 + 3 * 3: 5 + 3 * 3]
    assert [line.split() for line in queue3] == [["3", "0", "33", "0", "5", "0", "-"],
                                                 ["100000000", "4400", "0", "600", "0"]]
    assert [PORT, "7"] in [line.split() for line in ecn.splitlines()]


def test_trust_8021p_outer_replaces_trust_dscp_on_commit(fresh_twin: Lab) -> None:
    """fabric renders ``trust 8021p outer`` for ``qos.trust: pcp``; it is one trust setting with ``trust dscp``."""
    with huawei(fresh_twin) as conn:
        replies = type_lines(conn, "system-view", f"interface {PORT}", "trust dscp", "trust 8021p outer", "commit",
                             "return")
        shown = running(conn, PORT)
    assert not any("Error" in reply for reply in replies), replies
    assert "trust 8021p outer" in shown and "trust dscp" not in shown


def test_undo_trust_dscp_keeps_the_diffserv_domain_binding(fresh_twin: Lab) -> None:
    """``trust {8021p|dscp}`` and ``trust upstream <domain>`` are separate commands, each with its own undo
    (Huawei command reference: ``undo trust`` cancels the trusted priority, ``undo trust upstream`` unbinds the
    DiffServ domain). The twin removed every statement starting with ``trust``."""
    with huawei(fresh_twin) as conn:
        replies = type_lines(conn, "system-view", "diffserv domain roce", "quit", f"interface {PORT}", "trust dscp",
                             "trust upstream roce", "commit", "undo trust dscp", "trust 8021p outer", "commit",
                             "return")
        shown = running(conn, PORT).splitlines()
        replies += type_lines(conn, "system-view", f"interface {PORT}", "undo trust upstream roce", "commit",
                              "return")
        unbound = running(conn, PORT).splitlines()
    assert not any("Error" in reply for reply in replies), replies
    assert " trust upstream roce" in shown and " trust 8021p outer" in shown and " trust dscp" not in shown
    assert " trust upstream roce" not in unbound and " trust 8021p outer" in unbound


def test_deadlock_timers_take_the_vendor_range(fresh_twin: Lab) -> None:
    """``dcb pfc deadlock-detect timer`` / ``deadlock-recovery timer`` take 10-1500 ms and ``deadlock-detect
    interval`` 10, 100, 500 or 1000 (CE6800 V300R023C00 command reference); the twin took 1-1000 for all three."""
    with huawei(fresh_twin) as conn:
        accepted = type_lines(conn, "system-view", "dcb pfc deadlock-detect timer 1200",
                              "dcb pfc deadlock-recovery timer 1500", "dcb pfc deadlock-detect interval 500",
                              "commit")
        refused = type_lines(conn, "dcb pfc deadlock-detect timer 9", "dcb pfc deadlock-recovery timer 1501",
                             "dcb pfc deadlock-detect interval 50")
        type_lines(conn, "return")
        shown = running(conn).splitlines()
    assert not any("Error" in reply for reply in accepted), accepted
    assert all("Error: Wrong parameter found at '^' position." in reply for reply in refused), refused
    assert {"dcb pfc deadlock-detect timer 1200", "dcb pfc deadlock-recovery timer 1500",
            "dcb pfc deadlock-detect interval 500"} <= set(shown)
