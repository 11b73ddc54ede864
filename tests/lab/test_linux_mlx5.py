"""linux_mlx5 hosts through netmiko's ``linux`` driver and OpenSSH: rendered roce.sh, read-back, counters, faults."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from fabric.lab.control import Lab
from tests.conftest import INVENTORIES, ROOT

GOLDEN = ROOT / "tests/golden/lab-roce/config"
SYSFS = "/sys/class/net/ens1np0/ecn"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A lab-roce twin of this module's own: these tests change host state and inject faults."""
    twin = Lab(tmp_path_factory.mktemp("mlx5")).up(INVENTORIES / "lab-roce", free_ports=True)
    try:
        yield twin
    finally:
        twin.down()


def connect(lab: Lab, device: str) -> Any:
    from netmiko import ConnectHandler

    ep = lab.endpoint(device)
    return ConnectHandler(device_type="linux", host=ep["address"], port=ep["port"], username=ep["username"],
                          password=lab.password, allow_agent=False, use_keys=False)


def ssh(lab: Lab, device: str, command: str) -> subprocess.CompletedProcess[str]:
    ep = lab.endpoint(device)
    return subprocess.run(
        ["ssh", "-i", str(lab.client_key), "-o", f"UserKnownHostsFile={lab.known_hosts}", "-o", "BatchMode=yes",
         "-o", "StrictHostKeyChecking=yes", "-p", str(ep["port"]), f"{ep['username']}@{ep['address']}", command],
        capture_output=True, text=True, timeout=30)


def digest(lab: Lab, device: str) -> str:
    return str(lab.status()["devices"][device]["config_digest"])


def readback(conn: Any) -> dict[str, str]:
    """What verify would read: mlnx_qos, the ECN sysfs, the RDMA-CM ToS, MTU and 802.3x pause."""
    commands = {"qos": "mlnx_qos -i ens1np0", "tos": "cma_roce_tos -d mlx5_0",
                "np3": f"cat {SYSFS}/roce_np/enable/3", "cnp_dscp": f"cat {SYSFS}/roce_np/params/cnp_dscp",
                "time_reset": f"cat {SYSFS}/roce_rp/params/rpg_time_reset", "link": "ip link show ens1np0",
                "pause": "ethtool -a ens1np0"}
    conn.config_mode()  # cma_roce_tos wants root
    try:
        return {key: conn.send_command(command) for key, command in commands.items()}
    finally:
        conn.exit_config_mode()


def test_rendered_roce_script_applies_every_line_and_reads_back(lab: Lab) -> None:
    lines = (GOLDEN / "gpu01/roce.sh").read_text().splitlines()
    with connect(lab, "gpu01") as conn:
        assert conn.find_prompt() == "fabric@gpu01:~$"
        before = readback(conn)
        output = conn.send_config_set(lines)
        after = readback(conn)
    assert not re.search(r"command not found|error|denied|Invalid|Bad value", output, re.I), output
    assert "Priority trust state: pcp" in before["qos"] and "tsa: vendor" in before["qos"]
    qos = after["qos"]
    assert "DCBX mode: OS controlled" in qos and "Priority trust state: dscp" in qos
    assert re.search(r"\tprio:3 dscp:26,31,30,29,28,27,25,24,", qos)
    assert re.search(r"\tprio:6 dscp:48,55,", qos)
    assert "\tenabled     0   0   0   1   0   0   0   0" in qos
    assert "tc: 3 ratelimit: unlimited, tsa: ets, bw: 50%\n\t priority:  3" in qos
    assert "tc: 6 ratelimit: unlimited, tsa: strict\n\t priority:  6" in qos
    assert before["tos"] == "0" and after["tos"] == "106"
    assert after["np3"] == "1" and after["cnp_dscp"] == "48" and after["time_reset"] == "300"
    assert "mtu 1500" in before["link"] and "mtu 9000" in after["link"]
    assert "RX:\t\ton" in before["pause"] and "RX:\t\toff\nTX:\t\toff" in after["pause"]


def test_second_run_changes_nothing(lab: Lab) -> None:
    lines = (GOLDEN / "gpu02/roce.sh").read_text().splitlines()
    booted = digest(lab, "gpu02")
    with connect(lab, "gpu02") as conn:
        conn.send_config_set(lines)
        first, applied = readback(conn), digest(lab, "gpu02")
        conn.send_config_set(lines)
        second = readback(conn)
    assert applied != booted
    assert digest(lab, "gpu02") == applied
    assert second == first


