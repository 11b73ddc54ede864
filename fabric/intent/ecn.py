"""Feature ``ecn``: Kmin/Kmax/Pmax per lossless queue, explicit or scaled by port speed."""

from __future__ import annotations

from functools import lru_cache

from fabric.intent.models import EcnIntent, EcnProfileIntent, PortIntent
from fabric.inventory.models import EcnProfile, EcnSpec
from fabric.inventory.rules.ecn import auto_profile_name, whole_percent

AUTO_SOURCE = "auto: SimAI/HPCC per-speed ECN table (reference/congestion-and-tuning.md §6.1)"
KB = 1000  # the simulators' MMU multiplies KB by 1000
# speed Gb/s -> (Kmin KB, Kmax KB, Pmax %). 25/50/100/400G: SimAI.conf; 40/200G: SimAI forks;
# 10G scales 25G by HPCC run.py's B/25 rule; 800G keeps the 400G row (the forks use it up to 2.4T).
AUTO_ECN: dict[int, tuple[int, int, float]] = {
    10: (40, 160, 20), 25: (100, 400, 20), 40: (200, 800, 20), 50: (200, 800, 20),
    100: (400, 1600, 20), 200: (600, 2400, 20), 400: (800, 3200, 20), 800: (800, 3200, 20),
}


@lru_cache(maxsize=16)
def auto_profile(speed_gbps: int) -> EcnProfileIntent:
    """The automatic profile for a port speed."""
    kmin, kmax, pmax = AUTO_ECN[speed_gbps]
    return EcnProfileIntent(name=auto_profile_name(speed_gbps), kmin_bytes=kmin * KB, kmax_bytes=kmax * KB,
                            pmax_percent=round(pmax), weight=0, source=AUTO_SOURCE)


def explicit_profile(name: str, profile: EcnProfile) -> EcnProfileIntent:
    """A profile from fabric.yaml ecn.profiles."""
    return EcnProfileIntent(name=name, kmin_bytes=profile.kmin_bytes, kmax_bytes=profile.kmax_bytes,
                            pmax_percent=whole_percent(profile.pmax_percent), weight=profile.weight,
                            source=f"fabric.yaml ecn.profiles.{name}")


def profile_for(ecn: EcnSpec, port: PortIntent, port_profile: str | None) -> EcnProfileIntent | None:
    """The port's profile: its own ecn_profile, else the default (explicit mode), else auto by speed."""
    name = port_profile or (ecn.default_profile if ecn.mode == "explicit" else None)
    if name is not None:
        found = ecn.profiles.get(name)
        return explicit_profile(name, found) if found else None
    return auto_profile(port.speed_gbps)


@lru_cache(maxsize=256)
def in_cells(profile: EcnProfileIntent, cell_bytes: int | None) -> EcnProfileIntent:
    """The profile with its thresholds also in cells of the device's ASIC (rounded up)."""
    if cell_bytes is None:
        return profile
    return profile.model_copy(update={"kmin_cells": -(-profile.kmin_bytes // cell_bytes),
                                      "kmax_cells": -(-profile.kmax_bytes // cell_bytes)})


def build_ecn(ecn: EcnSpec, ports: list[PortIntent], port_profiles: dict[str, str | None],
              queue: int, cell_bytes: int | None = None) -> EcnIntent:
    """The ``ecn`` intent: a profile per lossless port, profiles deduplicated by name."""
    chosen: dict[tuple[str | None, int], EcnProfileIntent | None] = {}  # by (port's own profile, speed)
    assigned: dict[str, str] = {}
    for port in ports:
        if not port.lossless:
            continue
        key = (port_profiles.get(port.name), port.speed_gbps)
        if key not in chosen:
            found = profile_for(ecn, port, key[0])
            chosen[key] = in_cells(found, cell_bytes) if found is not None else None
        profile = chosen[key]
        if profile is not None:
            assigned[port.name] = profile.name
    profiles = {p.name: p for p in chosen.values() if p is not None}
    return EcnIntent(queue=queue, profiles=[profiles[name] for name in sorted(profiles)], ports=assigned)
