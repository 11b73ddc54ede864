"""Pure parsers of show-command output into samples, for what no MIB carries (ECN marks, WRED drops,
watermarks, pause duration, host NIC counters). Each takes the command's text and returns samples; tested on
fixture folders of real outputs per platform (tests/collect/fixtures/<platform>/, napalm style, each real-device
output with its provenance).

Every parser keeps one contract, enforced by ``@parses``: blank output or a recognised header without rows gives
no samples; anything else it cannot read raises ``ParseError``, one line naming the device and the command (the
CLI source reports it as that device's failure), never another exception.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable
from typing import Any, Concatenate, NamedTuple, ParamSpec

from fabric.core.sample import FieldValue, Sample

SONIC_WRED = {"WredDrp/pkts": "wred_drop_pkts", "WredDrp/bytes": "wred_drop_bytes",
              "EcnMarked/pkts": "ecn_marked_pkts", "EcnMarked/bytes": "ecn_marked_bytes"}
SONIC_QUEUE = {"Counter/pkts": "tx_pkts", "Counter/bytes": "tx_bytes", "Drop/pkts": "drop_pkts",
               "Drop/bytes": "drop_bytes"}
ETHTOOL_LINE = re.compile(r"^\s+([\w.\-]+):\s+(-?\d+)\s*$")
HW_COUNTER_LINE = re.compile(r"^/sys/class/infiniband/([^/]+)/ports/(\d+)/hw_counters/(\w+):(\d+)$")
RULE = re.compile(r"-+(\s+-+)*\s*")
# NVUE's text form prints buffer sizes humanised (``16.02 MB``, ``1.5 KiB``) and durations with a unit
# (``10 us``); its JSON form prints bytes and microseconds. Sizes in bytes, times in microseconds.
BYTE_UNITS: dict[str, float] = {"": 1, "Bytes": 1, "bytes": 1, "B": 1, "KB": 1 << 10, "KiB": 1 << 10,
                                "MB": 1 << 20, "MiB": 1 << 20, "GB": 1 << 30, "GiB": 1 << 30, "TB": 1 << 40,
                                "TiB": 1 << 40}
TIME_UNITS: dict[str, float] = {"": 1, "ns": 1e-3, "us": 1, "\u00b5s": 1, "usec": 1, "ms": 1000, "msec": 1000,
                                "s": 1_000_000, "sec": 1_000_000}
COUNT_UNITS: dict[str, float] = {"": 1}
# counter widths for rate processing: every CLI counter is 64-bit; watermarks are gauges (no rate)
WIDTHS: dict[tuple[str, str], int] = {("queue", f): 64 for f in SONIC_WRED.values()}
WIDTHS |= {("pfc", f): 64 for f in ("rx_pause_duration_us", "tx_pause_duration_us")}

# what reading unexpected text can raise; ValueError covers Unreadable, JSON and Unicode errors
READ_ERRORS = (ValueError, KeyError, TypeError, IndexError, AttributeError, ArithmeticError, RecursionError)
P = ParamSpec("P")
Parser = Callable[Concatenate[str, str, P], list[Sample]]


class ParseError(ValueError):
    """A command's output the parser cannot read: ``leaf1: cannot parse `show queue wredcounters`: no
    'Port TxQ WredDrp/pkts ...' table (output starts '% Invalid input'); check the device's platform in the
    inventory and that this release runs the command``. The one error parsers raise."""


class Unreadable(ValueError):
    """Raised inside a parser with what it missed; ``@parses`` adds the device, command and output."""


def parses(command: str) -> Callable[[Parser[P]], Parser[P]]:
    """Bind a parser to its command (``{port}`` filled from the ``port`` argument) and to the contract above:
    blank output is no samples, and any failure to read becomes one ``ParseError`` line."""
    def bind(parse: Parser[P]) -> Parser[P]:
        def run(text: str, device: str, /, *args: P.args, **kwargs: P.kwargs) -> list[Sample]:
            if not text.strip():
                return []
            try:
                return parse(text, device, *args, **kwargs)
            except READ_ERRORS as exc:
                port = kwargs.get("port", args[0] if args else "")
                raise parse_error(device, command.format(port=port), exc, text) from exc
        functools.update_wrapper(run, parse)
        return run
    return bind


def parse_error(device: str, command: str, exc: Exception, text: str) -> ParseError:
    why = str(exc) if isinstance(exc, Unreadable) else f"{type(exc).__name__}: {exc}"
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")[:60]
    return ParseError(f"{device}: cannot parse `{command}`: {' '.join(why.split())} (output starts {first!r}); check "
                      "the device's platform in the inventory and that this release runs the command")


def number(text: str) -> int | None:
    """``1,234`` -> 1234; anything that is not a whole number (``N/A``, ``--``, ``12%``) -> None."""
    text = text.replace(",", "")
    return int(text) if re.fullmatch(r"-?\d+", text) else None


# -- SONiC (sonic-utilities' tabulate output) ----------------------------------------------------------

class Table(NamedTuple):
    columns: list[str]
    rows: list[dict[str, str]]


def sonic_tables(text: str) -> list[Table]:
    """SONiC's tabulate tables (a header, a dashed rule, rows) with their column names and row dicts.
    Columns are cut at the rule's dash groups, so headers with spaces (``Port Rx``) stay one column. A table
    ends at the next table's header (sonic-utilities separates tables by a blank line, but a blank line inside
    one table does not end it: the rows after it that fit the columns are still its rows); lines that do not fit
    the columns (titles such as ``Egress shared pool occupancy ...: (Namespace asic1)`` or ``For namespace :``)
    are not rows."""
    lines = text.splitlines()
    rules = [n for n, line in enumerate(lines) if n and RULE.fullmatch(line) and lines[n - 1].strip()]
    tables = []
    for i, n in enumerate(rules):
        spans = [(m.start(), m.end()) for m in re.finditer(r"-+", lines[n])]
        columns = _cut(lines[n - 1], spans)
        rows = []
        for row in lines[n + 1:rules[i + 1] - 1 if i + 1 < len(rules) else len(lines)]:
            if row.strip() and _fits(row, spans):
                rows.append(dict(zip(columns, _cut(row, spans), strict=True)))
        tables.append(Table(columns, rows))
    return tables


def _cut(row: str, spans: list[tuple[int, int]]) -> list[str]:
    starts = [0, *(start for start, _ in spans[1:])]
    return [row[a:b].strip() for a, b in zip(starts, [*starts[1:], max(len(row), spans[-1][1])], strict=True)]


def _fits(row: str, spans: list[tuple[int, int]]) -> bool:
    """A row of the table leaves the gaps between the rule's dash groups blank; titles run across them."""
    gaps = zip((end for _, end in spans), (start for start, _ in spans[1:]), strict=False)
    return bool(row[:spans[0][1]].strip()) and all(not row[a:b].strip() for a, b in gaps)


