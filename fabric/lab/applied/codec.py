"""DeviceKnobs <-> JSON, so a process outside the twin (tests, ``fabric lab``) can see what a device applied."""

from __future__ import annotations

import dataclasses
from typing import Any

from fabric.lab.physics.knobs import DcqcnKnobs, DeviceKnobs, EcnKnobs, PortKnobs, WatchdogKnobs


def knobs_to_json(knobs: DeviceKnobs) -> dict[str, Any]:
    """Plain JSON types: frozensets become sorted lists, integer map keys strings (JSON objects)."""
    plain: dict[str, Any] = _plain(dataclasses.asdict(knobs))
    return plain


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _ints(mapping: dict[str, Any]) -> dict[int, int]:
    return {int(k): int(v) for k, v in mapping.items()}


def knobs_from_json(data: dict[str, Any]) -> DeviceKnobs:
    """The inverse of ``knobs_to_json``."""
    ports = {}
    for name, port in data["ports"].items():
        watchdog = port.get("watchdog")
        ports[name] = PortKnobs(**{
            **port, "pfc_priorities": frozenset(port["pfc_priorities"]),
            "ecn": {int(q): EcnKnobs(**e) for q, e in port["ecn"].items()},
            "watchdog": WatchdogKnobs(**watchdog) if watchdog else None})
    dcqcn = data.get("dcqcn")
    return DeviceKnobs(**{
        **data, "dscp_to_tc": _ints(data["dscp_to_tc"]), "tc_to_queue": _ints(data["tc_to_queue"]), "ports": ports,
        "dcqcn": DcqcnKnobs(**{**dcqcn, "np_enabled_priorities": frozenset(dcqcn["np_enabled_priorities"]),
                               "rp_enabled_priorities": frozenset(dcqcn["rp_enabled_priorities"])})
        if dcqcn else None})
