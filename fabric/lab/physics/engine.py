"""The live congestion engine of the twin: workload + applied config -> every device's counters, in real time.

Each tick (``LiveEngine.step(elapsed)``, about 10 per second from ``fabric.lab.serve``):

1. faults and links: ``link-down`` (a device, or one port) re-hashes ECMP onto the remaining paths;
   ``pfc-storm`` (a host NIC pauses forever), ``slow-receiver`` (a host NIC drains at 25 %) and
   ``headroom-short`` (a switch's headroom at a quarter of its cables' need) act on the engine;
2. knobs: once a second each device's config digest is compared; a changed device is re-read with
   ``fabric.lab.applied.applied_knobs`` and the knob arrays and flow paths are rebuilt (DSCP maps move flows
   between queues);
3. flows: the workload's flows that start in the tick's window. Flows a NIC sends within one epoch at line
   rate ("mice") are aggregated per (source, destination, class, group, epoch, ECMP bucket): one row of the
   engine stands for all of them (the truth weighs it by their count); larger flows stay single rows.
   A flow with an ``after`` group (the next step of a ring all-reduce) goes to the engine as
   ``Scenario.flow_after``: tier E starts it when that group's last flow is done, inside the tick (a
   collective's next launch waits so for the one before and is skipped if overtaken, ``EpochRows._release``). A flow
   whose endpoints have no path up when it arrives is refused (truth: ``unroutable``);
4. tier E advances by the elapsed wall-clock time and its CounterFrame is added to each ``LabDevice.counters``
   (fractional remainders kept per port and counter; queue gauges: watermark = max, occupancy = last), so the
   SNMP agent and every show command serve the same numbers;
5. open-loop flows (websearch, hadoop, storage) still unfinished at the tick's end past their phase's
   ``timeout_s`` are abandoned (truth: ``abandoned``), so a fabric that cannot carry its load keeps a bounded
   backlog.

When a tick's work takes longer than real time the model time advances by at most ``MAX_STEP_S`` per tick
(``lag_s`` in the status says how far behind the wall clock it is), and that tick's counts are stretched over
the wall time it stood for: a collector's rates (counter deltas over wall-clock time) stay the model's rates,
only the workload runs late.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from fabric.inventory.models import Fabric
from fabric.lab.device import LabDevice
from fabric.lab.physics.epoch import EpochEngine
from fabric.lab.physics.knobs import DeviceKnobs
from fabric.lab.physics.scenario import PORT_COUNTERS, PRIORITY_COUNTERS, QUEUE_COUNTERS, QUEUES, CounterFrame, Scenario
from fabric.lab.physics.topology import Builder, Network, cable_headroom_need, flow_keys
from fabric.lab.physics.truth import BUCKETS
from fabric.lab.workload import FlowBatch, Workload, hosts_of

DEFAULT_EPOCH_S = 2e-3
ECMP_BUCKETS = 16  # distinct ECMP hash keys per (source, destination, class): what spreads flows over paths
MICE_BUCKETS = 2  # aggregate rows per (source, destination, class, group) and tick
MAX_STEP_S = 0.25
KNOB_REFRESH_S = 1.0
HEADROOM_SHORT = 0.25  # headroom-short: a quarter of what the cable needs
SIZE_EDGES = np.array([high for high, _ in BUCKETS[:-1]])
BUDGET = 0.6  # share of real time the engine may use (the SSH/SNMP endpoints share the process)
MAX_EPOCH_S = 0.02
TRUTH_WAIT_S = 5.0  # how long a truth request waits for a tick to end (the lab's client gives up after 10 s)
OCCUPANCY_NAMES = [f"q{q}_occupancy_bytes" for q in range(QUEUES)]
WATERMARK_NAMES = [f"q{q}_watermark_bytes" for q in range(QUEUES)]


def knobs_of(device: LabDevice) -> DeviceKnobs:
    """What ``device`` has applied (factory defaults when the applied-config readers cannot tell)."""
    try:
        from fabric.lab.applied import applied_knobs
    except ImportError:  # pragma: no cover - the readers ship with the twin
        return DeviceKnobs(device=device.name)
    return applied_knobs(device)


def _names(names: list[str], index: np.ndarray) -> np.ndarray:
    """Indices into ``names`` mapped to the first index of each distinct name (``index`` itself when the
    names are distinct, as a merged batch's are)."""
    if len(set(names)) == len(names):
        return index
    first: dict[str, int] = {}
    canonical = np.array([first.setdefault(name, i) for i, name in enumerate(names)] or [0], dtype=np.int64)
    return np.asarray(canonical[index], dtype=np.int64)


def _count(into: dict[str, dict[str, float]], tags: Sequence[str], code: np.ndarray, flows: np.ndarray,
           nbytes: np.ndarray) -> None:
    """Add rows given up (each row's phase ``tags[code]``, flows it stands for, bytes undelivered) to a truth
    tally, summed per phase."""
    n_flows = np.bincount(code, weights=flows, minlength=len(tags))
    n_bytes = np.bincount(code, weights=nbytes, minlength=len(tags))
    for tag in np.unique(code).tolist():
        got = into.setdefault(tags[tag], {"flows": 0, "bytes": 0.0})
        got["flows"] += round(float(n_flows[tag]))
        got["bytes"] += float(n_bytes[tag])


def _objects(names: list[str]) -> np.ndarray:
    """``names`` as an object array, so a column of indices into it becomes a list of names in one gather."""
    out = np.empty(len(names), dtype=object)
    out[:] = names
    return out


def _group_rows(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The stable sort of ``key`` (indices) and where each distinct key's run starts in it: the rows of
    ``np.unique(key)`` in the same order, each run's first index the smallest. Keys and indices are packed into
    one int64 (key above, index below) and sorted, a plain sort instead of ``np.unique``'s stable argsort;
    keys too wide to pack take the stable argsort. ``key`` is used up (packed in place)."""
    n = key.size
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    low = int(key.min())
    bits = max(int(n - 1).bit_length(), 1)
    if int(key.max()) - low >= 1 << (62 - bits):
        order = np.argsort(key, kind="stable")
        ordered = key[order]
    else:
        key -= low
        key <<= bits
        key |= np.arange(n, dtype=np.int64)
        key.sort()
        order, ordered = key & ((1 << bits) - 1), key >> bits
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    return order, np.flatnonzero(new)


class LiveEngine:
    """Tier E over the twin's devices, driven by a workload (``None``: idle fabric, faults still count).

    The epoch starts at ``epoch_s`` and lengthens up to ``max_epoch_s`` when ticks cost more than their budget
    (``_adapt``), so results follow the machine's load; ``max_epoch_s=epoch_s`` pins it (tests that assert on
    completion times: the same flows give the same truth on an idle or a loaded machine)."""

    def __init__(self, devices: dict[str, LabDevice], fabric: Fabric, workload: Workload | None,
                 epoch_s: float = DEFAULT_EPOCH_S, digest: Any = None, max_epoch_s: float = MAX_EPOCH_S) -> None:
        self.devices = devices
        self.workload = workload
        self.net = Network.from_fabric(fabric)
        self.hosts = hosts_of(fabric)
        self.nic_port = self.net.nic_ports([(h.name, h.nics) for h in self.hosts])
        self.line = np.array(self.net.speed_gbps) * 1e9 / 8
        self.digest = digest or (lambda d: repr(d.config))
        self.digests = {name: self.digest(d) for name, d in devices.items()}
        self.applied = {name: knobs_of(d) for name, d in devices.items()}
        self.effective: dict[str, DeviceKnobs] = {}
        self.down: frozenset[int] = frozenset()
        self.faulted: tuple[frozenset[str], ...] = (frozenset(),) * 3
        self.builder = self._builder()
        empty = self.builder.build([], [], [], [], [], [], [], [])
        self.engine = EpochEngine(empty, epoch_s)
        self.base_epoch_s, self.max_epoch_s = epoch_s, max(max_epoch_s, epoch_s)
        self.lock = threading.Lock()  # compute (worker thread) vs prepare/status/truth (the twin's loop)
        self.load = BUDGET
        self.ecmp = np.zeros(0, dtype=np.int64)  # ECMP bucket per engine flow row (aligned with engine.fl)
        self.timeout_s = workload.timeout_s if workload else {}
        self.deadline = np.zeros(0)  # per engine flow row: when an open-loop row is abandoned (inf: never; aligned)
        self.abandoned: dict[str, dict[str, float]] = {}  # per tag: rows past their deadline, undelivered bytes
        self.unroutable: dict[str, dict[str, float]] = {}  # per tag: flows refused at arrival for want of a path
        self.sim_s = 0.0
        self.written_s = 0.0  # model time whose counts are in the devices' stores (``write`` follows ``compute``)
        self.failed: str | None = None  # why the engine stopped, when a tick raised (``serve.run_engine``)
        self.computing_since: float | None = None  # time.monotonic() when the tick being computed began
        self.wall_s = 0.0
        self.stretch = 1.0  # wall seconds per model second of the tick being computed (> 1 when it lags)
        self.ordinal = 0
        self._knob_check = 0.0
        names = self._counter_names()
        self.counter_names = names
        self.store_names = [key.format(q) if q >= 0 else key for _, key, q in names]  # as the device stores them
        self.remainder = np.zeros((self.net.n_ports, len(names)))
        self.since_up = np.zeros((self.net.n_ports, len(names)))
        self.occupancy = np.full((self.net.n_ports, QUEUES), -1, dtype=np.int64)  # as last written (-1: never)
        self._port_stores: list[dict[str, int]] | None = None
        self._device_ports: dict[str, list[int]] = {}
        for p, name in enumerate(self.net.device):
            self._device_ports.setdefault(name, []).append(p)
        self._boots: dict[str, float] = {}

    # -- knobs, faults, links -----------------------------------------------------------------------

    def _builder(self) -> Builder:
        knobs = dict(self.applied)
        short = self.faulted[2]
        for name in short:
            k = knobs[name]
            ports = {}
            for p in range(self.net.n_ports):
                if self.net.device[p] == name:
                    pk = k.port(self.net.interface[p])
                    need = cable_headroom_need(self.net, p, pk.mtu)
                    ports[self.net.interface[p]] = dataclasses.replace(pk, headroom_bytes=int(need * HEADROOM_SHORT))
            knobs[name] = dataclasses.replace(k, ports={**k.ports, **ports})
        self.effective = knobs
        return Builder(self.net, knobs)

    def _faults(self) -> tuple[frozenset[int], tuple[frozenset[str], ...]]:
        down: set[int] = set()
        kinds: list[set[str]] = [set(), set(), set()]
        for name, device in self.devices.items():
            if not device.faults.until and not device.link_down:  # most devices, every tick
                continue
            whole = device.faults.active("link-down")
            for iface in device.inventory.interfaces if whole else device.link_down:
                try:
                    down.add(self.net.port(name, iface))
                except KeyError:
                    continue
            for i, kind in enumerate(("pfc-storm", "slow-receiver", "headroom-short")):
                if device.faults.active(kind):
                    kinds[i].add(name)
        return frozenset(down), tuple(frozenset(k) for k in kinds)

    def _refresh(self) -> None:
        """Links, faults and (once a second) applied knobs; rebuild what changed."""
        down, faulted = self._faults()
        rebuild = down != self.down or faulted[2] != self.faulted[2]
        if faulted[:2] != self.faulted[:2]:
            for p in range(self.net.n_ports):
                if self.net.is_host[p]:
                    self.engine.set_pfc_storm(p, self.net.device[p] in faulted[0])
                    self.engine.set_slow_receiver(p, 0.25 if self.net.device[p] in faulted[1] else 1.0)
        if self.wall_s >= self._knob_check:
            self._knob_check = self.wall_s + KNOB_REFRESH_S
            for name, device in self.devices.items():
                digest = self.digest(device)
                if digest != self.digests[name]:
                    self.digests[name] = digest
                    self.applied[name] = knobs_of(device)
                    rebuild = True
        self.faulted = faulted
        if rebuild:
            if down != self.down:
                self.net.set_down(down)
                self.down = down
            self.builder = self._builder()
            fl = self.engine.fl
            self.engine.reroute(self.builder.build(fl.src, fl.dst, fl.size, fl.start, fl.dscp,
                                                   flow_keys(fl.src, fl.dst, fl.dscp, self.ecmp), fl.tag, fl.group))

    # -- flows ----------------------------------------------------------------------------------------

    def _add(self, batch: FlowBatch, window_s: float) -> None:
        """Aggregate mice, route, append to the engine."""
        if not len(batch):
            return
        src = self._ports(batch.src_host, batch.src_nic)
        dst = self._ports(batch.dst_host, batch.dst_nic)
        ordinal = self.ordinal + np.arange(len(batch), dtype=np.int64)
        self.ordinal += len(batch)
        # one key per (source, destination, class, phase, group, bucket); flows longer than the window at
        # line rate keep a key of their own
        n = self.net.n_ports
        tag, group = _names(batch.tags, batch.tag), _names(batch.groups, batch.group)  # chunks repeat names
        key = src * n  # built in place: one array of flows' length instead of one per step
        for mult, add in ((1, dst), (64, batch.dscp), (len(batch.tags) + 1, tag), (len(batch.groups) + 1, group),
                          (len(SIZE_EDGES), np.searchsorted(SIZE_EDGES, batch.bytes)),
                          (MICE_BUCKETS, ordinal % MICE_BUCKETS)):  # one size bucket per row: the truth's hold
            if mult != 1:
                key *= mult
            key += add
        single = batch.bytes > (self.line * window_s)[src]
        np.copyto(key, -1 - ordinal, where=single)
        order, starts = _group_rows(key)
        first, members = order[starts], np.diff(np.append(starts, len(order)))
        row = np.repeat(np.arange(len(first)), members)  # each flow's row, in ``order``
        size = np.bincount(row, weights=batch.bytes[order], minlength=len(first))  # summed in flow order
        start = np.minimum.reduceat(batch.start_s[order], starts)
        ecmp = np.where(single[first], ordinal[first] % ECMP_BUCKETS, ordinal[first] % MICE_BUCKETS)
        spread = np.where(members > 1, size / max(window_s, self.engine.epoch_s), np.inf)
        groups = _objects(batch.groups)
        after = batch.after[first]  # a row's flows share their group, so their ``after`` too
        rows = {"src": src[first], "dst": dst[first], "size": size, "start": start, "dscp": batch.dscp[first],
                "ecmp": ecmp, "members": members.astype(float), "spread": spread,
                "tag": _objects(batch.tags)[batch.tag[first]], "group": groups[batch.group[first]],
                "after": np.where(after >= 0, groups[np.maximum(after, 0)], "")}
        timeout = np.array([self.timeout_s.get(t, np.inf) for t in batch.tags])[batch.tag[first]]
        # an aggregate's deadline runs from the end of the window it is spread over: a timeout shorter than a
        # tick gave up the rows of an idle fabric (13 k of 13.4 k flows at 0.1 s ticks and 50 ms)
        rows["deadline"] = start + np.where(members > 1, size / spread, 0.0) + timeout
        s, d, c = rows["src"], rows["dst"], rows["dscp"]
        paths = self.net.routes(s, d, flow_keys(s, d, c, rows["ecmp"]))
        lost = (paths >= 0).sum(axis=1) < 2  # the source NIC's hop only: no path
        if lost.any():  # a connection cannot be set up without a route: its flows are refused and counted
            _count(self.unroutable, batch.tags, batch.tag[first][lost], rows["members"][lost], size[lost])
            rows = {name: col[~lost] for name, col in rows.items()}
            paths = paths[~lost]
        self.engine.add_flows(self._build(rows, paths), rows["members"], rows["spread"])
        self.ecmp = np.concatenate([self.ecmp, rows["ecmp"]])
        self.deadline = np.concatenate([self.deadline, rows["deadline"]])

    def _build(self, rows: dict[str, np.ndarray], paths: np.ndarray) -> Scenario:
        """The Scenario of these engine rows (columns as ``_add`` gathers them) along their ``paths``."""
        s, d, c = rows["src"], rows["dst"], rows["dscp"]
        return self.builder.build(s, d, rows["size"], rows["start"], c, flow_keys(s, d, c, rows["ecmp"]),
                                  rows["tag"].tolist(), rows["group"].tolist(), rows["after"].tolist(), paths)

    def _abandon(self) -> None:
        """Open-loop rows past their deadline end unfinished (an overloaded fabric drops work instead of
        queueing it without end); their flows and undelivered bytes are counted per phase."""
        late = np.flatnonzero(self.engine.live() & (self.deadline <= self.sim_s))
        if not late.size:
            return
        fl = self.engine.fl
        code: dict[str, int] = {}
        rows = np.array([code.setdefault(fl.tag[i], len(code)) for i in late.tolist()], dtype=np.int64)
        _count(self.abandoned, list(code), rows, fl.members[late], fl.remaining[late])
        self.engine.abandon(late)

    def _ports(self, host: np.ndarray, nic: np.ndarray) -> np.ndarray:
        return np.asarray(self.nic_port[host, nic], dtype=np.int64)

    # -- one tick ---------------------------------------------------------------------------------------

    def step(self, elapsed_s: float) -> CounterFrame:
        """Advance by ``elapsed_s`` of wall-clock time (at most ``MAX_STEP_S`` of model time), in one go."""
        frame = self.compute(self.prepare(elapsed_s))
        self.write(frame)
        return frame

    def prepare(self, elapsed_s: float) -> float:
        """The part that reads device state (faults, links, applied knobs): on the thread that owns the
        devices. Returns the model seconds to compute: the elapsed time, at most ``MAX_STEP_S``; ``write`` then
        stretches that tick's counters over the elapsed wall time."""
        self.wall_s += elapsed_s
        with self.lock:
            self._refresh()
        seconds = min(elapsed_s, MAX_STEP_S)
        self.stretch = elapsed_s / seconds if seconds > 0 else 1.0
        return seconds

    def compute(self, seconds: float) -> CounterFrame:
        """Workload flows of the window, tier E, completions: touches no device, so it may run on a worker
        thread while the endpoints keep answering (``write`` then adds the frame on the devices' thread)."""
        self.computing_since = time.monotonic()
        try:
            with self.lock:
                t0, t1 = self.sim_s, self.sim_s + seconds
                batch = self.workload.flow_batch(self.hosts, t0, t1) if self.workload else FlowBatch.empty()
                self._add(batch, seconds)
                began = time.perf_counter()
                frame = self.engine.advance(seconds)
                self._adapt(time.perf_counter() - began, seconds)
                self.sim_s = t1
                # finished rows go every tick (an epoch's masks are as long as the rows kept)
                self._abandon()
                keep = self.engine.compact()
                if not keep.all():
                    self.ecmp, self.deadline = self.ecmp[keep], self.deadline[keep]
        finally:
            self.computing_since = None
        return frame

    def _adapt(self, cost_s: float, seconds: float) -> None:
        """Keep the engine at about ``BUDGET`` of real time: longer epochs when a tick costs too much (down to
        coarser time resolution, up to ``max_epoch_s``), back towards ``epoch_s`` when there is room."""
        if seconds <= 0:
            return
        self.load = 0.8 * self.load + 0.2 * cost_s / seconds  # smoothed share of real time the engine used
        wanted = self.engine.epoch_s * self.load / BUDGET
        step = float(np.clip(wanted, self.engine.epoch_s / 2, self.engine.epoch_s * 2))
        self.engine.epoch_s = float(np.clip(step, self.base_epoch_s, self.max_epoch_s))

    # -- counters ---------------------------------------------------------------------------------------

    @staticmethod
    def _counter_names() -> list[tuple[str, str, int]]:
        """(frame kind, frame key, queue/priority or -1) per counter column."""
        names = [("port", k, -1) for k in PORT_COUNTERS]
        names += [("prio", k, q) for k in PRIORITY_COUNTERS for q in range(QUEUES)]
        names += [("queue", k, q) for k in QUEUE_COUNTERS for q in range(QUEUES)]
        return names

    def write(self, frame: CounterFrame) -> None:
        """Add the frame to each device's counter store, keeping fractional remainders. When the tick's model
        time fell short of the wall time (``stretch`` > 1: the engine lags), its counts are stretched over the
        wall time, so rates read against the wall clock (every collector's) are the model's rates; the
        workload itself runs late (``lag_s``)."""
        n = self.net.n_ports  # the columns in ``counter_names`` order: port keys, then each key's 8 queues
        inc = np.concatenate([np.stack([frame.port[k] for k in PORT_COUNTERS], axis=1),
                              np.stack([frame.prio[k] for k in PRIORITY_COUNTERS], axis=1).reshape(n, -1),
                              np.stack([frame.queue[k] for k in QUEUE_COUNTERS], axis=1).reshape(n, -1)], axis=1)
        inc *= self.stretch
        moving = np.flatnonzero(inc.any(axis=1))  # ports the frame touched: the rest keep their remainders
        rest = self.remainder[moving] + inc[moving]
        whole = np.floor(rest)
        self.remainder[moving] = rest - whole
        self.since_up[moving] += whole
        at, cols_ = np.nonzero(whole)
        rows = moving[at]
        whole_at = whole[at, cols_]
        names = self.store_names
        stores = self._stores()
        for p, c, value in zip(rows.tolist(), cols_.tolist(), whole_at.astype(np.int64).tolist(), strict=True):
            values = stores[p]
            if names[c] in values:
                values[names[c]] += value
        # gauges: only ports whose occupancy moved since the last write (most of a large idle fabric's do not),
        # and every port of a device whose counters were reset since
        for name, ports in self._device_ports.items():
            boot = self.devices[name].counters.boot_time
            if self._boots.get(name) != boot:
                self._boots[name] = boot
                self.occupancy[ports] = -1
        occupancy = frame.gauge["q{}_occupancy_bytes"].astype(np.int64)
        moved = np.flatnonzero((occupancy != self.occupancy).any(axis=1))
        self.occupancy = occupancy
        for p, row in zip(moved.tolist(), occupancy[moved].tolist(), strict=True):  # plain ints: no numpy scalars
            stores[p].update(zip(OCCUPANCY_NAMES, row, strict=True))
        water = frame.gauge["q{}_watermark_bytes"]
        for p, q in zip(*(a.tolist() for a in np.nonzero(water > 0)), strict=True):
            key = WATERMARK_NAMES[q]
            if water[p, q] > stores[p].get(key, 0):
                stores[p][key] = int(water[p, q])
        self.written_s = self.sim_s

    def _stores(self) -> list[dict[str, int]]:
        """Each port's counter store (the device's own dict, found once)."""
        if self._port_stores is None:
            net = self.net
            self._port_stores = [self.devices[net.device[p]].counters.port(net.interface[p])
                                 for p in range(net.n_ports)]
        return self._port_stores

    # -- what the lab shows -----------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Per device since up: tx bytes and Gb/s, pause frames sent/received, ECN marks, drops."""
        idx = {f"{kind}:{key}:{q}": i for i, (kind, key, q) in enumerate(self.counter_names)}

        def total(kind: str, key: str, qs: range | None = None) -> np.ndarray:
            if qs is None:
                return self.since_up[:, idx[f"{kind}:{key}:-1"]]
            return sum((self.since_up[:, idx[f"{kind}:{key}:{q}"]] for q in qs), np.zeros(self.net.n_ports))

        per = {"tx_bytes": total("port", "tx_octets"), "tx_pause": total("prio", "tx_pfc{}_frames", range(8)),
               "rx_pause": total("prio", "rx_pfc{}_frames", range(8)),
               "ecn_marked": total("queue", "q{}_ecn_marked_pkts", range(8)),
               "drops": total("queue", "q{}_drop_pkts", range(8)) + total("port", "rx_discards")}
        out: dict[str, dict[str, float]] = {}
        for p, name in enumerate(self.net.device):
            row = out.setdefault(name, dict.fromkeys(per, 0.0))
            for key, values in per.items():
                row[key] += float(values[p])
        for row in out.values():
            row["tx_gbps"] = row["tx_bytes"] * 8 / 1e9 / max(self.wall_s, 1e-9)  # counters run on wall time
        flows = int(np.isnan(self.engine.fl.done).sum())  # no lock: a status must not wait for an epoch
        # the model time the devices' counters stand at: a reader told "model_s" sees its counts; a tick being
        # computed (one can take minutes under a workload heavier than the twin follows) adds its wall time
        since = self.computing_since
        running_s = time.monotonic() - since if since is not None else 0.0
        return {"model_s": self.written_s, "lag_s": max(self.wall_s - self.written_s, 0.0) + running_s,
                "epoch_ms": self.engine.epoch_s * 1e3,
                "workload": self.workload.name if self.workload else None,
                "flows": flows, "failed": self.failed, "devices": out}

    def truth(self, wait_s: float = TRUTH_WAIT_S) -> dict[str, Any]:
        """Ground truth between ticks; ``TimeoutError`` when the tick being computed holds the engine longer than
        ``wait_s`` (a workload heavier than the twin keeps up with can take minutes per tick)."""
        if not self.lock.acquire(timeout=wait_s):
            raise TimeoutError(f"the congestion engine has been computing one tick for over {wait_s:g} s (the "
                               "workload asks more than the twin keeps up with: see 'lag' in 'fabric lab status'); "
                               "try again, or run a lighter workload")
        try:
            return {**self.engine.truth(), "model_s": self.sim_s, "abandoned": self.abandoned,
                    "unroutable": self.unroutable,
                    "workload": self.workload.name if self.workload else None}
        finally:
            self.lock.release()
