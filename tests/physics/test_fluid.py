"""Tier F (fabric.lab.physics.fluid): conservation, the reaction point's stages, and the directions DESIGN §6
promises (lower Kmin marks more and queues less; lower XOFF pauses more; short headroom drops lossless
traffic; a PFC storm spreads upstream until a watchdog stops it; a mis-mapped DSCP drops in the lossy class).

Each direction test runs the same small shape twice with one knob changed and compares counters from the
engine's CounterFrames (the names the twin's devices serve)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fabric.lab.physics.fluid import FluidEngine
from fabric.lab.physics.fluid_state import DcqcnArrays
from fabric.lab.physics.knobs import DcqcnKnobs, EcnKnobs, PortKnobs, WatchdogKnobs
from fabric.lab.physics.scenario import CounterFrame, Scenario
from fabric.lab.physics.shapes import (
    ShapeFlow,
    ShapeKnobs,
    conext_star,
    headroom_need_bytes,
    leaf_spine,
    star,
)

LOSSLESS = frozenset({3})
NIC_DCQCN = DcqcnKnobs(np_enabled_priorities=LOSSLESS, rp_enabled_priorities=LOSSLESS)


def run(scen: Scenario, seconds: float, frame_s: float = 1e-4, engine: FluidEngine | None = None
        ) -> list[CounterFrame]:
    engine = engine or FluidEngine(scen)
    return [engine.advance(frame_s) for _ in range(round(seconds / frame_s))]


def total(frames: list[CounterFrame], kind: str, name: str) -> np.ndarray:
    return sum((getattr(f, kind)[name] for f in frames), start=np.zeros_like(getattr(frames[0], kind)[name]))


def bursts(n: int, size: float, period_s: float, count: int) -> list[ShapeFlow]:
    return [ShapeFlow((f"h{i}", "eth0"), ("r0", "eth0"), size, start_s=b * period_s)
            for b in range(count) for i in range(n)]


def test_a_lone_flow_is_delivered_whole_at_line_rate() -> None:
    scen = star(1, speed_gbps=100, flow_bytes=1e6)
    engine = FluidEngine(scen)
    frames = run(scen, 2e-4, engine=engine)
    truth = engine.truth()
    assert truth["done"].all() and truth["delivered_bytes"][0] == pytest.approx(1e6)
    assert truth["completion_s"][0] == pytest.approx(1e6 / 12.5e9, abs=4e-6)  # + 2 link delays, 1 us steps
    nic, sw_out = scen.port_index("h0", "eth0"), int(scen.hop_port[1])
    assert total(frames, "port", "tx_octets")[nic] == pytest.approx(1e6)
    assert total(frames, "queue", "q{}_tx_bytes")[sw_out, 3] == pytest.approx(1e6)
    assert total(frames, "port", "rx_octets")[scen.port_index("r0", "eth0")] == pytest.approx(1e6)


def test_incast_conserves_bytes_and_splits_the_link() -> None:
    scen = star(4, speed_gbps=100, flow_bytes=2e6)
    engine = FluidEngine(scen)
    run(scen, 1e-3, engine=engine)
    truth = engine.truth()
    assert truth["done"].all()
    assert truth["delivered_bytes"] == pytest.approx(np.full(4, 2e6))
    assert truth["completion_s"].max() == pytest.approx(8e6 / 12.5e9, rel=0.02)  # lossy, no drops: 32 MB buffer


def test_reaction_point_stages_fast_recovery_then_additive() -> None:
    """After a cut, the first F = rpg_threshold timer expiries are fast recovery (RT fixed), then additive."""
    scen = star(1, knobs=ShapeKnobs(dcqcn=DcqcnKnobs(rpg_threshold=2, rpg_byte_reset=10**12,
                                                     rpg_time_reset_us=10.0, rpg_ai_rate_mbps=80.0)))
    rp = DcqcnArrays(scen, np.array([3]))
    rp.rc[:] = rp.rt[:] = 1e9  # below line rate, so increases are not capped
    sent = np.zeros(1)
    rp.react(0.0, np.array([True]), sent, True)
    rt_after_cut = rp.rt[0]
    assert rp.rc[0] == pytest.approx(rt_after_cut / 2)  # alpha = 1: RC halves
    rts = []
    for step in range(1, 31):
        rp.react(step * 1e-6, np.array([False]), sent, False)
        rts.append(rp.rt[0])
    assert rts[19] == rt_after_cut  # two expiries (10, 20 us): fast recovery only
    assert rts[29] == pytest.approx(rt_after_cut + 80e6 / 8)  # third (30 us): additive increase


def test_lower_kmin_marks_more_and_queues_less() -> None:
    """CoNEXT dumbbell, N = 10 at 40G, 20 ms from line rate: same traffic, Kmin 200 KB vs 5 KB."""
    results = {}
    for kmin in (200_000, 5_000):
        scen = conext_star(10, kmin_bytes=kmin, kmax_bytes=2_000_000, pmax=0.1)
        port = int(scen.hop_port[scen.hop_ingress >= 0][0])
        frames = run(scen, 0.02)[100:]
        marks = total(frames, "queue", "q{}_ecn_marked_pkts")[port, 3]
        results[kmin] = marks, np.mean([f.gauge["q{}_occupancy_bytes"][port, 3] for f in frames])
    assert results[5_000][0] > 1.1 * results[200_000][0]
    assert results[5_000][1] < 0.7 * results[200_000][1]


def test_lower_xoff_sends_more_pause_frames() -> None:
    """8 -> 1 bursts of 128 KB every 0.5 ms at 100G with ECN + DCQCN; static XOFF 100 KB vs 40 KB."""
    frames_by_xoff = {}
    for xoff in (100_000, 40_000):
        knobs = ShapeKnobs(switch_port=PortKnobs(ecn={3: EcnKnobs(100_000, 1_600_000, 0.2)}, pfc_priorities=LOSSLESS,
                                                 xoff_bytes=xoff, headroom_bytes=200_000),
                           nic_port=PortKnobs(pfc_priorities=LOSSLESS), dcqcn=NIC_DCQCN)
        scen = star(8, speed_gbps=100, knobs=knobs, flows=bursts(8, 128_000, 5e-4, 12))
        frames = run(scen, 0.006)
        frames_by_xoff[xoff] = total(frames, "prio", "tx_pfc{}_frames")[:, 3].sum()
        assert total(frames, "port", "rx_discards").sum() == 0.0
    assert frames_by_xoff[100_000] > 0
    assert frames_by_xoff[40_000] > 2 * frames_by_xoff[100_000]


@pytest.mark.parametrize(("fraction", "drops"), [(0.3, True), (1.5, False)])
def test_headroom_below_the_cables_need_drops_lossless_traffic(fraction: float, drops: bool) -> None:
    """300 m cables at 100G need ~68 KB of headroom (2 C d + 2 MTU + C x 1 us); 4 -> 1 at line rate, no ECN."""
    need = headroom_need_bytes(100, 300.0, 9100)
    lossless = PortKnobs(pfc_priorities=LOSSLESS, xoff_bytes=100_000, headroom_bytes=int(need * fraction))
    scen = star(4, speed_gbps=100, cable_m=300.0, knobs=ShapeKnobs(switch_port=lossless, nic_port=lossless))
    frames = run(scen, 0.003)
    dropped = total(frames, "queue", "q{}_drop_bytes")[:, 3].sum()
    assert bool(dropped > 0) is drops
    assert bool(total(frames, "port", "rx_discards").sum() > 0) is drops
    assert total(frames, "port", "tx_discards").sum() == 0.0  # a lossless PG discards at the ingress
    assert total(frames, "prio", "tx_pfc{}_frames")[:, 3].sum() > 0


def storm_run(watchdog: WatchdogKnobs | None) -> tuple[Scenario, list[CounterFrame], FluidEngine]:
    """h0 -> h2 across leaf0 - spine0 - leaf1 while h2's NIC asserts pause forever (10 ms, 1 ms frames)."""
    lossless = PortKnobs(pfc_priorities=LOSSLESS, xoff_bytes=100_000, headroom_bytes=100_000)
    knobs = ShapeKnobs(switch_port=PortKnobs(pfc_priorities=LOSSLESS, xoff_bytes=100_000, headroom_bytes=100_000,
                                             watchdog=watchdog), nic_port=lossless)
    scen = leaf_spine(2, 1, 2, knobs=knobs, flows=[ShapeFlow(("h0", "eth0"), ("h2", "eth0"))])
    engine = FluidEngine(scen)
    engine.set_pfc_storm(scen.port_index("h2", "eth0"))
    return scen, run(scen, 0.01, frame_s=1e-3, engine=engine), engine


