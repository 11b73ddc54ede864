"""Alert rules run every cycle over the processed samples; each hit is an ``alert`` sample (and a log line).

Rules (DESIGN §7): PFC storm (pause frames per second received on a port above the threshold), drops on a
lossless queue, lossless drops counted by the port (discards) while PFC pauses. Thresholds come from the
``telemetry.alerts`` section of fabric.yaml (:class:`AlertThresholds` holds the defaults).
"""

from __future__ import annotations

from dataclasses import dataclass

from fabric.core.sample import Sample


@dataclass(frozen=True)
class AlertThresholds:
    """Defaults sized for 100-400G RoCE: a healthy port sees bursts of pauses, not a sustained stream."""

    pfc_storm_frames_per_s: float = 10_000.0
    lossless_drop_pkts_per_s: float = 0.0
    lossless_queues: tuple[int, ...] = (3,)


def evaluate(samples: list[Sample], thresholds: AlertThresholds) -> list[Sample]:
    """Alert samples for this cycle, one per (rule, device, interface[, queue])."""
    alerts: list[Sample] = []
    for sample in samples:
        tags, fields = sample.tags, sample.fields
        if sample.measurement in ("interface", "pfc"):
            rate = fields.get("rx_pfc_frames_per_s")
            if isinstance(rate, float) and rate > thresholds.pfc_storm_frames_per_s:
                alerts.append(_alert("pfc_storm", sample, rate, thresholds.pfc_storm_frames_per_s))
        if sample.measurement == "queue" and int(tags.get("queue", "-1")) in thresholds.lossless_queues:
            rate = fields.get("drop_pkts_per_s")
            if isinstance(rate, float) and rate > thresholds.lossless_drop_pkts_per_s:
                alerts.append(_alert("lossless_drop", sample, rate, thresholds.lossless_drop_pkts_per_s))
    return alerts


def _alert(rule: str, sample: Sample, value: float, threshold: float) -> Sample:
    tags = {"rule": rule, **{k: v for k, v in sample.tags.items() if k in ("device", "interface", "queue",
                                                                            "priority")}}
    where = " ".join(f"{k}={v}" for k, v in tags.items() if k != "rule")
    return Sample("alert", tags, {"value": value, "threshold": threshold,
                                  "message": f"{rule}: {where} {value:.1f}/s > {threshold:g}/s"}, sample.ts_ns)
