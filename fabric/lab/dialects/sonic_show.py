"""SONiC's QoS show commands, printed as sonic-utilities prints them (tabulate ``simple``, natsorted ports).

Sources (sonic-utilities scripts): pfcstat (``show pfc counters``), queuestat (``show queue counters``), wredstat
(``show queue wredcounters``), watermarkstat (``show queue watermark``), pfcwd/main.py (``show pfcwd config``),
mmuconfig (``show buffer configuration``), pfc/main.py (``show pfc priority``). Counter values come from the lab's
per-port store; a counter the store does not keep prints ``N/A``, as the scripts do for a missing COUNTERS_DB field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from fabric.lab.device import LabDevice
from fabric.lab.dialects.sonic_db import Db, natural_key

NA = "N/A"


def tabulate(rows: Sequence[Sequence[object]], headers: Sequence[str] = (), stralign: str = "left") -> str:
    """tabulate's ``simple`` format: numeric columns right-aligned, two spaces between columns."""
    cells = [[str(c) for c in row] for row in rows]
    ncols = len(headers) or max((len(r) for r in cells), default=0)
    numeric = [all(re.fullmatch(r"-?\d+", r[i]) for r in cells if i < len(r)) and any(cells) for i in range(ncols)]
    pad = 2 if headers else 0
    widths = [max([len(h) + pad for h in headers[i:i + 1]] + [len(r[i]) for r in cells if i < len(r)])
              for i in range(ncols)]

    def line(values: Sequence[str]) -> str:
        out = []
        for i, value in enumerate(values):
            right = numeric[i] or stralign == "right"
            out.append(value.rjust(widths[i]) if right else value.ljust(widths[i]))
        return "  ".join(out)

    rule = "  ".join("-" * w for w in widths)
    body = [line(r + [""] * (ncols - len(r))) for r in cells]
    if headers:
        return "\n".join([line(list(headers)), rule, *body])
    return "\n".join([rule, *body, rule])


def _ports(device: LabDevice) -> list[str]:
    return sorted(device.counters.ports, key=natural_key)


def _comma(value: int) -> str:
    return f"{value:,}"


def pfc_counters(device: LabDevice) -> str:
    """``show pfc counters``: Rx then Tx PFC frames per priority, comma-grouped."""
    tables = []
    for direction in ("Rx", "Tx"):
        rows = [[port, *(_comma(device.counters.ports[port].get(f"{direction.lower()}_pfc{p}_frames", 0))
                         for p in range(8))] for port in _ports(device)]
        tables.append(tabulate(rows, [f"Port {direction}", *(f"PFC{p}" for p in range(8))], stralign="right"))
    return f"{tables[0]}\n\n{tables[1]}"


def _queue_rows(device: LabDevice, port: str, fields: Sequence[str]) -> list[list[str]]:
    values = device.counters.ports[port]
    return [[port, f"UC{q}", *(str(values[f"q{q}_{f}"]) if f"q{q}_{f}" in values else NA for f in fields)]
            for q in range(8)]


def queue_counters(device: LabDevice, port: str | None, as_json: bool) -> tuple[str, int]:
    """``show queue counters [PORT] [--json]``: per unicast queue packets, bytes, drops."""
    ports = _ports(device) if port is None else [port]
    if port is not None and port not in device.counters.ports:
        return f"Port doesn't exist! {port}", 1
    fields = ("tx_pkts", "tx_bytes", "drop_pkts", "drop_bytes")
    if as_json:
        names = ("totalpacket", "totalbytes", "droppacket", "dropbytes")
        doc = {p: {r[1]: dict(zip(names, r[2:], strict=True)) for r in _queue_rows(device, p, fields)} for p in ports}
        return json.dumps(doc, indent=4, sort_keys=True), 0
    header = ["Port", "TxQ", "Counter/pkts", "Counter/bytes", "Drop/pkts", "Drop/bytes"]
    blocks = [f"For namespace :\n{tabulate(_queue_rows(device, p, fields), header, 'right')}\n" for p in ports]
    return "\n".join(blocks), 0


