"""The OpenSM host (lab-ib sm1) through netmiko's ``linux`` driver: /etc/opensm files, the service, faults, counters."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fabric.lab.control import Lab
from tests.conftest import INVENTORIES, ROOT

GOLDEN = ROOT / "tests/golden/lab-ib/config"
SM_FILES = ("opensm.conf", "partitions.conf", "qos-policy.conf", "root_guids.conf")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    twin = Lab(tmp_path_factory.mktemp("ib")).up(INVENTORIES / "lab-ib", free_ports=True)
    try:
        yield twin
    finally:
        twin.down()


def connect(lab: Lab, device: str) -> Any:
    from netmiko import ConnectHandler

    ep = lab.endpoint(device)
    return ConnectHandler(device_type="linux", host=ep["address"], port=ep["port"], username=ep["username"],
                          password=lab.password, allow_agent=False, use_keys=False)


def write_lines(path: str, text: str, chunk: int = 400) -> list[str]:
    """The documented write form: base64 in chunks of at most 400 characters (a multiple of 4), first truncating."""
    encoded = base64.b64encode(text.encode()).decode()
    chunks = [encoded[i:i + chunk] for i in range(0, len(encoded), chunk)] or [""]
    return [f"printf '%s' {part} | base64 -d {'>' if index == 0 else '>>'} {path}" for index, part in enumerate(chunks)]


def deploy_lines(folder: Path) -> list[str]:
    lines = [line for name in SM_FILES for line in write_lines(f"/etc/opensm/{name}", (folder / name).read_text())]
    return [*lines, "systemctl restart opensm"]


def test_rendered_opensm_files_deploy_and_restart_the_service(lab: Lab) -> None:
    with connect(lab, "sm1") as conn:
        assert conn.find_prompt() == "fabric@sm1:~$"
        before = conn.send_command("cat /etc/opensm/opensm.conf")
        output = conn.send_config_set(deploy_lines(GOLDEN / "sm1"))
        files = {name: conn.send_command(f"cat /etc/opensm/{name}")
                 for name in SM_FILES}
        active = conn.send_command("systemctl is-active opensm")
        log = conn.send_command("cat /var/log/opensm.log")
    assert before == "cat: /etc/opensm/opensm.conf: No such file or directory"
    assert "rror" not in output and "denied" not in output and any(len(line) > 300 for line in output.splitlines())
    for name in SM_FILES:
        assert files[name].strip() == (GOLDEN / "sm1" / name).read_text().strip(), name
    assert active == "active"
    assert "Reading Cached Option File: /etc/opensm/opensm.conf" in log and "Unrecognized" not in log


def test_service_reads_opensm_conf_only_when_restarted(lab: Lab) -> None:
    with connect(lab, "sm1") as conn:
        conn.send_config_set([*write_lines("/etc/opensm/opensm.conf", "sm_priority 3\nbogus_key 1\n")])
        quiet = conn.send_command("grep -c bogus_key /var/log/opensm.log")
        conn.send_config_set(["systemctl restart opensm"])
        logged = conn.send_command("grep bogus_key /var/log/opensm.log")
    assert quiet == "0"
    assert logged == ' Unrecognized token: "bogus_key"'


def test_invalid_commands_change_nothing(lab: Lab) -> None:
    before = lab.status()["devices"]["sm1"]["config_digest"]
    with connect(lab, "sm1") as conn:
        as_user = conn.send_command("printf '%s' Zm9v | base64 -d > /etc/opensm/opensm.conf")
        restart_as_user = conn.send_command("systemctl restart opensm")
        conn.config_mode()
        unit = conn.send_command("systemctl restart opensmd")
        heredoc = conn.send_command("cat > /etc/opensm/opensm.conf <<EOF")
        garbage = conn.send_command("printf '%s' '***' | base64 -d > /tmp/x; echo $?")
        conn.exit_config_mode()
    assert as_user == "-bash: /etc/opensm/opensm.conf: Permission denied"
    assert restart_as_user.startswith("Failed to restart opensm.service: Interactive authentication required.")
    assert unit == "Failed to restart opensmd.service: Unit opensmd.service not found."
    assert "here-documents are not available" in heredoc
    assert garbage.splitlines() == ["base64: invalid input", "1"]
    assert lab.status()["devices"]["sm1"]["config_digest"] == before


def test_reject_config_fault_refuses_file_writes_and_restarts(lab: Lab) -> None:
    before = lab.status()["devices"]["sm1"]["config_digest"]
    lab.fault("sm1", "reject-config", 60)
    try:
        with connect(lab, "sm1") as conn:
            output = conn.send_config_set(deploy_lines(GOLDEN / "sm1"))
    finally:
        lab.clear("sm1", "reject-config")
    assert "bash: /etc/opensm/opensm.conf: Read-only file system" in output
    assert "Failed to restart opensm.service: Access denied" in output
    assert lab.status()["devices"]["sm1"]["config_digest"] == before


def test_ib_port_counters_through_sysfs(lab: Lab) -> None:
    lab.counters("sm1", "ib0", tx_octets=4000, rx_ucast_pkts=12)
    with connect(lab, "sm1") as conn:
        data = conn.send_command("cat /sys/class/infiniband/mlx5_0/ports/1/counters/port_xmit_data")
        packets = conn.send_command("cat /sys/class/infiniband/mlx5_0/ports/1/counters/port_rcv_packets")
        stats = conn.send_command("ethtool -S ib0")
    assert data == "1000" and packets == "12"  # PortXmitData counts 4-octet words
    assert "     tx_bytes: 4000" in stats


def test_infiniband_hosts_take_their_rendered_script(lab: Lab) -> None:
    script = (GOLDEN / "gpu01/roce.sh").read_text()
    ep = lab.endpoint("gpu01")
    result = subprocess.run(
        ["ssh", "-i", str(lab.client_key), "-o", f"UserKnownHostsFile={lab.known_hosts}", "-o", "BatchMode=yes",
         "-p", str(ep["port"]), f"{ep['username']}@{ep['address']}", script + "\nip link show ib0"],
        capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout
    assert "link/infiniband 00:00:10:29:fe:80:00:00:00:00:00:00:00:c1:00:00:00:00:00:01" in result.stdout
