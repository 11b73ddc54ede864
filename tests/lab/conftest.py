"""Lab fixtures: a twin of inventories/lab-roce for the test session, on free ports, stopped by PID after."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fabric.lab.control import Lab
from tests.conftest import INVENTORIES


@pytest.fixture(scope="session")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The lab-roce twin: ``twin.endpoint(device, protocol)``, ``twin.password``, ``twin.client_key``,
    ``twin.known_hosts``, ``twin.fault(device, kind, seconds)``, ``twin.clear(device)``."""
    lab = Lab(tmp_path_factory.mktemp("twin")).up(INVENTORIES / "lab-roce", free_ports=True)
    try:
        yield lab
    finally:
        lab.down()


@pytest.fixture
def fresh_twin(tmp_path: Path) -> Iterator[Lab]:
    """A twin of its own for a test that changes device state or injects faults it cannot clear."""
    lab = Lab(tmp_path / "twin").up(INVENTORIES / "lab-roce", free_ports=True)
    try:
        yield lab
    finally:
        lab.down()
