"""The collection loop: poll every device at once under a per-device deadline, derive rates, judge alerts,
write every sink, and report the collector's own health as a ``collector`` sample.

Ticks are aligned to multiples of the interval (plus a small fixed jitter per process, so a fleet of
collectors does not hit agents in the same millisecond); a cycle never runs past its deadline, and a stop
request (SIGTERM/SIGINT) ends the loop after the current cycle is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass, field

from fabric.collect import cli_parsers, switch_parsers
from fabric.collect.alerts import AlertThresholds, evaluate
from fabric.collect.cli_source import CliPoller, SshLogin, SshTarget
from fabric.collect.process import RateState, drop_overlap
from fabric.collect.snmp import WIDTHS, SnmpAuth, SnmpPoller, SnmpTarget
from fabric.core.liblogs import quiet_third_party_loggers
from fabric.core.sample import Sample
from fabric.sink.base import Sink

log = logging.getLogger("fabric.collect")


@dataclass
class CycleReport:
    """What one cycle did, for the CLI's summary line and the health sample."""

    samples: int = 0
    ok: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    alerts: list[Sample] = field(default_factory=list)
    seconds: float = 0.0


class Collector:
    def __init__(self, targets: list[SnmpTarget], auth: SnmpAuth, sinks: list[Sink],
                 thresholds: AlertThresholds | None = None, deadline_s: float = 5.0,
                 cli_targets: list[SshTarget] | None = None, login: SshLogin | None = None) -> None:
        quiet_third_party_loggers()  # a device's failure is its one line in the report, not a library traceback
        self.targets, self.auth, self.sinks, self.deadline_s = targets, auth, sinks, deadline_s
        self.cli_targets = cli_targets or []
        self.cli = CliPoller(login) if login is not None and self.cli_targets else None
        self.thresholds = thresholds or AlertThresholds()
        self.state = RateState({**switch_parsers.WIDTHS, **WIDTHS, **cli_parsers.WIDTHS, ("nic_rdma", "*"): 64})
        # the health sample names the sources that ran: a CLI-only collector must not look like SNMP
        self.sources = "+".join(name for name, ran in (("snmp", bool(targets)), ("cli", self.cli is not None))
                                if ran) or "none"
        self.stop = asyncio.Event()
        self.reports: list[CycleReport] = []
        self._dropped = 0

    async def cycle(self, poller: SnmpPoller) -> CycleReport:
        start = time.monotonic()
        polls = [poller.poll_all(self.targets, self.deadline_s)]
        if self.cli is not None:
            polls.append(self.cli.poll_all(self.cli_targets, self.deadline_s))
        batches = await asyncio.gather(*polls)
        results = [r for batch in batches for r in batch]
        by_snmp = [s for r in batches[0] for s in r.samples]
        raw = by_snmp + drop_overlap(by_snmp, [s for batch in batches[1:] for r in batch for s in r.samples])
        processed = self.state.apply(raw)
        alerts = evaluate(processed, self.thresholds)
        for alert in alerts:
            log.warning("alert %s", alert.fields["message"])
        failed = {r.device: r.error for r in results if r.error is not None}
        ok = sorted({r.device for r in results} - set(failed))
        report = CycleReport(len(processed) + len(alerts), ok, failed, alerts)
        for device, error in report.failed.items():
            log.warning("%s: %s", device, error)
        report.seconds = time.monotonic() - start
        health = self._health(report)
        dropped = int(health.fields.get("spool_dropped", 0))
        if dropped > self._dropped:  # the spool hit its bound: say so in the data, not only in the log
            overflow = Sample("alert", {"rule": "spool_overflow"}, {
                "value": float(dropped - self._dropped), "threshold": 0.0,
                "message": f"spool_overflow: {dropped - self._dropped} points dropped ({dropped} in total)"},
                health.ts_ns)
            log.error("alert %s", overflow.fields["message"])
            alerts.append(overflow)
            self._dropped = dropped
        out = processed + alerts + [health]
        for sink in self.sinks:
            sink.write(out)
        if self.sinks and all(sink.health().get("gone") for sink in self.sinks):
            self.stop.set()  # nobody reads any more (``fabric collect ... | head``): end as SIGTERM would
        self.reports.append(report)
        return report

    def _health(self, report: CycleReport) -> Sample:
        fields: dict[str, int | float | str | bool] = {
            "cycle_ms": round(report.seconds * 1000, 3), "devices_ok": len(report.ok),
            "devices_failed": len(report.failed), "samples": report.samples, "alerts": len(report.alerts),
            "discontinuities": self.state.discontinuities}
        for sink in self.sinks:
            for key, value in sink.health().items():
                if key.startswith("spool") or key == "failed_posts":
                    fields[key] = value
                elif key == "sink_dropped":  # file sinks: points a failed write lost, all such sinks together
                    fields[key] = int(fields.get(key, 0)) + value
        return Sample("collector", {"collector": self.sources}, fields, time.time_ns())

    async def run(self, interval_s: float | None, duration_s: float | None,
                  cycles: int | None = None) -> list[CycleReport]:
        """One cycle (``interval_s`` None) or aligned cycles until ``duration_s``, ``cycles`` or a stop request."""
        poller = SnmpPoller(self.auth, timeout_s=min(self.deadline_s / 2, 2.0), retries=1)
        try:
            if self.cli is not None:
                await self.cli.connect_all(self.cli_targets, self.deadline_s)
            if interval_s is None:
                await self.cycle(poller)
                return self.reports
            jitter = random.uniform(0, min(0.05 * interval_s, 1.0))
            end = None if duration_s is None else time.time() + duration_s
            while not self.stop.is_set():
                await self.cycle(poller)
                if cycles is not None and len(self.reports) >= cycles:
                    break
                now = time.time()
                next_tick = (now // interval_s + 1) * interval_s + jitter
                if end is not None and next_tick >= end:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), next_tick - now)
            return self.reports
        finally:
            poller.close()
            if self.cli is not None:
                self.cli.close()
