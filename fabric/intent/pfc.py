"""Feature ``pfc``: enabled priorities, watchdog, 802.3x pause off, DCBX not willing."""

from __future__ import annotations

import math
from functools import lru_cache

from fabric.intent.models import PfcIntent, PortIntent, WatchdogIntent
from fabric.inventory.models import PfcSpec, WatchdogSpec


def priority_vector(priorities: list[int]) -> str:
    """'0,0,0,1,0,0,0,0' for priorities [3] (mlnx_qos --pfc)."""
    return ",".join("1" if p in priorities else "0" for p in range(8))


@lru_cache(maxsize=64)
def watchdog_intent(wd: WatchdogSpec) -> WatchdogIntent:
    """The watchdog timers with Cumulus' robustness; devices share their (frozen) watchdog settings."""
    return WatchdogIntent(**wd.model_dump(), robustness=math.ceil(wd.detect_ms / wd.poll_ms))


def build_pfc(pfc: PfcSpec, ports: list[PortIntent]) -> PfcIntent:
    """The ``pfc`` intent: PFC on every lossless port for the configured priorities."""
    return PfcIntent(
        priorities=sorted(pfc.priorities), priority_vector=priority_vector(pfc.priorities),
        ports=[p.name for p in ports if p.lossless], link_pause=pfc.link_pause,
        dcbx_willing=pfc.dcbx_willing, watchdog=watchdog_intent(pfc.watchdog),
    )
