"""Tier E within a stated tolerance of tier F on small shapes (issue 4 gate; reference §A.3 "calibrated from
tier F"). Both engines run the same Scenario; tier F's queue p99 and mean come from its occupancy sampled every
20 us.

In-sample (the dumbbells and the 16:1 incast that ``RESPONSE`` / ``REACTION_SCALE`` in meanfield.py were fitted
on; they check the fit and guard it against later engine changes), relative tolerances: throughput 5 %, queue
p99 and mean 25 %, marked fraction 25 %, pause duration 10 %, incast watermark 25 %.

Out-of-sample (4 flows at 100 Gb/s with a 100 KB..400 KB / 20 % ECN profile, an 8:1 x 1 MB incast): throughput
5 % and incast watermark 25 % hold; the steady queue distribution and the mark fraction only within a factor
of 3 (measured: mean 105 vs 63 KB, p99 110 vs 187 KB, marks 1.5 vs 0.6 %; incast marks 48 vs 72 %). Tier F's
queue swings well below Kmin there, which a fixed-point-plus-ratios surface fitted at one operating point
does not capture: the honest limit of tier E's steady-state numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pytest

from fabric.inventory.models import Fabric
from fabric.lab.physics import shapes
from fabric.lab.physics.epoch import EpochEngine
from fabric.lab.physics.fluid import FluidEngine
from fabric.lab.physics.knobs import DcqcnKnobs, EcnKnobs, PortKnobs
from fabric.lab.physics.scenario import CounterFrame, Scenario
from fabric.lab.physics.topology import FlowLike

ON = DcqcnKnobs(np_enabled_priorities=frozenset({3}), rp_enabled_priorities=frozenset({3}))
SAMPLE_S = 20e-6


@dataclass
class Measured:
    gbps: float
    marked: float
    p99: float
    mean: float
    watermark: float
    pause_us: float


def measure(engine: EpochEngine | FluidEngine, out: int, warm_s: float, sim_s: float) -> Measured:
    engine.advance(warm_s)
    if isinstance(engine, EpochEngine):
        frames = [engine.advance(sim_s)]
        occupancy = [frames[0].gauge["q{}_occupancy_bytes"][out, 3]]
        p99 = frames[0].gauge["q{}_watermark_bytes"][out, 3]  # tier E's watermark is its p99 (or burst peak)
    else:
        frames = [engine.advance(SAMPLE_S) for _ in range(round(sim_s / SAMPLE_S))]
        occupancy = [f.gauge["q{}_occupancy_bytes"][out, 3] for f in frames]
        p99 = float(np.percentile(occupancy, 99))
    tx = sum(f.queue["q{}_tx_bytes"][out, 3] for f in frames)
    pkts = sum(f.queue["q{}_tx_pkts"][out, 3] for f in frames)
    marked = sum(f.queue["q{}_ecn_marked_pkts"][out, 3] for f in frames)
    return Measured(tx * 8 / sim_s / 1e9, marked / max(pkts, 1.0), p99, float(np.mean(occupancy)),
                    max(f.gauge["q{}_watermark_bytes"][out, 3] for f in frames),
                    sum(f.prio["tx_pfc{}_pause_us"][:, 3].sum() for f in frames))


def both(sc: Scenario, out: int, warm_s: float, sim_s: float) -> tuple[Measured, Measured]:
    return (measure(EpochEngine(sc, 1e-3), out, warm_s, sim_s), measure(FluidEngine(sc, 1e-6), out, warm_s, sim_s))


def close(e: float, f: float, rel: float) -> bool:
    """Within ``rel`` (a fraction), or within a factor of ``rel`` when ``rel`` > 1."""
    if rel > 1:
        return f / rel <= e <= f * rel
    return abs(e - f) <= rel * max(abs(f), 1e-12)


def dumbbell(n: int, speed: int, ecn: EcnKnobs) -> Scenario:
    port = PortKnobs(mtu=1000, speed_gbps=speed, pfc_priorities=frozenset({3}), xoff_bytes=400_000,
                     headroom_bytes=200_000, ecn={3: ecn})
    return shapes.star(n, speed_gbps=speed, knobs=shapes.ShapeKnobs(switch_port=port, nic_port=port, dcqcn=ON))


@pytest.mark.parametrize(("n", "speed", "ecn", "tol"), [
    (2, 40, EcnKnobs(5_000, 200_000, 0.01), 0.25),  # in-sample
    (10, 40, EcnKnobs(5_000, 200_000, 0.01), 0.25),  # in-sample
    (4, 100, EcnKnobs(100_000, 400_000, 0.2), 3.0),  # out-of-sample: within a factor of 3
])
def test_long_flows_throughput_queue_and_marks(n: int, speed: int, ecn: EcnKnobs, tol: float) -> None:
    sc = dumbbell(n, speed, ecn)
    e, f = both(sc, sc.port_index("sw", f"Ethernet{n}"), 0.01, 0.01)
    assert close(e.gbps, f.gbps, 0.05), (e, f)
    assert close(e.p99, f.p99, tol), (e, f)
    assert close(e.mean, f.mean, tol), (e, f)
    assert close(e.marked, f.marked, tol), (e, f)


def incast(n: int, size: float, ecn: dict[int, EcnKnobs], xoff: int, dcqcn: DcqcnKnobs) -> Scenario:
    port = PortKnobs(mtu=1000, speed_gbps=100, pfc_priorities=frozenset({3}), xoff_bytes=xoff,
                     headroom_bytes=200_000, ecn=ecn)
    flows = [shapes.ShapeFlow((f"h{i}", "eth0"), ("r0", "eth0"), size, start_s=k * 5e-3)
             for k in range(4) for i in range(n)]
    return shapes.star(n, speed_gbps=100, flows=flows,
                       knobs=shapes.ShapeKnobs(switch_port=port, nic_port=port, dcqcn=dcqcn))


def test_incast_on_pfc_alone_pause_duration_and_peak() -> None:  # in-sample (nothing fitted: pure mechanics)
    sc = incast(16, 500e3, {}, 100_000, DcqcnKnobs())
    e, f = both(sc, sc.port_index("sw", "Ethernet16"), 0.0, 0.02)
    assert close(e.gbps, f.gbps, 0.05) and close(e.pause_us, f.pause_us, 0.10), (e, f)
    assert close(e.watermark, f.watermark, 0.25), (e, f)


@pytest.mark.parametrize(("n", "size", "tol"), [(16, 500e3, 0.25), (8, 1e6, 3.0)])  # in-sample, out-of-sample
def test_incast_under_dcqcn_peak_and_marks(n: int, size: float, tol: float) -> None:
    sc = incast(n, size, {3: EcnKnobs(100_000, 400_000, 0.2)}, 1_000_000, ON)
    e, f = both(sc, sc.port_index("sw", f"Ethernet{n}"), 0.0, 0.02)
    assert close(e.gbps, f.gbps, 0.05), (e, f)
    assert close(e.watermark, f.watermark, 0.25), (e, f)
    assert close(e.marked, f.marked, tol), (e, f)


def test_open_loop_arrivals_marks_and_queue_follow_kmin_as_in_tier_f() -> None:
    """Out-of-sample: Poisson arrivals of 200 KB flows at 60 % of 100 Gb/s (the open-loop mixes' regime), Kmin
    20 vs 300 KB (Kmax = Kmin + 300 KB, 20 %). Throughput within 5 %; both tiers mark more and queue less with
    the lower Kmin; marks within a factor of 3 of tier F (measured: 6.5 vs 6.9 % and 0.96 vs 2.5 %), mean queue
    within a factor of 3 (113 vs 48 KB, 155 vs 83 KB: tier E's depth is an M/G/1 mean, tier F's is a trace)."""
    from tests.physics.test_epoch import open_loop, open_loop_star

    flows = open_loop(0.6, 200e3)
    runs = {}
    for kmin in (20_000, 300_000):
        sc, out = open_loop_star(flows, kmin)
        runs[kmin] = both(sc, out, 0.005, 0.02)
    for e, f in runs.values():
        assert close(e.gbps, f.gbps, 0.05), (e, f)
        assert close(e.marked, f.marked, 3.0), (e, f)
        assert close(e.mean, f.mean, 3.0), (e, f)
    (e_low, f_low), (e_high, f_high) = runs[20_000], runs[300_000]
    assert e_low.marked > e_high.marked and f_low.marked > f_high.marked
    assert e_low.mean < e_high.mean and f_low.mean < f_high.mean


def lab_roce_lossless(flows: Callable[[Fabric], Sequence[FlowLike]]) -> Scenario:
    """lab-roce with every port lossless on priority 3, ECN 100..400 KB / 20 % and DCQCN on every NIC, carrying
    ``flows(fabric)``."""
    from fabric.intent.check import validate_inventory
    from fabric.lab.physics.knobs import DeviceKnobs
    from fabric.lab.physics.topology import Network, scenario
    from tests.conftest import INVENTORIES

    fabric = validate_inventory(str(INVENTORIES / "lab-roce")).fabric
    assert fabric is not None
    port = PortKnobs(pfc_priorities=frozenset({3}), ecn={3: EcnKnobs(100_000, 400_000, 0.2)}, headroom_bytes=200_000)
    knobs = {d: DeviceKnobs(device=d, trust="dscp", ports=dict.fromkeys(fabric.devices[d].interfaces, port),
                            dcqcn=ON) for d in fabric.devices}
    return scenario(Network.from_fabric(fabric), knobs, flows(fabric))


def test_one_flow_from_a_faster_link_builds_a_queue_in_both_tiers() -> None:
    """lab-roce: one 8 MB flow from a 400G NIC (gpu09, leaf3) to a 100G NIC (gpu13, leaf4) queues at the
    spine's 100G port until DCQCN cuts it (tier F: peak 730 KB). Tier E counted a burst only when two or more
    flows started together, so this one showed no queue; now its peak is within 1.5x of tier F's."""
    sc = lab_roce_lossless(lambda _: [shapes.ShapeFlow(("gpu09", "ens1np0"), ("gpu13", "ens1np0"), 8e6)])
    fluid = FluidEngine(sc)
    f_peak = np.max([fluid.advance(SAMPLE_S).gauge["q{}_occupancy_bytes"] for _ in range(200)], axis=0)
    epoch = EpochEngine(sc, 1e-3)
    e_peak = np.max([epoch.advance(1e-3).gauge["q{}_watermark_bytes"] for _ in range(4)], axis=0)
    hot = int(np.argmax(f_peak.max(axis=1)))
    assert (sc.device[hot], sc.capacity[hot] * 8 / 1e9) == ("spine2", 100.0)
    assert f_peak[hot, 3] > 400_000  # past Kmax: the mismatch queues before DCQCN reacts
    assert f_peak[hot, 3] / 1.5 <= e_peak[hot, 3] <= f_peak[hot, 3] * 1.5, (e_peak[hot, 3], f_peak[hot, 3])


def test_two_to_one_without_congestion_control_holds_its_pause_every_epoch() -> None:
    """Two long 100G flows onto one 100G port, lossless, DCQCN off: PFC holds each sender at half its line
    and the port's queue between XON and XOFF. Tier F pauses each ingress half of every millisecond (1,000 us
    summed). Tier E paused one epoch and not the next: the pause halved the senders' queues, which then
    counted as the bottleneck, so the port saw no excess and the pause lapsed (0 / 1,000 us in turn). A queue
    full only because its peer pauses it is no bottleneck while something beyond it is saturated."""
    from tests.physics.test_epoch import lossless

    port = lossless()
    flows = [shapes.ShapeFlow((f"h{h}", "eth0"), ("r0", "eth0"), 1e12) for h in (0, 1)]
    sc = shapes.star(2, speed_gbps=100, knobs=shapes.ShapeKnobs(switch_port=port, nic_port=port), flows=flows)
    fluid, epoch = FluidEngine(sc), EpochEngine(sc, 1e-3)
    out = sc.port_index("sw", "Ethernet2")
    for k in range(6):
        f, e = fluid.advance(1e-3), epoch.advance(1e-3)
        f_pause, e_pause = f.prio["tx_pfc{}_pause_us"].sum(), e.prio["tx_pfc{}_pause_us"].sum()
        assert f_pause == pytest.approx(1000, rel=0.1 if k == 0 else 0.05)  # the first ms: the queue fills
        assert e_pause == pytest.approx(f_pause, rel=0.12), k  # the first: 2,904 us (the start a burst on top)
        if k:
            assert e.gauge["q{}_occupancy_bytes"][out, 3] == pytest.approx(f.gauge["q{}_occupancy_bytes"][out, 3],
                                                                           rel=0.1)


def test_chained_two_to_one_steps_pause_as_in_tier_f() -> None:
    """Collective steps of two senders x 1.25 MB onto one 100G port, one after the other, DCQCN off: each
    step starts as a burst and then holds the port's ingresses between XON and XOFF. Tier F pauses ~510 us per
    ms; tier E added the bursts' pause to the steady excess's (1,000-1,040 us)."""
    from tests.physics.test_epoch import lossless, two_to_one_chain

    sc = two_to_one_chain(40, lossless(), size=1.234567e6)
    fluid, epoch = FluidEngine(sc), EpochEngine(sc, 1e-3)
    f = [fluid.advance(1e-3) for _ in range(5)]
    e = [epoch.advance(1e-3) for _ in range(5)]
    f_pause = sum(x.prio["tx_pfc{}_pause_us"].sum() for x in f)
    e_pause = sum(x.prio["tx_pfc{}_pause_us"].sum() for x in e)
    assert 2000 < f_pause < 3000
    assert e_pause == pytest.approx(f_pause, rel=0.25)
    f_marks = sum(x.queue["q{}_ecn_marked_pkts"].sum() for x in f)
    e_marks = sum(x.queue["q{}_ecn_marked_pkts"].sum() for x in e)
    assert e_marks == pytest.approx(f_marks, rel=0.25)


def done_times(engine: EpochEngine | FluidEngine, step_s: float, limit_s: float) -> np.ndarray:
    """Each flow's completion time (NaN if not done), advancing ``step_s`` at a time until all are done or
    ``limit_s`` has passed."""
    t = 0.0
    while True:
        engine.advance(step_s)
        t += step_s
        done = engine.fl.done if isinstance(engine, EpochEngine) else np.asarray(engine.truth()["completion_s"])
        if not np.isnan(done).any() or t > limit_s:
            return np.asarray(done)


def completion_s(engine: EpochEngine | FluidEngine, n_flows: int, start_s: float, limit_s: float) -> float:
    """When the last of a Scenario's ``n_flows`` flows is done, from ``start_s`` (advancing in 0.5 ms steps)."""
    return float(np.max(done_times(engine, 5e-4, limit_s)[:n_flows])) - start_s


def incast_from_idle(n: int, size: float, ecn: dict[int, EcnKnobs]) -> Scenario:
    """One N x ``size`` incast at 100 us into a 100G receiver, lossless (XOFF 300 KB), DCQCN on, ``ecn``."""
    port = PortKnobs(mtu=1000, speed_gbps=100, pfc_priorities=frozenset({3}), xoff_bytes=300_000,
                     headroom_bytes=200_000, ecn=ecn)
    flows = [shapes.ShapeFlow((f"h{h}", "eth0"), ("r0", "eth0"), size, start_s=1e-4) for h in range(n)]
    return shapes.star(n, speed_gbps=100, flows=flows,
                       knobs=shapes.ShapeKnobs(switch_port=port, nic_port=port, dcqcn=ON))


# (N, bytes per flow): tier E / tier F completion of one incast from an idle fabric (measured at session 13:
# 1.00 / 1.49, 1.67 / 1.50, 2.56 / 2.46, 1.73 / 1.71, 1.34 / 1.35 x the fair-share time). The first two are out of
# sample for the 100 KB-10 MB sizes (TRANSIENT_LOST was measured on long flows).
INCASTS = [(16, 100e3), (4, 1e6), (8, 300e3), (16, 1e6), (32, 300e3)]


@pytest.mark.parametrize(("n", "size"), INCASTS)
def test_an_incast_under_dcqcn_completes_as_late_as_in_tier_f(n: int, size: float) -> None:
    """Flows that start together overshoot, DCQCN cuts them far below their share and they come back together
    when their recovery timers fire: tier F's link idles between such cycles (16 x 1 MB: 1.71 x the fair-share
    time). Tier E charges that link time from TRANSIENT_LOST: within 20 % of tier F (before it: 1.00 x, up to
    2.5 x short)."""
    sc = incast_from_idle(n, size, {3: EcnKnobs(100_000, 400_000, 0.2)})
    limit = 1e-4 + 20 * n * size / 12.5e9
    e = completion_s(EpochEngine(sc, 1e-3), n, 1e-4, limit)
    f = completion_s(FluidEngine(sc, 1e-6), n, 1e-4, limit)
    assert 0.8 <= e / f <= 1.2, (e, f)


def test_an_incast_without_ecn_has_no_start_transient() -> None:
    """Without marking there are no cuts: the incast completes at its fair share (PFC only paces it)."""
    sc = incast_from_idle(16, 1e6, {})
    assert completion_s(EpochEngine(sc, 1e-3), 16, 1e-4, 0.05) == pytest.approx(16e6 / 12.5e9, rel=0.02)


def test_ring_steps_from_faster_nics_lose_the_start_transient_as_in_tier_f() -> None:
    """lab-roce, lossless with ECN 100..400 KB / 20 % and DCQCN everywhere, allreduce-ring's flows of its first
    4 ms, 6 ms in both tiers: each ring step that crosses spine2's 100G port to leaf4 is one 400G flow into it,
    started with the other rings' steps; tier F's DCQCN cuts it near the minimum rate and it takes ~0.3 ms to
    recover. Tier E moved 2.3 Tb/s where tier F moves 1.8 before it charged that start transient (one 400G flow
    into 100G counts as 4 flows); now within 5 % (1.84 vs 1.83 Tb/s)."""
    from fabric.lab.workload import load_workload
    from fabric.lab.workload.hosts import hosts_of
    from tests.conftest import ROOT

    ring = load_workload(ROOT / "workloads/allreduce-ring.yaml")
    sc = lab_roce_lossless(lambda fabric: ring.flows(hosts_of(fabric), 0.0, 4e-3))
    switch = ~sc.is_host

    def gbps(frames: list[CounterFrame]) -> float:
        return float(sum(f.queue["q{}_tx_bytes"][switch].sum() for f in frames) * 8 / 6e-3 / 1e9)

    epoch, fluid = EpochEngine(sc, 1e-3), FluidEngine(sc, 1e-6)
    e = gbps([epoch.advance(1e-3) for _ in range(6)])
    f = gbps([fluid.advance(SAMPLE_S) for _ in range(round(6e-3 / SAMPLE_S))])
    assert abs(e - f) <= 0.05 * f, (e, f)


def slowdowns(sc: Scenario, engine: EpochEngine | FluidEngine, epoch_s: float, limit_s: float) -> np.ndarray:
    """Each flow's completion time over its size at 100 Gb/s, one engine run to the last completion."""
    return np.asarray((done_times(engine, epoch_s, limit_s) - sc.flow_start_s) / (sc.flow_bytes / 12.5e9))


def test_flows_that_never_overlap_finish_at_line_rate_whatever_the_epoch() -> None:
    """Ten 1 MB flows from three 100G NICs into gpu13 (lab-roce, lossless, ECN, DCQCN), 1 ms apart: each has
    the line to itself (tier F: 1.05-1.06x its line-rate time). Tier E gave every row of an epoch an equal
    split, as if all of them overlapped: 5x-10x at 20 ms epochs (the live twin's under load), and a flow that
    started late in an epoch finished faster than its line (0.92x); now within 10 % at 1, 5 and 20 ms."""
    senders = ("gpu14", "gpu15", "gpu16")

    def flows(_: Fabric) -> list[FlowLike]:
        return [shapes.ShapeFlow((senders[k % 3], "ens1np0"), ("gpu13", "ens1np0"), 1e6, start_s=1e-4 + k * 1e-3)
                for k in range(10)]

    sc = lab_roce_lossless(flows)
    f = slowdowns(sc, FluidEngine(sc), 5e-4, 0.05)
    for epoch_s in (1e-3, 5e-3, 20e-3):
        e = slowdowns(sc, EpochEngine(sc, epoch_s), epoch_s, 0.1)
        assert np.all(np.abs(e / f - 1) <= 0.1), (epoch_s, e, f)


def test_open_loop_completion_times_do_not_follow_the_epoch_length() -> None:
    """150 flows (50 KB-4 MB) arriving as a Poisson stream at 30 % of gpu13's 100G line from three 100G NICs:
    the median slowdown is the fabric's, not the engine's step (the live twin stretches its epochs from 1 to
    20 ms when the machine is busy). Measured: tier E 1.34 / 1.49 / 1.46 at 1 / 5 / 20 ms (was 3.4 / 13 / 50),
    tier F 1.60 (means: tier E 1.6 / 1.4 / 1.4, tier F 1.9)."""
    rng = np.random.default_rng(1)
    sizes = rng.choice([50e3, 200e3, 1e6, 4e6], size=150, p=[0.4, 0.3, 0.2, 0.1])
    starts = 1e-4 + np.round(np.cumsum(rng.exponential(sizes.mean() / (12.5e9 * 0.3), sizes.size)), 7)
    senders = ("gpu14", "gpu15", "gpu16")

    def flows(_: Fabric) -> list[FlowLike]:
        return [shapes.ShapeFlow((senders[k % 3], "ens1np0"), ("gpu13", "ens1np0"), float(sizes[k]),
                                 start_s=float(starts[k])) for k in range(sizes.size)]

    sc = lab_roce_lossless(flows)
    f = float(np.median(slowdowns(sc, FluidEngine(sc), 1e-3, 0.2)))
    e = [float(np.median(slowdowns(sc, EpochEngine(sc, epoch_s), epoch_s, 0.3))) for epoch_s in (1e-3, 5e-3, 20e-3)]
    assert max(e) / min(e) <= 1.2, e
    assert all(0.8 <= x / f <= 1.2 for x in e), (e, f)
