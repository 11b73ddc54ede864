"""SONiC: CONFIG_DB tables -> knobs (reference/lossless.md §1.2-1.5).

- Classification per port from PORT_QOS_MAP's ``dscp_to_tc_map``/``tc_to_queue_map`` (a port without a DSCP map
  trusts PCP); unmapped DSCPs go to TC 0 (the SAI default of a DSCP_TO_TC_MAP).
- PFC: ``pfc_enable``; thresholds from the BUFFER_PG profile of the lossless PG (``xoff`` = headroom, ``xon``
  as stated, ``dynamic_th`` d -> alpha 2**d, ``static_th`` -> a static XOFF). A PG left to buffermgrd (profile
  NULL or missing, dynamic model) gets the formula result for its CABLE_LENGTH and PORT mtu.
- ECN: QUEUE|port|q ``wred_profile`` whose ``ecn`` marks green and ``wred_green_enable`` is true (without it
  a SAI-conformant ASIC marks nothing: ecnconfig cannot set it, sonic-buildimage#4545): green thresholds, drop
  probability in %. Traffic is unmarked RoCE data, i.e. green.
- Watchdog: PFC_WD|port (only armed on ports with ``pfc_enable``).
- Shared buffer: ingress_lossless_pool ``size`` in the traditional model; the dynamic model computes it (the
  ASIC's buffer less the reserved headroom).
"""

from __future__ import annotations

from typing import Any

from fabric.lab.applied.common import (
    ACTIONS,
    Classification,
    PortDraft,
    derived_headroom,
    ecn,
    finish,
    int_list,
    majority,
    number,
)
from fabric.lab.device import LabDevice
from fabric.lab.dialects.sonic_db import SonicState
from fabric.lab.physics.knobs import DeviceKnobs, WatchdogKnobs

Db = dict[str, dict[str, dict[str, Any]]]
GREEN_ECN = frozenset({"ecn_green", "ecn_green_yellow", "ecn_green_red", "ecn_all"})  # modes that mark green


def read(device: LabDevice) -> DeviceKnobs:
    state = device.config
    if not isinstance(state, SonicState):
        return DeviceKnobs(device=device.name)
    db: Db = state.db
    qos_maps = db.get("PORT_QOS_MAP", {})
    maps: dict[tuple[str, str], Classification] = {}  # one per distinct pair of map names, not one per port
    classes: dict[str, Classification] = {}
    for port, fields in qos_maps.items():
        names = (str(fields.get("dscp_to_tc_map")), str(fields.get("tc_to_queue_map")))
        if port in device.inventory.interfaces:
            classes[port] = maps[names] if names in maps else maps.setdefault(names, _classification(db, *names))
    queues, pgs = by_port(db.get("QUEUE", {})), by_port(db.get("BUFFER_PG", {}))
    drafts = {port: _port(device, db, port, queues.get(port, []), pgs.get(port, []))
              for port in device.inventory.interfaces}
    pool = number(db.get("BUFFER_POOL", {}).get("ingress_lossless_pool", {}).get("size"))
    dynamic = db.get("DEVICE_METADATA", {}).get("localhost", {}).get("buffer_model") == "dynamic"
    return finish(device, majority(classes), drafts, None if dynamic or pool is None else pool)


def _classification(db: Db, dscp_name: str, tc_name: str) -> Classification:
    dscp_map = db.get("DSCP_TO_TC_MAP", {}).get(dscp_name)
    tc_map = db.get("TC_TO_QUEUE_MAP", {}).get(tc_name)
    result = Classification()
    if dscp_map is not None:
        result.trust = "dscp"
        result.dscp_to_tc = {dscp: int(dscp_map.get(str(dscp), 0)) for dscp in range(64)}
    if tc_map is not None:
        result.tc_to_queue = {tc: int(tc_map.get(str(tc), tc)) for tc in range(8)}
    return result


Entries = list[tuple[str, dict[str, Any]]]


