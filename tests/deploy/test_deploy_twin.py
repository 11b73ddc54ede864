"""fabric deploy against the twin, over the real clients: dry run, real run, idempotence, faults, rollback,
secrets and host keys. Each test that changes state has a twin of its own (``fresh_twin``)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fabric.cli.deploy import lab_targets
from fabric.deploy.drivers import candidate_text
from fabric.deploy.run import DeviceResult, Options, deploy
from fabric.inventory.load import load_inventory
from fabric.lab.control import Lab
from tests.conftest import INVENTORIES, edit_yaml

FABRIC = str(Path(sys.executable).parent / "fabric")
INV = INVENTORIES / "lab-roce"
EVERY_PLATFORM = ["leaf1", "leaf2", "leaf3", "leaf4", "spine1", "spine2", "gpu01"]


def run(lab: Lab, runs: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FABRIC_SSH_PASSWORD": "not-the-lab-password"}
    return subprocess.run([FABRIC, "deploy", str(INV), "--lab", str(lab.state_dir), "--runs-dir", str(runs), *args],
                          capture_output=True, text=True, timeout=240, env=env)


def limit(*devices: str) -> list[str]:
    return [arg for d in devices for arg in ("--limit", d)]


def digests(lab: Lab) -> dict[str, str]:
    return {name: str(d["config_digest"]) for name, d in lab.status()["devices"].items()}


def results(process: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    return {d["device"]: d for d in json.loads(process.stdout)["devices"]}


def assert_secret_kept(lab: Lab, runs: Path, *processes: subprocess.CompletedProcess[str]) -> None:
    """The lab password is in no output, log, diff, backup or result file (nor their names)."""
    secret = lab.password
    for process in processes:
        assert secret not in process.stdout and secret not in process.stderr
        assert "Traceback" not in process.stderr, process.stderr
    files = [p for p in runs.rglob("*")]
    assert files, "the runs wrote nothing"
    for path in files:
        assert secret not in str(path)
        if path.is_file():
            assert secret not in path.read_text(errors="replace"), path


def equals_backup(lab: Lab, device: str, backup: str | Path) -> bool:
    """Read the device again over a new session and compare, semantically, with a backup file (the lab's
    digest is not enough: SONiC's keeps the field order of a rewritten entry)."""
    from fabric.deploy.diff import differences, parse_tree
    from fabric.deploy.drivers import make_driver
    from fabric.deploy.host import HostDriver
    from fabric.deploy.nvue import applied_tree

    fabric = load_inventory(str(INV)).fabric
    assert fabric is not None
    [target] = lab_targets([fabric.devices[device]], lab.state_dir, 30.0)
    saved = Path(backup).read_text()
    driver = make_driver(target)
    driver.open()
    try:
        if isinstance(driver, HostDriver):
            return bool(driver.read(list(json.loads(saved))) == json.loads(saved))
        now = driver.get_running()
    finally:
        driver.close()
    if target.platform == "sonic":
        return bool(json.loads(now) == json.loads(saved))
    if target.platform == "nvue":
        return bool(applied_tree(now) == applied_tree(saved))
    return not differences(parse_tree(now), parse_tree(saved), ("system qos", "qos map-table "))


def test_dry_run_touches_nothing_then_deploy_changes_every_platform_once(fresh_twin: Lab, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    selected = limit(*EVERY_PLATFORM)
    booted = digests(fresh_twin)
    dry = run(fresh_twin, runs, "--dry-run", "--json", *selected)
    assert dry.returncode == 0, dry.stderr
    planned = results(dry)
    assert digests(fresh_twin) == booted  # the twin saw no write
    assert {r["status"] for r in planned.values()} == {"would-change"} and sorted(planned) == sorted(EVERY_PLATFORM)
    for r in planned.values():
        assert r["changed_lines"] == len(r["diff"]) > 0 and Path(r["backup"]).is_file()

    real = run(fresh_twin, runs, "--json", *selected)
    assert real.returncode == 0, real.stderr
    assert {r["status"] for r in results(real).values()} == {"changed"}
    deployed = digests(fresh_twin)
    assert all(deployed[name] != booted[name] for name in planned)

    again = run(fresh_twin, runs, *selected)
    assert again.returncode == 0, again.stderr
    assert f"0 changed, {len(EVERY_PLATFORM)} unchanged, 0 failed" in again.stderr
    assert digests(fresh_twin) == deployed
    assert_secret_kept(fresh_twin, runs, dry, real, again)


def test_rejected_config_fails_one_device_and_atomic_rolls_back_the_rest(fresh_twin: Lab, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    devices = ["leaf3", "leaf4", "spine2", "gpu05", "leaf1"]
    booted = digests(fresh_twin)
    fresh_twin.fault("leaf1", "reject-config", 300)
    failed = run(fresh_twin, runs, "--json", *limit(*devices))
    assert failed.returncode == 3, failed.stderr
    outcome = results(failed)
    assert outcome["leaf1"]["status"] == "failed" and outcome["leaf1"]["kind"] == "rejected"
    assert "Failed to acquire lock" in outcome["leaf1"]["reason"] and "\n" not in outcome["leaf1"]["reason"]
    assert outcome["leaf1"]["rolled_back"]
    for name in ("leaf3", "leaf4", "spine2", "gpu05"):
        assert outcome[name]["status"] == "rolled-back", outcome[name]
        assert outcome[name]["reason"] == "leaf1 failed (atomic); rolled back to the backup"
        assert equals_backup(fresh_twin, name, outcome[name]["backup"]), name
    assert digests(fresh_twin)["leaf1"] == booted["leaf1"]  # refused: never changed
    human = run(fresh_twin, runs, *limit("leaf1", "gpu06"))
    assert human.returncode == 3
    assert any(line.startswith("leaf1: config apply-patch refused: Failed to acquire lock") and
               line.endswith("rolled back to the backup") for line in human.stderr.splitlines()), human.stderr
    assert_secret_kept(fresh_twin, runs, failed, human)


def test_auth_failure_and_slow_device_fail_alone_without_atomic(fresh_twin: Lab, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    booted = digests(fresh_twin)
    fresh_twin.fault("leaf3", "auth-fail", 300)
    fresh_twin.fault("leaf2", "slow", 300)
    process = run(fresh_twin, runs, "--json", "--no-atomic", "--timeout", "3", *limit("leaf3", "leaf2", "gpu07"))
    assert process.returncode == 3, process.stderr
    outcome = results(process)
    assert outcome["leaf3"]["kind"] == "auth" and "authentication failed" in outcome["leaf3"]["reason"]
    assert outcome["leaf2"]["kind"] == "timeout" and outcome["leaf2"]["seconds"] < 20
    assert outcome["gpu07"]["status"] == "changed"
    after = digests(fresh_twin)
    assert after["leaf3"] == booted["leaf3"] and after["leaf2"] == booted["leaf2"]
    assert after["gpu07"] != booted["gpu07"]
    assert_secret_kept(fresh_twin, runs, process)


def test_ssh_drop_mid_push_restores_the_backup(fresh_twin: Lab, tmp_path: Path) -> None:
    fabric = load_inventory(str(INV)).fabric
    assert fabric is not None
    targets = lab_targets([fabric.devices[n] for n in ("leaf4", "gpu08")], fresh_twin.state_dir, 30.0)

    def drop_when_pushing(device: str, step: str) -> None:
        if device == "leaf4" and step == "push":
            fresh_twin.fault("leaf4", "ssh-drop", 2.0)  # the session dies on the next line typed

    from fabric.intent.check import validate_inventory
    from fabric.render import render_fabric

    intents = validate_inventory(str(INV)).intents
    configs = render_fabric({t.device: intents[t.device] for t in targets})
    candidates = {n: candidate_text(c.files) for n, c in configs.items()}
    report = deploy(targets, candidates, tmp_path / "runs", Options(on_event=drop_when_pushing, backoff_s=1.0))
    by_device: dict[str, DeviceResult] = {r.device: r for r in report.results}
    assert by_device["leaf4"].status == "failed" and by_device["leaf4"].kind in ("dropped", "timeout")
    assert by_device["leaf4"].rolled_back, by_device["leaf4"].reason
    assert by_device["gpu08"].status == "rolled-back"
    assert report.exit_code == 3
    for result in by_device.values():
        assert result.backup and equals_backup(fresh_twin, result.device, result.backup), result.device


def test_canary_failure_keeps_the_rest_untouched(fresh_twin: Lab, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    booted = digests(fresh_twin)
    fresh_twin.fault("leaf1", "reject-config", 300)  # leaf1 comes first in the inventory: it is the canary
    process = run(fresh_twin, runs, "--json", "--canary", "1", *limit("gpu09", "leaf1", "leaf3"))
    assert process.returncode == 3, process.stderr
    outcome = results(process)
    assert outcome["leaf1"]["status"] == "failed"
    assert outcome["gpu09"]["status"] == outcome["leaf3"]["status"] == "skipped"
    assert "canary failed" in outcome["leaf3"]["reason"]
    assert {n: digests(fresh_twin)[n] for n in ("gpu09", "leaf1", "leaf3")} == \
        {n: booted[n] for n in ("gpu09", "leaf1", "leaf3")}


def test_rollback_of_a_previous_run_restores_its_backups(fresh_twin: Lab, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    devices = ("leaf1", "leaf4", "spine1", "gpu11")
    booted = digests(fresh_twin)
    first = run(fresh_twin, runs, "--json", *limit(*devices))
    assert first.returncode == 0, first.stderr
    run_id = json.loads(first.stdout)["run_id"]
    assert all(digests(fresh_twin)[n] != booted[n] for n in devices)
    back = run(fresh_twin, runs, "--json", "--rollback", run_id, *limit(*devices))
    assert back.returncode == 0, back.stderr
    assert {r["status"] for r in results(back).values()} == {"restored"}
    for name, result in results(first).items():
        assert equals_backup(fresh_twin, name, result["backup"]), name
    unknown = run(fresh_twin, runs, "--rollback", "20000101T000000Z-0000")
    assert unknown.returncode == 5 and unknown.stderr.startswith("error: --rollback 20000101T000000Z-0000")
    assert_secret_kept(fresh_twin, runs, first, back, unknown)


@contextlib.contextmanager
def closed_ports(lab: Lab, *devices: str) -> Iterator[None]:
    """Move ``devices``' endpoints in ``lab.json`` to ports held bound but never listening: a connection there
    is refused for sure (a freed port can be handed out again and answered by another listener meanwhile)."""
    path = lab.state_dir / "lab.json"
    state = json.loads(path.read_text())
    held = []
    for device in devices:
        for endpoint in state["devices"][device]["endpoints"]:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((endpoint["address"], 0))
            endpoint["port"] = sock.getsockname()[1]
            held.append(sock)
    path.write_text(json.dumps(state))
    try:
        yield
    finally:
        for sock in held:
            sock.close()


def test_unreachable_devices_exit_4(fresh_twin: Lab, tmp_path: Path) -> None:
    fresh_twin.down()  # lab.json stays: the endpoints are known, nothing listens
    with closed_ports(fresh_twin, "leaf1", "gpu12"):
        process = run(fresh_twin, tmp_path / "runs", *limit("leaf1", "gpu12"))
    assert process.returncode == 4, process.stderr
    reasons = [line for line in process.stderr.splitlines() if line.startswith(("leaf1:", "gpu12:"))]
    assert len(reasons) == 2 and all("unreachable" in line for line in reasons), process.stderr


def test_host_key_mismatch_is_refused(twin: Lab, tmp_path: Path) -> None:
    fabric = load_inventory(str(INV)).fabric
    assert fabric is not None
    [target] = lab_targets([fabric.devices["gpu13"]], twin.state_dir, 10.0)
    ep = twin.endpoint("gpu13")
    other = next(line for line in twin.known_hosts.read_text().splitlines() if f":{ep['port']} " not in line)
    wrong = tmp_path / "known_hosts"
    wrong.write_text(f"[{ep['address']}]:{ep['port']} {other.split(' ', 1)[1]}\n")
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    from dataclasses import replace

    for known in (wrong, empty):
        report = deploy([replace(target, known_hosts=known)], {"gpu13": "echo 1 > /tmp/x\n"}, tmp_path / "runs",
                        Options(dry_run=True))
        [result] = report.results
        assert result.status == "failed" and result.kind == "hostkey", result.reason
        assert report.exit_code == 3


def test_invalid_inventory_exits_5_in_one_line(lab_roce: Path, tmp_path: Path) -> None:
    edit_yaml(lab_roce / "hosts.yaml", lambda hosts: hosts["spine1"]["data"]["interfaces"]["Ethernet1/1"].update(
        mtu=1500))
    process = subprocess.run([FABRIC, "deploy", str(lab_roce), "--runs-dir", str(tmp_path / "runs")],
                             capture_output=True, text=True, timeout=60)
    assert process.returncode == 5 and "Traceback" not in process.stderr
    assert "MTU 9216 differs from spine1:Ethernet1/1 (1500)" in process.stderr
    assert "invalid inventory; nothing deployed" in process.stderr.splitlines()[-1]
    assert not (tmp_path / "runs").exists()


def test_opensm_files_deploy_restart_and_roll_back(tmp_path: Path) -> None:
    """lab-ib's subnet manager: the four /etc/opensm files written, the service restarted, a rollback run."""
    lab = Lab(tmp_path / "ib").up(INVENTORIES / "lab-ib", free_ports=True)
    try:
        runs = tmp_path / "runs"
        base = [FABRIC, "deploy", str(INVENTORIES / "lab-ib"), "--lab", str(lab.state_dir), "--runs-dir", str(runs),
                "--limit", "sm1", "--json"]
        booted = digests(lab)["sm1"]
        first = subprocess.run(base, capture_output=True, text=True, timeout=120)
        assert first.returncode == 0, first.stderr
        [result] = json.loads(first.stdout)["devices"]
        assert result["status"] == "changed" and digests(lab)["sm1"] != booted
        assert "/etc/opensm/partitions.conf: +Default=0x7fff, ipoib : ALL=full ;" in result["diff"]
        again = subprocess.run(base, capture_output=True, text=True, timeout=120)
        assert [d["status"] for d in json.loads(again.stdout)["devices"]] == ["unchanged"]
        back = subprocess.run([*base, "--rollback", json.loads(first.stdout)["run_id"]], capture_output=True,
                              text=True, timeout=120)
        assert back.returncode == 0, back.stderr
        assert [d["status"] for d in json.loads(back.stdout)["devices"]] == ["restored"]
        dry = subprocess.run([*base, "--dry-run"], capture_output=True, text=True, timeout=120)
        assert [d["changed_lines"] for d in json.loads(dry.stdout)["devices"]] == [result["changed_lines"]]
    finally:
        lab.down()
