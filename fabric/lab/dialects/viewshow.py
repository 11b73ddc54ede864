"""Helpers the view-CLI display commands share: per-session rates of counters."""

from __future__ import annotations

import time


class RateMeter:
    """Per-second rate of a counter since this session last displayed it (0 the first time), as the
    ``pps``/``bps`` columns of the real displays show a recent rate rather than a lifetime average."""

    def __init__(self) -> None:
        self.samples: dict[tuple[str, str], tuple[float, int]] = {}

    def rate(self, port: str, counter: str, value: int) -> int:
        now = time.monotonic()
        last = self.samples.get((port, counter))
        self.samples[(port, counter)] = (now, value)
        if last is None or now <= last[0] or value < last[1]:
            return 0
        return int((value - last[1]) / (now - last[0]))
