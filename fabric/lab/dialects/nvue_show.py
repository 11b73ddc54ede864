"""NVUE's RoCE show commands: ``nv show interface <if> qos roce counters`` and ``nv show qos roce``.

Fields and layout follow Cumulus Linux 5.14 "RDMA over Converged Ethernet - RoCE" (reference/lossless.md §2.3).
Counters come from the lab's per-port store: the RoCE traffic class is the one the port's PFC profile protects
(mapped through egress-queue-mapping), CNPs ride the strict-priority class. The store keeps no per-priority
receive split and no instantaneous buffer occupancy, so ``rx-roce-stats`` packet/byte counts and the ``*-usage``
(current) fields read 0; the ``*-max-usage`` fields are the queue watermarks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fabric.lab.device import LabDevice
from fabric.lab.dialects.nvue_model import Tree

DESCRIPTIONS = {
    "buffer-max-usage": "Max {dir} Pool-buffer usage for {what} traffic",
    "buffer-usage": "Current {dir} Pool-buffer usage for {what} traffic",
    "no-buffer-discard": "Rx buffer discards for {what} traffic", "non-roce-bytes": "non-roce rx bytes",
    "non-roce-packets": "non-roce rx packets", "pg-max-usage": "Max PG-buffer usage for {what} traffic",
    "pg-usage": "Current PG-buffer usage for {what} traffic",
    "pause-duration": "{Dir} PFC pause duration for RoCE traffic",
    "pause-packets": "{Dir} PFC pause packets for RoCE traffic", "roce-bytes": "{Dir} RoCE Bytes",
    "roce-packets": "{Dir} RoCE Packets", "cnp-bytes": "Tx CNP Packet Bytes", "cnp-packets": "Tx CNP Packets",
    "tc-max-usage": "Max TC-buffer usage for {what} traffic", "tc-usage": "Current TC-buffer usage for {what} traffic",
    "unicast-no-buffer-discard": "Tx buffer discards for {what} traffic", "ecn-marked-packets": "Tx ECN marked packets",
}
BYTE_FIELDS = {"buffer-max-usage", "buffer-usage", "pg-max-usage", "pg-usage", "roce-bytes", "cnp-bytes",
               "tc-max-usage", "tc-usage", "non-roce-bytes"}


def dig(tree: Any, *keys: Any, default: Any = None) -> Any:
    """tree[k1][k2]... or ``default`` where a level is missing."""
    for key in keys:
        if not isinstance(tree, dict) or key not in tree:
            return default
        tree = tree[key]
    return tree


def first_value(collection: Any) -> Any:
    """The first profile of a collection, in name order ({} when there is none)."""
    return collection[min(collection, key=str)] if isinstance(collection, dict) and collection else {}


def roce_classes(config: Tree, port: str) -> tuple[int, int, int]:
    """(lossless priority, its traffic class, the CNP traffic class) of ``port`` in the applied config."""
    profile = dig(config, "interface", port, "qos", "pfc", "profile")
    priorities = sorted(dig(config, "qos", "pfc", profile, "switch-priority", default={3: {}}))
    priority: int = priorities[0] if priorities else 3
    mapping = first_value(dig(config, "qos", "egress-queue-mapping"))
    tc: int = dig(mapping, "switch-priority", priority, "traffic-class", default=priority)
    scheduler = dig(first_value(dig(config, "qos", "egress-scheduler")), "traffic-class", default={})
    cnp_tc: int = next((t for t, p in sorted(scheduler.items()) if p.get("mode") == "strict"), 6)
    return priority, tc, cnp_tc


def roce_counters(device: LabDevice, config: Tree, port: str) -> dict[str, Any]:
    """The JSON of ``nv show interface <port> qos roce counters -o json``."""
    c = device.counters.ports[port]
    priority, tc, cnp = roce_classes(config, port)
    ecn = sum(c.get(f"q{q}_ecn_marked_pkts", 0) for q in range(8))
    return {
        "rx-stats": {
            "rx-non-roce-stats": {"buffer-max-usage": 0, "buffer-usage": 0, "no-buffer-discard": c["rx_discards"],
                                  "non-roce-bytes": 0, "non-roce-packets": 0, "pg-max-usage": 0, "pg-usage": 0},
            "rx-pfc-stats": {"pause-duration": c[f"rx_pfc{priority}_pause_us"],
                             "pause-packets": c[f"rx_pfc{priority}_frames"]},
            "rx-roce-stats": {"buffer-max-usage": 0, "buffer-usage": 0, "no-buffer-discard": 0, "pg-max-usage": 0,
                              "pg-usage": 0, "roce-bytes": 0, "roce-packets": 0}},
        "tx-stats": {
            "tx-cnp-stats": {"buffer-max-usage": c[f"q{cnp}_watermark_bytes"], "buffer-usage": 0,
                             "cnp-bytes": c[f"q{cnp}_tx_bytes"], "cnp-packets": c[f"q{cnp}_tx_pkts"],
                             "tc-max-usage": c[f"q{cnp}_watermark_bytes"], "tc-usage": 0,
                             "unicast-no-buffer-discard": c[f"q{cnp}_drop_pkts"]},
            "tx-ecn-stats": {"ecn-marked-packets": ecn},
            "tx-pfc-stats": {"pause-duration": c[f"tx_pfc{priority}_pause_us"],
                             "pause-packets": c[f"tx_pfc{priority}_frames"]},
            "tx-roce-stats": {"buffer-max-usage": c[f"q{tc}_watermark_bytes"], "buffer-usage": 0,
                              "roce-bytes": c[f"q{tc}_tx_bytes"], "roce-packets": c[f"q{tc}_tx_pkts"],
                              "tc-max-usage": c[f"q{tc}_watermark_bytes"], "tc-usage": 0,
                              "unicast-no-buffer-discard": c[f"q{tc}_drop_pkts"]}},
    }


def human_bytes(value: int) -> str:
    """NVUE's byte display: ``0 Bytes``, ``144 Bytes``, ``56.52 MB``, ``92824.38 GB``."""
    if value < 1024:
        return f"{value} Bytes"
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if value >= size or unit == "KB":
            return f"{value / size:.2f} {unit}"
    return f"{value} Bytes"


