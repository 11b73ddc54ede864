"""leaf1 (sonic) through netmiko ``linux``, the client the deploy path uses: CONFIG_DB pushed, read back, refused."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fabric.lab.control import Lab
from tests.conftest import ROOT

GOLDEN = ROOT / "tests/golden/lab-roce/config/leaf1/config_db.json"
CHUNK = 900  # base64 characters per line: well inside a pty's 4095-character line


@contextmanager
def sonic(lab: Lab) -> Iterator[Any]:
    from netmiko import ConnectHandler

    ep = lab.endpoint("leaf1")
    with ConnectHandler(device_type="linux", host=ep["address"], port=ep["port"], username=ep["username"],
                        password=lab.password, allow_agent=False, use_keys=False) as conn:
        yield conn


def push_file(conn: Any, text: str, path: str) -> None:
    """The deploy recipe: base64 in short printf lines, decoded into place."""
    encoded = base64.b64encode(text.encode()).decode()
    lines = [f"rm -f {path}.b64"]
    lines += [f"printf '%s' '{encoded[i:i + CHUNK]}' >> {path}.b64" for i in range(0, len(encoded), CHUNK)]
    lines.append(f"base64 -d {path}.b64 > {path}")
    for line in lines:
        assert conn.send_command(line) == ""


def running(conn: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(conn.send_command("show runningconfiguration all"))
    return doc


def test_golden_config_db_loads_merges_and_saves(fresh_twin: Lab) -> None:
    golden = json.loads(GOLDEN.read_text())
    with sonic(fresh_twin) as conn:
        assert running(conn)["PORT"]["Ethernet0"]["mtu"] == "9100"  # boot default, before the deploy
        push_file(conn, GOLDEN.read_text(), "/tmp/fabric.json")
        output = conn.send_command("sudo config load /tmp/fabric.json -y")
        assert output == "Running command: /usr/local/bin/sonic-cfggen -j /tmp/fabric.json --write-to-db"
        db = running(conn)
        for table, entries in golden.items():
            for key, fields in entries.items():
                assert db[table][key] | fields == db[table][key], (table, key)
        assert db["PORT"]["Ethernet0"]["admin_status"] == "up"  # merged into the entry, not replaced
        assert "BUFFER_POOL" in db
        assert "/usr/local/bin/sonic-cfggen -d --print-data > /etc/sonic/config_db.json" in \
            conn.send_command("sudo config save -y")
        assert json.loads(conn.send_command("cat /etc/sonic/config_db.json")) == db


def test_small_changes_pfc_priority_and_json_patch(fresh_twin: Lab) -> None:
    patch = [{"op": "replace", "path": "/WRED_PROFILE/roce_ecn_400g/green_min_threshold", "value": "900000"},
             {"op": "add", "path": "/PORT_QOS_MAP/Ethernet0/pfcwd_sw_enable", "value": "3"}]
    with sonic(fresh_twin) as conn:
        push_file(conn, GOLDEN.read_text(), "/tmp/fabric.json")
        conn.send_command("sudo config load /tmp/fabric.json -y")
        assert conn.send_command("sudo config interface pfc priority Ethernet0 4 on") == ""
        assert "Ethernet0    3,4" in conn.send_command("show pfc priority Ethernet0")
        push_file(conn, json.dumps(patch), "/tmp/patch.json")
        assert conn.send_command("sudo config apply-patch /tmp/patch.json").endswith("Patch applied successfully.")
        db = running(conn)
        assert db["WRED_PROFILE"]["roce_ecn_400g"]["green_min_threshold"] == "900000"
        assert db["PORT_QOS_MAP"]["Ethernet0"]["pfc_enable"] == "3,4"


def test_config_mode_is_a_passwordless_root_shell(fresh_twin: Lab) -> None:
    with sonic(fresh_twin) as conn:
        push_file(conn, '{"PORT": {"Ethernet8": {"mtu": "9216"}}}', "/tmp/mtu.json")
        output = conn.send_config_set(["config load /tmp/mtu.json -y"])
        assert "root@leaf1:/home/admin# config load" in output and "--write-to-db" in output
        assert conn.find_prompt() == "admin@leaf1:~$"
        assert running(conn)["PORT"]["Ethernet8"]["mtu"] == "9216"


def test_invalid_configs_are_refused_and_change_nothing(twin: Lab) -> None:
    with sonic(twin) as conn:
        before = running(conn)
        push_file(conn, '{"PORT": {"Ethernet0": {"mtu": "9216"}', "/tmp/broken.json")
        output = conn.send_command("sudo config load /tmp/broken.json -y; echo status=$?")
        assert "json.decoder.JSONDecodeError: Expecting ',' delimiter" in output and "status=1" in output
        push_file(conn, '{"PORT_QOS_MAPS": {"Ethernet0": {"pfc_enable": "3"}}}', "/tmp/typo.json")
        assert conn.send_command("sudo config load /tmp/typo.json -y") == \
            "Config tables are missing yang models: dict_keys(['PORT_QOS_MAPS'])\nAborted!"
        push_file(conn, '{"QUEUE": {"Ethernet0|3": {"wred_profile": "nope"}}}', "/tmp/dangling.json")
        output = conn.send_command("sudo config load /tmp/dangling.json -y")
        assert 'fails YANG validation' in output and 'of value "nope" points to a non-existing leaf' in output
        push_file(conn, '[{"op": "add", "path": "/PORT/Ethernet0/mtu", "value": "99999"}]', "/tmp/bad.json")
        output = conn.send_command("sudo config apply-patch /tmp/bad.json")
        assert output.startswith("Failed to apply patch due to:") and 'Value "99999" does not satisfy' in output
        output = conn.send_command("sudo config interface pfc priority Ethernet0 9 on")
        assert 'Error: Invalid value for "[0|1|2|3|4|5|6|7]": invalid choice: 9.' in output
        assert conn.send_command("config load /tmp/typo.json -y") == "Root privileges are required for this operation"
        assert 'Error: No such command "lod".' in conn.send_command("sudo config lod /tmp/typo.json")
        assert running(conn) == before


def test_reject_config_fault_refuses_changes(fresh_twin: Lab) -> None:
    with sonic(fresh_twin) as conn:
        push_file(conn, '{"PORT": {"Ethernet0": {"mtu": "9216"}}}', "/tmp/mtu.json")
        fresh_twin.fault("leaf1", "reject-config", 60)
        assert conn.send_command("sudo config load /tmp/mtu.json -y") == \
            "Failed to acquire lock on /etc/sonic/reload.lock"
        assert running(conn)["PORT"]["Ethernet0"]["mtu"] == "9100"
        fresh_twin.clear("leaf1")
        conn.send_command("sudo config load /tmp/mtu.json -y")
        assert running(conn)["PORT"]["Ethernet0"]["mtu"] == "9216"


def test_counters_read_through_show_commands(twin: Lab) -> None:
    before = twin.counters("leaf1", "Ethernet16")
    twin.counters("leaf1", "Ethernet16", rx_pfc3_frames=1234, tx_pfc3_frames=5, q3_tx_pkts=77,
                  q3_ecn_marked_pkts=11, q3_watermark_bytes=4096)
    with sonic(twin) as conn:
        pfc = conn.send_command("show pfc counters").split("\n\n")
        rx_row = next(r for r in pfc[0].splitlines() if r.split()[0] == "Ethernet16").split()
        assert rx_row[4] == f"{before['rx_pfc3_frames'] + 1234:,}"
        tx_row = next(r for r in pfc[1].splitlines() if r.split()[0] == "Ethernet16").split()
        assert tx_row[4] == f"{before['tx_pfc3_frames'] + 5:,}"
        queues = conn.send_command("show queue counters Ethernet16").splitlines()
        assert queues[:2] == ["For namespace :", "      Port    TxQ    Counter/pkts    Counter/bytes    Drop/pkts"
                                                 "    Drop/bytes"]
        assert queues[6].split()[:3] == ["Ethernet16", "UC3", str(before["q3_tx_pkts"] + 77)]
        wred = conn.send_command("show queue wredcounters Ethernet16").splitlines()
        assert wred[5].split() == ["Ethernet16", "UC3", str(before["q3_wred_drop_pkts"]),
                                   str(before["q3_wred_drop_bytes"]), str(before["q3_ecn_marked_pkts"] + 11),
                                   str(before["q3_ecn_marked_bytes"])]
        watermark = conn.send_command("show queue watermark unicast").splitlines()
        row = next(r for r in watermark if r.split()[0] == "Ethernet16").split()
        assert row[4] == str(before["q3_watermark_bytes"] + 4096)


def test_openssh_commands_heredoc_and_exit_status(fresh_twin: Lab) -> None:
    ep = fresh_twin.endpoint("leaf1")
    base = ["ssh", "-i", str(fresh_twin.client_key), "-o", f"UserKnownHostsFile={fresh_twin.known_hosts}",
            "-o", "BatchMode=yes", "-p", str(ep["port"]), f"admin@{ep['address']}"]
    script = "cat > /tmp/wd.json << 'EOF'\n{\"PFC_WD\": {\"GLOBAL\": {\"POLL_INTERVAL\": \"200\"},\n" \
             "  \"Ethernet0\": {\"action\": \"drop\", \"detection_time\": \"300\"}}}\nEOF\n" \
             "sudo config load /tmp/wd.json -y && show pfcwd config"
    ok = subprocess.run([*base, script], capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0, ok.stdout
    lines = ok.stdout.splitlines()
    assert lines[1] == "Changed polling interval to 200ms"
    assert lines[4].split() == ["Ethernet0", "drop", "300", "infinite", "disable"]
    refused = subprocess.run([*base, "config save -y"], capture_output=True, text=True, timeout=30)
    assert refused.returncode == 1 and "Root privileges are required" in refused.stdout
