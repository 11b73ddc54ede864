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


def weighted_percentiles(values: np.ndarray, weights: np.ndarray, pcts: tuple[float, ...]) -> list[float]:
    """The values at ``pcts`` percent of the weight (one sort for all of them)."""
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    at = np.minimum(np.searchsorted(cum, np.array(pcts) / 100 * cum[-1]), len(order) - 1)
    return [float(v) for v in values[order[at]]]


# what one row's flows wait for, as quantiles: bins of the uniform [0, 1) (finer towards the tail for p99)
WAIT_EDGES = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 1.0])
WAIT_U = (WAIT_EDGES[1:] + WAIT_EDGES[:-1]) / 2
WAIT_W = np.diff(WAIT_EDGES)


def spread_waits(fct: np.ndarray, weight: np.ndarray, wait: np.ndarray,
                 busy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's flows as ``len(WAIT_U)`` weighted quantiles of their queueing wait, instead of all at the
    row's mean wait: a flow finds its path's queues busy with probability ``busy`` (arrivals see the time
    average, PASTA: the busiest queue's utilisation), and then waits an exponential time of mean ``wait /
    busy`` (as in M/M/1); the rest wait nothing. The mean stays ``fct`` exactly (the quantiles are scaled to
    it); an epoch's mean depth alone gave every flow the same wait, so a longer epoch (the live twin lengthens
    them under load) turned a few long waits into many middling ones: p50 of flows <= 10 KB 1.3 at 2 ms, 7.0
    at 20 ms. Returns (values, weights), rows x quantiles flattened."""
    b = np.clip(busy, 1e-9, 1.0)[:, None]
    tail = np.where(1 - b <= WAIT_U, np.log(b / np.maximum(1 - WAIT_U, 1e-12)), 0.0)  # Exp(1) given a wait, x busy
    norm = (tail * WAIT_W).sum(axis=1, keepdims=True)
    extra = np.where(norm > 0, tail / np.maximum(norm, 1e-300), 1.0) * wait[:, None]
    return (fct - wait)[:, None] + extra, weight[:, None] * WAIT_W


def slowdown_by_bucket(size: np.ndarray, fct: np.ndarray, ideal: np.ndarray, weight: np.ndarray,
                       wait: np.ndarray | None = None, busy: np.ndarray | None = None) -> dict[str, dict[str, float]]:
    """FCT / ideal FCT (alone on an idle fabric at line rate) per flow-size bucket: count, mean, p50, p99
    (rows weighted by the flows they stand for; with ``wait``/``busy``, each row's queueing wait spread over
    its flows, ``spread_waits``)."""
    slow = fct / np.maximum(ideal, 1e-12)
    if wait is not None and busy is not None and len(fct):
        values, weights = spread_waits(fct, weight, wait, busy)
        slow, weight = values / np.maximum(ideal, 1e-12)[:, None], weights
        size = np.broadcast_to(size[:, None], slow.shape)
    out: dict[str, dict[str, float]] = {}
    low = 0.0
    for high, name in BUCKETS:
        sel = (size > low) & (size <= high)
        if sel.any():
            s, w = slow[sel], weight[sel]
            p50, p99 = weighted_percentiles(s, w, (50, 99))
            out[name] = {"count": int(np.rint(w.sum())), "mean": float((s * w).sum() / w.sum()), "p50": p50,
                         "p99": p99}
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
                                           np.array(c.weight), np.array(c.wait_s), np.array(c.busy)),
        "collectives": {"completed": len(cct), "running": len(live_groups),
                        "cct_s": dict(list(cct.items())[-PER_FLOW_LIMIT:]),
                        "launches": {"completed": len(whole), "time_s": dict(list(whole.items())[-PER_FLOW_LIMIT:])},
                        "skipped": engine.skipped},
        "goodput_gbps": engine.delivered_total * 8 / 1e9 / max(engine.t, 1e-12),
        "per_flow": flows,
    }
