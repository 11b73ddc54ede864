"""Tier E directions and faults on small shapes: each test changes one knob and checks the counters move the
way the physics says (reference §A.2 gates, DESIGN §6)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from fabric.lab.physics import shapes
from fabric.lab.physics.epoch import EpochEngine
from fabric.lab.physics.knobs import DcqcnKnobs, EcnKnobs, PortKnobs, WatchdogKnobs
from fabric.lab.physics.maxmin import max_min
from fabric.lab.physics.meanfield import dcqcn_fixed_point, response
from fabric.lab.physics.scenario import CounterFrame, Scenario

DCQCN_ON = DcqcnKnobs(np_enabled_priorities=frozenset({3}), rp_enabled_priorities=frozenset({3}))
OFF = DcqcnKnobs()


def lossless(**change: object) -> PortKnobs:
    knobs: dict[str, object] = {"mtu": 1000, "speed_gbps": 100, "pfc_priorities": frozenset({3}),
                                "xoff_bytes": 300_000, "headroom_bytes": 200_000,
                                "ecn": {3: EcnKnobs(100_000, 400_000, 0.2)}}
    knobs.update(change)
    return PortKnobs(**knobs)  # type: ignore[arg-type]


def incast(port: PortKnobs, dcqcn: DcqcnKnobs = DCQCN_ON, n: int = 16, bursts: int = 6,
           **shape: object) -> tuple[Scenario, CounterFrame, int]:
    """n senders x 500 KB onto one receiver every 5 ms; returns the frame and the receiver's switch port."""
    flows = [shapes.ShapeFlow((f"h{i}", "eth0"), ("r0", "eth0"), 500e3, start_s=k * 5e-3)
             for k in range(bursts) for i in range(n)]
    sc = shapes.star(n, speed_gbps=100, flows=flows,
                     knobs=shapes.ShapeKnobs(switch_port=port, nic_port=port, dcqcn=dcqcn, **shape))  # type: ignore[arg-type]
    frame = EpochEngine(sc).advance(bursts * 5e-3)
    return sc, frame, sc.port_index("sw", f"Ethernet{n}")


def test_long_flows_share_the_bottleneck_at_the_dcqcn_operating_point() -> None:
    port = lossless(speed_gbps=40, ecn={3: EcnKnobs(5_000, 200_000, 0.01)})
    for n in (2, 10):
        sc = shapes.star(n, speed_gbps=40, knobs=shapes.ShapeKnobs(switch_port=port, nic_port=port, dcqcn=DCQCN_ON))
        engine = EpochEngine(sc)
        engine.advance(0.011)  # the start-up burst and DCQCN's start transient (TRANSIENT_LOST: 10 ms at most)
        frame = engine.advance(0.05)
        out = sc.port_index("sw", f"Ethernet{n}")
        gbps = frame.queue["q{}_tx_bytes"][out, 3] * 8 / 0.05 / 1e9
        assert 0.99 * 40 <= gbps <= 40, gbps
        rates = [f["rate_gbps"] for f in engine.truth()["per_flow"]]
        assert len(rates) == n and max(rates) - min(rates) < 1e-6  # fair share
        marked = frame.queue["q{}_ecn_marked_pkts"][out, 3] / frame.queue["q{}_tx_pkts"][out, 3]
        c_pkts = 40e9 / 8 / 1000
        p_star = float(dcqcn_fixed_point(np.array(float(n)), np.array(c_pkts), np.array(5e6 / 8 / 1000),
                                         np.array(1e-6), np.array(300e-6), np.array(32.767)))
        assert math.isclose(marked, p_star * response(np.array(float(n)))[3], rel_tol=1e-6)
        assert frame.port["np_cnp_sent"][sc.port_index("r0", "eth0")] > 0
        assert frame.port["rp_cnp_handled"][sc.port_index("h0", "eth0")] > 0


def open_loop(load: float, size: float, n: int = 8, seconds: float = 0.03, seed: int = 3) -> list[shapes.ShapeFlow]:
    """Poisson arrivals of ``size``-byte flows from n senders onto one receiver at ``load`` of 100 Gb/s."""
    rng = np.random.default_rng(seed)
    per_s = load * 12.5e9 / size
    starts = np.cumsum(rng.exponential(1 / per_s, int(per_s * seconds)))
    senders = rng.integers(0, n, starts.size)
    return [shapes.ShapeFlow((f"h{i}", "eth0"), ("r0", "eth0"), size, start_s=float(t))
            for i, t in zip(senders.tolist(), starts.tolist(), strict=True)]


def open_loop_star(flows: list[shapes.ShapeFlow], kmin: int, n: int = 8) -> tuple[Scenario, int]:
    port = lossless(ecn={3: EcnKnobs(kmin, kmin + 300_000, 0.2)})
    sc = shapes.star(n, speed_gbps=100, flows=flows,
                     knobs=shapes.ShapeKnobs(switch_port=port, nic_port=port, dcqcn=DCQCN_ON))
    return sc, sc.port_index("sw", f"Ethernet{n}")


