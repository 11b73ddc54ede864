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
    """Device names matching any pattern and no ``!pattern``, in inventory order.

    Without positive patterns every device is a candidate: ``--limit '!role:server'`` keeps switches.
    """
    include = [p for p in patterns if not p.startswith("!")]
    exclude = [p[1:] for p in patterns if p.startswith("!")]
    return [
        n for n, d in fabric.devices.items()
        if (not include or any(_matches(d, p) for p in include)) and not any(_matches(d, p) for p in exclude)
    ]