def test_a_small_change_of_our_own(lab: Lab) -> None:
    with connect(lab, "gpu07") as conn:
        output = conn.send_config_set(["mlnx_qos -i ens2np0 --pfc 0,0,0,0,1,0,0,0",
                                       "echo 250 > /sys/class/net/ens2np0/ecn/roce_rp/params/rpg_time_reset",
                                       "mlnx_qos -i ens2np0 --dscp2prio set,34,4"])
        qos = conn.send_command("mlnx_qos -i ens2np0")
        time_reset = conn.send_command("cat /sys/class/net/ens2np0/ecn/roce_rp/params/rpg_time_reset")
    assert "error" not in output.lower()
    assert "\tenabled     0   0   0   0   1   0   0   0" in qos
    assert "Priority trust state: dscp\ndscp2prio mapping:\n\tprio:4 dscp:34,\n" in qos  # trust followed the app
    assert time_reset == "250"


def test_invalid_commands_leave_state_unchanged(lab: Lab) -> None:
    refused = {  # command: (its message, whether it exits non-zero)
        "mlnx_qos -i ens1np0 --pfc 0,0,0,2,0,0,0,0": ("Bad value for PFC: 2 is not in the range 0..1", True),
        "mlnx_qos -i ens1np0 --tsa ets,ets,ets,ets,ets,ets,ets,ets --tcbw 60,0,0,50,0,0,0,0":
            ("Netlink error: Bad value. see dmesg.", True),
        "mlnx_qos -i ens1np0 --trust dscp --dscp2prio set,26,3":
            ("trust and dscp2prio commands cannot be used at the same time.", True),
        "mlnx_qos -i ens9np0 --pfc 0,0,0,1,0,0,0,0": ("Netlink error: No such device (19)", True),
        f"echo 2 > {SYSFS}/roce_np/enable/3": ("bash: echo: write error: Invalid argument", True),
        f"echo 1 > {SYSFS}/roce_np/enable/9": (f"bash: {SYSFS}/roce_np/enable/9: No such file or directory", True),
        "ip link set dev ens1np0 mtu 10000": ("Error: mtu greater than device maximum.", True),
        "ethtool -A ens1np0 autoneg on": ("netlink error: Invalid argument", True),
        "cma_roce_tos -d mlx5_0 -t 300": ("echo: write error: Numerical result out of range\n0", False),
        "mlnx_qoss -i ens1np0": ("bash: mlnx_qoss: command not found", True),
    }
    before = digest(lab, "gpu03")
    with connect(lab, "gpu03") as conn:
        conn.config_mode()
        for command, (message, fails) in refused.items():
            assert message in conn.send_command(command), command
            assert (conn.send_command("echo $?") != "0") == fails, command
        conn.exit_config_mode()
    assert digest(lab, "gpu03") == before


def test_reject_config_fault_refuses_changes(lab: Lab) -> None:
    before = digest(lab, "gpu04")
    lab.fault("gpu04", "reject-config", 60)
    try:
        with connect(lab, "gpu04") as conn:
            conn.config_mode()
            pfc = conn.send_command("mlnx_qos -i ens1np0 --pfc 0,0,0,1,0,0,0,0")
            trust = conn.send_command("mlnx_qos -i ens1np0 --trust dscp")
            ecn = conn.send_command(f"echo 0 > {SYSFS}/roce_np/enable/3")
            tos = conn.send_command("cma_roce_tos -d mlx5_0 -t 106")
            pause = conn.send_command("ethtool -A ens1np0 rx off tx off")
            mtu = conn.send_command("ip link set dev ens1np0 mtu 9000")
            conn.exit_config_mode()
    finally:
        lab.clear("gpu04", "reject-config")
    assert "OSError: Netlink error: Operation not permitted (1)" in pfc
    assert trust == "Priority trust state is not supported on your system"
    assert ecn == "bash: echo: write error: Operation not permitted"
    assert tos.endswith("write error: Operation not permitted\n0")
    assert pause == "netlink error: Operation not permitted"
    assert mtu == "RTNETLINK answers: Operation not permitted"
    assert digest(lab, "gpu04") == before