def test_pfc_storm_spreads_upstream_and_a_watchdog_stops_it() -> None:
    def pause_us(scen: Scenario, frames: list[CounterFrame], device: str, towards: str) -> float:
        """Pause time asserted by ``device``'s ingress from ``towards`` after the first 3 ms."""
        ports = [p for p in range(scen.n_ports) if scen.device[p] == device
                 and scen.device[int(scen.peer[p])] == towards]
        return float(total(frames[3:], "prio", "tx_pfc{}_pause_us")[ports, 3].sum())

    scen, frames, _ = storm_run(None)
    assert pause_us(scen, frames, "h2", "leaf1") == pytest.approx(7000)  # the storming NIC
    assert pause_us(scen, frames, "leaf1", "spine0") == pytest.approx(7000)  # 1 hop upstream
    assert pause_us(scen, frames, "spine0", "leaf0") == pytest.approx(7000)  # 2 hops
    assert pause_us(scen, frames, "leaf0", "h0") > 6000  # and on to the sender
    assert total(frames, "port", "pfcwd_storm_detected").sum() == 0

    scen, frames, engine = storm_run(WatchdogKnobs(detect_ms=1, restore_ms=5))
    leaf1_down = scen.port_index("leaf1", scen.interface[int(scen.peer[scen.port_index("h2", "eth0")])])
    assert total(frames, "port", "pfcwd_storm_detected")[leaf1_down] == 1
    assert pause_us(scen, frames, "h2", "leaf1") == pytest.approx(7000)  # the NIC still storms...
    assert pause_us(scen, frames, "leaf1", "spine0") == 0.0  # ...but nothing spreads past leaf1
    assert pause_us(scen, frames, "spine0", "leaf0") == 0.0
    assert total(frames, "queue", "q{}_drop_bytes")[leaf1_down, 3] > 0  # the watchdog drops instead
    assert total(frames, "port", "tx_discards")[leaf1_down] > 0
    engine.set_pfc_storm(scen.port_index("h2", "eth0"), on=False)  # the NIC recovers: 5 ms later PFC is back
    delivered = engine.truth()["delivered_bytes"][0]
    after = run(scen, 0.006, frame_s=1e-3, engine=engine)
    assert total(after, "port", "pfcwd_storm_restored")[leaf1_down] == 1
    assert engine.truth()["delivered_bytes"][0] > delivered


