"""Rules on devices themselves: platform, role, ASIC, management address, secrets."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from fabric.core.asic import ASICS
from fabric.core.platform import PLATFORMS
from fabric.core.problems import Problem
from fabric.inventory.models import Fabric

ROLE_KINDS = {"spine": ("switch", "managed-by-sm"), "leaf": ("switch", "managed-by-sm"),
              "server": ("host",), "sm": ("sm",)}


def _suggest(name: str, valid: list[str]) -> str:
    near = difflib.get_close_matches(name, valid, n=1)
    hint = f"did you mean '{near[0]}'? " if near else ""
    return f"{hint}valid: {', '.join(valid)}"


def platforms(fabric: Fabric) -> Iterator[Problem]:
    """The platform exists, suits the device's role, and speaks the fabric's transport."""
    transport = fabric.spec.transport
    for name, device in fabric.devices.items():
        spec = PLATFORMS.get(device.platform)
        where = f"hosts.yaml:{name}.platform"
        if spec is None:
            yield Problem(where, f"unknown platform '{device.platform}'", _suggest(device.platform, sorted(PLATFORMS)))
        elif spec.kind not in ROLE_KINDS[device.role]:
            yield Problem(where, f"platform '{device.platform}' ({spec.kind}) cannot have role '{device.role}'",
                          "fix data.role or the platform")
        elif transport not in spec.transports:
            yield Problem(where, f"platform '{device.platform}' does not run on a {transport} fabric",
                          f"use one of: {', '.join(p for p, s in PLATFORMS.items() if transport in s.transports)}")


def asics(fabric: Fabric) -> Iterator[Problem]:
    """RoCE switches name a known ASIC: headroom and buffer checks depend on it."""
    for name, device in fabric.devices.items():
        spec = PLATFORMS.get(device.platform)
        if spec is None or spec.kind != "switch" or fabric.spec.transport != "roce":
            continue
        where = f"hosts.yaml:{name}.data.asic"
        if device.asic is None:
            yield Problem(where, "required for a RoCE switch (headroom depends on it)",
                          f"set data.asic on the host or its group; valid: {', '.join(sorted(ASICS))}")
        elif device.asic not in ASICS:
            yield Problem(where, f"unknown ASIC '{device.asic}'", _suggest(device.asic, sorted(ASICS)))


def addresses(fabric: Fabric) -> Iterator[Problem]:
    """No two devices share a management address and port."""
    seen: dict[tuple[str, int | None], str] = {}
    for name, device in fabric.devices.items():
        key = (device.hostname, device.port)
        if key in seen:
            yield Problem(f"hosts.yaml:{name}.hostname",
                          f"management address {device.hostname} is also used by {seen[key]}",
                          "give every device its own address")
        else:
            seen[key] = name


RULES = [platforms, asics, addresses]
