"""What fabric owns per platform, and the stale lines a deploy removes, without a network."""

from __future__ import annotations

import json
import re

import pytest

from fabric.deploy.diff import flatten, parse_tree
from fabric.deploy.scope import SCOPES, nvue_unset, owns, plan, shown, sonic_stale
from tests.conftest import ROOT

GOLDEN = ROOT / "tests/golden/lab-roce/config"


@pytest.mark.parametrize(("device", "platform"), [("leaf3", "eos"), ("spine1", "nxos"), ("leaf4", "comware"),
                                                  ("spine2", "huawei_ce")])
def test_every_line_the_templates_render_is_owned(device: str, platform: str) -> None:
    """The scope covers the rendered file: a line a new intent no longer renders is removed. Left out: the
    headers of blocks fabric shares with the device (interfaces, system qos, map tables) and descriptions."""
    text = next((GOLDEN / device).iterdir()).read_text()
    want, scope = parse_tree(text), SCOPES[platform]
    shared = [header for header, _ in scope.inside]
    for path, line in flatten(text):
        if line.startswith(scope.negation + " ") or line.startswith("description "):
            continue
        if not path and any(re.fullmatch(header, line) for header in shared):
            continue
        assert owns(scope, path, line, want, frozenset(_referenced(text, platform))), (path, line)


def _referenced(text: str, platform: str) -> set[str]:
    from fabric.deploy.scope import _named

    tree = parse_tree(text)
    return set(_named(tree, tree, SCOPES[platform]))


EOS_RENDERED = """\
qos map dscp 24 to traffic-class 4
qos profile QOS_ROCE
   priority-flow-control priority 4 no-drop
   uc-tx-queue 4
      no priority
interface Ethernet1
   mtu 9214
   service-profile QOS_ROCE
"""


def test_eos_stale_lines_go_in_their_block_before_the_additions() -> None:
    running = ("qos map dscp 26 to traffic-class 3\nqos map cos 1 to traffic-class 1\n"
               "qos profile QOS_ROCE\n   priority-flow-control priority 3 no-drop\n   uc-tx-queue 3\n"
               "      bandwidth percent 50\n   uc-tx-queue 4\n      priority strict\n"
               "qos profile QOS_ROCE_old\n   qos trust dscp\nqos profile MINE\n   qos trust cos\n"
               "interface Ethernet1\n   mtu 9000\n   ip address 10.0.0.1/31\n   description up\n"
               "interface Management1\n   mtu 1500\n")
    removals, additions = plan(running, EOS_RENDERED, "eos")
    assert removals == [
        (("interface Ethernet1",), "no mtu 9000"),  # an owned value: removed, then the rendered one added
        ((), "no qos profile QOS_ROCE_old"),  # a whole block goes by its header
        (("qos profile QOS_ROCE", "uc-tx-queue 4"), "no priority strict"),
        (("qos profile QOS_ROCE",), "no uc-tx-queue 3"),
        (("qos profile QOS_ROCE",), "no priority-flow-control priority 3 no-drop"),
        ((), "no qos map dscp 26 to traffic-class 3")]
    assert (("interface Ethernet1",), "mtu 9214") in additions
    text = "\n".join(shown(removals, additions, "eos"))
    assert "- qos profile QOS_ROCE_old" in text and "+ qos map dscp 24 to traffic-class 4" in text
    for kept in ("cos 1", "MINE", "10.0.0.1", "description", "Management1"):
        assert kept not in text


def test_eos_value_lines_of_a_listed_interface_are_owned_unlisted_interfaces_are_not() -> None:
    want = parse_tree(EOS_RENDERED)
    scope = SCOPES["eos"]
    assert owns(scope, ("interface Ethernet1",), "mtu 9000", want)
    assert not owns(scope, ("interface Ethernet1",), "description up", want)
    assert not owns(scope, ("interface Management1",), "mtu 1500", want)
    assert not owns(scope, (), "username admin secret x", want)


def test_nxos_class_maps_go_with_the_classification_class_that_named_them() -> None:
    rendered = ("class-map type qos match-any ROCE\n  match dscp 24\npolicy-map type qos QOS_CLASSIFICATION\n"
                "  class ROCE\n    set qos-group 4\n")
    running = ("class-map type qos match-any OLD\n  match dscp 26\nclass-map type qos match-any ACL_MINE\n"
               "  match dscp 10\nclass-map type qos match-any ROCE\n  match dscp 24\n"
               "policy-map type qos QOS_CLASSIFICATION\n  class OLD\n    set qos-group 3\n  class ROCE\n"
               "    set qos-group 4\n")
    removals, _ = plan(running, rendered, "nxos")
    assert removals == [(("policy-map type qos QOS_CLASSIFICATION",), "no class OLD"),
                        ((), "no class-map type qos match-any OLD")]


def test_view_cli_wred_table_kept_while_an_unlisted_port_applies_it() -> None:
    rendered = "interface P1\n qos wred apply NEW\nquit\nqos wred queue table NEW\n queue 4 ecn\nquit\n"
    running = ("qos wred queue table OLD\n queue 3 ecn\n#\nqos wred queue table SHARED\n queue 3 ecn\n#\n"
               "interface P1\n qos wred apply OLD\n#\ninterface P2\n qos wred apply SHARED\n#\n"
               "interface P3\n qos wred apply SHARED\n#\n")
    removals, additions = plan(running, rendered, "comware")
    assert ((), "undo qos wred queue table OLD") in removals
    assert (("interface P1",), "undo qos wred apply OLD") in removals
    assert not any("SHARED" in line for _, line in removals)
    assert (("interface P1",), "qos wred apply NEW") in additions