def test_counters_through_ethtool_and_sysfs(lab: Lab) -> None:
    lab.counters("gpu05", "ens1np0", rx_pfc3_frames=11, tx_pfc3_pause_us=250, q3_tx_bytes=4096,
                 np_cnp_sent=7, rp_cnp_handled=5, np_ecn_marked_roce_packets=9)
    with connect(lab, "gpu05") as conn:
        lossy = conn.send_command("ethtool -S ens1np0")
        conn.send_config_set(["mlnx_qos -i ens1np0 --pfc 0,0,0,1,0,0,0,0"])
        lossless = conn.send_command("ethtool -S ens1np0 | grep prio3")
        hw = {name: conn.send_command(f"cat /sys/class/infiniband/mlx5_0/ports/1/hw_counters/{name}")
              for name in ("np_cnp_sent", "rp_cnp_handled", "np_ecn_marked_roce_packets", "rp_cnp_ignored")}
    assert lossy.startswith("NIC statistics:\n") and "rx_prio3_pause" not in lossy  # listed only with PFC on
    assert "     tx_prio3_bytes: 4096" in lossy and "     rx_global_pause: 0" in lossy
    assert "     rx_prio3_pause: 11\n" in lossless and "     tx_prio3_pause_duration: 250\n" in lossless
    assert hw == {"np_cnp_sent": "7", "rp_cnp_handled": "5", "np_ecn_marked_roce_packets": "9", "rp_cnp_ignored": "0"}


def test_ssh_command_runs_as_the_login_user_with_bash_exit_status(lab: Lab) -> None:
    missing = ssh(lab, "gpu06", "mlnx_qoss -i ens1np0")
    assert missing.returncode == 127 and "bash: line 1: mlnx_qoss: command not found" in missing.stdout
    as_user = ssh(lab, "gpu06", "mlnx_qos -i ens1np0 --pfc 0,0,0,1,0,0,0,0")
    assert as_user.returncode == 1 and "Operation not permitted" in as_user.stdout
    script = ssh(lab, "gpu06", "sudo bash -c 'set -e; mlnx_qos -i ens1np0 --pfc 0,0,0,1,0,0,0,0 >/dev/null; "
                               "echo 7 > /sys/class/net/ens1np0/ecn/roce_np/enable/3; echo unreachable'")
    assert script.returncode == 1 and "unreachable" not in script.stdout
    assert "bash: line 1: echo: write error: Invalid argument" in script.stdout
    readback = ssh(lab, "gpu06", "mlnx_qos -i ens1np0 | grep enabled")
    assert readback.returncode == 0 and readback.stdout.split() == ["enabled", "0", "0", "0", "1", "0", "0", "0", "0"]


def test_grep_labels_lines_as_gnu_grep(lab: Lab) -> None:
    """The deploy driver reads sysfs back with ``grep -H . FILE...`` in chunks: a chunk of one file lost its
    ``FILE:`` label. Outputs and exit statuses are GNU grep 3.8's (Debian 12) for the same files."""
    enable = f"{SYSFS}/roce_np/enable"
    cases = {
        "grep -H . /tmp/g1": ("/tmp/g1:one\n", 0),
        "grep . /tmp/g1": ("one\n", 0),
        "grep . /tmp/g1 /tmp/g2": ("/tmp/g1:one\n/tmp/g2:two\n", 0),
        "grep -h . /tmp/g1 /tmp/g2": ("one\ntwo\n", 0),
        "grep -Hh . /tmp/g1": ("one\n", 0),
        "grep -hH . /tmp/g1": ("/tmp/g1:one\n", 0),
        "grep -H -c . /tmp/g1": ("/tmp/g1:1\n", 0),
        "grep -r . /tmp/g1": ("one\n", 0),
        f"grep -rc . {enable}": ("".join(f"{enable}/{prio}:1\n" for prio in range(8)), 0),
        f"grep -rhc . {enable}": ("1\n" * 8, 0),
        "cat /tmp/g1 | grep -H o": ("(standard input):one\n", 0),
        "echo x | grep -H o /tmp/g2": ("/tmp/g2:two\n", 0),
        "grep -sH . /tmp/g1 /tmp/nope": ("/tmp/g1:one\n", 2),
        "grep -qs . /tmp/nope /tmp/g1": ("", 0),
    }
    assert ssh(lab, "gpu08", "printf 'one\\n' > /tmp/g1; printf 'two\\n' > /tmp/g2").returncode == 0
    for command, (out, status) in cases.items():
        got = ssh(lab, "gpu08", command)
        assert (got.stdout, got.returncode) == (out, status), command
    missing = ssh(lab, "gpu08", "grep -H . /tmp/g1 /tmp/nope")
    assert missing.returncode == 2 and "grep: /tmp/nope: No such file or directory" in missing.stdout + missing.stderr
