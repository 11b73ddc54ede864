"""The twin's life cycle and SSH plumbing, through real clients (OpenSSH, netmiko)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from fabric.lab.control import Lab, LabError
from tests.conftest import INVENTORIES


def ssh(lab: Lab, device: str, command: str, user: str = "fabric") -> subprocess.CompletedProcess[str]:
    ep = lab.endpoint(device)
    return subprocess.run(
        ["ssh", "-i", str(lab.client_key), "-o", f"UserKnownHostsFile={lab.known_hosts}",
         "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
         "-p", str(ep["port"]), f"{user}@{ep['address']}", command],
        capture_output=True, text=True, timeout=30)


def test_openssh_key_login_with_strict_host_key_checking(twin: Lab) -> None:
    result = ssh(twin, "gpu01", "hostname")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "gpu01"


def test_netmiko_password_login(twin: Lab) -> None:
    from netmiko import ConnectHandler

    ep = twin.endpoint("gpu02")
    with ConnectHandler(device_type="linux", host=ep["address"], port=ep["port"], username="fabric",
                        password=twin.password, allow_agent=False, use_keys=False) as conn:
        assert conn.send_command("hostname").strip() == "gpu02"


def test_status_lists_endpoints_without_secrets(twin: Lab) -> None:
    status = twin.status()
    gpu = status["devices"]["gpu01"]
    assert gpu["platform"] == "linux_mlx5" and gpu["address"] == "127.0.2.1"
    assert gpu["endpoints"][0]["protocol"] == "ssh"
    assert gpu["endpoints"][0]["credentials"] == "credentials.json#password"
    assert twin.password not in json.dumps(status)
    assert len(gpu["config_digest"]) == 16


def test_credentials_are_private(twin: Lab) -> None:
    for path in (twin.state_dir / "credentials.json", twin.client_key):
        assert os.stat(path).st_mode & 0o077 == 0


def test_up_twice_is_an_error(twin: Lab) -> None:
    with pytest.raises(LabError, match="already running"):
        Lab(twin.state_dir).up(INVENTORIES / "lab-roce", free_ports=True)


def test_waiting_for_model_time_needs_a_workload(twin: Lab) -> None:
    assert twin.model_s() == 0.0
    with pytest.raises(LabError, match="runs no workload; start it with --workload"):
        twin.wait_model(0.1)


def test_down_leaves_no_process(tmp_path) -> None:
    lab = Lab(tmp_path / "lab").up(INVENTORIES / "lab-roce", free_ports=True)
    pid = lab.pid
    assert pid is not None and lab.running()
    assert lab.down() is True
    assert not lab.running()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert lab.down() is False


def test_invalid_inventory_does_not_start(tmp_path) -> None:
    with pytest.raises(LabError, match="not a valid inventory"):
        Lab(tmp_path / "lab").up(tmp_path / "missing")


def test_auth_fail_fault_refuses_good_credentials(fresh_twin: Lab) -> None:
    fresh_twin.fault("gpu03", "auth-fail", 30)
    result = ssh(fresh_twin, "gpu03", "hostname")
    assert result.returncode == 255 and "Permission denied" in result.stderr
    fresh_twin.clear("gpu03")
    assert ssh(fresh_twin, "gpu03", "hostname").returncode == 0


def test_unknown_fault_kind_is_refused(twin: Lab) -> None:
    with pytest.raises(LabError, match="unknown fault 'melt'"):
        twin.fault("gpu01", "melt")


def test_counters_can_be_driven_and_read(fresh_twin: Lab) -> None:
    before = fresh_twin.counters("leaf1", "Ethernet0")
    assert before["rx_pfc3_frames"] == 0 and "q3_ecn_marked_pkts" in before
    after = fresh_twin.counters("leaf1", "Ethernet0", rx_pfc3_frames=5, q3_ecn_marked_pkts=7)
    assert after["rx_pfc3_frames"] == 5 and after["q3_ecn_marked_pkts"] == 7
    with pytest.raises(LabError, match="unknown counter"):
        fresh_twin.counters("leaf1", "Ethernet0", bogus=1)


def test_traffic_source_moves_counters(tmp_path) -> None:
    from fabric.inventory import load_inventory
    from fabric.lab.device import LabDevice
    from fabric.lab.traffic import advance

    device = load_inventory(INVENTORIES / "lab-roce").fabric.devices["leaf1"]
    lab_device = LabDevice(device, device.hostname, 22)
    advance(lab_device, 1.0, 0.5)
    port = lab_device.counters.ports["Ethernet0"]  # 400G at 50 % for one second
    assert port["tx_octets"] == 25_000_000_000 and port["q3_tx_bytes"] == 20_000_000_000
    lab_device.link_down.add("Ethernet8")
    advance(lab_device, 1.0, 0.5)
    assert lab_device.counters.ports["Ethernet8"]["tx_octets"] == 25_000_000_000  # the second tick skipped it
    assert lab_device.counters.ports["Ethernet0"]["tx_octets"] == 50_000_000_000


def test_ssh_drop_closes_the_session_mid_conversation(fresh_twin: Lab) -> None:
    from netmiko import ConnectHandler

    ep = fresh_twin.endpoint("gpu04")
    conn = ConnectHandler(device_type="linux", host=ep["address"], port=ep["port"], username="fabric",
                          password=fresh_twin.password, allow_agent=False, use_keys=False)
    try:
        assert conn.send_command("hostname").strip() == "gpu04"
        fresh_twin.fault("gpu04", "ssh-drop", 30)
        with pytest.raises(Exception) as raised:  # netmiko raises OSError or its ReadException
            conn.send_command("hostname", read_timeout=5)
        assert not conn.is_alive(), f"session survived a drop ({raised.value!r})"
    finally:
        conn.disconnect()
    fresh_twin.clear("gpu04")
    assert ssh(fresh_twin, "gpu04", "hostname").stdout.strip() == "gpu04"


def test_slow_delays_every_reply(fresh_twin: Lab) -> None:
    import time

    from netmiko import ConnectHandler

    ep = fresh_twin.endpoint("gpu05")
    with ConnectHandler(device_type="linux", host=ep["address"], port=ep["port"], username="fabric",
                        password=fresh_twin.password, allow_agent=False, use_keys=False) as conn:
        start = time.monotonic()
        conn.send_command("hostname")
        fast = time.monotonic() - start
        fresh_twin.fault("gpu05", "slow", 30)
        start = time.monotonic()
        assert conn.send_command("hostname", read_timeout=20).strip() == "gpu05"
        assert time.monotonic() - start >= 1.0 > fast