def test_lower_kmin_marks_more_and_queues_less_under_open_loop_load() -> None:
    """Flows arriving at random (60 % load, 200 KB) congest the receiver's queue only while they overlap: its
    depth has a tail, and the tail crosses a lower Kmin more often (more marks) while DCQCN pulls the queue
    back from a lower level (lower mean and watermark). Throughput is the offered load either way."""
    flows = open_loop(0.6, 200e3)
    got = {}
    for kmin in (20_000, 300_000):
        sc, out = open_loop_star(flows, kmin)
        engine = EpochEngine(sc)
        engine.advance(0.005)
        frame = engine.advance(0.02)
        occupancy = [engine.advance(1e-3).gauge["q{}_occupancy_bytes"][out, 3] for _ in range(5)]
        got[kmin] = (frame.queue["q{}_ecn_marked_pkts"][out, 3] / frame.queue["q{}_tx_pkts"][out, 3],
                     frame.queue["q{}_tx_bytes"][out, 3] * 8 / 0.02 / 1e9, frame.gauge["q{}_watermark_bytes"][out, 3],
                     float(np.mean(occupancy)))
    (low_marks, low_gbps, low_wm, low_q), (high_marks, high_gbps, high_wm, high_q) = got[20_000], got[300_000]
    assert low_marks > 2 * high_marks > 0
    assert low_q < high_q and low_wm < high_wm
    assert 55 < low_gbps < 65 and abs(low_gbps - high_gbps) < 1


def test_lower_kmin_queues_less_under_incast() -> None:
    """DCQCN reacts once the queue passes Kmin, so the incast peak is Kmin + a reaction term. Marks: a burst
    marks the bytes that cross the RED ramp on its way up to the peak and back; the peak moves with Kmin, so
    the marked area (and the count) stays close. Tier F's peak moves less than Kmin, so there a lower Kmin
    marks a few % more (0.83 vs 0.76 of the packets for Kmin 20 vs 300 KB on 16 x 500 KB)."""
    _, low, r = incast(lossless(ecn={3: EcnKnobs(50_000, 400_000, 0.2)}))
    _, high, _ = incast(lossless(ecn={3: EcnKnobs(200_000, 400_000, 0.2)}))
    assert low.gauge["q{}_watermark_bytes"][r, 3] < high.gauge["q{}_watermark_bytes"][r, 3]
    low_marks, high_marks = low.queue["q{}_ecn_marked_pkts"][r, 3], high.queue["q{}_ecn_marked_pkts"][r, 3]
    assert low_marks > 0 and high_marks > 0 and 0.75 < low_marks / high_marks < 1.25


def test_lower_xoff_pauses_more_and_headroom_below_the_cable_need_drops() -> None:
    _, low, _ = incast(lossless(xoff_bytes=50_000, ecn={}), OFF)
    _, high, _ = incast(lossless(xoff_bytes=400_000, ecn={}), OFF)
    assert low.prio["tx_pfc{}_frames"][:, 3].sum() > high.prio["tx_pfc{}_frames"][:, 3].sum() > 0
    assert low.prio["tx_pfc{}_pause_us"][:, 3].sum() > high.prio["tx_pfc{}_pause_us"][:, 3].sum()
    sc, _, _ = incast(lossless(), OFF)
    need = shapes.headroom_need_bytes(100, 2.0, 1000)
    _, short, _ = incast(lossless(xoff_bytes=50_000, headroom_bytes=int(need * 0.5), ecn={}), OFF)
    _, enough, _ = incast(lossless(xoff_bytes=50_000, headroom_bytes=int(need * 1.1), ecn={}), OFF)
    assert short.port["rx_discards"].sum() > 0
    assert enough.port["rx_discards"].sum() == 0 and enough.queue["q{}_drop_pkts"].sum() == 0
    assert sc.n_flows == 16 * 6


