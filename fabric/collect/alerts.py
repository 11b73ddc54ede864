"""Alert rules run every cycle over the processed samples; each hit is an ``alert`` sample (and a log line).

Rules (DESIGN §7): PFC storm (pause frames per second received on a port above the threshold), drops on a
lossless queue, ECN absent while PFC pauses (the port sends pauses on a lossless priority, its lossless queue
marked nothing), CNP surge (CNPs/s a host NIC sends). Thresholds come from the ``telemetry.alerts``
section of fabric.yaml (:class:`AlertThresholds` holds the defaults).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fabric.core.sample import Sample


@dataclass(frozen=True)
class AlertThresholds:
    """Defaults sized for 100-400G RoCE: a healthy port sees bursts of pauses, not a sustained stream."""

    pfc_storm_frames_per_s: float = 10_000.0
    lossless_drop_pkts_per_s: float = 0.0
    lossless_queues: tuple[int, ...] = (3,)
    ecn_absent_pause_frames_per_s: float = 100.0
    cnp_surge_per_s: float = 50_000.0
    # devices whose own pfc.priorities differ from fabric.yaml's (the inventory's per-device override)
    lossless_by_device: dict[str, tuple[int, ...]] = field(default_factory=dict)


def evaluate(samples: list[Sample], thresholds: AlertThresholds) -> list[Sample]:
    """Alert samples for this cycle, one per (rule, device, interface[, queue])."""
    alerts: list[Sample] = []
    for sample in samples:
        tags, fields = sample.tags, sample.fields
        if sample.measurement in ("interface", "pfc"):
            rate = fields.get("rx_pfc_frames_per_s")
            if isinstance(rate, float) and rate > thresholds.pfc_storm_frames_per_s:
                alerts.append(_alert("pfc_storm", sample, rate, thresholds.pfc_storm_frames_per_s))
        if sample.measurement == "queue" and lossless(tags.get("queue", ""), tags.get("device", ""), thresholds):
            rate = fields.get("drop_pkts_per_s")
            if isinstance(rate, float) and rate > thresholds.lossless_drop_pkts_per_s:
                alerts.append(_alert("lossless_drop", sample, rate, thresholds.lossless_drop_pkts_per_s))
        if sample.measurement == "nic_rdma":
            rate = fields.get("np_cnp_sent_per_s")
            if isinstance(rate, float) and rate > thresholds.cnp_surge_per_s:
                alerts.append(_alert("cnp_surge", sample, rate, thresholds.cnp_surge_per_s))
    return alerts + ecn_absent(samples, thresholds)


def ecn_absent(samples: list[Sample], thresholds: AlertThresholds) -> list[Sample]:
    """ECN must mark before PFC pauses (reference/lossless.md): a port sending pauses on a lossless priority
    while its lossless queue marked nothing this interval means ECN thresholds sit above the PFC xoff point."""
    pausing: dict[tuple[str, str, str], Sample] = {}
    marked: dict[tuple[str, str, str], float] = {}
    for sample in samples:
        tags, fields = sample.tags, sample.fields
        if sample.measurement == "pfc" and lossless(tags.get("priority", ""), tags.get("device", ""), thresholds):
            rate = fields.get("tx_pfc_frames_per_s")
            if isinstance(rate, float) and rate > thresholds.ecn_absent_pause_frames_per_s:
                pausing[(tags["device"], tags["interface"], tags["priority"])] = sample
        if sample.measurement == "queue" and isinstance(fields.get("ecn_marked_pkts_per_s"), float):
            marked[(tags["device"], tags["interface"], tags["queue"])] = float(fields["ecn_marked_pkts_per_s"])
    return [_alert("ecn_absent", sample, float(sample.fields["tx_pfc_frames_per_s"]),
                   thresholds.ecn_absent_pause_frames_per_s)
            for key, sample in pausing.items() if marked.get(key) == 0.0]


def lossless(tag: str, device: str, thresholds: AlertThresholds) -> bool:
    """Whether a queue or priority tag names lossless queues only (the device's own, if it overrides fabric.yaml's):
    ``3``, or a range EOS prints for traffic classes sharing one queue (``TC3-4`` -> ``3-4``) whose every member is
    lossless. A range mixing lossy and lossless classes (``0-3``) cannot say whose drops it counts, and a tag that
    is no number is not judged."""
    queues = thresholds.lossless_by_device.get(device, thresholds.lossless_queues)
    bounds = re.fullmatch(r"(\d+)(?:-(\d+))?", tag)
    if bounds is None:
        return False
    first, last = int(bounds.group(1)), int(bounds.group(2) or bounds.group(1))
    return first <= last and all(q in queues for q in range(first, last + 1))


def _alert(rule: str, sample: Sample, value: float, threshold: float) -> Sample:
    tags = {"rule": rule, **{k: v for k, v in sample.tags.items() if k in ("device", "interface", "queue",
                                                                            "priority", "rdma_device", "port")}}
    where = " ".join(f"{k}={v}" for k, v in tags.items() if k != "rule")
    return Sample("alert", tags, {"value": value, "threshold": threshold,
                                  "message": f"{rule}: {where} {value:.1f}/s > {threshold:g}/s"}, sample.ts_ns)