def test_dscp_mismapping_drops_in_the_lossy_class_only() -> None:
    """Two senders use DSCP 26 (TC 3, lossless), two use DSCP 24 which the switch maps to TC 0 (lossy);
    4 -> 1 at line rate with no ECN: the lossy queue tail-drops, the lossless one pauses and drops nothing."""
    mapping = {dscp: dscp >> 3 for dscp in range(64)} | {24: 0}
    lossless = PortKnobs(pfc_priorities=LOSSLESS, xoff_bytes=100_000, headroom_bytes=100_000)
    knobs = ShapeKnobs(switch_port=lossless, nic_port=lossless, buffer_bytes=4 * 1024 * 1024, dscp_to_tc=mapping)
    flows = [ShapeFlow((f"h{i}", "eth0"), ("r0", "eth0"), math.inf, dscp=26 if i < 2 else 24) for i in range(4)]
    scen = star(4, speed_gbps=100, knobs=knobs, flows=flows)
    frames = run(scen, 0.004)
    out = int(scen.hop_port[scen.hop_ingress >= 0][0])
    drops = total(frames, "queue", "q{}_drop_bytes")
    assert drops[out, 0] > 0
    assert drops[:, 3].sum() == 0.0
    # a tail drop is the egress port's discard, in packets as tier E counts it; no ingress discards
    assert total(frames, "port", "tx_discards") == pytest.approx(total(frames, "queue", "q{}_drop_pkts").sum(axis=1))
    assert total(frames, "port", "rx_discards").sum() == 0.0
    assert total(frames, "prio", "tx_pfc{}_frames")[:, 3].sum() > 0
    assert total(frames, "queue", "q{}_tx_bytes")[out, 3] > 0


def test_a_slow_receiver_pauses_its_leaf_and_drains_at_a_quarter() -> None:
    """One 100G flow into a NIC draining at 25 %: the NIC's ingress pauses the leaf port feeding it, nothing
    is dropped, and goodput settles at 25 Gb/s."""
    lossless = PortKnobs(pfc_priorities=LOSSLESS, xoff_bytes=100_000, headroom_bytes=100_000)
    scen = star(1, speed_gbps=100, knobs=ShapeKnobs(switch_port=lossless, nic_port=lossless))
    engine = FluidEngine(scen)
    receiver = scen.port_index("r0", "eth0")
    engine.set_slow_receiver(receiver)
    run(scen, 0.001, engine=engine)
    before = engine.truth()["delivered_bytes"][0]
    frames = run(scen, 0.002, engine=engine)
    assert (engine.truth()["delivered_bytes"][0] - before) / 0.002 == pytest.approx(12.5e9 / 4, rel=0.02)
    assert total(frames, "prio", "tx_pfc{}_pause_us")[receiver, 3] > 1000  # the NIC pauses...
    assert total(frames, "prio", "rx_pfc{}_pause_us")[int(scen.peer[receiver]), 3] > 1000  # ...its leaf port
    assert total(frames, "port", "rx_discards").sum() == 0.0