def counters_text(doc: dict[str, Any]) -> str:
    """The three-column table NVUE prints without ``-o json``."""
    rows: list[tuple[str, str, str]] = []
    for group, stats in doc.items():
        rows.append((group, "", ""))
        for name, fields in stats.items():
            rows.append((f"  {name}", "", ""))
            what = "CNP" if "cnp" in name else "non-RoCE" if "non-roce" in name else "RoCE"
            direction = "Rx" if name.startswith("rx") else "Tx"
            for field, value in fields.items():
                shown = human_bytes(value) if field in BYTE_FIELDS else str(value)
                note = DESCRIPTIONS.get(field, "").format(what=what, Dir=direction,
                                                          dir="Ingress" if direction == "Rx" else "Egress")
                rows.append((f"    {field}", shown, note))
    return columns(rows, ("", "operational", "applied", "description"), skip_applied=True)


def columns(rows: Sequence[tuple[str, ...]], header: tuple[str, ...], skip_applied: bool = False) -> str:
    """NVUE's show table: left-aligned columns, dashes under the header, two spaces apart."""
    full = [(r[0], r[1], "", r[2]) if skip_applied else r for r in rows]
    widths = [max(len(x) for x in col) for col in zip(header, *full, strict=True)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in [header, *full]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def qos_roce(config: Tree) -> dict[str, Any]:
    """The JSON of ``nv show qos roce -o json``: RoCE mode and what the generic QoS config makes of it."""
    roce = dig(config, "qos", "roce")
    pfc: dict[str, Any] = first_value(dig(config, "qos", "pfc"))
    congestion = first_value(dig(config, "qos", "congestion-control"))
    ecn_tcs = {tc: p for tc, p in dig(congestion, "traffic-class", default={}).items() if p.get("ecn") == "enable"}
    first: dict[str, Any] = first_value(ecn_tcs)
    trust: str = first_value(dig(config, "qos", "mapping")).get("trust", "l2")
    return {
        "enable": "on" if roce is not None else "off",
        "mode": (roce or {}).get("mode", "lossless" if roce is not None else "none"),
        "pfc": {"pfc-priority": ",".join(str(p) for p in sorted(pfc.get("switch-priority", {}))),
                "rx-enabled": "enabled" if pfc.get("rx") == "enable" else "disabled",
                "tx-enabled": "enabled" if pfc.get("tx") == "enable" else "disabled",
                "cable-length": pfc.get("cable-length", 100)},
        "congestion-control": {"congestion-mode": "ECN", "enabled-tc": ",".join(str(t) for t in sorted(ecn_tcs)),
                               "min-threshold": first.get("min-threshold", 0),
                               "max-threshold": first.get("max-threshold", 0),
                               "probability": first.get("probability", 0)},
        "trust": {"trust-mode": {"l2": "pcp", "l3": "dscp", "both": "pcp,dscp", "port": "port"}[trust]},
        "lldp-app-tlv": {"priority": int((pfc and min(pfc.get("switch-priority", {3: {}}))) or 3),
                         "protocol-id": 4791, "selector": "UDP"},
    }


def qos_roce_text(doc: dict[str, Any]) -> str:
    rows: list[tuple[str, ...]] = []
    for key, value in doc.items():
        if isinstance(value, dict):
            rows.append((key, "", ""))
            for sub, leaf in value.items():
                shown = human_bytes(leaf) if sub.endswith("threshold") else str(leaf)
                rows.append((f"  {sub}", shown, ""))
        else:
            rows.append((key, str(value), str(value) if key in ("enable", "mode") else ""))
    return columns(rows, ("", "operational", "applied"))
