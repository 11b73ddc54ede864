"""--limit: select devices by host pattern, group or role (Nornir F-filter style, returns names)."""

from __future__ import annotations

from fnmatch import fnmatchcase

from fabric.inventory.models import Device, Fabric


def _matches(device: Device, pattern: str) -> bool:
    if pattern.startswith("role:"):
        return device.role == pattern[5:]
    if pattern.startswith("group:"):
        return pattern[6:] in device.groups
    if pattern.startswith("platform:"):
        return device.platform == pattern[9:]
    return fnmatchcase(device.name, pattern) or pattern in device.groups


def select_devices(fabric: Fabric, patterns: list[str]) -> list[str]:
    """Device names matching any pattern (all devices when there is none), in inventory order."""
    if not patterns:
        return list(fabric.devices)
    return [n for n, d in fabric.devices.items() if any(_matches(d, p) for p in patterns)]
