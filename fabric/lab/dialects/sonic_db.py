"""SONiC's running state: CONFIG_DB as ``{table: {key: {field: value}}}``, and the ways config changes it.

``merge`` is ``sonic-cfggen -j FILE --write-to-db`` (ConfigDBConnector.mod_config: an entry's fields are merged,
a null entry deletes it); ``apply_patch`` is ``config apply-patch`` (RFC 6902 on the ConfigDb JSON, then the
generic config updater's checks); ``validate`` is the YANG check (sonic-yang-models) restricted to what the QoS
and buffer tables need: known tables, enumerations, ranges and leafrefs. Everything returns a new dict, so a
refused change leaves the running state untouched.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fabric.lab.device import LabDevice

Db = dict[str, dict[str, dict[str, Any]]]
SAVED = "/etc/sonic/config_db.json"

# Tables with a YANG model in sonic-buildimage/src/sonic-yang-models (the ones a switch config uses).
TABLES = frozenset({
    "ACL_RULE", "ACL_TABLE", "BGP_NEIGHBOR", "BUFFER_PG", "BUFFER_POOL", "BUFFER_PORT_EGRESS_PROFILE_LIST",
    "BUFFER_PORT_INGRESS_PROFILE_LIST", "BUFFER_PROFILE", "BUFFER_QUEUE", "CABLE_LENGTH", "CRM",
    "DEFAULT_LOSSLESS_BUFFER_PARAMETER", "DEVICE_METADATA", "DEVICE_NEIGHBOR", "DOT1P_TO_TC_MAP", "DSCP_TO_TC_MAP",
    "FEATURE", "FLEX_COUNTER_TABLE", "INTERFACE", "KDUMP", "LLDP", "LOOPBACK_INTERFACE", "LOSSLESS_TRAFFIC_PATTERN",
    "MAP_PFC_PRIORITY_TO_QUEUE", "MGMT_INTERFACE", "MGMT_PORT", "NTP", "NTP_SERVER",
    "PFC_PRIORITY_TO_PRIORITY_GROUP_MAP", "PFC_WD", "PORT", "PORTCHANNEL", "PORTCHANNEL_MEMBER", "PORT_QOS_MAP",
    "QUEUE", "SCHEDULER", "SNMP", "SNMP_COMMUNITY", "SYSLOG_SERVER", "TC_TO_PRIORITY_GROUP_MAP", "TC_TO_QUEUE_MAP",
    "VERSIONS", "VLAN", "VLAN_INTERFACE", "VLAN_MEMBER", "WRED_PROFILE",
})


class YangError(Exception):
    """A config that sonic-yang refuses; the message is libyang's."""


class PatchError(Exception):
    """A JSON patch the generic config updater refuses; the message is its."""


@dataclass
class SonicState:
    """A SONiC switch's state: CONFIG_DB and the files of its file system (the saved config among them)."""

    db: Db
    files: dict[str, str] = field(default_factory=dict)


