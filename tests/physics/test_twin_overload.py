"""The live engine under load it cannot carry: open-loop flows past their deadline are abandoned and flows without
a route are refused at arrival, so the twin's rows (and its cost per tick) do not grow without end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fabric.cli.lab import print_truth
from fabric.inventory.generate import generate
from fabric.inventory.write import write_inventory
from fabric.lab.workload import load_workload
from tests.physics.test_twin import lab_roce_engine

ONE_RECEIVER = """\
name: one-receiver
description: every server's NICs offer 60 % of line rate in WebSearch sizes to gpu01's and gpu02's NICs
seed: 5
duration_s: 10
phases:
  - name: hot
    kind: websearch
    load: 0.6
    dst: {names: [gpu01, gpu02]}
    timeout_s: 0.5
"""


def test_an_overloaded_receiver_abandons_late_flows_and_the_rows_stop_growing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """16 servers x 2 NICs x 60 % onto gpu01's and gpu02's NICs (~4x what they take): without a deadline every
    tick adds the flows the receivers could not take (~540 rows per tick, 15.8 k after 3 s); with a 0.5 s
    deadline the rows stop growing once the first flows expire, the receivers stay full, and the truth counts
    what was abandoned."""
    path = tmp_path / "one-receiver.yaml"
    path.write_text(ONE_RECEIVER)
    live = lab_roce_engine(load_workload(path))
    rows, carried, before = [], [], 0.0
    for _ in range(30):
        live.step(0.1)
        rows.append(int(live.engine.live().sum()))
        carried.append(live.engine.delivered_total - before)
        before = live.engine.delivered_total
    assert rows[-1] < 1.15 * rows[9], rows
    fl, t = live.engine.fl, live.sim_s
    # nothing older than its deadline is left (an aggregate's runs from the end of the tick it is spread over)
    assert (t - fl.start[live.engine.live()] <= 0.5 + 0.1 + 1e-9).all()
    lost = live.truth()["abandoned"]["hot"]
    assert lost["flows"] > 0 and lost["bytes"] > 0
    # the receivers stay as busy as before the first flows expired
    assert np.mean(carried[-10:]) > 0.9 * np.mean(carried[2:5])
    print_truth(live.truth())  # what `fabric lab truth` prints
    shown = capsys.readouterr().out
    assert "flows given up" in shown and f"past its deadline │ {lost['flows']}" in shown


def test_a_load_the_fabric_carries_abandons_nothing(tmp_path: Path) -> None:
    """WebSearch at 15 % between the 200G servers: every flow finishes long before its deadline. (Not with
    gpu13-16 as receivers: their 8 x 100G ports sit behind leaf4's 2 x 100G uplinks, and ECMP fills one of
    them even at 15 %; nor the shipped 40 % mixes: README "Overload".)"""
    path = tmp_path / "light.yaml"
    path.write_text(ONE_RECEIVER.replace("load: 0.6", "load: 0.15").replace(
        "dst: {names: [gpu01, gpu02]}", "dst: {names: [gpu0*, gpu10, gpu11, gpu12]}"))
    live = lab_roce_engine(load_workload(path))
    for _ in range(20):
        live.step(0.1)
    got = live.truth()
    assert got["abandoned"] == {}
    assert got["unroutable"] == {}


def test_flows_without_a_route_are_refused_at_arrival_and_counted(tmp_path: Path) -> None:
    """A rail fabric of two spine planes: rail 1 (ens1) and rail 2 (ens2) share no switch. An incast onto NIC 0
    of gpu001 from 14 NICs takes NIC 0 of the 7 other servers, then their NIC 1: half its flows have no path.
    Such a flow used to stay in the engine forever at rate 0 (and hold its send queue); now it is refused and
    counted. The WebSearch mix next to it draws each NIC's peers in its own plane: nothing of it is refused."""
    from fabric.intent.check import validate_inventory
    from fabric.lab.physics.engine import LiveEngine
    from fabric.lab.serve import build_devices

    write_inventory(generate("rail", 2, 4, 8, 2, ["sonic"], spine_planes=2), tmp_path / "inv")
    fabric = validate_inventory(str(tmp_path / "inv")).fabric
    assert fabric is not None
    spill = tmp_path / "spill.yaml"
    spill.write_text("name: spill\nduration_s: 10\nphases:\n  - name: spill\n    kind: incast\n    fan_in: 14\n"
                     "    size_bytes: 1MB\n    period_s: 5ms\n    target: {first: 1}\n"
                     "  - name: websearch\n    kind: websearch\n    load: 0.1\n")
    live = LiveEngine(build_devices(str(tmp_path / "inv")), fabric, load_workload(spill))
    for _ in range(5):
        live.step(0.1)
    assert set(live.truth()["unroutable"]) == {"spill"}
    lost = live.truth()["unroutable"]["spill"]
    assert live.workload is not None
    batch = live.workload.flow_batch(live.hosts, 0.0, live.sim_s)
    bursts = np.unique(batch.start_s[batch.tag == batch.tags.index("spill")]).size
    assert bursts >= 90 and lost == {"flows": 7 * bursts, "bytes": 7 * bursts * 1e6}  # 7 of 14 senders per burst
    engine = live.engine
    hops = np.count_nonzero(engine.paths.res_q[engine.fl.pid] >= 0, axis=1)
    assert (hops >= 2).all()  # every row kept has a path past its source NIC
    assert live.truth()["goodput_gbps"] > 0


def test_abandoned_rows_leave_no_open_rows_in_their_group(tmp_path: Path) -> None:
    """An abandoned row is done for its group's bookkeeping too (rows open per group count it no longer)."""
    path = tmp_path / "one-receiver.yaml"
    path.write_text(ONE_RECEIVER)
    live = lab_roce_engine(load_workload(path))
    for _ in range(8):
        live.step(0.1)
    engine = live.engine
    gid = engine._group_ids["hot"]
    assert live.truth()["abandoned"]["hot"]["flows"] > 0
    assert engine.group_state.open[gid] == np.count_nonzero(engine.live())