def test_pfc_storm_spreads_two_hops_upstream_and_the_watchdog_stops_it() -> None:
    wd = WatchdogKnobs(detect_ms=20, restore_ms=100)
    port = lossless(ecn={}, watchdog=wd)
    flows = [shapes.ShapeFlow((f"h{k}", "eth0"), ("h0", "eth0")) for k in range(4, 8)]  # leaf1 hosts -> h0
    flows += [shapes.ShapeFlow((f"h{k}", "eth0"), ("h1", "eth0")) for k in range(4, 8)]  # victims -> h1
    sc = shapes.leaf_spine(2, 2, 4, flows=flows, knobs=shapes.ShapeKnobs(switch_port=port, nic_port=port,
                                                                          dcqcn=OFF))
    engine = EpochEngine(sc)
    engine.advance(0.005)
    engine.set_pfc_storm(sc.port_index("h0", "eth0"))
    frame = engine.advance(0.015)  # before the watchdog's 20 ms
    rx_pause = frame.prio["rx_pfc{}_pause_us"][:, 3]
    spine_ports = [p for p in range(sc.n_ports) if sc.device[p].startswith("spine")]
    leaf1_uplinks = [p for p in range(sc.n_ports) if sc.device[p] == "leaf1" and sc.device[sc.peer[p]] != "h4"
                     and sc.device[sc.peer[p]].startswith("spine")]
    senders = [sc.port_index(f"h{k}", "eth0") for k in range(4, 8)]
    assert rx_pause[sc.port_index("leaf0", "Ethernet0")] > 10_000  # leaf0 -> h0: paused by the NIC
    assert rx_pause[spine_ports].sum() > 0  # hop 1: spines paused by leaf0
    assert rx_pause[leaf1_uplinks].sum() > 0  # hop 2: leaf1 paused by the spines
    assert rx_pause[senders].sum() > 0  # and the senders' NICs
    victims = [f for f in engine.truth()["per_flow"] if f["dst"] == "h1:eth0"]
    assert sum(f["rate_gbps"] for f in victims) < 100 * 0.9  # head-of-line blocking slows the h1 flows
    frame = engine.advance(0.010)
    assert frame.port["pfcwd_storm_detected"].sum() >= 1
    after = engine.advance(0.020)
    assert after.prio["rx_pfc{}_pause_us"][spine_ports, 3].sum() == 0
    assert after.queue["q{}_drop_pkts"][sc.port_index("leaf0", "Ethernet0"), 3] > 0  # the watchdog drops
    # the watchdog configured away while it holds the queue: the queue obeys the storm's pauses again
    engine.set_ports(shapes.leaf_spine(2, 2, 4, flows=flows, knobs=shapes.ShapeKnobs(
        switch_port=lossless(ecn={}), nic_port=lossless(ecn={}), dcqcn=OFF)))
    engine.advance(0.005)
    unheld = engine.advance(0.005)
    assert unheld.queue["q{}_drop_pkts"][sc.port_index("leaf0", "Ethernet0"), 3] == 0
    assert unheld.prio["rx_pfc{}_pause_us"][spine_ports, 3].sum() > 0


def stormed_with_marks() -> tuple[Scenario, CounterFrame]:
    """Four leaf1 hosts into h0 on a lossless, ECN-marking leaf-spine; h0's NIC storms and the leaf's watchdog
    drops what the queue it holds sends; the frame runs from before the storm to well after the watchdog."""
    port = lossless(watchdog=WatchdogKnobs(detect_ms=5, restore_ms=100))
    flows = [shapes.ShapeFlow((f"h{k}", "eth0"), ("h0", "eth0")) for k in range(4, 8)]
    sc = shapes.leaf_spine(2, 2, 4, flows=flows, knobs=shapes.ShapeKnobs(switch_port=port, nic_port=port))
    engine = EpochEngine(sc)
    engine.advance(0.005)
    engine.set_pfc_storm(sc.port_index("h0", "eth0"))
    return sc, engine.advance(0.03)


@pytest.mark.parametrize("case", ["lossy incast", "headroom short", "storm and watchdog"])
def test_counters_of_one_event_agree_with_each_other(case: str) -> None:
    """Packets are bytes over the MTU, a port's discards are its queues' dropped packets (IF-MIB counts
    packets), and a queue marks no more than it sends: a lossy incast's tail drops used to count bytes only,
    port discards were bytes, and a watchdog-held queue marked the bytes it dropped."""
    if case == "storm and watchdog":
        sc, frame = stormed_with_marks()
    else:
        port = lossless(pfc_priorities=frozenset(), ecn={}) if case == "lossy incast" else lossless(
            headroom_bytes=1_000, ecn={})
        sc, frame, _ = incast(port, OFF, buffer_bytes=2 * 1024 * 1024)  # the lossy queue holds ~1 MB
    q, mtu = frame.queue, sc.mtu[:, None].astype(float)
    assert q["q{}_drop_pkts"].sum() + frame.port["rx_discards"].sum() > 100
    assert q["q{}_drop_pkts"] * mtu == pytest.approx(q["q{}_drop_bytes"], rel=1e-9, abs=1e-6)
    assert frame.port["tx_discards"] == pytest.approx(q["q{}_drop_pkts"].sum(axis=1), rel=1e-9, abs=1e-6)
    assert (q["q{}_ecn_marked_pkts"] <= q["q{}_tx_pkts"] * (1 + 1e-9)).all()
    assert frame.port["rx_discards"].max() < frame.port["rx_ucast_pkts"].max()


@pytest.mark.parametrize("long_epoch_s", [0.02, 0.004])
def test_a_watchdog_restore_inside_a_longer_epoch_is_counted_once(long_epoch_s: float) -> None:
    """The live engine changes its epoch length as the machine's load changes: a storm the watchdog restores
    inside a long epoch is counted by the shorter epoch after it, once (it used to look back one epoch of the
    current length only, and missed it)."""
    wd = WatchdogKnobs(detect_ms=5, restore_ms=10)
    port = lossless(ecn={}, watchdog=wd)
    flows = [shapes.ShapeFlow((f"h{k}", "eth0"), ("h0", "eth0")) for k in range(4, 8)]
    sc = shapes.leaf_spine(2, 2, 4, flows=flows, knobs=shapes.ShapeKnobs(switch_port=port, nic_port=port,
                                                                          dcqcn=OFF))
    engine = EpochEngine(sc, epoch_s=1e-3)
    storm = sc.port_index("h0", "eth0")
    engine.set_pfc_storm(storm)
    detected = restored = 0.0
    while not detected:
        frame = engine.advance(1e-3)
        detected += frame.port["pfcwd_storm_detected"].sum()
    engine.set_pfc_storm(storm, on=False)
    engine.epoch_s = long_epoch_s  # the restore (10 ms on) falls inside this epoch, not in its last 1 ms
    frame = engine.advance(long_epoch_s)
    detected += frame.port["pfcwd_storm_detected"].sum()  # the storm's pauses held upstream queues too
    restored += frame.port["pfcwd_storm_restored"].sum()
    engine.epoch_s = 1e-3
    for _ in range(30):
        frame = engine.advance(1e-3)
        detected += frame.port["pfcwd_storm_detected"].sum()
        restored += frame.port["pfcwd_storm_restored"].sum()
    assert restored == detected >= 1


