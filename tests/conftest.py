"""Shared fixtures: repository paths, inventory copies to mutate, and the --update-golden switch."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

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
