"""Rules on the built intent: the numbers (ECN before PFC, headroom for the cable, buffer budget).

``validate_inventory`` is the whole pipeline before render: load, inventory rules, build, intent rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from fabric.core.asic import ASICS
from fabric.core.problems import Problem, ValidationReport
from fabric.intent.buffers import required_headroom
from fabric.intent.build import build_intent
from fabric.intent.models import DeviceIntent
from fabric.inventory.check import load_and_check
from fabric.inventory.models import Fabric


def ecn_before_pfc(fabric: Fabric, intent: DeviceIntent) -> Iterator[Problem]:
    """Kmax sits below the lossless PG's XOFF point, so DCQCN reacts before PFC pauses the link."""
    if intent.ecn is None or intent.buffers is None:
        return
    xoff_point = intent.buffers.pause_threshold_bytes
    profiles = {p.name: p for p in intent.ecn.profiles}
    for port, name in intent.ecn.ports.items():
        profile = profiles[name]
        if profile.kmax_bytes >= xoff_point:
            yield Problem(f"{intent.name}:{port}",
                          f"ECN Kmax {profile.kmax_bytes} B ({name}) is not below the PFC XOFF point "
                          f"{xoff_point} B", "lower kmax_bytes or raise buffers.dynamic_th: ECN must act before PFC")


def headroom_covers_cable(fabric: Fabric, intent: DeviceIntent) -> Iterator[Problem]:
    """An explicit headroom_bytes is at least what the port's speed and cable need."""
    if intent.buffers is None:
        return
    asic = ASICS[intent.buffers.asic]
    ports = {p.name: p for p in intent.interfaces}
    for pb in intent.buffers.ports:
        if not pb.explicit:
            continue
        need = required_headroom(asic, ports[pb.interface], fabric.spec.buffers).xoff
        if pb.xoff_bytes < need:
            yield Problem(f"{intent.name}:{pb.interface}",
                          f"headroom {pb.xoff_bytes} B is below the {need} B a {pb.cable_length_m:g} m "
                          f"{ports[pb.interface].speed_gbps}G cable needs", f"raise headroom_bytes to >= {need}"
                          " or remove it to compute it")


def headroom_budget(fabric: Fabric, intent: DeviceIntent) -> Iterator[Problem]:
    """All lossless headroom together fits the ASIC buffer budget."""
    if intent.buffers is None:
        return
    budget = intent.buffers.buffer_bytes * fabric.spec.buffers.headroom_budget_percent // 100
    if intent.buffers.total_headroom_bytes > budget:
        yield Problem(f"hosts.yaml:{intent.name}",
                      f"lossless headroom {intent.buffers.total_headroom_bytes} B exceeds "
                      f"{fabric.spec.buffers.headroom_budget_percent}% of the {intent.buffers.asic} buffer "
                      f"({budget} B)", "shorten cables, use fewer lossless priorities or ports, or raise "
                      "buffers.headroom_budget_percent")


def platform_ranges(fabric: Fabric, intent: DeviceIntent) -> Iterator[Problem]:
    """Values a platform's CLI cannot express (ranges from its command reference)."""
    wd = intent.pfc.watchdog if intent.pfc else None
    if intent.platform == "nvue" and intent.buffers and not -7 <= intent.buffers.dynamic_th <= 6:
        yield Problem("fabric.yaml:buffers.dynamic_th", f"{intent.name} (nvue): Cumulus alpha covers 2^-7..2^6, "
                      f"not 2^{intent.buffers.dynamic_th}", "use a dynamic_th between -7 and 6")
    if intent.platform == "huawei_ce" and wd and wd.enabled and max(wd.detect_ms, wd.restore_ms) > 1500:
        yield Problem("fabric.yaml:pfc.watchdog", f"{intent.name} (huawei_ce): deadlock timers take 10-1500 ms",
                      "keep detect_ms and restore_ms at or below 1500")
    if intent.platform == "eos" and wd and wd.enabled and wd.action == "forward":
        yield Problem("fabric.yaml:pfc.watchdog.action", f"{intent.name} (eos): the EOS watchdog drops or notifies "
                      "(alert), it cannot forward", "use action drop or alert")
    if intent.platform == "comware" and intent.ecn:
        for profile in intent.ecn.profiles:
            if (profile.kmax_cells or 0) > 16000:
                yield Problem(f"{intent.name}:ecn.{profile.name}", f"high-limit {profile.kmax_cells} cells exceeds "
                              "H3C's 16000", "lower kmax_bytes")


INTENT_RULES = [ecn_before_pfc, headroom_covers_cable, headroom_budget, platform_ranges]


def check_intent(fabric: Fabric, intents: dict[str, DeviceIntent]) -> ValidationReport:
    """Run every intent rule on every device."""
    report = ValidationReport()
    for intent in intents.values():
        for rule in INTENT_RULES:
            report.extend(rule(fabric, intent))
    return report


@dataclass
class Validated:
    """The outcome of validation: the fabric and its intents when they could be built, and the report."""

    fabric: Fabric | None
    intents: dict[str, DeviceIntent] = field(default_factory=dict)
    report: ValidationReport = field(default_factory=ValidationReport)


def validate_inventory(folder: str) -> Validated:
    """Load, check the inventory, build the intent, check the intent; every problem in one report."""
    loaded = load_and_check(folder)
    if loaded.fabric is None or not loaded.report.ok:
        return Validated(loaded.fabric, {}, loaded.report)
    intents = build_intent(loaded.fabric)
    loaded.report.extend(check_intent(loaded.fabric, intents).problems)
    return Validated(loaded.fabric, intents, loaded.report)
