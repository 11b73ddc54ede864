"""The engine's path table: flows' hop rows numbered as they arrive, matched exactly (a hash only proposes),
renumbered when finished flows' paths are forgotten."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from fabric.lab.physics import rows as row_store
from fabric.lab.physics.rows import Hops, PathTable


def hops(*rows: tuple[list[int], list[int]]) -> Hops:
    """Flows' (queue columns, ingress columns) rows padded with -1 to one width; port columns mirror queues."""
    width = max(len(q) for q, _ in rows)
    res_q = np.array([q + [-1] * (width - len(q)) for q, _ in rows], dtype=np.int64)
    jp = np.array([j + [-1] * (width - len(j)) for _, j in rows], dtype=np.int64)
    return Hops(port=res_q // 8, jp=jp, sink=np.zeros(res_q.shape, dtype=bool), res_q=res_q,
                res_p=np.where(res_q >= 0, 1000 + res_q, -1))


A, B, C = ([8, 16, 24], [-1, 5, 9]), ([8, 17, 24], [-1, 5, 9]), ([40, 48], [-1, 3])


def test_paths_are_numbered_as_they_arrive_and_found_again_exactly() -> None:
    table = PathTable()
    a, b, a2, c = table.add(hops(A, B, A, C)).tolist()
    assert a == a2 and sorted({a, b, c}) == [0, 1, 2]  # new paths take the next ids
    wide = ([8, 16, 24, 32], [-1, 5, 9, 11])
    assert table.add(hops(C, wide, A)).tolist() == [c, 3, a]  # a wider batch
    assert table.size == 4 and table.res_q.shape == (4, 4)
    assert table.res_q[c].tolist() == [40, 48, -1, -1] and table.res_p[a].tolist() == [1008, 1016, 1024, -1]
    assert table.add(hops(C, B)).tolist() == [c, b]  # narrower than the table: padding does not matter
    assert table.jp[3].tolist() == [-1, 5, 9, 11]


def test_keep_renumbers_and_forgotten_paths_come_back_as_new_ones() -> None:
    table = PathTable()
    a, b, c = table.add(hops(A, B, C)).tolist()
    used = np.array(sorted([a, c]))
    new_id = table.keep(used)
    assert new_id[b] == -1 and sorted(new_id[[a, c]].tolist()) == [0, 1] and table.size == 2
    assert table.add(hops(C, A, B)).tolist() == [new_id[c], new_id[a], 2]


def test_a_hash_collision_never_shares_a_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(row_store, "row_hash", lambda columns: np.zeros(columns.shape[0], dtype=np.uint64))
    table = PathTable()
    assert table.add(hops(A, B)).tolist() == [0, 1]  # inside a batch: every row its own path
    assert table.add(hops(C)).tolist() == [2]  # across batches: the stored row differs
    assert table.add(hops(C)).tolist() == [2]  # the newest row with the hash is found
    assert table.res_q[:3, :2].tolist() == [[8, 16], [8, 17], [40, 48]]


def test_compaction_keeps_a_steady_fabric_steady_and_its_counters_the_same() -> None:
    """Two long-lived flows and a short one: once the short one is done and forgotten, the engine goes on
    repeating the settled epoch (no epoch recomputed) and counts what an engine that never compacts counts."""
    from fabric.lab.physics.epoch import EpochEngine
    from fabric.lab.physics.shapes import ShapeFlow, star

    flows = [ShapeFlow(("h0", "eth0"), ("r0", "eth0")), ShapeFlow(("h1", "eth0"), ("r0", "eth0")),
             ShapeFlow(("h2", "eth0"), ("r0", "eth0"), 2e5)]
    plain, compacted = EpochEngine(star(3, flows=flows), 1e-3), EpochEngine(star(3, flows=flows), 1e-3)
    frames = [e.advance(0.02) for e in (plain, compacted)]
    assert compacted.compact().tolist() == [True, True, False] and compacted._steady is not None
    computed: list[float] = []
    compute = compacted._compute

    def counting(dt: float, rec: Any) -> Any:
        computed.append(dt)
        return compute(dt, rec)

    compacted._compute = counting  # type: ignore[method-assign]
    frames += [e.advance(0.02) for e in (plain, compacted)]
    assert computed == [] and compacted._steady is not None  # 20 epochs, all repeats
    for a, b in ((frames[0], frames[1]), (frames[2], frames[3])):
        for kind in ("port", "prio", "queue"):
            for key, values in getattr(a, kind).items():
                assert np.allclose(values, getattr(b, kind)[key], rtol=1e-12, atol=0), key
