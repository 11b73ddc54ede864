"""Max-min fair rates by progressive filling, over the distinct paths of an epoch's flows (tier E, step 1 of
``epoch.py``'s model)."""

from __future__ import annotations

import numpy as np

from fabric.lab.physics.scenario import F64, I64

FILL_ROUNDS = 12
Paths = tuple[I64, I64]  # (each flow's path index, the distinct rows)


def max_min(demand: F64, res: I64, cap: F64, paths: Paths | None = None) -> tuple[F64, F64]:
    """Max-min fair rates by progressive filling; ``res`` (flows x k) indexes ``cap`` (its last entry is an
    infinite dummy used for padding). Returns (rates, each flow's final share). Each round freezes either
    every flow whose demand fits under its bottleneck's current share, or (when none does) the flows at the
    lowest share, and takes them (and what they use) out of the counts: as many rounds as bottleneck levels,
    not as distinct demands. Flows on one path (``paths``:
    the distinct rows of ``res``) see the same shares, so the per-resource work is done once per path and
    only the freezing decisions are per flow."""
    n, k = demand.size, res.shape[1]
    path, rows = paths if paths is not None else (np.arange(n), res)
    n_p = rows.shape[0]
    flat_rows = rows.reshape(-1)
    rate = np.zeros(n)
    share_f = np.zeros(n)
    live = np.flatnonzero(demand > 0)
    on_live, d = path[live], demand[live]  # kept aligned with ``live`` as it shrinks
    cnt = np.bincount(flat_rows, weights=np.repeat(np.bincount(on_live, minlength=n_p).astype(float), k),
                      minlength=cap.size)
    used = np.zeros(cap.size)
    for round_ in range(FILL_ROUNDS):
        if live.size == 0:
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(cnt > 0.5, np.maximum(cap - used, 0.0) / np.maximum(cnt, 1), np.inf)
        b = share[rows].min(axis=1)[on_live]
        last = round_ == FILL_ROUNDS - 1
        # every flow whose demand fits under its bottleneck's share gets its demand (shares only rise as
        # flows freeze at or below them), all in one round; when none does, the lowest share is a level
        under = d <= b * (1 + 1e-9)
        if last:
            fix = np.ones(live.size, dtype=bool)
        elif under.any():
            fix = under
        else:
            fix = b <= float(b.min()) * (1 + 1e-9)
        r = np.minimum(d[fix], b[fix])
        frozen = live[fix]
        rate[frozen] = r
        share_f[frozen] = b[fix]  # a flow's share: its bottleneck's when it froze
        on = on_live[fix]
        n_fix = np.bincount(on, minlength=n_p)
        touched = np.flatnonzero(n_fix)
        r_p = np.bincount(on, weights=r, minlength=n_p)[touched]
        at = rows[touched].reshape(-1)
        used += np.bincount(at, weights=np.repeat(r_p, k), minlength=cap.size)
        cnt -= np.bincount(at, weights=np.repeat(n_fix[touched].astype(float), k), minlength=cap.size)
        keep = ~fix
        live, on_live, d = live[keep], on_live[keep], d[keep]
    return rate, share_f