def test_a_pfc_storm_without_a_watchdog_holds_every_hop_paused_in_every_epoch() -> None:
    """Without a watchdog a storm's pauses, once spread, stay: the leaf, the spine and the senders' NICs are
    paused through every epoch. Tier E used to let them lapse in a three-epoch cycle (a paused queue upstream
    counted as the flows' bottleneck, so the queue it feeds saw no excess and stopped pausing it)."""
    port = lossless(ecn={})
    flows = [shapes.ShapeFlow((f"h{k}", "eth0"), (f"h{d}", "eth0")) for k in range(4, 8) for d in (0, 1)]
    sc = shapes.leaf_spine(2, 2, 4, flows=flows, knobs=shapes.ShapeKnobs(switch_port=port, nic_port=port,
                                                                          dcqcn=OFF))
    engine = EpochEngine(sc)
    engine.advance(0.005)
    engine.set_pfc_storm(sc.port_index("h0", "eth0"))
    engine.advance(0.005)
    senders = [sc.port_index(f"h{k}", "eth0") for k in range(4, 8)]
    spines = [p for p in range(sc.n_ports) if sc.device[p].startswith("spine")]
    for _ in range(6):
        rx_pause = engine.advance(1e-3).prio["rx_pfc{}_pause_us"][:, 3]
        assert rx_pause[sc.port_index("leaf0", "Ethernet0")] == pytest.approx(1000)
        assert rx_pause[spines].max() == pytest.approx(1000)
        assert rx_pause[senders] == pytest.approx(1000)


def test_dscp_mismapped_into_a_lossy_queue_drops_there_and_not_in_the_lossless_one() -> None:
    flows = [shapes.ShapeFlow((f"h{i}", "eth0"), ("r0", "eth0")) for i in range(4)]
    mapping = {d: d >> 3 for d in range(64)} | {26: 1}
    port = lossless(ecn={})
    sc = shapes.star(4, speed_gbps=100, flows=flows, knobs=shapes.ShapeKnobs(
        switch_port=port, nic_port=port, dcqcn=OFF, dscp_to_tc=mapping))
    frame = EpochEngine(sc).advance(0.01)
    out = sc.port_index("sw", "Ethernet4")
    assert frame.queue["q{}_drop_pkts"][out, 1] > 0
    assert frame.queue["q{}_drop_pkts"][:, 3].sum() == 0 and frame.port["rx_discards"].sum() == 0
    good = shapes.star(4, speed_gbps=100, flows=flows, knobs=shapes.ShapeKnobs(switch_port=port, nic_port=port,
                                                                             dcqcn=OFF))
    ok = EpochEngine(good).advance(0.01)
    assert ok.queue["q{}_drop_pkts"].sum() == 0 and ok.prio["tx_pfc{}_pause_us"][:, 3].sum() > 0


def test_slow_receiver_pauses_its_leaf_port_and_link_counters_balance() -> None:
    port = lossless(ecn={})
    sc = shapes.star(2, speed_gbps=100, knobs=shapes.ShapeKnobs(switch_port=port, nic_port=port, dcqcn=OFF))
    engine = EpochEngine(sc)
    r0 = sc.port_index("r0", "eth0")
    engine.set_slow_receiver(r0, 0.25)
    frame = engine.advance(0.01)
    out = sc.peer[r0]
    gbps = frame.queue["q{}_tx_bytes"][out, 3] * 8 / 0.01 / 1e9
    assert math.isclose(gbps, 25, rel_tol=1e-6)
    assert frame.prio["tx_pfc{}_pause_us"][r0, 3] > 0 and frame.prio["rx_pfc{}_pause_us"][out, 3] > 0
    assert np.allclose(frame.port["rx_octets"], frame.port["tx_octets"][sc.peer])


def test_a_storm_on_a_fabric_without_flows_still_pauses_its_link() -> None:
    """No flow crosses the stormed link (an idle twin with a pfc-storm fault): the epoch still runs and the
    NIC pauses the leaf port for the whole time."""
    port = PortKnobs(pfc_priorities=frozenset({3}))
    sc = shapes.star(2, speed_gbps=40, flows=[], knobs=shapes.ShapeKnobs(switch_port=port, nic_port=port))
    engine = EpochEngine(sc)
    nic = sc.port_index("r0", "eth0")
    engine.set_pfc_storm(nic)
    frame = engine.advance(0.005)
    assert math.isclose(frame.prio["tx_pfc{}_pause_us"][nic, 3], 5000.0)
    assert math.isclose(frame.prio["rx_pfc{}_pause_us"][sc.peer[nic], 3], 5000.0)


