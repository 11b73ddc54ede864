"""A tiny FlowSpec-shaped record for physics tests (the workload package's FlowSpec has the same fields)."""

from __future__ import annotations

from dataclasses import dataclass

from fabric.intent.check import validate_inventory
from fabric.inventory.models import Fabric
from tests.conftest import INVENTORIES


@dataclass(frozen=True)
class Flow:
    src: tuple[str, str]
    dst: tuple[str, str]
    bytes: float
    start_s: float = 0.0
    dscp: int = 26
    tag: str = "test"
    group: str = "g0"


def lab_roce() -> Fabric:
    fabric = validate_inventory(str(INVENTORIES / "lab-roce")).fabric
    assert fabric is not None
    return fabric
