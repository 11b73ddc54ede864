"""Fabric-wide validation: rules that need the whole inventory (links, QoS agreement, ECN vs PFC, headroom).

Each rule is a small function ``rule(fabric) -> Iterable[Problem]``; RULES lists them in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from fabric.core.gcpause import paused_gc
from fabric.core.problems import Problem, ValidationReport
from fabric.inventory.load import LoadResult, load_inventory
from fabric.inventory.models import Fabric
from fabric.inventory.rules import devices, ecn, infiniband, links, names, qos

Rule = Callable[[Fabric], Iterable[Problem]]
RULES: list[Rule] = [*names.RULES, *devices.RULES, *links.RULES, *qos.RULES, *ecn.RULES, *infiniband.RULES]


def check_fabric(fabric: Fabric) -> ValidationReport:
    """Run every rule; a rule that finds nothing adds nothing."""
    report = ValidationReport()
    with paused_gc():  # rules build per-device lookups that stay alive until the run ends
        for rule in RULES:
            report.extend(rule(fabric))
    return report


def load_and_check(folder: str) -> LoadResult:
    """Load the inventory and, when it parsed, run the fabric-wide rules on it."""
    result = load_inventory(folder)
    if result.fabric is not None:
        result.report.extend(check_fabric(result.fabric).problems)
    return result