def test_progressive_filling_fills_a_bottleneck_shared_by_many_distinct_demands() -> None:
    """30 rows of distinct small demands (the live twin's aggregates) and one greedy flow on one link: the
    small ones get their demand and the greedy one the rest, so the link is full (a fill that freezes one
    demand level per round would run out of rounds and leave the link part-empty)."""
    n = 30
    demand = np.array([1e6 * (i + 1) for i in range(n)] + [np.inf])
    res = np.zeros((n + 1, 2), dtype=np.int64)
    res[:, 1] = 1  # resource 0: the link; 1: the infinite dummy
    rate, _ = max_min(demand, res, np.array([1e9, np.inf]))
    assert np.allclose(rate[:n], demand[:n], rtol=1e-12)
    assert math.isclose(rate[n], 1e9 - demand[:n].sum(), rel_tol=1e-9)


def test_a_chain_of_steps_starts_each_step_when_the_one_before_is_done() -> None:
    """Ring all-reduce steps wait for the step before (``after``): each starts when the last flow of its
    group is done, inside the epoch (the epoch is cut there), not at the next epoch or tick. Steps of 2.5 MB
    at 100G (0.2 ms) in 1 ms epochs; a 1.25 MB flow from another sender joins the second step's link at
    0.3 ms, so that step ends later than a line-rate guess of its completion."""
    port = lossless()
    steps = [shapes.ShapeFlow(("h0", "eth0"), ("r0", "eth0"), 2.5e6, start_s=5e-5, group=f"s{k}",
                              after=f"s{k - 1}" if k else "") for k in range(6)]
    hog = shapes.ShapeFlow(("h1", "eth0"), ("r0", "eth0"), 1.25e6, start_s=3e-4, group="hog")
    late = shapes.ShapeFlow(("h1", "eth0"), ("r0", "eth0"), 2.5e6, start_s=3e-3, group="late", after="s5")
    knobs = shapes.ShapeKnobs(switch_port=port, nic_port=port, dcqcn=OFF)
    engine = EpochEngine(shapes.star(2, speed_gbps=100, knobs=knobs, flows=[*steps, hog]))
    engine.advance(1e-3)
    running = engine.truth()
    assert running["flows"]["active"] == 1 and [f["group"] for f in running["per_flow"]] == ["s3"]  # s4, s5 wait
    engine.add_flows(shapes.star(2, speed_gbps=100, knobs=knobs, flows=[late]))  # s5 is done by 3 ms
    engine.advance(4e-3)
    fl = engine.fl
    done = dict(zip(fl.group, fl.done.tolist(), strict=True))
    start = dict(zip(fl.group, fl.start.tolist(), strict=True))
    line = 2.5e6 / 12.5e9  # 0.2 ms
    assert done["s0"] == pytest.approx(5e-5 + line, rel=1e-6)
    for k in range(1, 6):
        assert start[f"s{k}"] == done[f"s{k - 1}"]
        if k != 1:
            assert done[f"s{k}"] - start[f"s{k}"] == pytest.approx(line, rel=1e-6)
    assert 1.5 * line < done["s1"] - start["s1"] < 2.5 * line  # half the link while the hog sends
    assert done["s5"] < 1.5e-3  # six steps in about 1.4 ms (one step per 1 ms epoch would take 6 ms)
    assert start["late"] == 3e-3 and done["late"] == pytest.approx(3e-3 + line, rel=1e-6)  # s5 was complete


def test_flows_that_start_late_in_an_epoch_do_not_fill_the_part_before_them() -> None:
    """Two senders start at 0.5 ms into one 100G receiver: the first 1 ms epoch carries at most half a
    millisecond of that link (its fair shares used to spread the whole epoch's capacity over them: 12.5 MB)."""
    flows = [shapes.ShapeFlow((f"h{h}", "eth0"), ("r0", "eth0"), 1e9, start_s=0.5e-3) for h in (0, 1)]
    engine = EpochEngine(shapes.star(2, speed_gbps=100, knobs=shapes.ShapeKnobs(switch_port=PortKnobs(),
                                                                                nic_port=PortKnobs()), flows=flows))
    engine.advance(1e-3)
    assert engine.delivered_total == pytest.approx(12.5e9 * 0.5e-3, rel=1e-6)
    engine.advance(1e-3)
    assert engine.delivered_total == pytest.approx(12.5e9 * 1.5e-3, rel=1e-6)


def two_to_one_chain(steps: int, port: PortKnobs, size: float = 1.25e6,
                     dcqcn: DcqcnKnobs | None = None) -> Scenario:
    """``steps`` chained steps of two senders x ``size`` into one 100G receiver (a ring step on a 2:1 link),
    the first at 50 us, DCQCN ``dcqcn`` (default: as ``shapes.ShapeKnobs`` sets it, off)."""
    flows = [shapes.ShapeFlow((f"h{h}", "eth0"), ("r0", "eth0"), size, start_s=5e-5, group=f"s{k}",
                              after=f"s{k - 1}" if k else "") for k in range(steps) for h in (0, 1)]
    knobs = shapes.ShapeKnobs(switch_port=port, nic_port=port, **({"dcqcn": dcqcn} if dcqcn else {}))
    return shapes.star(2, speed_gbps=100, knobs=knobs, flows=flows)


