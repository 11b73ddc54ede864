"""Congestion-engine benchmark: tier F step rate (and tier E real-time factor) in one printed table.

    python bench/engine.py            # tier F: 64 hosts (2-tier leaf-spine), 3 ms simulated + the Python floor
    python bench/engine.py --quick    # 1 ms simulated
    python bench/engine.py --only e --only twin   # tier E and the live twin only
    python bench/engine.py --only scale           # the live engine at 4,096 NICs

Rows, measured in the same run:
  tier F 64 hosts   FluidEngine on leaf_spine(8 leaves, 8 spines, 8 hosts each; 1:1) at 100G, ECN + PFC + DCQCN
                    (NIC firmware defaults) on priority 3, a shift permutation of 64 long-lived flows:
                    1 us steps per wall second, real-time factor (simulated / wall seconds), cost per step.
  python 1 queue    the same equations (§A.2 steps 1-6: injection, proportional FIFO service, RED marks,
                    Poisson CNP thresholds, the reaction point's cut/alpha/timer/byte-counter stages,
                    XOFF/XON) written as a plain Python loop for ONE queue with 16 flows, no NumPy.
  tier F 512 hosts  the same on leaf_spine(32, 16, 16): NumPy's per-step cost is overhead-bound, so it grows
                    far slower than the fabric.
  vectorisation     flow-hop-steps per CPU second of tier F over the same unit of the Python loop (a Python
                    flow-step there is one flow crossing its one queue).
  tier E            EpochEngine on leaf_spine shapes of 64, 512 and 4,096 ports with the same knobs: "steady"
                    (shift permutation of long-lived flows) and "churn" (every host starts a 1 MB flow to a
                    random host every 2 ms), 1 ms and 5 ms epochs: real-time factor (simulated / wall seconds).
  twin <workload>   the live twin's LiveEngine on lab-roce (factory config) per shipped open-loop/collective
                    workload, 100 ms ticks for 2 s of model time after one untimed tick: real-time factor
                    (model / wall seconds).
  scale <workload>  the same LiveEngine on a generated rail fabric of 2,048 servers x 2 NICs (4,096 NICs,
                    10,240 ports, 32 spines, 64 leaves, sonic) for the training workloads (llm-3d, allreduce-ring),
                    100 ms ticks for 1 s of model time (0.5 s with --quick).
A benchmark, not a test: it prints numbers and asserts nothing about time. Wall and CPU seconds are both
shown because the 2-core machine is shared.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from fabric.lab.physics.epoch import EpochEngine
from fabric.lab.physics.fluid import FluidEngine
from fabric.lab.physics.knobs import DcqcnKnobs, DeviceKnobs, EcnKnobs, PortKnobs
from fabric.lab.physics.scenario import Scenario
from fabric.lab.physics.shapes import ShapeKnobs, leaf_spine
from fabric.lab.physics.topology import Builder, KeyText, Network

LOSSLESS = frozenset({3})
DT_S = 1e-6


@dataclass
class Row:
    """One line of the table: what was run, its size, and the measured numbers (already formatted)."""

    arm: str
    size: str
    numbers: dict[str, str]


def bench_fabric_knobs() -> ShapeKnobs:
    switch = PortKnobs(ecn={3: EcnKnobs(400_000, 1_600_000, 0.2)}, pfc_priorities=LOSSLESS, headroom_bytes=200_000)
    return ShapeKnobs(switch_port=switch, nic_port=PortKnobs(pfc_priorities=LOSSLESS),
                      dcqcn=DcqcnKnobs(np_enabled_priorities=LOSSLESS, rp_enabled_priorities=LOSSLESS))


def tier_f_row(leaves: int, spines: int, hosts_per_leaf: int, sim_s: float) -> tuple[Row, float]:
    """Tier F on a 1:1 leaf-spine; returns the row and its flow-hop-steps per CPU second."""
    scen = leaf_spine(leaves, spines, hosts_per_leaf, speed_gbps=100, knobs=bench_fabric_knobs())
    engine = FluidEngine(scen, dt_s=DT_S)
    engine.advance(2e-4)  # warm-up: the first steps allocate and start every flow
    wall, cpu = time.perf_counter(), time.process_time()
    engine.advance(sim_s)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    steps = round(sim_s / DT_S)
    hops = len(scen.hop_flow) + scen.n_flows  # + one sink hop per flow
    size = f"{scen.n_ports} ports, {scen.n_flows} flows, {hops} hops"
    return Row(f"tier F {leaves * hosts_per_leaf} hosts", size, {
        "steps/s": f"{steps / wall:,.0f}", "steps/s cpu": f"{steps / cpu:,.0f}",
        "us/step cpu": f"{cpu / steps * 1e6:.0f}", "real-time x": f"{sim_s / wall:.4f}"}), steps * hops / cpu


def python_one_queue(n_flows: int, steps: int, seed: int = 0) -> None:
    """§A.2 for one 100G egress queue fed by ``n_flows`` long-lived DCQCN flows, in plain Python."""
    rng = random.Random(seed)
    cap, mtu, line = 12.5e9 * DT_S, 9100.0, 12.5e9
    kmin, kmax, pmax, xoff, xon = 400e3, 1.6e6, 0.2, 500e3, 500e3 - 2 * mtu
    k = DcqcnKnobs()
    cnp_gap, cut_gap, alpha_gap = k.min_time_between_cnps_us * 1e-6, k.rate_reduce_monitor_period_us * 1e-6, 1e-6
    timer, byte_reset, ai, f_stages = k.rpg_time_reset_us * 1e-6, float(k.rpg_byte_reset), k.rpg_ai_rate_mbps * 125e3, 1
    rc, rt, alpha = [line] * n_flows, [line] * n_flows, [1.0] * n_flows
    q = [0.0] * n_flows
    marks, mark_at, next_cnp = [0.0] * n_flows, [rng.expovariate(1.0) for _ in range(n_flows)], [0.0] * n_flows
    pending, flag, cut_due = [False] * n_flows, [False] * n_flows, [0.0] * n_flows
    alpha_due, timer_due = [alpha_gap] * n_flows, [timer] * n_flows
    t_stage, b_stage, sent_bytes = [0] * n_flows, [0] * n_flows, [0.0] * n_flows
    cnps: deque[tuple[int, int]] = deque()
    paused = False
    for n in range(steps):
        t = n * DT_S
        arrive = [0.0 if paused else r * DT_S for r in rc]
        total_q, total_a = sum(q), sum(arrive)
        served = min(cap, total_q + total_a)
        p = 0.0 if total_q <= kmin else (pmax * (total_q - kmin) / (kmax - kmin) if total_q <= kmax else 1.0)
        for i in range(n_flows):
            d = served * (q[i] + arrive[i]) / (total_q + total_a) if total_q + total_a > 0 else 0.0
            q[i] += arrive[i] - d
            marks[i] += d * p / mtu
            if marks[i] >= mark_at[i] and t >= next_cnp[i]:
                marks[i], mark_at[i], next_cnp[i] = 0.0, rng.expovariate(1.0), t + cnp_gap
                cnps.append((n + 2, i))
            sent_bytes[i] += arrive[i]
        while cnps and cnps[0][0] <= n:
            i = cnps.popleft()[1]
            pending[i] = flag[i] = True
        for i in range(n_flows):
            if t >= alpha_due[i]:
                alpha[i] = (1 - 1 / 256) * alpha[i] + (1 / 256 if flag[i] else 0.0)
                flag[i], alpha_due[i] = False, alpha_due[i] + alpha_gap
            if pending[i] and t >= cut_due[i]:
                rt[i] = rc[i] if t_stage[i] + b_stage[i] > 0 else rt[i]
                rc[i] = max(k.rpg_min_rate_mbps * 125e3, rc[i] * (1 - alpha[i] / 2))
                pending[i], cut_due[i], timer_due[i] = False, t + cut_gap, t + timer
                t_stage[i] = b_stage[i] = 0
                sent_bytes[i] = 0.0
            events = 0
            if t >= timer_due[i]:
                t_stage[i], timer_due[i], events = t_stage[i] + 1, timer_due[i] + timer, events + 1
            while sent_bytes[i] >= byte_reset:
                sent_bytes[i] -= byte_reset
                b_stage[i] += 1
                events += 1
            for _ in range(events):
                if max(t_stage[i], b_stage[i]) > f_stages:
                    rt[i] = min(line, rt[i] + ai)
                rc[i] = min(rt[i], (rt[i] + rc[i]) / 2)
        total_q = sum(q)
        paused = total_q >= xoff or (paused and total_q > xon)


def python_row(steps: int) -> tuple[Row, float]:
    n_flows = 16
    wall, cpu = time.perf_counter(), time.process_time()
    python_one_queue(n_flows, steps)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Row("python 1 queue", f"1 queue, {n_flows} flows", {
        "steps/s": f"{steps / wall:,.0f}", "steps/s cpu": f"{steps / cpu:,.0f}",
        "us/step cpu": f"{cpu / steps * 1e6:.0f}", "real-time x": f"{steps * DT_S / wall:.4f}"}), steps * n_flows / cpu


def tier_f_rows(args: argparse.Namespace) -> list[Row]:
    sim_s = 1e-3 if args.quick else 3e-3
    f_row, f_rate = tier_f_row(8, 8, 8, sim_s)
    big_row, big_rate = tier_f_row(32, 16, 16, sim_s / 3)
    py_row, py_rate = python_row(2_000 if args.quick else 5_000)
    gains = [Row("vectorisation", f"{row.arm[7:]}: flow-hop-steps / cpu s", {
        "steps/s": f"{rate:,.0f} vs {py_rate:,.0f}", "real-time x": f"ratio {rate / py_rate:.1f}"})
        for row, rate in ((f_row, f_rate), (big_row, big_rate))]
    return [f_row, big_row, py_row, *gains]


TIER_E_SHAPES = ((4, 2, 6), (8, 4, 28), (32, 16, 48))  # leaf_spine(leaves, spines, hosts): 64, 512, 4,096 ports


def _network_of(scen: Scenario) -> Network:
    """The Network behind a shape's Scenario (to build more flows over the same ports)."""
    hosts = scen.is_host.tolist()
    net = Network(list(scen.device), list(scen.interface), scen.peer.tolist(), hosts,
                  (scen.capacity * 8 / 1e9).tolist(), (scen.delay_s * 2e8).tolist(),
                  list(dict.fromkeys(d for d, h in zip(scen.device, hosts, strict=True) if not h)))
    net._index = {(d, i): p for p, (d, i) in enumerate(zip(scen.device, scen.interface, strict=True))}
    for p, name in enumerate(scen.device):
        net._out.setdefault(name, []).append(p)
    return net


