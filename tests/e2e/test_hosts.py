"""Servers of other shapes than lab-roce's two-NIC hosts, deployed through the CLI against the twin."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from fabric.lab.control import Lab
from tests.e2e.conftest import deploy, generate, results, ssh_run


def deploys_then_unchanged(inv: Path, lab: Lab, runs: Path) -> None:
    """gpu01 deploys (changed), then a second run finds nothing to do (unchanged)."""
    first = deploy(inv, lab, runs, "--limit", "gpu01")
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    assert results(first)["gpu01"]["status"] == "changed"
    again = deploy(inv, lab, runs, "--limit", "gpu01")
    assert again.returncode == 0, again.stderr[-2000:]
    assert results(again)["gpu01"]["status"] == "unchanged"


def test_eight_nic_server_deploys_and_is_idempotent(tmp_path: Path, lab_of: Callable[..., Lab]) -> None:
    """A server with 8 NICs reads ~150 sysfs values back: one command line of them was longer than a
    terminal line (4095 characters), got cut, and the deploy failed with 'reading the settings back failed'."""
    inv = generate(tmp_path / "inv", "--kind", "clos", "--spines", "1", "--leaves", "2", "--servers", "1",
                   "--nics-per-server", "8", "--platforms", "sonic")
    deploys_then_unchanged(inv, lab_of(inv), tmp_path / "runs")


def test_host_sysfs_glob_is_cheap_and_live(tmp_path: Path, lab_of: Callable[..., Lab]) -> None:
    """``fabric collect`` greps every RDMA hw_counter of a host each cycle. The twin rebuilt the whole sysfs
    tree for every path it resolved: 0.9 s of its event loop for a 4-NIC host (several seconds at 8 NICs), so
    after a deploy a 5-server lab's SNMP agents missed the collector's 2 s timeouts. The cached tree must still
    read live values: counters the lab adds, and a link taken down."""
    inv = generate(tmp_path / "inv", "--kind", "clos", "--spines", "1", "--leaves", "2", "--servers", "1",
                   "--nics-per-server", "8", "--platforms", "nvue")
    lab = lab_of(inv)
    command = "grep -H . /sys/class/infiniband/*/ports/*/hw_counters/*"
    text, _ = asyncio.run(ssh_run(lab, "gpu01", command))
    assert len(text.splitlines()) == 8 * 27  # 8 RDMA devices x the mlx5 hw_counters
    seconds = min(asyncio.run(ssh_run(lab, "gpu01", command))[1] for _ in range(3))
    assert seconds < 0.5, f"{command} took {seconds:.2f} s of the lab's event loop"

    lab.counters("gpu01", "ens3np0", np_cnp_sent=1234)
    cnp, _ = asyncio.run(ssh_run(lab, "gpu01", "cat /sys/class/infiniband/mlx5_2/ports/1/hw_counters/np_cnp_sent"))
    assert cnp.strip() == "1234"
    state = "cat /sys/class/net/ens3np0/operstate /sys/class/infiniband/mlx5_2/ports/1/state"
    assert asyncio.run(ssh_run(lab, "gpu01", state))[0].split() == ["up", "4:", "ACTIVE"]
    lab.fault("gpu01", "link-down")
    assert asyncio.run(ssh_run(lab, "gpu01", state))[0].split() == ["down", "1:", "DOWN"]
    lab.clear("gpu01")
    assert asyncio.run(ssh_run(lab, "gpu01", state))[0].split() == ["up", "4:", "ACTIVE"]


def test_one_nic_server_reads_back_a_lone_sysfs_file(tmp_path: Path, lab_of: Callable[..., Lab]) -> None:
    """The driver reads sysfs back with ``grep -H`` in chunks; with netdev ``ens1`` the last chunk held one file
    (cnp_802p_prio) and the twin's grep dropped the ``FILE:`` label that GNU grep prints with ``-H``: verify read
    ``none``, and the rollback failed the same way."""
    inv = generate(tmp_path / "inv", "--kind", "clos", "--spines", "1", "--leaves", "1", "--servers", "1",
                   "--nics-per-server", "1", "--platforms", "sonic")
    hosts = inv / "hosts.yaml"
    hosts.write_text(hosts.read_text().replace("ens1np0", "ens1"))
    deploys_then_unchanged(inv, lab_of(inv), tmp_path / "runs")
