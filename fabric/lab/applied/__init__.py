"""What each twin device has really applied, in the engine's vendor-neutral units (``DeviceKnobs``).

``applied_knobs(device)`` reads ``device.config`` (the platform dialect's state: CONFIG_DB, the applied NVUE
revision, the EOS running config, NX-OS and view-CLI running trees, a host's DCB/ECN/sysfs state) through one
small reader per platform, picked from a table. Nothing is written. Unknown platforms and unconfigured values
give the factory defaults of ``fabric.lab.physics.knobs``.

Limits, by design of the contract: trust and the DSCP->TC->queue maps are one per device (the classification
most ports use); thresholds are one per port, shared by its lossless priorities.

Cost: a reader walks the state once, 0.1-0.2 ms per port in CPython. Where a platform's state object is
replaced (not edited in place) on every change (SONiC's CONFIG_DB dict, NVUE's applied revision, Huawei's
committed running config, NX-OS's running tree with its change stamp), the result is cached on that object's
identity, so the engine's once-a-second poll costs nothing until the device is reconfigured.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fabric.lab.applied import comware, eos, huawei_ce, linux_mlx5, nvue, nxos, sonic
from fabric.lab.applied.codec import knobs_from_json, knobs_to_json
from fabric.lab.device import LabDevice
from fabric.lab.physics.knobs import DeviceKnobs

# The returned DeviceKnobs may be shared with later calls: treat it (and its dicts) as read-only.
Reader = Callable[[LabDevice], DeviceKnobs]
Version = Callable[[Any], tuple[Any, ...]]  # objects that change (by identity or value) whenever the state does

READERS: dict[str, Reader] = {
    "comware": comware.read,
    "eos": eos.read,
    "huawei_ce": huawei_ce.read,
    "linux_mlx5": linux_mlx5.read,
    "nvue": nvue.read,
    "nxos": nxos.read,
    "sonic": sonic.read,
}
VERSIONS: dict[str, Version] = {
    "sonic": lambda state: (state.db,),
    "nvue": lambda state: (state.applied,),
    "huawei_ce": lambda state: (state.running,),
    "nxos": lambda state: (state.running, state.changed_at),
}
_cache: dict[int, tuple[LabDevice, tuple[Any, ...], DeviceKnobs]] = {}


def applied_knobs(device: LabDevice) -> DeviceKnobs:
    """The knobs ``device`` has applied now; factory defaults for a platform without a reader.

    leaf1 (SONiC) after fabric's lab-roce config, abridged::

        DeviceKnobs(device='leaf1', trust='dscp', dscp_to_tc={..., 26: 3, ..., 48: 6, ...},
                    tc_to_queue={0: 0, ..., 7: 7}, buffer_bytes=66213888, ports={'Ethernet0': PortKnobs(
                        mtu=9216, speed_gbps=400, pfc_priorities=frozenset({3}), xoff_bytes=None,
                        xon_bytes=38912, dynamic_alpha=1.0, headroom_bytes=112640,
                        ecn={3: EcnKnobs(kmin_bytes=800000, kmax_bytes=3200000, pmax=0.2)},
                        watchdog=WatchdogKnobs(detect_ms=200, restore_ms=400, action='drop')), ...},
                    dcqcn=None, roce_dscp=0)
    """
    reader = READERS.get(device.platform)
    if reader is None or device.config is None:
        return DeviceKnobs(device=device.name)
    version_of = VERSIONS.get(device.platform)
    if version_of is None:
        return reader(device)
    try:
        version = version_of(device.config)
    except AttributeError:  # a state object of another kind: the reader gives the defaults
        return reader(device)
    cached = _cache.get(id(device))
    if cached is not None and cached[0] is device and _same(cached[1], version):
        return cached[2]
    knobs = reader(device)
    _cache[id(device)] = (device, version, knobs)  # holding the objects keeps their ids from being reused
    return knobs


def _same(old: tuple[Any, ...], new: tuple[Any, ...]) -> bool:
    """State objects compare by identity (never by a deep, slow ``==``), stamps by value."""
    return len(old) == len(new) and all(
        a is b or (isinstance(b, int | float | str | datetime) and a == b) for a, b in zip(old, new, strict=True))


__all__ = ["READERS", "applied_knobs", "knobs_from_json", "knobs_to_json"]
