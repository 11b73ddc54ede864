"""ECN thresholds changed over a switch's real CLI move the live twin's marks the way tier E says: under
open-loop load (WebSearch at 30 %, below saturation) a queue's depth has a tail, and a profile moved up (Kmin and
Kmax + 1.2 MB) is crossed less often: fewer marks. Measured: 0.37 % -> 0.06 % of leaf1's lossless packets
(before the M/G/1 tail, tier E marked 2.9 % either way: this test failed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fabric.lab.control import Lab
from tests.applied.clients import push_sonic, rendered, sonic_patch
from tests.physics.test_twin import advance_model, twin_running, wait_for

OPEN_LOOP = """\
name: websearch-30
description: WebSearch flow sizes, Poisson arrivals at 30% of every NIC's line rate, random destinations
seed: 4
duration_s: 30
phases:
  - name: websearch
    kind: websearch
    load: 0.3
"""
SERVER_PORTS = [f"Ethernet{p}" for p in range(16, 80, 8)]  # leaf1's eight 200G server ports (gpu01-08)


@pytest.fixture
def open_loop_twin(tmp_path: Path) -> Iterator[Lab]:
    with twin_running(tmp_path, OPEN_LOOP) as lab:
        yield lab


def marks_and_packets(lab: Lab, seconds: float) -> tuple[int, int]:
    """Marked and sent lossless-queue packets on leaf1's server ports over ``seconds`` of model time."""
    def totals() -> tuple[int, int]:
        counters = [lab.counters("leaf1", port) for port in SERVER_PORTS]
        return sum(c["q3_ecn_marked_pkts"] for c in counters), sum(c["q3_tx_pkts"] for c in counters)

    (m0, p0) = totals()
    advance_model(lab, seconds)
    (m1, p1) = totals()
    return m1 - m0, p1 - p0


def test_kmin_raised_over_the_sonic_cli_marks_less_under_open_loop_load(open_loop_twin: Lab) -> None:
    lab = open_loop_twin
    push_sonic(lab, rendered()[1]["leaf1"])  # fabric's config: DSCP 26 -> TC 3, ECN 600 KB..2.4 MB, PFC 3
    wait_for(lambda: lab.counters("leaf1", "Ethernet16")["q3_tx_pkts"] > 0)  # the engine re-read leaf1
    advance_model(lab, 0.1)
    low_marks, low_pkts = marks_and_packets(lab, 0.5)
    profile = "/WRED_PROFILE/roce_ecn_200g"
    output = sonic_patch(lab, [{"op": "replace", "path": f"{profile}/green_max_threshold", "value": "3600000"},
                               {"op": "replace", "path": f"{profile}/green_min_threshold", "value": "1800000"}])
    assert output.endswith("Patch applied successfully."), output
    advance_model(lab, 1.2)  # the engine re-reads a changed config once a second
    high_marks, high_pkts = marks_and_packets(lab, 0.5)
    assert low_pkts > 0 and high_pkts > 0
    low, high = low_marks / low_pkts, high_marks / high_pkts
    assert low > 0 and high < 0.5 * low, (low, high)
