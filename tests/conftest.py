"""Shared fixtures: repository paths, inventory copies to mutate, the --update-golden switch, and lab twins
(session ``twin`` and per-test ``fresh_twin`` of inventories/lab-roce, on free ports, stopped by PID after)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from fabric.lab.control import Lab

ROOT = Path(__file__).resolve().parents[1]
INVENTORIES = ROOT / "inventories"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite golden files from current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def copy_inventory(name: str, dest: Path) -> Path:
    """Copy a shipped inventory into ``dest`` and return the copy's folder."""
    target = dest / name
    shutil.copytree(INVENTORIES / name, target)
    return target


def edit_yaml(path: Path, change: Callable[[Any], None]) -> None:
    """Load a YAML file, apply ``change`` to the data in place, write it back."""
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture
def lab_roce(tmp_path: Path) -> Path:
    return copy_inventory("lab-roce", tmp_path)


@pytest.fixture
def lab_ib(tmp_path: Path) -> Path:
    return copy_inventory("lab-ib", tmp_path)

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