def by_port(table: dict[str, dict[str, Any]]) -> dict[str, Entries]:
    """``{"Ethernet0|3-4": fields}`` -> ``{"Ethernet0": [("3-4", fields)]}``: one pass, not one per port."""
    grouped: dict[str, Entries] = {}
    for key, fields in table.items():
        name, _, ids = key.partition("|")
        grouped.setdefault(name, []).append((ids, fields))
    return grouped


def _port(device: LabDevice, db: Db, port: str, queues: Entries, pgs: Entries) -> PortDraft:
    entry = db.get("PORT", {}).get(port, {})
    speed = number(entry.get("speed"))
    draft = PortDraft(mtu=number(entry.get("mtu")), speed_gbps=speed // 1000 if speed else None)
    draft.pfc = set(int_list(str(db.get("PORT_QOS_MAP", {}).get(port, {}).get("pfc_enable", ""))))
    if draft.pfc:
        _headroom(device, db, port, pgs, draft)
    for ids, fields in queues:
        profile = db.get("WRED_PROFILE", {}).get(str(fields.get("wred_profile")))
        if profile is None or profile.get("ecn") not in GREEN_ECN or profile.get("wred_green_enable") != "true":
            continue  # SAI marks only where WRED is enabled for the colour (reference/lossless.md §9.3)
        for queue in int_list(ids):
            draft.ecn[queue] = ecn(float(profile.get("green_min_threshold", 0)),
                                   float(profile.get("green_max_threshold", 0)),
                                   float(profile.get("green_drop_probability", 0)))
    watchdog = db.get("PFC_WD", {}).get(port)
    if watchdog is not None:
        defaults = WatchdogKnobs()
        draft.watchdog = WatchdogKnobs(
            detect_ms=number(watchdog.get("detection_time")) or defaults.detect_ms,
            restore_ms=number(watchdog.get("restoration_time")) or defaults.restore_ms,
            action=ACTIONS.get(str(watchdog.get("action")), "drop"))
    return draft


def _headroom(device: LabDevice, db: Db, port: str, pgs: Entries, draft: PortDraft) -> None:
    """The lossless PG's profile (the first PG holding a PFC priority), else buffermgrd's dynamic result."""
    pg_map = _pfc_to_pg(db, port)
    profile: dict[str, Any] | None = None
    for ids, fields in pgs:
        if {pg_map.get(p, p) for p in draft.pfc} & set(int_list(ids)):
            profile = db.get("BUFFER_PROFILE", {}).get(str(fields.get("profile")))
            break
    if profile is None or number(profile.get("xoff")) is None:
        cable = db.get("CABLE_LENGTH", {}).get("AZURE", {}).get(port)
        need = derived_headroom(device, port, draft.mtu, float(str(cable).rstrip("m")) if cable else None)
        draft.derive(need)
        draft.xon_bytes = need.xon
        threshold = (profile or {}).get("dynamic_th", db.get("DEFAULT_LOSSLESS_BUFFER_PARAMETER", {})
                                        .get("AZURE", {}).get("default_dynamic_th", "0"))
        draft.alpha = 2.0 ** int(str(threshold))
        return
    draft.headroom_bytes = number(profile.get("xoff"))
    draft.xon_bytes = number(profile.get("xon"))
    draft.reserved_bytes = number(profile.get("size"))
    if profile.get("static_th") is not None:
        draft.xoff_bytes = number(profile.get("static_th"))
    else:
        draft.alpha = 2.0 ** int(str(profile.get("dynamic_th", 0)))


def _pfc_to_pg(db: Db, port: str) -> dict[int, int]:
    name = db.get("PORT_QOS_MAP", {}).get(port, {}).get("pfc_to_pg_map")
    table = db.get("PFC_PRIORITY_TO_PRIORITY_GROUP_MAP", {}).get(str(name), {})
    return {int(k): int(v) for k, v in table.items()}