def _tables(text: str, wanted: Callable[[list[str]], bool], what: str) -> list[Table]:
    tables = [t for t in sonic_tables(text) if wanted(t.columns)]
    if not tables:
        raise Unreadable(f"no {what} table")
    return tables


@parses("show queue wredcounters")
def sonic_wredcounters(text: str, device: str, ts_ns: int) -> list[Sample]:
    """``show queue wredcounters``: WRED drops and ECN marks per unicast queue (``UC3`` -> queue ``3``);
    multicast and ``ALL`` queues and ``N/A`` cells are skipped."""
    tables = _tables(text, lambda c: "TxQ" in c and bool(SONIC_WRED.keys() & set(c)), "'Port TxQ WredDrp/pkts ...'")
    return _sonic_queue_samples(tables, SONIC_WRED, device, ts_ns)


@parses("show queue counters")
def sonic_queue_counters(text: str, device: str, ts_ns: int) -> list[Sample]:
    """``show queue counters``: transmitted and dropped packets/bytes per unicast queue."""
    tables = _tables(text, lambda c: "TxQ" in c and "Counter/pkts" in c, "'Port TxQ Counter/pkts ...'")
    return _sonic_queue_samples(tables, SONIC_QUEUE, device, ts_ns)


def _sonic_queue_samples(tables: list[Table], names: dict[str, str], device: str, ts_ns: int) -> list[Sample]:
    samples = []
    for row in (row for table in tables for row in table.rows):
        queue = re.fullmatch(r"UC(\d+)", row.get("TxQ", ""))
        fields: dict[str, FieldValue] = {name: value for column, name in names.items()
                                         if (value := number(row.get(column, ""))) is not None}
        if queue and fields:
            samples.append(Sample("queue", {"device": device, "interface": row["Port"], "queue": queue.group(1)},
                                  fields, ts_ns))
    return samples