def tier_e_row(leaves: int, spines: int, hosts_per_leaf: int, epoch_s: float, churn: bool,
               sim_s: float) -> Row:
    """Tier E on a 1:1 leaf-spine. steady: the shift permutation of long-lived flows (epochs repeat once
    settled). churn: every host starts a 1 MB flow to a random host every 2 ms (40 % load at 100G), added in
    10 ms batches through topology.Builder with 16 ECMP keys per pair, as the live twin does; finished flows
    are compacted away."""
    knobs = bench_fabric_knobs()
    scen = leaf_spine(leaves, spines, hosts_per_leaf, speed_gbps=100, knobs=knobs,
                      flows=None if not churn else [])
    engine = EpochEngine(scen, epoch_s=epoch_s)
    hosts = [p for p in range(scen.n_ports) if scen.is_host[p]]
    builder = None
    if churn:
        net = _network_of(scen)
        dev = {name: DeviceKnobs(device=name, trust="dscp", ports={i: knobs.nic_port if h else knobs.switch_port
                                 for d, i, h in zip(scen.device, scen.interface, scen.is_host, strict=True)
                                 if d == name}, dcqcn=knobs.dcqcn if name.startswith("h") else None)
               for name in dict.fromkeys(scen.device)}
        builder = Builder(net, dev)
    rng = np.random.default_rng(0)

    def feed(t0: float) -> None:
        if builder is None:
            return
        starts = np.repeat(t0 + np.arange(0, 10e-3, 2e-3), len(hosts))
        src = np.tile(hosts, 5)
        dst = rng.choice(hosts, size=src.size)
        dst = np.where(dst == src, hosts[0] if src[0] != hosts[0] else hosts[1], dst)
        keys = KeyText(src, b">", dst, b"/", np.arange(src.size) % 16)  # f"{src}>{dst}/{i % 16}", hashed as arrays
        engine.add_flows(builder.build(src, dst, np.full(src.size, 1e6), starts, np.full(src.size, 26), keys,
                                       ["churn"] * src.size, ["churn"] * src.size))

    feed(0.0)
    engine.advance(0.01)  # warm-up: first epochs, start-up burst
    wall, cpu, t = time.perf_counter(), time.process_time(), 0.01
    while t < 0.01 + sim_s - 1e-9:
        feed(t)
        engine.advance(0.01)
        engine.compact()
        t += 0.01
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    epochs = sim_s / epoch_s
    arm = f"tier E {'churn' if churn else 'steady'} {epoch_s * 1e3:g} ms"
    return Row(arm, f"{scen.n_ports} ports, {len(hosts)} hosts", {
        "real-time x": f"{sim_s / wall:.2f}", "ms/epoch cpu": f"{cpu / epochs * 1e3:.2f}",
        "steps/s": f"{epochs / wall:,.0f} epochs/s"})


