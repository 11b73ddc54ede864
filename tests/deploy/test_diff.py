"""The semantic diffs without a network: CLI trees, SONiC JSON patches, host settings."""

from __future__ import annotations

import json

from fabric.deploy.diff import (
    commands,
    describe_patch,
    differences,
    flatten,
    json_patch,
    json_restore,
    missing,
    parse_tree,
    render_ops,
    restore_ops,
    to_push,
)
from fabric.deploy.host import command, parse_qos, setting
from tests.conftest import ROOT

GOLDEN = ROOT / "tests/golden/lab-roce/config"


def test_repeated_blocks_merge_and_sibling_order_does_not_matter() -> None:
    rendered = "interface A\n  mtu 9216\n!\nsystem qos\n  policy X\ninterface A\n  pfc on\n"
    shown = "!Command: show running-config\nsystem qos\n  policy X\ninterface A\n  pfc on\n  mtu 9216\n"
    assert to_push(rendered, parse_tree(shown)) == []
    assert differences(parse_tree(shown), parse_tree(rendered)) == []


def test_a_line_counts_only_in_its_block() -> None:
    running = parse_tree("interface A\n  mtu 9216\ninterface B\n  mtu 1500\n")
    ops = to_push("interface A\n  mtu 9216\ninterface B\n  mtu 9216\n", running)
    assert ops == [(("interface B",), "mtu 9216")]
    assert commands(ops, " ", "quit") == ["interface B", " mtu 9216", "quit"]
    assert render_ops(ops) == ["  interface B", "+   mtu 9216"]


def test_push_keeps_the_candidates_order_across_repeated_blocks() -> None:
    """A profile defined between two mentions of an interface is typed before the line that uses it."""
    rendered = "interface A\n desc x\nquit\ndrop-profile P\n ecn\nquit\ninterface A\n apply P\nquit\n"
    typed = commands(to_push(rendered, parse_tree("")), " ", "quit")
    assert typed == ["interface A", " desc x", "quit", "drop-profile P", " ecn", "quit", "interface A", " apply P",
                     "quit"]


def test_separator_ends_a_block_but_a_comment_does_not() -> None:
    shown = "#\n version 7.1\n#\n priority-flow-control deadlock auto-recover action discard\n#\ninterface X\n mtu 1\n#"
    assert set(parse_tree(shown).children) == {"version 7.1", "priority-flow-control deadlock auto-recover action "
                                               "discard", "interface X"}
    rendered = "table T\n# a remark about the next line\n queue 3 ecn\nquit\n"
    assert flatten(rendered) == [((), "table T"), (("table T",), "queue 3 ecn")]


def test_negated_lines_are_wanted_only_while_the_positive_form_shows() -> None:
    want = parse_tree("interface A\n undo flow-control\n")
    assert missing(want, parse_tree("interface A\n flow-control\n"), "undo") == [
        (("interface A",), "undo flow-control")]
    assert missing(want, parse_tree("interface A\n mtu 9\n"), "undo") == []


def test_restore_removes_innermost_first_then_re_adds() -> None:
    current = parse_tree("policy P\n  class C\n    ecn\ninterface A\n  mtu 9216\n  service-policy P\n")
    backup = parse_tree("interface A\n  mtu 1500\n")
    removals, additions = restore_ops(current, backup, "no")
    assert removals[:2] == [(("interface A",), "no service-policy P"), (("interface A",), "no mtu 9216")]
    assert removals[2:] == [(("policy P", "class C"), "no ecn"), (("policy P",), "no class C"), ((), "no policy P")]
    assert additions == [(("interface A",), "mtu 1500")]


def test_sonic_patch_holds_only_changed_fields_and_restores_removals() -> None:
    golden = json.loads((GOLDEN / "leaf1/config_db.json").read_text())
    have = {"PORT": {"Ethernet0": {"mtu": "9100", "admin_status": "up"}}}
    ops = json_patch(golden, have)
    assert {"op": "add", "path": "/PORT/Ethernet0/mtu", "value": "9216"} in ops
    assert not any(op["path"] == "/PORT/Ethernet0/admin_status" for op in ops)
    assert any(op["path"] == "/WRED_PROFILE" for op in ops)
    after = {"PORT": {"Ethernet0": {"mtu": "9216", "admin_status": "up"}}, "WRED_PROFILE": {"p": {"ecn": "on"}}}
    assert json_restore(after, have) == [
        {"op": "add", "path": "/PORT/Ethernet0", "value": {"mtu": "9100", "admin_status": "up"}},
        {"op": "remove", "path": "/WRED_PROFILE"}]
    assert json_patch(after, after) == [] and describe_patch([{"op": "remove", "path": "/X"}]) == ["- /X"]


def test_every_roce_sh_line_is_one_setting_and_back() -> None:
    for line in (GOLDEN / "gpu01/roce.sh").read_text().splitlines():
        found = setting(line)
        if line.startswith(("#", "set ")) or not line:
            assert found is None, line
            continue
        assert found is not None, line
        if "--dscp2prio" not in line and "--prio_tc" not in line:
            assert command(*found) == line, line
    ets = setting("mlnx_qos -i ens1np0 --prio_tc 0,1,2,3,4,5,6,7 --tsa ets,ets,ets,ets,ets,ets,strict,ets "
                  "--tcbw 50,0,0,50,0,0,0,0")
    assert ets is not None and command(*ets) == ("mlnx_qos -i ens1np0 --prio_tc 0,1,2,3,4,5,6,7 --tsa "
                                                 "ets,ets,ets,ets,ets,ets,strict,ets --tcbw 50,0,0,50,0,0,0,0")


def test_mlnx_qos_printout_parses_into_the_same_settings() -> None:
    shown = ("DCBX mode: OS controlled\nPriority trust state: dscp\ndscp2prio mapping:\n\tprio:3 dscp:26,\n"
             "\tprio:6 dscp:48,\ndefault priority:\nPFC configuration:\n\tpriority    0   1   2   3   4   5   6   7\n"
             "\tenabled     0   0   0   1   0   0   0   0   \n"
             + "".join(f"tc: {tc} ratelimit: unlimited, tsa: "
                       + ("strict" if tc == 6 else f"ets, bw: {50 if tc in (0, 3) else 0}%") + f"\n\t priority:  {tc}\n"
                       for tc in range(8)))
    found = parse_qos("ens1np0", shown)
    for line in ("mlnx_qos -i ens1np0 --trust dscp", "mlnx_qos -i ens1np0 --dscp2prio set,26,3",
                 "mlnx_qos -i ens1np0 --pfc 0,0,0,1,0,0,0,0", "mlnx_qos -i ens1np0 --dcbx os",
                 "mlnx_qos -i ens1np0 --prio_tc 0,1,2,3,4,5,6,7 --tsa ets,ets,ets,ets,ets,ets,strict,ets "
                 "--tcbw 50,0,0,50,0,0,0,0"):
        key, value = setting(line) or ("", "")
        assert found[key] == value, line