@parses("show queue watermark unicast")
def sonic_watermark(text: str, device: str, ts_ns: int) -> list[Sample]:
    """``show queue watermark unicast``: the egress shared-buffer watermark per queue, bytes (a gauge); one
    table per ASIC namespace on multi-ASIC switches."""
    tables = _tables(text, lambda c: c[0] == "Port" and any(re.fullmatch(r"UC\d+", x) for x in c),
                     "'Port UC0 UC1 ...'")
    return [Sample("queue", {"device": device, "interface": row["Port"], "queue": column[2:]},
                   {"watermark_bytes": value}, ts_ns)
            for table in tables for row in table.rows for column in table.columns[1:]
            if column.startswith("UC") and (value := number(row[column])) is not None]


@parses("show pfc counters")
def sonic_pfc_counters(text: str, device: str, ts_ns: int) -> list[Sample]:
    """``show pfc counters``: the ``Port Rx`` and ``Port Tx`` tables of PFC frames per priority, merged into one
    sample per port and priority."""
    tables = _tables(text, lambda c: c[0] in ("Port Rx", "Port Tx"), "'Port Rx PFC0 ...'")
    merged: dict[tuple[str, str], dict[str, FieldValue]] = {}
    for table in tables:
        field = f"{table.columns[0][-2:].lower()}_pfc_frames"
        for row in table.rows:
            for column in table.columns[1:]:
                if re.fullmatch(r"PFC\d", column) and (value := number(row[column])) is not None:
                    merged.setdefault((row[table.columns[0]], column[3:]), {})[field] = value
    return [Sample("pfc", {"device": device, "interface": port, "priority": prio}, fields, ts_ns)
            for (port, prio), fields in merged.items()]


# -- NVIDIA Cumulus (NVUE) -----------------------------------------------------------------------------

@parses("nv show interface {port} qos roce counters -o json")
def nvue_roce_counters(text: str, device: str, port: str, priority: int, tc: int, ts_ns: int) -> list[Sample]:
    """``nv show interface PORT qos roce counters [-o json]``: pause duration of the RoCE priority, ECN marks and
    the TC-buffer watermark of the RoCE traffic class. The JSON form, or the text form the NVIDIA docs print
    (``tc-max-usage  16.02 MB``: humanised sizes become bytes)."""
    doc = json.loads(text) if text.lstrip().startswith("{") else _nvue_text(text)
    rx, tx = doc.get("rx-stats", {}), doc.get("tx-stats", {})
    if not rx and not tx:
        raise Unreadable("no rx-stats or tx-stats")
    tags = {"device": device, "interface": port}
    pfc = _quantities({"rx_pause_duration_us": rx.get("rx-pfc-stats", {}).get("pause-duration"),
                       "tx_pause_duration_us": tx.get("tx-pfc-stats", {}).get("pause-duration")}, TIME_UNITS)
    queue = _quantities({"ecn_marked_pkts": tx.get("tx-ecn-stats", {}).get("ecn-marked-packets")}, COUNT_UNITS)
    queue |= _quantities({"watermark_bytes": tx.get("tx-roce-stats", {}).get("tc-max-usage")}, BYTE_UNITS)
    return [*([Sample("pfc", {**tags, "priority": str(priority)}, pfc, ts_ns)] if pfc else []),
            *([Sample("queue", {**tags, "queue": str(tc)}, queue, ts_ns)] if queue else [])]


