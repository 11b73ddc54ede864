"""Ground truth the tuner never sees: FCT slowdown by size bucket, collective completion times (per group, e.g.
a ring step, and per launch, e.g. a whole all-reduce or training iteration), goodput, per-flow rates. Built
from an engine's completed-flow record and its live flows (``EpochEngine.truth``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from fabric.lab.physics.groups import launch_of

if TYPE_CHECKING:
    from fabric.lab.physics.epoch import EpochEngine

BUCKETS = ((10e3, "<=10KB"), (100e3, "<=100KB"), (1e6, "<=1MB"), (10e6, "<=10MB"), (np.inf, ">10MB"))
PER_FLOW_LIMIT = 200  # per-flow rates listed (the largest first); the rest are summarised


def weighted_percentile(values: np.ndarray, weights: np.ndarray, pct: float) -> float:
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, pct / 100 * cum[-1])])


def slowdown_by_bucket(size: np.ndarray, fct: np.ndarray, ideal: np.ndarray,
                       weight: np.ndarray) -> dict[str, dict[str, float]]:
    """FCT / ideal FCT (alone on an idle fabric at line rate) per flow-size bucket: count, mean, p50, p99
    (rows weighted by the flows they stand for)."""
    slow = fct / np.maximum(ideal, 1e-12)
    out: dict[str, dict[str, float]] = {}
    low = 0.0
    for high, name in BUCKETS:
        sel = (size > low) & (size <= high)
        if sel.any():
            s, w = slow[sel], weight[sel]
            out[name] = {"count": int(np.rint(w.sum())), "mean": float((s * w).sum() / w.sum()),
                         "p50": weighted_percentile(s, w, 50), "p99": weighted_percentile(s, w, 99)}
        low = high
    return out


def _spans(groups: list[str], start_s: list[float], done_s: list[float]) -> dict[str, float]:
    """Per group: its last completion minus its first start (over up to ~200 k completed rows, as arrays), in
    the order the groups first completed a flow (so the last entries are the most recent)."""
    ids = {g: i for i, g in enumerate(dict.fromkeys(groups))}
    code = np.fromiter(map(ids.__getitem__, groups), dtype=np.int64, count=len(groups))
    first = np.full(len(ids), np.inf)
    last = np.full(len(ids), -np.inf)
    np.minimum.at(first, code, np.asarray(start_s, dtype=float))
    np.maximum.at(last, code, np.asarray(done_s, dtype=float))
    return dict(zip(ids, (last - first).tolist(), strict=True))


def summarise(engine: EpochEngine) -> dict[str, Any]:
    c, fl = engine.completed, engine.fl
    live = np.flatnonzero(np.isnan(fl.done))
    # an open-loop phase's flows (a mix, storage) are grouped under the phase's own name: no collective
    live_groups = {fl.group[i] for i in live[fl.start[live] <= engine.t].tolist() if fl.group[i] != fl.tag[i]}
    pending = {fl.group[i] for i in live.tolist()}
    mix = {g for g, t in zip(c.group, c.tag, strict=True) if g == t}
    cct = {g: span for g, span in _spans(c.group, c.start_s, c.done_s).items() if g not in pending and g not in mix}
    # a launch ("<phase>@<time>": a whole ring all-reduce, an LLM training iteration) is its groups together
    launch = [launch_of(g) for g in c.group]
    open_launches = {launch_of(g) for g in pending}
    whole = {g: span for g, span in _spans(launch, c.start_s, c.done_s).items()
             if "@" in g and g not in open_launches}
    order = live[np.argsort(-engine.rate[live])][:PER_FLOW_LIMIT]
    flows = [{"src": f"{engine.sc.device[fl.src[i]]}:{engine.sc.interface[fl.src[i]]}",
              "dst": f"{engine.sc.device[fl.dst[i]]}:{engine.sc.interface[fl.dst[i]]}", "tag": fl.tag[i],
              "group": fl.group[i], "rate_gbps": float(engine.rate[i] * 8 / 1e9),
              "remaining_bytes": float(fl.remaining[i])} for i in order if fl.start[i] <= engine.t]
    return {
        "time_s": engine.t,
        "flows": {"active": len(live) - int((fl.start[live] > engine.t).sum()), "completed": int(sum(c.weight))},
        "fct_slowdown": slowdown_by_bucket(np.array(c.size), np.array(c.fct_s), np.array(c.ideal_s),
                                           np.array(c.weight)),
        "collectives": {"completed": len(cct), "running": len(live_groups),
                        "cct_s": dict(list(cct.items())[-PER_FLOW_LIMIT:]),
                        "launches": {"completed": len(whole), "time_s": dict(list(whole.items())[-PER_FLOW_LIMIT:])},
                        "skipped": engine.skipped},
        "goodput_gbps": engine.delivered_total * 8 / 1e9 / max(engine.t, 1e-12),
        "per_flow": flows,
    }
