"""Servers of other shapes than lab-roce's two-NIC hosts, deployed through the CLI against the twin."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fabric.lab.control import Lab
from tests.e2e.conftest import deploy, generate, results


def test_eight_nic_server_deploys_and_is_idempotent(tmp_path: Path, lab_of: Callable[..., Lab]) -> None:
    """A server with 8 NICs reads ~150 sysfs values back: one command line of them was longer than a
    terminal line (4095 characters), got cut, and the deploy failed with 'reading the settings back failed'."""
    inv = generate(tmp_path / "inv", "--kind", "clos", "--spines", "1", "--leaves", "2", "--servers", "1",
                   "--nics-per-server", "8", "--platforms", "sonic")
    lab = lab_of(inv)
    runs = tmp_path / "runs"
    first = deploy(inv, lab, runs, "--limit", "gpu01")
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    assert results(first)["gpu01"]["status"] == "changed"
    again = deploy(inv, lab, runs, "--limit", "gpu01")
    assert again.returncode == 0, again.stderr[-2000:]
    assert results(again)["gpu01"]["status"] == "unchanged"