def wred_counters(device: LabDevice, port: str | None) -> tuple[str, int]:
    """``show queue wredcounters [PORT]``: WRED drops and ECN marks per queue (the store keeps packets only)."""
    if port is not None and port not in device.counters.ports:
        return f"Port does not exist! {port}", 1
    header = ["Port", "TxQ", "WredDrp/pkts", "WredDrp/bytes", "EcnMarked/pkts", "EcnMarked/bytes"]
    fields = ("wred_drop_pkts", "wred_drop_bytes", "ecn_marked_pkts", "ecn_marked_bytes")
    ports = _ports(device) if port is None else [port]
    return "\n".join(f"{tabulate(_queue_rows(device, p, fields), header, 'right')}\n" for p in ports), 0


def queue_watermark(device: LabDevice) -> str:
    """``show queue watermark unicast``: egress shared-buffer watermark per unicast queue, bytes."""
    rows = [[p, *(str(device.counters.ports[p].get(f"q{q}_watermark_bytes", 0)) for q in range(8))]
            for p in _ports(device)]
    table = tabulate(rows, ["Port", *(f"UC{q}" for q in range(8))], "right")
    return f"Egress shared pool occupancy per unicast queue:\n{table}"


def pfcwd_config(db: Db, device: LabDevice) -> str:
    """``show pfcwd config``: the poll interval line, then PORT/ACTION/DETECTION/RESTORATION/HISTORY."""
    wd = db.get("PFC_WD", {})
    rows = [[p, wd[p].get("action", "drop"), wd[p].get("detection_time", "N/A"),
             wd[p].get("restoration_time", "infinite"), wd[p].get("pfc_stat_history", "disable")]
            for p in _ports(device) if wd.get(p)]
    lines = []
    if rows and "POLL_INTERVAL" in wd.get("GLOBAL", {}):
        lines.append(f"Changed polling interval to {wd['GLOBAL']['POLL_INTERVAL']}ms")
    if rows and "BIG_RED_SWITCH" in wd.get("GLOBAL", {}):
        lines.append(f"BIG_RED_SWITCH status is {wd['GLOBAL']['BIG_RED_SWITCH']}")
    header = ["PORT", "ACTION", "DETECTION TIME", "RESTORATION TIME", "HISTORY"]
    lines.append(tabulate(rows, header, "right"))
    return "\n".join(lines)


def buffer_configuration(db: Db) -> str:
    """``show buffer configuration`` (mmuconfig -l): lossless parameters, then each pool and profile."""
    blocks = []
    for params in db.get("DEFAULT_LOSSLESS_BUFFER_PARAMETER", {}).values():
        blocks.append("Lossless traffic pattern:\n" + tabulate([[f, v] for f, v in params.items()]) + "\n")
    for title, table in (("Pool", "BUFFER_POOL"), ("Profile", "BUFFER_PROFILE")):
        entries = db.get(table, {})
        if not entries:
            blocks.append(f"No buffer {title.lower()} information available")
        for name, fields in entries.items():
            blocks.append(f"{title}: {name}\n" + tabulate([[f, v] for f, v in fields.items()]) + "\n")
    return "\n".join(blocks)


def pfc_priority(db: Db, port: str | None) -> str:
    """``show pfc priority [PORT]``: lossless priorities per port from PORT_QOS_MAP.pfc_enable."""
    qos = db.get("PORT_QOS_MAP", {})
    if port is not None and port not in qos:
        return f"Cannot find interface {port}"
    ports = [port] if port else sorted(qos, key=natural_key)
    rows = [[p, qos[p].get("pfc_enable", "N/A")] for p in ports]
    return "\n" + tabulate(rows, ["Interface", "Lossless priorities"]) + "\n"