def tier_e_rows(args: argparse.Namespace) -> list[Row]:
    """Tier E: real-time factor at 64 / 512 / 4,096 ports, steady and with flow churn, 1 ms and 5 ms epochs."""
    sim_s = 0.05 if args.quick else 0.2
    rows = []
    for churn in (False, True):
        for epoch_s in (1e-3, 5e-3):
            rows += [tier_e_row(*shape, epoch_s, churn, sim_s) for shape in TIER_E_SHAPES]
    return rows


LIVE_WORKLOADS = ("websearch-40", "incast-16to1", "mixed-storage", "shift-incast-allreduce", "alltoall-moe",
                  "allreduce-ring", "llm-3d")


def live_rows(args: argparse.Namespace) -> list[Row]:
    """The live twin's engine (LiveEngine over lab-roce's own LabDevice objects, factory config, no endpoints):
    100 ms ticks as fabric.lab.serve runs them, until ``model_s`` of model time; real-time factor = model /
    wall seconds (below 1: the twin lags the wall clock)."""
    from fabric.intent.check import validate_inventory

    inventory = str(Path(__file__).resolve().parents[1] / "inventories" / "lab-roce")
    fabric = validate_inventory(inventory).fabric
    assert fabric is not None
    return _live_runs(inventory, fabric, LIVE_WORKLOADS, 0.5 if args.quick else 2.0, "twin", "lab-roce")