def test_huawei_negated_rendered_line_is_not_removed_twice() -> None:
    rendered = "dcb pfc\n priority 4\n undo priority 3\nquit\n"
    removals, additions = plan("dcb pfc\n priority 3\n priority 4\n", rendered, "huawei_ce")
    assert removals == []  # the rendered "undo priority 3" removes it
    assert additions == [(("dcb pfc",), "undo priority 3")]


def test_sonic_removes_owned_fields_entries_and_tables_only() -> None:
    want = {"PORT": {"Ethernet0": {"mtu": "9216"}},
            "PORT_QOS_MAP": {"Ethernet0": {"pfc_enable": "4"}},
            "PFC_PRIORITY_TO_PRIORITY_GROUP_MAP": {"ROCE": {"4": "4"}},
            "BUFFER_PROFILE": {"lossless": {"size": "1"}},
            "BUFFER_PG": {"Ethernet0|4": {"profile": "lossless"}}}
    have = {"PORT": {"Ethernet0": {"mtu": "9216", "admin_status": "up"}, "Ethernet8": {"mtu": "1500"}},
            "PORT_QOS_MAP": {"Ethernet0": {"pfc_enable": "3", "pfcwd_sw_enable": "3", "dscp_to_tc_map": "ROCE",
                                           "tc_to_queue_map": "AZURE"},
                             "Ethernet8": {"pfc_enable": "3"}},
            "PFC_PRIORITY_TO_PRIORITY_GROUP_MAP": {"ROCE": {"3": "3"}},
            "BUFFER_PG": {"Ethernet0|3": {"profile": "lossless"}, "Ethernet0|0": {"profile": "ingress_lossy"},
                          "Ethernet8|3": {"profile": "lossless"}},
            "BUFFER_PROFILE": {"ingress_lossy": {"size": "0"}, "lossless": {"size": "1"}},
            "PFC_WD": {"Ethernet0": {"action": "drop"}, "GLOBAL": {"POLL_INTERVAL": "200"}}}
    ops = sonic_stale(want, have)
    assert ops == [
        {"op": "remove", "path": "/PORT_QOS_MAP/Ethernet0/dscp_to_tc_map"},
        {"op": "remove", "path": "/PORT_QOS_MAP/Ethernet0/pfcwd_sw_enable"},
        {"op": "remove", "path": "/BUFFER_PG/Ethernet0|3"},
        {"op": "remove", "path": "/PFC_WD"},  # every entry fabric's: the table goes whole
        {"op": "remove", "path": "/PFC_PRIORITY_TO_PRIORITY_GROUP_MAP/ROCE/3"}]  # the entry stays: "4" is added
    # the device's own: another port, PG 0's lossy profile, the AZURE map binding, PORT fields, buffer profiles
    assert not any("Ethernet8" in op["path"] or "|0" in op["path"] or "tc_to_queue_map" in op["path"]
                   or "PORT/" in op["path"] or "BUFFER_PROFILE" in op["path"] for op in ops)


def test_nvue_scope_is_cleared_before_the_rendered_lines() -> None:
    lines = [line for line in (GOLDEN / "leaf2/nvue.cfg").read_text().splitlines() if line.startswith("nv ")]
    unset = nvue_unset(lines)
    ports = {m.group(1) for line in lines if (m := re.match(r"nv set interface (\S+) ", line))}
    assert "nv unset qos pfc" in unset and all(f"nv unset interface {p} qos pfc" in unset for p in ports)
    assert not any("link-pause" in line or "link mtu" in line for line in unset)
    for line in lines:  # every rendered qos line is inside a cleared subtree, or a value the set replaces
        words = line.split()
        if words[2] == "qos":
            assert any(line.startswith(u.replace("nv unset", "nv set") + " ") for u in unset), line


def test_sonic_golden_tables_are_owned_or_value_compared() -> None:
    from fabric.deploy.scope import SONIC_TABLES

    tables = json.loads((GOLDEN / "leaf1/config_db.json").read_text())
    value_only = {"PORT", "DEVICE_METADATA", "LOSSLESS_TRAFFIC_PATTERN", "CABLE_LENGTH"}
    assert set(tables) <= set(SONIC_TABLES) | value_only


def test_sonic_trust_switched_from_dscp_to_pcp_leaves_no_stale_map() -> None:
    """trust pcp renders DOT1P_TO_TC_MAP bound by dot1p_to_tc_map: a deploy over a DSCP-trusting port removes its
    dscp_to_tc_map binding and fabric's DSCP_TO_TC_MAP (both fabric's own), and back again."""
    pcp = {"PORT_QOS_MAP": {"Ethernet0": {"dot1p_to_tc_map": "ROCE"}}, "DOT1P_TO_TC_MAP": {"ROCE": {"3": "3"}}}
    dscp = {"PORT_QOS_MAP": {"Ethernet0": {"dscp_to_tc_map": "ROCE"}}, "DSCP_TO_TC_MAP": {"ROCE": {"26": "3"}}}
    assert sonic_stale(pcp, dscp) == [{"op": "remove", "path": "/PORT_QOS_MAP/Ethernet0/dscp_to_tc_map"},
                                      {"op": "remove", "path": "/DSCP_TO_TC_MAP"}]
    assert sonic_stale(dscp, pcp) == [{"op": "remove", "path": "/PORT_QOS_MAP/Ethernet0/dot1p_to_tc_map"},
                                      {"op": "remove", "path": "/DOT1P_TO_TC_MAP"}]