def initial_state(device: LabDevice) -> SonicState:
    """A freshly installed Spectrum switch: metadata, its ports at the default MTU, the SKU's buffer pools."""
    ports = {name: {"admin_status": "up", "alias": f"etp{i + 1}", "index": str(i + 1), "lanes": _lanes(name),
                    "mtu": "9100", "speed": str(intf.speed_gbps * 1000)}
             for i, (name, intf) in enumerate(device.inventory.interfaces.items())}
    db: Db = {
        "DEVICE_METADATA": {"localhost": {
            "hostname": device.name, "hwsku": "ACS-MSN4700", "platform": "x86_64-mlnx_msn4700-r0",
            "mac": f"1c:34:da:00:00:{sum(device.name.encode()) % 256:02x}", "type": "LeafRouter",
            "buffer_model": "traditional", "default_pfcwd_status": "disable"}},
        "PORT": ports,
        # Pools and generic profiles as in the NVIDIA SKUs' buffers_defaults_t1.j2 (reference/lossless.md §1.2).
        "BUFFER_POOL": {
            "ingress_lossless_pool": {"mode": "dynamic", "size": "3302912", "type": "ingress"},
            "ingress_lossy_pool": {"mode": "dynamic", "size": "3302912", "type": "ingress"},
            "egress_lossless_pool": {"mode": "dynamic", "size": "13945824", "type": "egress"},
            "egress_lossy_pool": {"mode": "dynamic", "size": "3302912", "type": "egress"}},
        "BUFFER_PROFILE": {
            "ingress_lossless_profile": {"dynamic_th": "7", "pool": "ingress_lossless_pool", "size": "0"},
            "ingress_lossy_profile": {"dynamic_th": "3", "pool": "ingress_lossy_pool", "size": "0"},
            "egress_lossless_profile": {"dynamic_th": "7", "pool": "egress_lossless_pool", "size": "0"},
            "egress_lossy_profile": {"dynamic_th": "7", "pool": "egress_lossy_pool", "size": "9216"},
            "q_lossy_profile": {"dynamic_th": "3", "pool": "egress_lossy_pool", "size": "0"}},
        "DEFAULT_LOSSLESS_BUFFER_PARAMETER": {"AZURE": {"default_dynamic_th": "0"}},
        "FLEX_COUNTER_TABLE": {g: {"FLEX_COUNTER_STATUS": "enable"}
                               for g in ("PFCWD", "PG_WATERMARK", "PORT", "QUEUE", "QUEUE_WATERMARK")},
    }
    return SonicState(db, {SAVED: dump(db) + "\n"})


def _lanes(port: str) -> str:
    base = int(re.sub(r"\D", "", port) or 0)
    return ",".join(str(base + i) for i in range(8))


def dump(db: Db) -> str:
    """``sonic-cfggen -d --print-data``: tables sorted, keys in natural order, four-space indent."""
    ordered = {t: {k: db[t][k] for k in sorted(db[t], key=natural_key)} for t in sorted(db)}
    return json.dumps(ordered, indent=4)