def _live_runs(inventory: str, fabric: Any, workloads: Sequence[str], model_s: float, arm: str,
               where: str) -> list[Row]:
    """One LiveEngine per workload over the inventory's own devices, 100 ms ticks for ``model_s`` after one
    untimed tick (the first builds the routing tables and paths: a one-off of the twin's start, ~0.3 s at 4,096
    NICs)."""
    from fabric.lab.physics.engine import LiveEngine
    from fabric.lab.serve import build_devices
    from fabric.lab.workload import load_workload

    root = Path(__file__).resolve().parents[1]
    rows = []
    for name in workloads:
        live = LiveEngine(build_devices(inventory), fabric, load_workload(root / "workloads" / f"{name}.yaml"))
        live.step(0.1)
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(round(model_s / 0.1)):
            live.step(0.1)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rows.append(Row(f"{arm} {name}", f"{where}, {int(live.engine.live().sum())} rows live", {
            "real-time x": f"{model_s / wall:.2f}", "ms/epoch cpu": f"{cpu / model_s * 1e3:.0f} per model s",
            "steps/s": f"epoch {live.engine.epoch_s * 1e3:.1f} ms at the end"}))
    return rows


SCALE_WORKLOADS = ("llm-3d", "allreduce-ring")


def scale_rows(args: argparse.Namespace) -> list[Row]:
    """LiveEngine at 4,096 NICs: a generated 2,048-server rail fabric, factory config, the training workloads."""
    import tempfile

    from fabric.intent.check import validate_inventory
    from fabric.inventory.generate import generate
    from fabric.inventory.write import write_inventory

    with tempfile.TemporaryDirectory() as tmp:
        write_inventory(generate("rail", 32, 64, 2048, 2, ["sonic"], spine_planes=2), Path(tmp))
        fabric = validate_inventory(tmp).fabric
        assert fabric is not None
        return _live_runs(tmp, fabric, SCALE_WORKLOADS, 0.5 if args.quick else 1.0, "scale", "2,048 servers")


SECTIONS: dict[str, Callable[[argparse.Namespace], list[Row]]] = {"f": tier_f_rows, "e": tier_e_rows,
                                                                  "twin": live_rows, "scale": scale_rows}


def print_table(rows: list[Row]) -> None:
    """Left-aligned columns: arm, size, then every number column any row has (blank where a row has none)."""
    columns = list(dict.fromkeys(key for row in rows for key in row.numbers))
    table = [["arm", "size", *columns]] + [[r.arm, r.size, *(r.numbers.get(c, "") for c in columns)] for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    parser.add_argument("--only", choices=sorted(SECTIONS), action="append",
                        help="run only this section (repeatable): f = tier F, e = tier E, twin = live twin, "
                             "scale = live engine at 4,096 NICs")
    args = parser.parse_args()
    rows = [row for key, section in SECTIONS.items() if not args.only or key in args.only for row in section(args)]
    print_table(rows)


if __name__ == "__main__":
    main()