def test_a_released_step_starts_with_the_next_part_epoch_not_a_rounding_before_it() -> None:
    """Epochs are cut on a nanosecond grid where an awaited step is due; its last byte lands a fraction of a
    nanosecond before or after the cut. The next step starts at the cut either way (it used to start at the
    completion: before the part epoch it runs in, so whether it counted as a starting burst was a rounding)."""
    engine = EpochEngine(two_to_one_chain(12, lossless(), size=1.234567e6))
    engine.advance(3e-3)
    fl = engine.fl
    start = dict(zip(fl.group, fl.start.tolist(), strict=True))
    done = dict(zip(fl.group, fl.done.tolist(), strict=True))
    for k in range(1, 12):
        assert start[f"s{k}"] == round(start[f"s{k}"], 9)  # on the grid: a cut
        assert 0 <= start[f"s{k}"] - done[f"s{k - 1}"] < 1e-9
    steps = [done[f"s{k}"] - start[f"s{k}"] for k in range(12)]
    assert steps == pytest.approx([2 * 1.234567e6 / 12.5e9] * 12, rel=1e-6)  # two senders share the receiver


def never_replayed(engine: EpochEngine) -> None:
    """Every epoch of ``engine`` gets a memo key of its own: nothing is replayed, everything computed."""
    unique = itertools.count()
    engine._memo_key = lambda dt, idx: next(unique)  # type: ignore[method-assign,assignment,return-value]


@pytest.mark.parametrize("dcqcn", [None, DCQCN_ON], ids=["dcqcn-off", "dcqcn-on"])
def test_repeated_part_epochs_are_replayed_exactly(dcqcn: DcqcnKnobs | None) -> None:
    """Each step of a chain is a part epoch cut at its completion; equal inputs (rows' paths, bytes, starts,
    knobs, pauses carried in, start transients running) give equal epochs, so steps after the first few are
    replayed from a memo, not computed. Replayed or computed, the counters and truth are the same (with DCQCN
    each step starts a transient at the receiver's queue: the replay restores it)."""
    frames, truths, computed = [], [], []
    for memo in (True, False):
        engine = EpochEngine(two_to_one_chain(100, lossless(), dcqcn=dcqcn), 1e-3)
        if not memo:
            never_replayed(engine)
        compute, calls = engine._compute, [0]

        def counted(*args: object, compute: object = compute, calls: list[int] = calls) -> object:
            calls[0] += 1
            return compute(*args)  # type: ignore[operator]

        engine._compute = counted  # type: ignore[method-assign]
        frames.append([engine.advance(1e-3) for _ in range(25)])
        truths.append(engine.truth())
        computed.append(calls[0])
    # one compute per step and cut without the memo; with DCQCN's transient a step takes ~234 us, not 200, so
    # its cuts fall on more distinct offsets from the epoch grid: fewer of them repeat
    assert computed[1] > 100 and computed[0] < computed[1] / (4 if dcqcn is None else 2)
    for with_memo, without in zip(*frames, strict=True):
        for kind in ("queue", "prio", "port", "gauge"):
            for name, values in getattr(without, kind).items():
                assert getattr(with_memo, kind)[name] == pytest.approx(values, rel=1e-9, abs=1e-6), (kind, name)
    assert flat(truths[0]) == pytest.approx(flat(truths[1]), rel=1e-9)


def chain_with(steps: int, *, odd_step: int | None = None, outsider_s: float | None = None) -> Scenario:
    """``two_to_one_chain`` on a star of three senders (DCQCN on), optionally with step ``odd_step`` twice
    the size of the others and a 2 MB flow from the third sender into the same receiver at ``outsider_s``."""
    flows = [shapes.ShapeFlow((f"h{h}", "eth0"), ("r0", "eth0"), 2.5e6 if k == odd_step else 1.25e6,
                              start_s=5e-5, group=f"s{k}", after=f"s{k - 1}" if k else "")
             for k in range(steps) for h in (0, 1)]
    if outsider_s is not None:
        flows.append(shapes.ShapeFlow(("h2", "eth0"), ("r0", "eth0"), 2e6, start_s=outsider_s, group="outsider"))
    knobs = shapes.ShapeKnobs(switch_port=lossless(), nic_port=lossless(), dcqcn=DCQCN_ON)
    return shapes.star(3, speed_gbps=100, knobs=knobs, flows=flows)


@pytest.mark.parametrize("case", [{}, {"odd_step": 40}, {"outsider_s": 7.3e-3}],
                         ids=["alike", "an-odd-step", "a-flow-joins"])
