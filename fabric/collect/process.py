"""Rates from raw counters (DESIGN §7): both kept, a rate field ``<counter>_per_s`` next to each raw counter.

A modular delta (32- or 64-bit, by the source's width table) counts as a wrap only when it is below half the
counter's range; anything else — a sysUpTime that went backwards (reboot), a counter that fell by more than a
plausible wrap, or a jump of more than half the range — is a discontinuity: the sample keeps its raw values,
gets no rate and ``discontinuity=true``. A missing sample just makes the next interval longer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from fabric.core.sample import FieldValue, Sample

SeriesKey = tuple[str, tuple[tuple[str, str], ...], tuple[str, ...]]


@dataclass
class RateState:
    """Last raw counters per series and last sysUpTime per device, carried across cycles."""

    widths: dict[tuple[str, str], int]
    last: dict[SeriesKey, tuple[int, dict[str, FieldValue]]] = field(default_factory=dict)
    uptime: dict[str, tuple[int, int]] = field(default_factory=dict)  # device -> (sysUpTime ticks, ts_ns)
    discontinuities: int = 0
    _counter_names: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = field(default_factory=dict, repr=False)

    def apply(self, samples: list[Sample]) -> list[Sample]:
        """The cycle's samples with rate fields added; call once per cycle with every device's samples."""
        rebooted = self._reboots(samples)
        counter_names = self._counter_names
        out: list[Sample] = []
        for sample in samples:
            fields = sample.fields
            # which fields are counters depends only on the measurement and the field names: decided once
            shape = (sample.measurement, tuple(fields))
            names = counter_names.get(shape)
            if names is None:
                names = counter_names[shape] = tuple(sorted(k for k in fields if self.width(sample.measurement, k)))
            if not names:
                out.append(sample)
                continue
            # the field names are part of the key: SNMP and CLI may both report a queue, with different counters
            key = (sample.measurement, tuple(sorted(sample.tags.items())), names)
            counters = {k: fields[k] for k in names}
            previous = self.last.get(key)
            self.last[key] = (sample.ts_ns, counters)
            if previous is None:
                out.append(sample)
                continue
            ts, before = previous
            elapsed_s = (sample.ts_ns - ts) / 1e9
            rates = None if sample.tags.get("device") in rebooted or elapsed_s <= 0 else \
                self._rates(sample.measurement, counters, before, elapsed_s)
            extra: dict[str, FieldValue] = {"discontinuity": True} if rates is None else rates
            if rates is None:
                self.discontinuities += 1
            out.append(Sample(sample.measurement, sample.tags, {**fields, **extra}, sample.ts_ns))
        return out

    def width(self, measurement: str, name: str) -> int:
        """The counter's width in bits; 0 for a gauge. ``(measurement, "*")`` covers a whole measurement whose
        field names come from the device (ethtool -S), which are all 64-bit counters."""
        return self.widths.get((measurement, name), self.widths.get((measurement, "*"), 0))

    def _reboots(self, samples: list[Sample]) -> set[str]:
        rebooted: set[str] = set()
        for sample in samples:
            if sample.measurement == "device" and "uptime_ticks" in sample.fields:
                device, ticks = sample.tags["device"], int(sample.fields["uptime_ticks"])
                if rebooted_between(self.uptime.get(device), (ticks, sample.ts_ns)):
                    rebooted.add(device)
                self.uptime[device] = (ticks, sample.ts_ns)
        return rebooted

    def _rates(self, measurement: str, now: dict[str, FieldValue], before: dict[str, FieldValue],
               elapsed_s: float) -> dict[str, FieldValue] | None:
        rates: dict[str, FieldValue] = {}
        for name, value in now.items():
            if name not in before:
                continue
            delta = counter_delta(int(before[name]), int(value), self.width(measurement, name))
            if delta is None:
                return None
            rates[f"{name}_per_s"] = delta / elapsed_s
        return rates


TICKS_SPAN = 1 << 32  # sysUpTime is TimeTicks, hundredths of a second in 32 bits: it wraps after 497 days


def rebooted_between(before: tuple[int, int] | None, now: tuple[int, int]) -> bool:
    """Whether sysUpTime going from ``before`` to ``now`` (ticks, ts_ns) means a restart. A smaller value is one,
    unless the ticks wrapped: the agent's clock then reads what the collector's elapsed time predicts, modulo
    2**32 (10 s or a tenth of the interval of slack)."""
    if before is None or now[0] >= before[0]:
        return False
    elapsed_ns = now[1] - before[1]
    expected = before[0] + elapsed_ns // 10_000_000
    slack = max(1000, elapsed_ns // 1_000_000_000 * 10)
    return not (expected >= TICKS_SPAN and abs(now[0] + TICKS_SPAN - expected) <= slack)


def counter_delta(before: int, now: int, bits: int) -> int | None:
    """Events between two reads of a ``bits``-wide counter, or None for a discontinuity (reset or absurd jump)."""
    span = 1 << bits
    delta = (now - before) % span
    return delta if delta < span // 2 else None


def drop_overlap(primary: list[Sample], secondary: list[Sample]) -> list[Sample]:
    """``secondary``'s samples without the fields ``primary`` already reported for the same point (measurement
    and tags): a switch's CLI fills what its SNMP agent lacks (NX-OS queue ECN marks and depth) and stands in
    for it when the agent failed this cycle, without writing every counter twice."""
    seen: dict[tuple[str, tuple[tuple[str, str], ...]], set[str]] = {}
    for sample in primary:
        seen.setdefault((sample.measurement, tuple(sorted(sample.tags.items()))), set()).update(sample.fields)
    kept: list[Sample] = []
    for sample in secondary:
        taken = seen.get((sample.measurement, tuple(sorted(sample.tags.items()))))
        if not taken:
            kept.append(sample)
        elif fields := {k: v for k, v in sample.fields.items() if k not in taken}:
            kept.append(replace(sample, fields=fields))
    return kept
