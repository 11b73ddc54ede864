"""A collective's launches run in order, as NCCL runs the collectives of one communicator: the first step of a
launch waits for the last step of the launch before (a workload names it by the ``"<phase>@<time>"`` of that
launch), a launch still waiting when the next one is due is skipped, and a group the engine never saw is not
waited for. Tier E, a 100G NIC to one receiver, DCQCN off: a 2.5 MB step takes 0.2 ms at line rate."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from fabric.cli.lab import print_truth
from fabric.lab.physics import shapes
from fabric.lab.physics.epoch import EpochEngine
from fabric.lab.workload import load_workload
from tests.physics.test_epoch import OFF, lossless
from tests.physics.test_twin import lab_roce_engine

LINE_S = 2.5e6 / 12.5e9  # one step at 100G: 0.2 ms
KNOBS = shapes.ShapeKnobs(switch_port=lossless(), nic_port=lossless(), dcqcn=OFF)


def launches(times: list[float], steps: int = 2, first_waits: bool = True) -> list[shapes.ShapeFlow]:
    """``steps`` chained 2.5 MB steps per launch at each of ``times``; each launch's first step waits for the
    last step of the launch before (the first one's too, if ``first_waits``: a launch the engine never saw)."""
    flows = []
    for k, t in enumerate(times):
        before = times[k - 1] if k else t - (times[1] - times[0])
        for s in range(steps):
            after = f"ar@{t:.6f}/s{s - 1}" if s else (f"ar@{before:.6f}/s{steps - 1}" if k or first_waits else "")
            flows.append(shapes.ShapeFlow(("h0", "eth0"), ("r0", "eth0"), 2.5e6, start_s=t, tag="ar",
                                          group=f"ar@{t:.6f}/s{s}", after=after))
    return flows


def spans(engine: EpochEngine) -> dict[str, tuple[float, float]]:
    """Per launch: its first start and last completion (NaN: not run)."""
    fl, out = engine.fl, {}
    for name in dict.fromkeys(g.split("/")[0] for g in fl.group):
        rows = [i for i, g in enumerate(fl.group) if g.startswith(name + "/")]
        out[name] = (float(fl.start[rows].min()), float(fl.done[rows].max()))
    return out


def test_launches_that_fit_their_period_start_on_time() -> None:
    """A 0.4 ms launch every 1 ms: each starts at its own time (the launch before is long done) and nothing
    is skipped; the first launch's predecessor is a group the engine never saw, so it does not wait."""
    engine = EpochEngine(shapes.star(2, speed_gbps=100, knobs=KNOBS, flows=launches([0.0, 1e-3, 2e-3])))
    engine.advance(4e-3)
    got = spans(engine)
    for t, (start, done) in zip((0.0, 1e-3, 2e-3), got.values(), strict=True):
        assert start == pytest.approx(t, abs=1e-12) and done == pytest.approx(t + 2 * LINE_S, rel=1e-6)
    assert engine.skipped == {}


def test_a_collective_slower_than_its_period_runs_back_to_back_and_skips_overtaken_launches() -> None:
    """A 0.4 ms launch every 0.25 ms (launches at 0, 0.25, ... 1.25 ms): the second starts when the first ends
    (0.4 ms, not 0.25), the third would start at 0.8 ms, after the fourth was due (0.75 ms), so it is skipped
    and the fourth starts at 0.8 ms; the fifth (due 1.0) starts at 1.2, before the sixth is due (1.25). No two
    launches overlap and the link never carries two at once."""
    times = [k * 0.25e-3 for k in range(6)]
    engine = EpochEngine(shapes.star(2, speed_gbps=100, knobs=KNOBS, flows=launches(times)))
    engine.advance(3e-3)
    got = list(spans(engine).values())
    ran = [got[k] for k in (0, 1, 3, 4, 5)]
    for (start, _), want in zip(ran, (0.0, 0.4e-3, 0.8e-3, 1.2e-3, 1.6e-3), strict=True):
        assert start == pytest.approx(want, abs=1e-9)
    for (_, done), (start, _) in pairwise(ran):
        assert start == pytest.approx(done, abs=1e-12)  # back to back: each begins as the one before ends
    assert engine.skipped == {"ar": {"launches": 1, "flows": 2, "bytes": 5e6}}
    skipped = [i for i, g in enumerate(engine.fl.group) if g.startswith(f"ar@{times[2]:.6f}/")]
    assert (engine.fl.delivered[skipped] == 0).all()  # nothing of the skipped launch was sent
    assert engine.delivered_total == pytest.approx(5 * 5e6, rel=1e-9)


def test_a_waiting_launch_that_is_not_overtaken_runs_late_not_skipped() -> None:
    """Launches 0.3 ms apart, 0.4 ms each: every launch is late (0.4, 0.8, 1.2 ms...) but the next one is never
    due before the one before starts, so none is skipped and each runs as soon as the link is free."""
    times = [0.0, 0.3e-3, 0.7e-3]
    engine = EpochEngine(shapes.star(2, speed_gbps=100, knobs=KNOBS, flows=launches(times)))
    engine.advance(2e-3)
    starts = [s for s, _ in spans(engine).values()]
    assert starts == pytest.approx([0.0, 0.4e-3, 0.8e-3], abs=1e-9)
    assert engine.skipped == {}


def test_plain_dependencies_are_never_skipped() -> None:
    """Groups not named as launches (no ``@``) are plain dependencies, even when a later one is due: the chain
    of ``test_epoch``'s ring steps runs whole."""
    flows = [shapes.ShapeFlow(("h0", "eth0"), ("r0", "eth0"), 2.5e6, start_s=0.0, group=f"s{k}",
                              after=f"s{k - 1}" if k else "") for k in range(4)]
    engine = EpochEngine(shapes.star(2, speed_gbps=100, knobs=KNOBS, flows=flows))
    engine.advance(2e-3)
    assert np.allclose(engine.fl.done, [LINE_S * (k + 1) for k in range(4)], rtol=1e-6)
    assert engine.skipped == {}


SLOW_RING = """\
name: slow-ring
description: a ring all-reduce that fits its period at line rate but not with gpu03 draining at 25 %
seed: 1
duration_s: 10
phases:
  - name: ring
    kind: allreduce
    members: {first: 4}
    size_bytes: 256MB
    period_s: 20ms
"""


def test_a_slow_receiver_makes_a_ring_run_back_to_back_in_the_live_twin(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """On lab-roce a 4-server ring launched every 20 ms takes ~8 ms; with gpu03's NICs draining at a quarter it
    takes ~30 ms, longer than its period. Its launches then never overlap (each starts when the one before
    ends), overtaken ones are skipped and counted, and the rows stay bounded (before: every launch piled up)."""
    path = tmp_path / "slow-ring.yaml"
    path.write_text(SLOW_RING)
    live = lab_roce_engine(load_workload(path))
    live.devices["gpu03"].faults.set("slow-receiver", None)
    rows = []
    for _ in range(10):
        live.step(0.1)
        rows.append(int(live.engine.live().sum()))
    c = live.engine.completed
    spans_: dict[str, list[float]] = {}
    for g, s, d in zip(c.group, c.start_s, c.done_s, strict=True):
        span = spans_.setdefault(g.split("/")[0], [np.inf, -np.inf])
        span[0], span[1] = min(span[0], s), max(span[1], d)
    ordered = sorted(spans_.values())
    assert len(ordered) >= 5
    assert all(b[0] >= a[1] - 1e-9 for a, b in pairwise(ordered))  # no overlap
    assert np.mean([b - a for a, b in ordered]) > 0.02  # slower than the period: the fault bites
    skipped = live.truth()["collectives"]["skipped"]["ring"]
    assert skipped["launches"] > 0 and skipped["bytes"] > 0
    assert max(rows[3:]) <= 2 * 2 * (4 - 1) * 4 * 2  # two launches at most: 6 steps x 4 members x 2 rails each
    print_truth(live.truth())
    assert f"{skipped['launches']} launches overtaken" in capsys.readouterr().out
