"""leaf2 (nvue) through netmiko ``linux``: nv set into a pending revision, atomic apply, read back, refusals."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml

from fabric.lab.control import Lab
from tests.conftest import ROOT

GOLDEN = ROOT / "tests/golden/lab-roce/config/leaf2/nvue.cfg"


@contextmanager
def nvue(lab: Lab) -> Iterator[Any]:
    from netmiko import ConnectHandler

    ep = lab.endpoint("leaf2")
    with ConnectHandler(device_type="linux", host=ep["address"], port=ep["port"], username=ep["username"],
                        password=lab.password, allow_agent=False, use_keys=False) as conn:
        yield conn


def applied(conn: Any) -> dict[str, Any]:
    doc = yaml.safe_load(conn.send_command("nv config show"))
    assert list(doc[0]) == ["header"]
    tree: dict[str, Any] = doc[1]["set"]
    return tree


def expanded(line: str) -> list[tuple[str, ...]]:
    """A golden ``nv set`` line as the one-id-per-line commands ``nv config show -o commands`` prints."""
    words = shlex.split(line)
    for i, word in enumerate(words[:-1]):
        if words[i - 1] == "dscp" and "," in word:
            return [tuple([*words[:i], n, *words[i + 1:]]) for n in word.split(",")]
    return [tuple(words)]


def test_golden_nvue_cfg_applies_atomically_and_reads_back(fresh_twin: Lab) -> None:
    lines = [line for line in GOLDEN.read_text().splitlines() if line.strip()]
    with nvue(fresh_twin) as conn:
        before = applied(conn)
        output = conn.send_config_set(lines)
        assert "Error" not in output
        assert applied(conn) == before  # nothing applied yet: the changes wait in the pending revision
        assert "mtu: 9216" in conn.send_command("nv config diff")
        assert conn.send_command("nv config apply -y") == "applied [rev_id: 2]"
        assert conn.send_command("nv config diff") == ""
        shown = {tuple(shlex.split(line)) for line in conn.send_command("nv config show -o commands").splitlines()}
        for line in lines:
            if line.startswith("nv set"):
                assert set(expanded(line)) <= shown, line
        tree = applied(conn)
        assert tree["interface"]["swp1"]["qos"]["pfc"]["profile"] == "lossless_40m"
        assert "link-pause" not in tree["interface"]["swp1"]["qos"]
        assert tree["qos"]["mapping"]["default-global"]["dscp"][26] == {"switch-priority": 3}
        assert tree["qos"]["pfc"]["lossless_3m"]["switch-priority"] == {3: {}}
        assert conn.send_command("nv config save") == "saved [rev_id: 2]"


def test_small_change_diff_apply_and_detach(fresh_twin: Lab) -> None:
    with nvue(fresh_twin) as conn:
        conn.send_config_set([line for line in GOLDEN.read_text().splitlines() if line.startswith("nv ")])
        conn.send_command("nv config apply -y")
        conn.send_command("nv set qos congestion-control roce_ecn_400g traffic-class 3 min-threshold 900000")
        assert conn.send_command("nv config diff -o commands") == \
            "nv set qos congestion-control roce_ecn_400g traffic-class 3 min-threshold 900000"
        assert conn.send_command("nv config apply -y") == "applied [rev_id: 3]"
        profile = applied(conn)["qos"]["congestion-control"]["roce_ecn_400g"]["traffic-class"][3]
        assert profile["min-threshold"] == 900000 and profile["max-threshold"] == 3200000
        conn.send_command("nv unset interface swp3 qos pfc-watchdog")
        assert conn.send_command("nv config diff -o commands") == "nv unset interface swp3 qos pfc-watchdog"
        conn.send_command("nv config detach")
        assert conn.send_command("nv config diff") == ""
        assert "pfc-watchdog" in applied(conn)["interface"]["swp3"]["qos"]
        conn.send_command(r"printf 'interface:\n  swp2:\n    link:\n      mtu: 9100\n' > p.yaml")  # a bare object
        assert conn.send_command("nv config patch p.yaml") == ""
        assert conn.send_command("nv config diff -o commands") == "nv set interface swp2 link mtu 9100"
        conn.send_command("nv config apply -y")
        assert applied(conn)["interface"]["swp2"]["link"] == {"mtu": 9100, "speed": "400G"}


def test_invalid_commands_and_revisions_change_nothing(twin: Lab) -> None:
    with nvue(twin) as conn:
        before = applied(conn)
        for bad in ("nv set interface swp1 link mtu 20000", "nv set interface swp1 link mtux 9000",
                    "nv set qos pfc lossless_3m switch-priority 8", "nv set qos ecn default-global enable"):
            assert conn.send_command(bad) == f"Error: Invalid Command: {bad[3:]}"
        assert conn.send_command("nv config diff") == ""
        conn.send_command(r"printf 'qos:\n  pfc:\n    p1:\n      xon-treshold: 10\n' > /tmp/typo.yaml")
        assert conn.send_command("nv config patch /tmp/typo.yaml") == \
            "Error: Invalid config in /tmp/typo.yaml: qos pfc p1 xon-treshold is not a valid path"
        assert conn.send_command("nv config diff") == ""
        conn.send_command("nv set interface swp1 qos pfc profile no_such_profile")
        output = conn.send_command("nv config apply -y")
        assert output.startswith("Invalid config [rev_id: ")
        assert "profile: no_such_profile does not exist in qos pfc" in output
        assert applied(conn) == before
        conn.send_command("nv config detach")


def test_reject_config_fault_refuses_changes(fresh_twin: Lab) -> None:
    with nvue(fresh_twin) as conn:
        fresh_twin.fault("leaf2", "reject-config", 60)
        output = conn.send_command("nv set interface swp1 link mtu 9000")
        assert output.startswith("Error: Could not connect to nvued.")
        assert conn.send_command("nv config diff") == ""
        fresh_twin.clear("leaf2")
        conn.send_command("nv set interface swp1 link mtu 9000")
        conn.send_command("nv config apply -y")
        assert applied(conn)["interface"]["swp1"]["link"]["mtu"] == 9000


def test_roce_counters_read_through_nv_show(twin: Lab) -> None:
    before = twin.counters("leaf2", "swp4")
    twin.counters("leaf2", "swp4", rx_pfc3_frames=321, rx_pfc3_pause_us=6400, tx_pfc3_frames=9,
                  q3_ecn_marked_pkts=17, q3_tx_pkts=1000, q3_tx_bytes=4_096_000, q6_tx_pkts=40)
    with nvue(twin) as conn:
        doc = json.loads(conn.send_command("nv show interface swp4 qos roce counters -o json"))
        assert doc["rx-stats"]["rx-pfc-stats"] == {"pause-duration": before["rx_pfc3_pause_us"] + 6400,
                                                   "pause-packets": before["rx_pfc3_frames"] + 321}
        assert doc["tx-stats"]["tx-pfc-stats"]["pause-packets"] == before["tx_pfc3_frames"] + 9
        ecn_before = sum(before[f"q{q}_ecn_marked_pkts"] for q in range(8))
        assert doc["tx-stats"]["tx-ecn-stats"]["ecn-marked-packets"] == ecn_before + 17
        assert doc["tx-stats"]["tx-roce-stats"]["roce-packets"] == before["q3_tx_pkts"] + 1000
        assert doc["tx-stats"]["tx-cnp-stats"]["cnp-packets"] == before["q6_tx_pkts"] + 40
        text = conn.send_command("nv show interface swp4 qos roce counters")
        row = next(r for r in text.splitlines() if r.strip().startswith("ecn-marked-packets"))
        assert row.split()[1] == str(ecn_before + 17)
        assert conn.send_command("nv show interface swp99 qos roce counters").startswith("Error:")


def test_switch_priority_is_a_collection(fresh_twin: Lab) -> None:
    """``[switch-priority]`` of a PFC profile is a collection, as NVUE shows it: set adds members, unset with an
    id removes that one, the diff names the member that goes (the twin unset the whole set)."""
    with nvue(fresh_twin) as conn:
        conn.send_config_set([line for line in GOLDEN.read_text().splitlines() if line.startswith("nv ")])
        conn.send_command("nv config apply -y")
        conn.send_command("nv set qos pfc lossless_3m switch-priority 4")
        assert conn.send_command("nv config diff -o commands") == "nv set qos pfc lossless_3m switch-priority 4"
        conn.send_command("nv config apply -y")
        assert applied(conn)["qos"]["pfc"]["lossless_3m"]["switch-priority"] == {3: {}, 4: {}}
        conn.send_command("nv unset qos pfc lossless_3m switch-priority 4")
        assert conn.send_command("nv config diff -o commands") == "nv unset qos pfc lossless_3m switch-priority 4"
        conn.send_command("nv config apply -y")
        assert applied(conn)["qos"]["pfc"]["lossless_3m"]["switch-priority"] == {3: {}}