def test_unequal_cables_delay_bytes_pauses_and_cnps_per_link() -> None:
    """Cables of 2 m and 2 km (10 us) in one fabric: per-hop delay rings and per-flow CNP delays still
    deliver every byte, and the far sender's first byte reaches the switch 10 us after it left."""
    knobs = ShapeKnobs(switch_port=PortKnobs(ecn={3: EcnKnobs(50_000, 400_000, 0.2)}, pfc_priorities=LOSSLESS,
                                             xoff_bytes=100_000, headroom_bytes=400_000),
                       nic_port=PortKnobs(pfc_priorities=LOSSLESS), dcqcn=NIC_DCQCN)
    scen = star(4, speed_gbps=100, knobs=knobs, flow_bytes=2e6)
    far = scen.port_index("h0", "eth0")
    scen.delay_s[[far, int(scen.peer[far])]] = 10e-6
    engine = FluidEngine(scen)
    assert engine.lay.hop_delay_same is None and engine.lay.cnp_delay_same is None
    first = run(scen, 8e-6, frame_s=8e-6, engine=engine)[0]
    arrived = total([first], "prio", "rx_pg{}_bytes")[:, 3]
    assert arrived[int(scen.peer[far])] == 0.0  # the far sender's bytes are still on the cable
    assert arrived[int(scen.peer[scen.port_index("h1", "eth0")])] > 0
    frames = run(scen, 3e-3, engine=engine)
    truth = engine.truth()
    assert truth["done"].all() and truth["delivered_bytes"] == pytest.approx(np.full(4, 2e6))
    assert total(frames, "port", "rp_cnp_handled").sum() > 0


def test_a_smaller_dynamic_alpha_pauses_at_a_lower_occupancy() -> None:
    """Dynamic XOFF = alpha x free shared buffer (4 MB): 4 -> 1 at line rate settles each ingress where
    x = alpha (B - 4x), so the egress queue holds ~1.3 MB at alpha 1/8 and ~3.2 MB at alpha 1, lossless."""
    peaks = {}
    for alpha in (0.125, 1.0):
        port = PortKnobs(pfc_priorities=LOSSLESS, dynamic_alpha=alpha, headroom_bytes=200_000)
        knobs = ShapeKnobs(switch_port=port, nic_port=PortKnobs(pfc_priorities=LOSSLESS), buffer_bytes=4_000_000)
        scen = star(4, speed_gbps=100, knobs=knobs)
        frames = run(scen, 0.002)
        out = int(scen.hop_port[scen.hop_ingress >= 0][0])
        peaks[alpha] = frames[-1].gauge["q{}_occupancy_bytes"][out, 3]
        assert total(frames, "port", "rx_discards").sum() == 0.0
        assert total(frames, "prio", "tx_pfc{}_frames")[:, 3].sum() > 0
    assert peaks[0.125] == pytest.approx(4 * 4e6 / 12, rel=0.15)
    assert peaks[1.0] == pytest.approx(4 * 4e6 / 5, rel=0.15)


def test_a_chained_step_starts_when_the_step_before_is_done_in_both_tiers() -> None:
    """``flow_after``: four 1.25 MB steps from h0 (0.1 ms each at 100G), the second beside a 1.25 MB flow from
    h1 into the same receiver. Tier F starts each step when the last byte of the one before is delivered; tier
    E when its rates say so; both agree on every step's completion within 5 % (path delays are ~10 ns here)."""
    from fabric.lab.physics.epoch import EpochEngine

    steps = [ShapeFlow(("h0", "eth0"), ("r0", "eth0"), 1.25e6, group=f"s{k}", after=f"s{k - 1}" if k else "")
             for k in range(4)]
    hog = ShapeFlow(("h1", "eth0"), ("r0", "eth0"), 1.25e6, start_s=0.1e-3, group="hog")
    scen = star(2, speed_gbps=100, flows=[*steps, hog], knobs=ShapeKnobs(switch_port=PortKnobs(), nic_port=PortKnobs()))
    fluid = FluidEngine(scen)
    fluid.advance(1e-3)
    f_done = fluid.truth()["completion_s"]
    epoch = EpochEngine(scen, 1e-3)
    epoch.advance(1e-3)
    e_done = epoch.fl.done
    line = 1.25e6 / 12.5e9
    assert f_done[0] == pytest.approx(line, rel=0.02)
    assert f_done[1] == pytest.approx(f_done[0] + 2 * line, rel=0.05)  # half the link for two steps' time
    assert f_done[3] == pytest.approx(f_done[2] + line, rel=0.02)
    assert np.allclose(e_done[:4], f_done[:4], rtol=0.05), (e_done, f_done)