def natural_key(text: str) -> list[Any]:
    """natsort's order: Ethernet8 before Ethernet16."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def typed(value: Any) -> Any:
    """What redis gives back for a JSON value: strings, lists of strings (ConfigDBConnector.typed_to_raw)."""
    if isinstance(value, list):
        return [typed(v) for v in value]
    return value if isinstance(value, str) else str(value)


def merge(db: Db, data: Any) -> Db:
    """``sonic-cfggen -j FILE --write-to-db``: per entry, fields merged; a null entry is deleted."""
    if not isinstance(data, dict):
        raise YangError("Data Loading Failed\nThe config must be a JSON object of tables.")
    result = copy.deepcopy(db)
    for table, entries in data.items():
        if not isinstance(entries, dict):
            raise YangError(f"Data Loading Failed\nTable {table} must be a JSON object of keys.")
        target = result.setdefault(table, {})
        for key, fields in entries.items():
            if fields is None:
                target.pop(key, None)
            elif not isinstance(fields, dict):
                raise YangError(f"Data Loading Failed\nEntry {table}|{key} must be a JSON object of fields.")
            else:
                target.setdefault(key, {}).update({f: typed(v) for f, v in fields.items()})
        if not target:
            del result[table]
    return result


# -- YANG checks -----------------------------------------------------------------------------------------------

Check = Callable[[str], bool]


def _range(low: int, high: int) -> Check:
    return lambda v: bool(re.fullmatch(r"-?\d+", v)) and low <= int(v) <= high


def _enum(*values: str) -> Check:
    return lambda v: v in values


def _pattern(regex: str) -> Check:
    return lambda v: bool(re.fullmatch(regex, v))


UINT = _pattern(r"\d+")
PRIORITIES = _pattern(r"([0-7](,[0-7])*)?")
BOOL = _enum("true", "false")
FIELDS: dict[str, dict[str, Check]] = {
    "PORT": {"mtu": _range(68, 9216), "speed": UINT, "admin_status": _enum("up", "down"),
             "fec": _enum("none", "rs", "fc", "auto")},
    "PORT_QOS_MAP": {"pfc_enable": PRIORITIES, "pfcwd_sw_enable": PRIORITIES},
    "WRED_PROFILE": {
        "ecn": _enum("ecn_none", "ecn_green", "ecn_yellow", "ecn_red", "ecn_green_yellow", "ecn_green_red",
                     "ecn_yellow_red", "ecn_all"),
        **{f"{c}_{b}_threshold": UINT for c in ("green", "yellow", "red") for b in ("min", "max")},
        **{f"{c}_drop_probability": _range(0, 100) for c in ("green", "yellow", "red")},
        **{f"wred_{c}_enable": BOOL for c in ("green", "yellow", "red")}},
    "SCHEDULER": {"type": _enum("DWRR", "WRR", "STRICT"), "weight": _range(0, 255), "priority": _range(0, 9)},
    "PFC_WD": {"action": _enum("drop", "forward", "alert"), "detection_time": _range(100, 5000),
               "restoration_time": _range(100, 60000), "POLL_INTERVAL": _range(100, 3000),
               "pfc_stat_history": _enum("enable", "disable"), "BIG_RED_SWITCH": _enum("enable", "disable")},
    "BUFFER_PROFILE": {"size": UINT, "xon": UINT, "xoff": UINT, "xon_offset": UINT, "dynamic_th": _range(-8, 8),
                       "static_th": UINT},
    "BUFFER_POOL": {"type": _enum("ingress", "egress"), "mode": _enum("static", "dynamic"), "size": UINT, "xoff": UINT},
    "DEVICE_METADATA": {"buffer_model": _enum("dynamic", "traditional")},
    "LOSSLESS_TRAFFIC_PATTERN": {"mtu": UINT, "small_packet_percentage": _range(0, 100)},
}
MAP_TABLES = {"DSCP_TO_TC_MAP": (63, 15), "TC_TO_QUEUE_MAP": (15, 7), "TC_TO_PRIORITY_GROUP_MAP": (15, 7),
              "MAP_PFC_PRIORITY_TO_QUEUE": (7, 7), "PFC_PRIORITY_TO_PRIORITY_GROUP_MAP": (7, 7),
              "DOT1P_TO_TC_MAP": (7, 15)}
# PORT_QOS_MAP field -> the map table it refers to (sonic-port-qos-map.yang leafrefs)
QOS_MAP_REFS = {"dscp_to_tc_map": "DSCP_TO_TC_MAP", "tc_to_queue_map": "TC_TO_QUEUE_MAP",
                "tc_to_pg_map": "TC_TO_PRIORITY_GROUP_MAP", "pfc_to_queue_map": "MAP_PFC_PRIORITY_TO_QUEUE",
                "pfc_to_pg_map": "PFC_PRIORITY_TO_PRIORITY_GROUP_MAP", "dot1p_to_tc_map": "DOT1P_TO_TC_MAP"}


def missing_tables(data: Db) -> list[str]:
    """Tables of ``data`` without a YANG model (``config reload`` refuses them)."""
    return [t for t in data if t not in TABLES]


def validate(db: Db) -> None:
    """Raise YangError (libyang's wording) when the target config breaks a type, range or leafref."""
    for table, entries in db.items():
        for key, fields in entries.items():
            for name, value in fields.items():
                check = FIELDS.get(table, {}).get(name)
                if check is not None and not (isinstance(value, str) and check(value)):
                    raise YangError(_constraint(table, key, name, value))
        if table in MAP_TABLES:
            _check_map(table, entries)
    _check_refs(db)


def _constraint(table: str, key: str, name: str, value: Any) -> str:
    module = "sonic-" + table.lower().replace("_", "-")
    return (f'Data Loading Failed\nValue "{value}" does not satisfy the constraint (range, length, or pattern).\n'
            f"Failed to parse (XPath: /{module}:{module}/{table}/{table}_LIST[name='{key}']/{name}).")


def _check_map(table: str, entries: dict[str, dict[str, Any]]) -> None:
    key_max, value_max = MAP_TABLES[table]
    for name, mapping in entries.items():
        for key, value in mapping.items():
            if not _range(0, key_max)(key) or not _range(0, value_max)(str(value)):
                raise YangError(_constraint(table, name, key, value))


def _leafref(path: str, value: str) -> YangError:
    return YangError(f'Data Loading Failed\nLeafref "{path}" of value "{value}" points to a non-existing leaf.')


def _check_refs(db: Db) -> None:
    ports = db.get("PORT", {})
    table_refs = {"QUEUE": {"scheduler": "SCHEDULER", "wred_profile": "WRED_PROFILE"},
                  "BUFFER_PG": {"profile": "BUFFER_PROFILE"}, "BUFFER_QUEUE": {"profile": "BUFFER_PROFILE"},
                  "BUFFER_PROFILE": {"pool": "BUFFER_POOL"}, "PORT_QOS_MAP": QOS_MAP_REFS}
    for table, refs in table_refs.items():
        for key, fields in db.get(table, {}).items():
            port = key.split("|")[0]
            if table in ("QUEUE", "BUFFER_PG", "BUFFER_QUEUE", "PORT_QOS_MAP") and port not in ports | {"global": {}}:
                raise _leafref("/sonic-port:sonic-port/PORT/PORT_LIST/name", port)
            for name, target in refs.items():
                value = fields.get(name)
                if value is not None and value != "NULL" and value not in db.get(target, {}):
                    raise _leafref(f"/sonic-{target.lower().replace('_', '-')}:{target}/{target}_LIST/name", value)
    for key in db.get("PFC_WD", {}):
        if key != "GLOBAL" and key not in ports:
            raise _leafref("/sonic-port:sonic-port/PORT/PORT_LIST/name", key)
    for lengths in db.get("CABLE_LENGTH", {}).values():
        for port, length in lengths.items():
            if port not in ports:
                raise _leafref("/sonic-port:sonic-port/PORT/PORT_LIST/name", port)
            if not re.fullmatch(r"\d+m", str(length)):
                raise YangError(_constraint("CABLE_LENGTH", "AZURE", port, length))


# -- JSON patch (config apply-patch) ---------------------------------------------------------------------------


def apply_patch(db: Db, ops: Any) -> Db:
    """RFC 6902 add/remove/replace/test on the ConfigDb JSON, then the updater's checks; a new Db."""
    if not isinstance(ops, list):
        raise PatchError(f"Document is expected to be sequence, {type(ops).__name__} given")
    doc: Any = copy.deepcopy(db)
    for op in ops:
        doc = _patch_one(doc, op)
    empty = [t for t, entries in doc.items() if not entries]
    if empty:
        raise PatchError("Given patch will produce invalid config. Error: Table "
                         f"{empty[0]} is empty, which is not allowed in ConfigDb")
    for table, entries in doc.items():
        for key, fields in entries.items():
            if not isinstance(fields, dict):
                raise PatchError(f"Given patch will produce invalid config. Error: {table}|{key} is not an object")
            entries[key] = {f: typed(v) for f, v in fields.items()}
    return doc  # type: ignore[no-any-return]


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"Location must start with /: {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _patch_one(doc: Any, op: Any) -> Any:
    if not isinstance(op, dict) or "op" not in op or "path" not in op:
        raise PatchError(f"Operation does not contain 'op' or 'path' member: {op}")
    parts = _pointer(op["path"])
    if not parts:
        if op["op"] in ("add", "replace"):
            return copy.deepcopy(op["value"])
        raise PatchError(f"can't {op['op']} the whole document")
    parent = doc
    for part in parts[:-1]:
        if not isinstance(parent, dict) or part not in parent:
            raise PatchError(f"member '{part}' not found in {_short(parent)}")
        parent = parent[part]
    last = parts[-1]
    if not isinstance(parent, dict):
        raise PatchError(f"can't {op['op']} member of a non-object at {op['path']}")
    kind = op["op"]
    if kind == "add":
        parent[last] = copy.deepcopy(op.get("value"))
    elif kind == "replace":
        if last not in parent:
            raise PatchError(f"can't replace a non-existent object '{last}'")
        parent[last] = copy.deepcopy(op.get("value"))
    elif kind == "remove":
        if last not in parent:
            raise PatchError(f"can't remove a non-existent object '{last}'")
        del parent[last]
    elif kind == "test":
        if parent.get(last) != op.get("value"):
            raise PatchError(f"{parent.get(last)!r} ({type(parent.get(last)).__name__}) is not equal to tested "
                             f"value {op.get('value')!r} ({type(op.get('value')).__name__})")
    else:
        raise PatchError(f"Unknown operation {kind!r}")
    return doc


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) < 60 else text[:57] + "..."
