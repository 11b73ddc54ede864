"""The sinks' cached line-protocol encoder writes exactly what ``Sample.line`` writes (escapes, types, tag order,
empty tag values), for new and for cached series."""

from __future__ import annotations

from fabric.core.sample import Sample
from fabric.sink.lineprotocol import LineEncoder

SAMPLES = [
    Sample("interface", {"interface": "Ethernet0", "device": "leaf1"}, {"rx_octets": 12, "rate_per_s": 0.1}, 5),
    Sample("interface", {"device": "leaf1", "interface": "Ethernet0"}, {"rx_octets": 13, "rate_per_s": 1e21}, 6),
    Sample("alert", {"rule": "pfc storm", "device": "a,b=c", "queue": ""},
           {"message": 'say "hi" \\ now', "ok": True, "bad": False, "value": -3.5}, 7),
    Sample("we ird,m", {"t\\k": "v v"}, {"f=x": 1, "g": -0.0, "h": float("inf")}, 8),
    Sample("collector", {"collector": "snmp+cli"}, {"cycle_ms": 12.5, "devices_ok": 0}, 0),
]


def test_encoder_matches_sample_line_for_new_and_cached_series() -> None:
    encoder = LineEncoder()
    for _ in range(2):  # the second round hits the caches
        assert encoder.lines(SAMPLES) == [s.line() for s in SAMPLES]
