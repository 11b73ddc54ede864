"""Rules on ECN profiles and their references (numbers against buffers are checked on the intent)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from fabric.core.problems import Problem
from fabric.core.units import SPEEDS_GBPS
from fabric.inventory.models import Fabric

# Published Pmax values span 5 % (NX-OS 7 %, AMD 20 %, Huawei 10-30 %) to 100 % (Cumulus):
# reference/lossless.md §0, §3, §4, §5.2.
RECOMMENDED_PMAX = (5.0, 100.0)
# Profile names become CLI words and shell words (NVUE "nv set qos congestion-control NAME" runs in bash) and
# NX-OS policy-map names "QOS_EGRESS_NAME", which NX-OS allows up to 40 characters: so 1-29 plain characters.
PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,28}")


def auto_profile_name(speed_gbps: int) -> str:
    """The name of the automatic profile of a port speed ('roce_ecn_400g'), reserved for it."""
    return f"roce_ecn_{speed_gbps}g"


AUTO_NAMES = {auto_profile_name(speed): speed for speed in SPEEDS_GBPS}


def whole_percent(value: float) -> int:
    """Round half up, never below 1 %: what the intent renders for a fractional Pmax."""
    return min(100, max(1, int(value + 0.5)))


def profiles(fabric: Fabric) -> Iterator[Problem]:
    """Kmin < Kmax, Pmax in (0, 100] (warn outside the vendors' range)."""
    for name, profile in fabric.spec.ecn.profiles.items():
        where = f"fabric.yaml:ecn.profiles.{name}"
        if not PROFILE_NAME.fullmatch(name):
            yield Problem(where, f"profile name {name!r} cannot be written into switch CLIs and shells",
                          "use 1-29 letters, digits, '_', '.' or '-', starting with a letter or digit")
        elif name in AUTO_NAMES:  # two profiles of one name: a device would get only one of them
            yield Problem(where, f"'{name}' is the name of the automatic profile of {AUTO_NAMES[name]}G ports",
                          "give the profile another name (and the ecn_profile / default_profile naming it)")
        if profile.kmin_bytes >= profile.kmax_bytes:
            yield Problem(f"{where}.kmin_bytes", f"Kmin {profile.kmin_bytes} is not below Kmax {profile.kmax_bytes}",
                          "set kmin_bytes < kmax_bytes")
        if not 0 < profile.pmax_percent <= 100:
            yield Problem(f"{where}.pmax_percent", f"Pmax {profile.pmax_percent:g}% is outside (0, 100]",
                          "use a percentage such as 20")
        elif not RECOMMENDED_PMAX[0] <= profile.pmax_percent <= RECOMMENDED_PMAX[1]:
            yield Problem(f"{where}.pmax_percent",
                          f"Pmax {profile.pmax_percent:g}% is outside the vendors' published "
                          f"{RECOMMENDED_PMAX[0]:g}-{RECOMMENDED_PMAX[1]:g}%", "marking that rare reacts late",
                          severity="warning")
        if 0 < profile.pmax_percent <= 100 and profile.pmax_percent != int(profile.pmax_percent):
            yield Problem(f"{where}.pmax_percent", f"Pmax {profile.pmax_percent:g}% is not a whole percent",
                          f"switch CLIs take whole percent; it is rendered as {whole_percent(profile.pmax_percent)}",
                          severity="warning")
        if profile.kmin_bytes < fabric.spec.mtu:
            yield Problem(f"{where}.kmin_bytes", f"Kmin {profile.kmin_bytes} B is below one MTU ({fabric.spec.mtu} B)",
                          "every queued packet will be marked; raise kmin_bytes", severity="warning")


def _unknown(name: str, known: list[str]) -> str:
    near = difflib.get_close_matches(name, known, n=1)
    if near:
        return f"did you mean '{near[0]}'?"
    return f"define it under ecn.profiles (known: {', '.join(known) or 'none'})"


def references(fabric: Fabric) -> Iterator[Problem]:
    """Every named profile exists; explicit mode gives every lossless switch port a profile."""
    ecn = fabric.spec.ecn
    known = sorted(ecn.profiles)
    if ecn.default_profile is not None and ecn.default_profile not in ecn.profiles:
        yield Problem("fabric.yaml:ecn.default_profile", f"unknown ECN profile '{ecn.default_profile}'",
                      _unknown(ecn.default_profile, known))
    if ecn.mode == "explicit" and ecn.default_profile is None and not ecn.profiles:
        yield Problem("fabric.yaml:ecn.mode", "explicit mode without profiles",
                      "add ecn.profiles and ecn.default_profile, or use mode: auto")
    for device in fabric.devices.values():
        for name, iface in device.interfaces.items():
            if iface.ecn_profile is not None and iface.ecn_profile not in ecn.profiles:
                yield Problem(f"hosts.yaml:{device.name}.data.interfaces.{name}.ecn_profile",
                              f"unknown ECN profile '{iface.ecn_profile}'", _unknown(iface.ecn_profile, known))


RULES = [profiles, references]