def _nvue_text(text: str) -> dict[str, Any]:
    """NVUE's text table (``key  operational  applied  description``, nesting by two-space indents) as the
    nested dict its JSON form carries."""
    tables = sonic_tables(text)
    lines = text.splitlines()
    start = next((n for n, line in enumerate(lines) if RULE.fullmatch(line)), None)
    if start is None or not tables or tables[0].columns[:2] != ["", "operational"]:
        raise Unreadable("neither JSON nor NVUE's 'operational applied description' table")
    spans = [(m.start(), m.end()) for m in re.finditer(r"-+", lines[start])]
    root: dict[str, Any] = {}
    path: list[dict[str, Any]] = [root]
    for line in lines[start + 1:]:
        if not line.strip():
            continue
        depth = (len(line) - len(line.lstrip())) // 2
        key, value = line.split()[0], _cut(line, spans)[1]
        del path[depth + 1:]
        if value:
            path[-1][key] = value
        else:
            child: dict[str, Any] = {}
            path[-1][key] = child
            path.append(child)
    return root


def _quantities(values: dict[str, Any], units: dict[str, float]) -> dict[str, FieldValue]:
    return {name: q for name, value in values.items() if (q := _quantity(name, value, units)) is not None}


def _quantity(name: str, value: Any, units: dict[str, float]) -> int | None:
    """``880`` or ``"880"`` -> 880; ``"16.02 MB"`` / ``"1.5 KiB"`` -> bytes, ``"10 ms"`` -> microseconds (rounded,
    per ``units``); an absent field (``None``) -> None; anything else (a negative number, an unknown unit, text)
    raises ``Unreadable`` naming the field, never a dropped or wrong value."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, float) and math.isfinite(value) and value >= 0:
        return round(value)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z\u00b5]*)\s*", str(value))
    if isinstance(value, bool) or not match or match.group(2) not in units:
        known = ", ".join(unit for unit in units if unit) or "none"
        raise Unreadable(f"{name} = {value!r} is not a non-negative number with a known unit ({known})")
    return round(float(match.group(1)) * units[match.group(2)])


# -- Linux hosts (mlx5) ---------------------------------------------------------------------------------

@parses("ethtool -S {port}")
def ethtool_stats(text: str, device: str, interface: str, ts_ns: int) -> list[Sample]:
    """``ethtool -S IF`` as one ``nic_rdma`` sample; field names are the driver's, as Telegraf's ethtool input
    keeps them (``rx_prio3_pause``, ``tx_pause_ctrl_phy``...). ``no stats available`` is an error."""
    fields: dict[str, FieldValue] = {}
    for line in text.split("\n"):
        match = ETHTOOL_LINE.match(line)
        if match:
            if (value := int(match.group(2))) < 0:
                raise Unreadable(f"counter {match.group(1)} is negative ({value}); ethtool counters are unsigned")
            fields[match.group(1).replace("-", "_").replace(".", "_")] = value
    if not fields and "NIC statistics:" not in text:
        raise Unreadable("no 'NIC statistics:' counters")
    return [Sample("nic_rdma", {"device": device, "interface": interface}, fields, ts_ns)] if fields else []


@parses("grep -H . /sys/class/infiniband/*/ports/*/hw_counters/*")
def rdma_hw_counters(text: str, device: str, ts_ns: int) -> list[Sample]:
    """``grep -H . /sys/class/infiniband/*/ports/*/hw_counters/*``: one ``nic_rdma`` sample per RDMA port, the
    file names as field names (``np_cnp_sent``, ``rp_cnp_handled``...), as Telegraf's infiniband input reads them."""
    ports: dict[tuple[str, str], dict[str, FieldValue]] = {}
    for line in text.split("\n"):
        match = HW_COUNTER_LINE.match(line.strip())
        if match:
            rdma, port, name, value = match.groups()
            ports.setdefault((rdma, port), {})[name] = int(value)
    if not ports:
        raise Unreadable("no /sys/class/infiniband/<dev>/ports/<n>/hw_counters/<name>:<value> lines")
    return [Sample("nic_rdma", {"device": device, "rdma_device": rdma, "port": port}, fields, ts_ns)
            for (rdma, port), fields in ports.items()]