def test_a_chained_step_reacts_like_a_flow_that_starts_then() -> None:
    """A step released by ``flow_after`` gets a fresh reaction point: 2:1 onto r0 after a 1 ms step elsewhere,
    the same queue as the two flows simply starting at that time. Its DCQCN state used to date from the launch,
    so alpha had decayed while it waited and its cuts barely cut (peak 1.14 vs 0.42 MB)."""
    port = PortKnobs(pfc_priorities=LOSSLESS, ecn={3: EcnKnobs(100_000, 400_000, 0.2)}, headroom_bytes=200_000)
    knobs = ShapeKnobs(switch_port=port, nic_port=port, dcqcn=NIC_DCQCN)

    def peak(flows: list[ShapeFlow]) -> tuple[float, FluidEngine]:
        scen = star(3, n_receivers=2, speed_gbps=100, flows=flows, knobs=knobs)
        engine = FluidEngine(scen)
        out = scen.port_index("sw", "Ethernet3")  # towards r0
        return max(float(engine.advance(10e-6).gauge["q{}_occupancy_bytes"][out, 3]) for _ in range(250)), engine

    first = ShapeFlow(("h2", "eth0"), ("r1", "eth0"), 12.5e6, group="s0")
    step = [ShapeFlow((f"h{i}", "eth0"), ("r0", "eth0"), 2.5e6, group="s1", after="s0") for i in range(2)]
    chained, engine = peak([first, *step])
    released = float(engine.truth()["completion_s"][0])
    assert 0.9e-3 < released < 1.2e-3
    fresh, _ = peak([first] + [ShapeFlow(f.src, f.dst, f.bytes, start_s=released, group="s1") for f in step])
    assert fresh > 100_000 and chained == pytest.approx(fresh, rel=0.1)


def test_a_flow_next_to_a_long_one_is_done_when_its_last_byte_is_out_fifo() -> None:
    """A long DCQCN flow runs at line rate into one receiver; a 200 KB flow from another NIC joins it at line
    rate, so the switch port queues its bytes among the long flow's, and the long flow, barely cut, keeps that
    queue full. A switch serves it first in, first out: the short flow's last packet leaves once the bytes
    ahead of it have (its own and as many of the long flow's: ~2 x 200 KB at 100G). The fluid queues serve
    each flow in proportion to what it holds, so its last bytes trickled out behind the long flow's refills
    for 20 time constants of the queue (it was "done" after ~320 us); now its last byte is followed through
    the queues it crosses."""
    port = PortKnobs(pfc_priorities=LOSSLESS, ecn={3: EcnKnobs(100_000, 400_000, 0.2)}, headroom_bytes=200_000)
    flows = [ShapeFlow(("h0", "eth0"), ("r0", "eth0"), math.inf),
             ShapeFlow(("h1", "eth0"), ("r0", "eth0"), 200e3, start_s=3e-3)]
    scen = star(2, speed_gbps=100, flows=flows, knobs=ShapeKnobs(switch_port=port, nic_port=port, dcqcn=NIC_DCQCN))
    engine = FluidEngine(scen)
    run(scen, 4e-3, engine=engine)
    took = engine.truth()["completion_s"][1] - 3e-3
    assert 200e3 / 12.5e9 < took <= 2 * 200e3 / 12.5e9 + 10e-6, took


def test_a_flow_that_must_resend_dropped_bytes_is_not_done_before_it_has() -> None:
    """Seven 2 MB flows overflow a lossy queue with a 1 MB shared buffer; a 200 KB flow posts all of its bytes
    into it 100 us later and some are dropped. Dropped bytes are resent, so its last byte is the last resent
    one: no flow may be done with bytes it has not sent again."""
    flows = [ShapeFlow((f"h{i}", "eth0"), ("r0", "eth0"), 2e6) for i in range(7)]
    flows.append(ShapeFlow(("h7", "eth0"), ("r0", "eth0"), 200e3, start_s=1e-4))
    scen = star(8, speed_gbps=100, flows=flows, knobs=ShapeKnobs(buffer_bytes=1_000_000))
    engine = FluidEngine(scen)
    frames = run(scen, 0.004, engine=engine)
    assert total(frames, "queue", "q{}_drop_bytes").sum() > 0
    truth = engine.truth()
    assert truth["done"].all()
    assert np.all(engine.remaining <= 0), engine.remaining