def test_alike_steps_of_a_chain_are_replayed_a_whole_step_at_a_time(case: dict[str, float]) -> None:
    """A chain's steps that start alike (same rows, same memo key) and wait on each other one by one replay
    the step before them whole, without an epoch each: counters and truth are those of the engine that runs
    every epoch (from the memo). A step unlike the others, and a flow outside the chain starting, end a run
    of replayed steps; the chain replays again once its steps are alike and alone."""
    frames, truths, epochs, replayed = [], [], [], []
    for whole_steps in (True, False):
        engine = EpochEngine(chain_with(100, **case), 2e-3)  # type: ignore[arg-type]
        if not whole_steps:
            engine._replay_steps = lambda left, splits, frame: (0, left)  # type: ignore[method-assign]
        run_epoch, apply_steps, counts = engine._epoch, engine._apply_steps, [0, 0]

        def one_epoch(*args: object, run: object = run_epoch, counts: list[int] = counts) -> None:
            counts[0] += 1
            run(*args)  # type: ignore[operator]

        def steps_at_once(rows: np.ndarray, *args: object, run: object = apply_steps,
                          counts: list[int] = counts) -> None:
            counts[1] += rows.shape[0]
            run(rows, *args)  # type: ignore[operator]

        engine._epoch, engine._apply_steps = one_epoch, steps_at_once  # type: ignore[method-assign]
        frames.append([engine.advance(2e-3) for _ in range(15)])
        truths.append(engine.truth())
        epochs.append(counts[0])
        replayed.append(counts[1])
        assert not np.isnan(engine.fl.done).any()  # the chain ran to its end either way
    assert replayed[0] > 60 and replayed[1] == 0
    assert epochs[0] < epochs[1] / 2
    for whole, one_by_one in zip(*frames, strict=True):
        for kind in ("queue", "prio", "port", "gauge"):
            for name, values in getattr(one_by_one, kind).items():
                assert getattr(whole, kind)[name] == pytest.approx(values, rel=1e-9, abs=1e-6), (kind, name)
    assert flat(truths[0]) == pytest.approx(flat(truths[1]), rel=1e-9)


def flat(tree: object, at: str = "") -> dict[str, float]:
    """A truth dict's numbers by their path (``collectives.cct_s.s3``); lists by position."""
    if isinstance(tree, dict):
        return {k: v for key, sub in tree.items() for k, v in flat(sub, f"{at}.{key}").items()}
    if isinstance(tree, list):
        return {k: v for i, sub in enumerate(tree) for k, v in flat(sub, f"{at}[{i}]").items()}
    return {at: float(tree)} if isinstance(tree, int | float) else {}


