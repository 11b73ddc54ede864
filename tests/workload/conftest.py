"""Host lists for workload tests: inventories/lab-roce (16 servers, 2 NICs, derived pods 8/4/4) and a
generated rail-optimised inventory (128 servers, 2 NICs, 8 pods of 16) written by the real generator."""

from __future__ import annotations

from pathlib import Path

import pytest

from fabric.inventory.generate import generate
from fabric.inventory.load import load_inventory
from fabric.inventory.write import write_inventory
from fabric.lab.workload import Host, hosts_of
from tests.conftest import INVENTORIES, ROOT

WORKLOADS = ROOT / "workloads"
SHIPPED = sorted(WORKLOADS.glob("*.yaml"))


def _hosts(folder: Path) -> list[Host]:
    fabric = load_inventory(folder).fabric
    assert fabric is not None
    return hosts_of(fabric)


@pytest.fixture(scope="session")
def roce_hosts() -> list[Host]:
    return _hosts(INVENTORIES / "lab-roce")


@pytest.fixture(scope="session")
def rail_hosts(tmp_path_factory: pytest.TempPathFactory) -> list[Host]:
    folder = tmp_path_factory.mktemp("rail128")
    write_inventory(generate("rail", 8, 16, 128, 2, ["sonic", "eos"]), folder)
    return _hosts(folder)


@pytest.fixture(scope="session")
def two_plane_hosts(tmp_path_factory: pytest.TempPathFactory) -> list[Host]:
    """32 servers of 2 NICs on two spine planes: NIC 0 of every server on one, NIC 1 on the other."""
    folder = tmp_path_factory.mktemp("planes")
    write_inventory(generate("rail", 4, 8, 32, 2, ["sonic"], spine_planes=2), folder)
    return _hosts(folder)