def test_changed_knobs_and_faults_are_not_replayed_from_the_memo() -> None:
    """ECN switched off (new port knobs) stops the marks from the next step on; a receiver slowed to a quarter
    stretches every step after it; a remembered epoch from before either change is not reused."""
    port = lossless()
    engine = EpochEngine(two_to_one_chain(400, port), 1e-3)
    marks = [engine.advance(1e-3).queue["q{}_ecn_marked_pkts"].sum() for _ in range(10)]
    assert min(marks) > 0
    engine.set_ports(two_to_one_chain(1, lossless(ecn={})))
    engine.advance(1e-3)
    assert engine.advance(1e-3).queue["q{}_ecn_marked_pkts"].sum() == 0
    fl = engine.fl
    running = int(np.flatnonzero(np.isnan(fl.done) & (fl.after < 0))[0] // 2)
    engine.set_slow_receiver(engine.sc.port_index("r0", "eth0"), 0.25)
    engine.advance(5e-3)
    step = {g: d - s for g, d, s in zip(fl.group, fl.done.tolist(), fl.start.tolist(), strict=True)}
    assert step[f"s{running - 2}"] == pytest.approx(2e-4, rel=1e-6)
    assert step[f"s{running + 2}"] == pytest.approx(4 * 2e-4, rel=1e-6)


def test_compaction_that_renumbers_paths_empties_the_memo() -> None:
    """Memo keys name paths by number; when compaction forgets finished flows' paths and renumbers the rest,
    a remembered epoch could be replayed for another path under an old number: the memo is emptied then,
    and a chain that runs on afterwards completes exactly as one that never replays."""
    hosts = [f"h{k}" for k in range(64)]
    mice = [shapes.ShapeFlow((a, "eth0"), (b, "eth0"), 1e3, group=f"m{i}")
            for i, (a, b) in enumerate((a, b) for a in hosts for b in hosts[:24] if a != b)]
    steps = [shapes.ShapeFlow((f"h{h}", "eth0"), ("h40", "eth0"), 1.25e6, start_s=2e-3, group=f"s{k}",
                              after=f"s{k - 1}" if k else "") for k in range(60) for h in (0, 1)]
    sc = shapes.leaf_spine(4, 4, 16, knobs=shapes.ShapeKnobs(switch_port=lossless(), nic_port=lossless()),
                           flows=[*mice, *steps])
    engines = [EpochEngine(sc, 1e-3), EpochEngine(sc, 1e-3)]
    never_replayed(engines[1])
    for engine in engines:
        engine.advance(5e-3)
        assert engine._memo or engine is engines[1]
        paths = engine.paths.size
        engine.compact()
        assert engine.paths.size < paths / 2  # the mice's paths are forgotten, the rest renumbered
        assert not engine._memo
        engine.advance(10e-3)
    done: list[dict[str, float]] = [{}, {}]
    for out, engine in zip(done, engines, strict=True):
        for group, at in zip(engine.completed.group, engine.completed.done_s, strict=True):
            out[group] = max(out.get(group, 0.0), at)
    steps_done = [[out[f"s{k}"] for k in range(60)] for out in done]
    assert steps_done[0] == pytest.approx(steps_done[1], rel=1e-9)


def test_a_settled_fabric_keeps_its_rates_when_the_epoch_length_changes() -> None:
    """The live twin lengthens epochs under load; a settled epoch repeated at the new length used to carry the
    old epoch's bytes (a 100G flow sent 50 Gb/s after 1 ms -> 2 ms)."""
    sc = shapes.star(1, speed_gbps=100, knobs=shapes.ShapeKnobs(switch_port=PortKnobs(), nic_port=PortKnobs()))
    engine = EpochEngine(sc, 1e-3)
    engine.advance(0.01)
    out = sc.port_index("sw", "Ethernet1")
    for epoch_s in (2e-3, 0.5e-3):
        engine.epoch_s = epoch_s
        frame = engine.advance(0.01)
        assert frame.queue["q{}_tx_bytes"][out].sum() == pytest.approx(12.5e9 * 0.01, rel=1e-9)


def test_compaction_forgets_old_groups_and_chains_still_release() -> None:
    """A ring names 2(N-1) groups per launch: compaction drops groups no row belongs to or waits for once
    they completed over a second ago (a long-running twin keeps a bounded table), and renumbers the rest."""
    port = PortKnobs()
    mice = [shapes.ShapeFlow(("h1", "eth0"), ("r0", "eth0"), 1e3, group=f"a{i}") for i in range(5000)]
    s0 = shapes.ShapeFlow(("h0", "eth0"), ("r0", "eth0"), 12.5e9 * 1.6 / 2, group="s0")  # half the link: 1.6 s
    s1 = shapes.ShapeFlow(("h0", "eth0"), ("r0", "eth0"), 1.25e6, group="s1", after="s0")
    hog = shapes.ShapeFlow(("h1", "eth0"), ("r0", "eth0"), 12.5e9 * 1.6 / 2, start_s=1e-3, group="hog")
    engine = EpochEngine(shapes.star(2, speed_gbps=100, flows=[*mice, s0, s1, hog],
                                     knobs=shapes.ShapeKnobs(switch_port=port, nic_port=port)), 1e-3)
    engine.advance(1.5)
    engine.compact()
    assert sorted(engine.group_names) == ["hog", "s0", "s1"]
    engine.advance(0.2)
    done = dict(zip(engine.fl.group, engine.fl.done.tolist(), strict=True))
    assert done["s1"] == pytest.approx(done["s0"] + 2 * 1.25e6 / 12.5e9, rel=1e-6)  # beside the hog: half the link


def test_a_step_that_cannot_send_does_not_cut_epochs() -> None:
    """A chain waiting on a step its receiver pauses forever (pfc-storm) hangs, as a real collective would;
    the engine must not keep cutting epochs at the step's line-rate completion guess while it does."""
    port = lossless()
    steps = [shapes.ShapeFlow(("h0", "eth0"), ("r0", "eth0"), 1.25e6, group=f"s{k}", after=f"s{k - 1}" if k else "")
             for k in range(3)]
    sc = shapes.star(1, speed_gbps=100, flows=steps, knobs=shapes.ShapeKnobs(switch_port=port, nic_port=port))
    engine = EpochEngine(sc, 1e-3)
    engine.set_pfc_storm(sc.port_index("r0", "eth0"))
    engine.advance(0.02)
    # s0 goes out in the first epoch (the pause takes hold from the next); s1 is stuck behind the storm
    assert np.isnan(engine.fl.done[1]) and engine.fl.delivered[1] < 1.25e6 / 10
    assert engine.epochs <= 25  # one per 1 ms epoch (+ a cut at s0's end, one at s1's first guess), not 200


def test_truth_lists_collectives_in_completion_order() -> None:
    """``cct_s`` and ``launches`` keep the most recent last (the CLI prints the last 10), whatever the names."""
    port = PortKnobs()
    flows = [shapes.ShapeFlow(("h0", "eth0"), ("r0", "eth0"), 1.25e6, start_s=k * 1e-3, group=name)
             for k, name in enumerate(["zz@0.000000/s0", "zz@0.000000/s1", "aa@0.002000"])]
    engine = EpochEngine(shapes.star(1, speed_gbps=100, flows=flows,
                                     knobs=shapes.ShapeKnobs(switch_port=port, nic_port=port)), 1e-3)
    engine.advance(0.004)
    collectives = engine.truth()["collectives"]
    assert list(collectives["cct_s"]) == ["zz@0.000000/s0", "zz@0.000000/s1", "aa@0.002000"]
    assert list(collectives["launches"]["time_s"]) == ["zz@0.000000", "aa@0.002000"]
    assert collectives["launches"]["time_s"]["zz@0.000000"] == pytest.approx(1e-3 + 1.25e6 / 12.5e9)
