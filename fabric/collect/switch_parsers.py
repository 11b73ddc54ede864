"""Pure parsers of switch show commands for the platforms whose MIBs stop at port totals (EOS, NX-OS, Comware,
CloudEngine): per-priority PFC frames, per-queue packets/bytes/drops, ECN marks and queue depth.

Real devices vary in column widths, spacing, thousands separators and interface abbreviations between releases,
so the text parsers key on header words and row shapes, never on column offsets, and expand abbreviated port
names to the full names SNMP's ifName reports. ntc-templates (9.3) has no template for any of these commands,
hence hand-written parsers; each is tested on ``tests/collect/fixtures/<platform>/`` (the twin's output, outputs
of real devices from public sources with their provenance, and layout variants, each with the samples it must
give). Every parser keeps the ``@parses`` contract of ``cli_parsers``: blank or header-only output gives no
samples, output it cannot read raises one ``ParseError`` line naming the device and the command.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fabric.collect.cli_parsers import Unreadable, number, parses
from fabric.core.sample import FieldValue, Sample

# Comware prints interfaces abbreviated in tables (HGE1/0/1); SNMP and the inventory use the full name
COMWARE_ABBREVIATIONS = {"FH": "FourHundredGigE", "HGE": "HundredGigE", "FGE": "FortyGigE", "WGE": "Twenty-FiveGigE",
                         "XGE": "Ten-GigabitEthernet", "GE": "GigabitEthernet"}
NXOS_ABBREVIATIONS = {"Eth": "Ethernet", "Po": "port-channel"}
NUMBER = re.compile(r"-?\d[\d,]*")
# NX-OS ``show queuing interface`` box rows: label -> field (unicast column); "Q Depth Byts" is the queue's
# current depth (a gauge), not a watermark
NXOS_QUEUE_ROWS = {"tx pkts": "tx_pkts", "tx byts": "tx_bytes", "wred/afd & tail drop pkts": "drop_pkts",
                   "wred/afd & tail drop byts": "drop_bytes", "wred & tail drop pkts": "drop_pkts",
                   "wred & tail drop byts": "drop_bytes", "tail drop pkts": "drop_pkts", "tail drop byts": "drop_bytes",
                   "q depth byts": "depth_bytes", "ecn marked pkts": "ecn_marked_pkts"}
EOS_QUEUE = {"enqueuedPackets": "tx_pkts", "enqueuedBytes": "tx_bytes", "droppedPackets": "drop_pkts",
             "droppedBytes": "drop_bytes"}
# widths for rate processing: every CLI counter here is 64-bit; depth_bytes is a gauge (no rate)
WIDTHS: dict[tuple[str, str], int] = {("queue", f): 64 for f in (*EOS_QUEUE.values(), "ecn_marked_pkts")}
WIDTHS |= {("pfc", "rx_pfc_frames"): 64, ("pfc", "tx_pfc_frames"): 64, ("interface", "ecn_marked_pkts"): 64}


def expand(port: str, abbreviations: dict[str, str]) -> str:
    """An abbreviated port name in full (``HGE1/0/1`` -> ``HundredGigE1/0/1``); full names pass unchanged."""
    match = re.fullmatch(r"([A-Za-z\-]+)(\d.*)", port)
    if match and match.group(1) in abbreviations:
        return abbreviations[match.group(1)] + match.group(2)
    return port


def _count(value: Any) -> int | None:
    """An eAPI counter: an int, or a string that is one; EOS prints ``"-"`` where a counter is not kept."""
    return value if isinstance(value, int) and not isinstance(value, bool) else number(str(value))


def _json(text: str, keys: tuple[str, ...]) -> dict[str, Any]:
    doc = json.loads(text)
    if not isinstance(doc, dict) or not any(key in doc for key in keys):
        raise Unreadable(f"no {' or '.join(keys)} in the eAPI result")
    return doc


def _sample(measurement: str, device: str, port: str, fields: dict[str, FieldValue], ts_ns: int,
            **tags: str) -> Sample:
    return Sample(measurement, {"device": device, "interface": port, **tags}, fields, ts_ns)


# -- Arista EOS (eAPI JSON) --------------------------------------------------------------------------

@parses("show priority-flow-control counters detail")
def eos_pfc(text: str, device: str, ts_ns: int) -> list[Sample]:
    """``show priority-flow-control counters detail``: PFC frames per port and priority (``interfaces.<port>
    .priorities.<p>.rxFrames/txFrames``); without ``detail`` (``interfaceCounters``), the port totals."""
    doc = _json(text, ("interfaces", "interfaceCounters"))
    samples = [_sample("pfc", device, port, fields, ts_ns, priority=str(priority))
               for port, entry in doc.get("interfaces", {}).items()
               for priority, counts in entry.get("priorities", {}).items() if (fields := _eos_frames(counts))]
    return samples + [_sample("interface", device, port, fields, ts_ns)
                      for port, counts in doc.get("interfaceCounters", {}).items() if (fields := _eos_frames(counts))]


def _eos_frames(counts: dict[str, Any]) -> dict[str, FieldValue]:
    return {name: value for key, name in (("rxFrames", "rx_pfc_frames"), ("txFrames", "tx_pfc_frames"))
            if (value := _count(counts.get(key))) is not None}


@parses("show interfaces counters queue")
def eos_queues(text: str, device: str, ts_ns: int) -> list[Sample]:
    """``show interfaces counters queue``: unicast egress queues (``egressQueueCounters.interfaces.<port>
    .ucastQueues.trafficClasses.TC<n>``), enqueued and dropped packets/bytes. Platforms that count drops per
    drop precedence only (``dropPrecedences.DP<n>``) are summed over the precedences. EOS groups traffic classes
    that share a queue into one key (``TC0-2``): that sample's queue tag is the range (``0-2``)."""
    doc = _json(text, ("egressQueueCounters",))
    samples = []
    for port, entry in doc["egressQueueCounters"].get("interfaces", {}).items():
        for tc, counts in entry.get("ucastQueues", {}).get("trafficClasses", {}).items():
            counts = _eos_totals(counts)
            fields: dict[str, FieldValue] = {name: value for key, name in EOS_QUEUE.items()
                                             if (value := _count(counts.get(key))) is not None}
            if fields:
                samples.append(_sample("queue", device, port, fields, ts_ns, queue=str(tc).removeprefix("TC")))
    return samples


def _eos_totals(counts: dict[str, Any]) -> dict[str, Any]:
    if all(key in counts for key in EOS_QUEUE) or "dropPrecedences" not in counts:
        return counts
    totals: dict[str, Any] = {}
    for per_dp in counts["dropPrecedences"].values():
        for key, value in per_dp.items():
            if (count := _count(value)) is not None:
                totals[key] = totals.get(key, 0) + count
    return {**totals, **counts}


@parses("show qos interfaces ecn counters queue")
def eos_ecn(text: str, device: str, ts_ns: int) -> list[Sample]:
    """``show qos interfaces ecn counters queue``: ECN-marked packets per port and queue
    (``intfQueueCounters.<port>.queueCounters.<q>``); ``"-"`` (ECN not configured on the queue) gives nothing."""
    doc = _json(text, ("intfQueueCounters",))
    return [_sample("queue", device, port, {"ecn_marked_pkts": marked}, ts_ns, queue=str(queue))
            for port, entry in doc["intfQueueCounters"].items()
            for queue, value in entry.get("queueCounters", {}).items() if (marked := _count(value)) is not None]


# -- Cisco NX-OS ---------------------------------------------------------------------------------------

@parses("show interface priority-flow-control")
def nxos_pfc(text: str, device: str, ts_ns: int) -> list[Sample]:
    """``show interface priority-flow-control``: the PFC frame totals per port (RxPPP/TxPPP, in the header's
    order); the Oper column may hold spaces (``On  (8)``), so the counters are the row's last two numbers.
    Fabric-interconnect and FEX names (``Vethernet9547``, ``Br-Ethernet1/17/1``) pass through."""
    lines = text.splitlines()
    header = next((line.split() for line in lines if "RxPPP" in line.split() and "TxPPP" in line.split()), None)
    if header is None:
        raise Unreadable("no 'Port Mode Oper(VL bmap) RxPPP TxPPP' header")
    # counted from the row's end: columns after the counters, if a release adds any, are single words
    rx_at, tx_at = header.index("RxPPP") - len(header), header.index("TxPPP") - len(header)
    samples = []
    for line in lines:
        words = line.split()
        if len(words) < max(3, -min(rx_at, tx_at) + 1) or not re.match(r"[A-Za-z]", words[0]) or words[0] == "Port":
            continue
        rx, tx = number(words[rx_at]), number(words[tx_at])
        if rx is None or tx is None:
            continue
        samples.append(_sample("interface", device, expand(words[0], NXOS_ABBREVIATIONS),
                               {"rx_pfc_frames": rx, "tx_pfc_frames": tx}, ts_ns))
    return samples


@parses("show queuing interface {port}")
def nxos_queuing(text: str, device: str, port: str, ts_ns: int) -> list[Sample]:
    """``show queuing interface PORT``: per QoS group the unicast Tx packets/bytes, WRED/AFD and tail drops, ECN
    marks and current depth (the ``QOS GROUP n`` boxes), and PFC frames per CoS (the ``PFC Statistics`` table,
    headed ``PFC_COS QOS_Group TxPause TxCount RxPause RxCount`` or, on newer releases, ``COS QOS Group PG ...``).
    Rows the collector has no field for (``WD & Tail Drop Pkts``, the watchdog's) are skipped."""
    if "QOS GROUP" not in text and "RxCount" not in text:
        raise Unreadable("no 'QOS GROUP n' box and no 'PFC Statistics' table")
    queues: dict[str, dict[str, FieldValue]] = {}
    group: str | None = None
    pfc_columns: list[str] | None = None
    samples = []
    for line in text.splitlines():
        if "QOS GROUP" in line:  # "QOS GROUP n"; CONTROL/SPAN QOS GROUP boxes are not egress queues
            box = re.fullmatch(r"\|?\s*QOS GROUP\s+(\d+)\s*\|?", line.strip())
            group = box.group(1) if box else None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if group is not None and len(cells) >= 2:
            name, value = NXOS_QUEUE_ROWS.get(cells[0].lower()), number(cells[1])
            if name is not None and value is not None:
                queues.setdefault(group, {}).setdefault(name, value)  # the first drop row wins over totals
            continue
        words = line.split()
        if "TxCount" in words and "RxCount" in words:
            pfc_columns = [w for w in words if w in ("TxPause", "TxCount", "RxPause", "RxCount")]
            continue
        if pfc_columns is not None and words and words[0].isdigit():
            samples.append(_nxos_pfc_row(words, pfc_columns, device, port, ts_ns))
        elif pfc_columns is not None and words and not line.startswith("-"):
            pfc_columns = None
    return [*(_sample("queue", device, port, fields, ts_ns, queue=q) for q, fields in queues.items()), *samples]


def _nxos_pfc_row(words: list[str], columns: list[str], device: str, port: str, ts_ns: int) -> Sample:
    """One PFC row (``5  5  Inactive  150  Inactive  0``): the pause states and counts are the row's last cells,
    in the header's order, whatever the columns before them (QoS group, PG, ``-``)."""
    cells = dict(zip(columns, words[-len(columns):], strict=True))
    rx, tx = number(cells["RxCount"]), number(cells["TxCount"])
    if rx is None or tx is None:
        raise Unreadable(f"PFC row {' '.join(words)!r} has no counts")
    return _sample("pfc", device, port, {"rx_pfc_frames": rx, "tx_pfc_frames": tx}, ts_ns, priority=words[0])


# -- H3C Comware ---------------------------------------------------------------------------------------

@parses("display priority-flow-control interface")
def comware_pfc(text: str, device: str, ts_ns: int) -> list[Sample]:
    """``display priority-flow-control interface``: PFC frames received/sent per port and no-drop priority. A
    port's first row carries its name and settings, the next rows only the priority's columns, so columns are
    counted from the row's end (``Prio Recv Send ...`` per the header); ``--`` rows (PFC off) give nothing. On an
    80-column terminal Comware wraps the header and every row after ``Recv`` (H3C's manuals print it so): the
    wrapped lines are joined first."""
    lines = _comware_unwrap(text.splitlines())
    header = next((line.split() for line in lines if _comware_header(line)), None)
    if header is None or "Send" not in header:
        raise Unreadable("no 'Interface ... Prio Recv Send' header")
    prio_at = header.index("Prio" if "Prio" in header else "P")
    tail = len(header) - prio_at
    recv, send = header.index("Recv") - prio_at, header.index("Send") - prio_at
    samples, port = [], None
    for line in lines:
        words = line.split()
        if not words or words == header or set(line.strip()) <= {"-"}:
            continue
        if not line[0].isspace():
            port = expand(words[0], COMWARE_ABBREVIATIONS)
        if port is None or len(words) < tail:
            continue
        row = words[-tail:]
        prio, rx, tx = number(row[0]), number(row[recv]), number(row[send])
        if prio is not None and rx is not None and tx is not None:
            samples.append(_sample("pfc", device, port, {"rx_pfc_frames": rx, "tx_pfc_frames": tx}, ts_ns,
                                   priority=str(prio)))
    return samples


def _comware_header(line: str) -> bool:
    """The PFC table's header; releases whose legend reads ``P -- Priority`` head the column ``P``."""
    words = set(line.split())
    return "Recv" in words and bool(words & {"Prio", "P"})


def _comware_unwrap(lines: list[str]) -> list[str]:
    """Join wrapped lines: the header ends before ``Send`` and its tail (``Send Inpps Outpps``) is the next
    indented line; each row's tail is likewise the next indented line of that many words."""
    at = next((n for n, line in enumerate(lines) if _comware_header(line)), None)
    if at is None or "Send" in lines[at].split() or at + 1 >= len(lines) or "Send" not in lines[at + 1].split():
        return lines
    tail = len(lines[at + 1].split())
    joined = [*lines[:at], f"{lines[at]} {lines[at + 1]}"]
    rest = [line for line in lines[at + 2:] if line.strip()]
    n = 0
    while n < len(rest):
        follows = rest[n + 1] if n + 1 < len(rest) else ""
        if follows[:1].isspace() and len(follows.split()) == tail and not set(rest[n].strip()) <= {"-"}:
            joined.append(f"{rest[n]} {follows}")
            n += 2
        else:
            joined.append(rest[n])
            n += 1
    return joined


@parses("display qos queue-statistics interface outbound")
def comware_queues(text: str, device: str, ts_ns: int) -> list[Sample]:
    """``display qos queue-statistics interface outbound``: per port (``Interface: X``) and queue (``Queue n``)
    the forwarded and dropped packets/bytes; inbound blocks and the port totals above the queues are skipped.
    A queue heading or a queue's counter line in another layout (``Queue ID: 3``) is an error, not a skipped
    queue."""
    if not re.search(r"^\s*Interface:", text, re.MULTILINE):
        raise Unreadable("no 'Interface: <port>' block")
    samples: list[Sample] = []
    port, outbound, queue = None, True, None
    for line in text.splitlines():
        if m := re.match(r"\s*Interface:\s*(\S+)", line):
            port, outbound, queue = expand(m.group(1), COMWARE_ABBREVIATIONS), True, None
        elif m := re.match(r"\s*Direction:\s*(\w+)", line):
            outbound = m.group(1).lower() == "outbound"
        elif re.match(r"\s*Queue\b", line):
            if not (m := re.fullmatch(r"\s*Queue\s+(\d+)\s*", line)):
                raise Unreadable(f"unknown queue heading {line.strip()!r} (expected 'Queue <n>')")
            queue = m.group(1)
        elif port and outbound and queue is not None and re.match(r"\s*(Forwarded|Dropped)\b", line):
            m = re.match(r"\s*(Forwarded|Dropped):\s*([\d,]+)\s+packets,\s*([\d,]+)\s+bytes", line)
            if not m:
                raise Unreadable(f"unknown counter line {line.strip()!r} (expected '<n> packets, <n> bytes')")
            prefix = "tx" if m.group(1) == "Forwarded" else "drop"
            fields = {f"{prefix}_pkts": number(m.group(2)) or 0, f"{prefix}_bytes": number(m.group(3)) or 0}
            if samples and samples[-1].tags == {"device": device, "interface": port, "queue": queue}:
                samples[-1].fields.update(fields)
            else:
                samples.append(_sample("queue", device, port, dict(fields), ts_ns, queue=queue))
    known = re.compile(r"\s*(Interface|Direction|Forwarded|Dropped|Current queue length):|\s*$")
    if not samples and (other := next((line for line in text.splitlines() if not known.match(line)), None)):
        raise Unreadable(f"no 'Queue <n>' block read; unknown line {other.strip()!r}")
    return samples


# -- Huawei CloudEngine -------------------------------------------------------------------------------

@parses("display dcb pfc")
def huawei_dcb_pfc(text: str, device: str, ts_ns: int) -> list[Sample]:
    """``display dcb pfc``: per port and lossless queue, received frames on the first row (``[port] queue received
    rate deadlocks``) and transmitted frames on the second (``transmitted rate recoveries``)."""
    if "Received(Frames)" not in text:
        raise Unreadable("no 'Interface Queue Received(Frames)' header")
    samples, port = [], None
    pending: tuple[str, int] | None = None
    for line in text.splitlines():
        words = line.split()
        if not words or set(line.strip()) <= {"-"} or words[0] in ("Interface", "Transmitted(Frames)"):
            continue
        if not line[0].isspace() and not NUMBER.fullmatch(words[0]):
            port, words = words[0], words[1:]
        values = [number(w) for w in words]
        if port is None or None in values:
            continue
        if pending is None and len(values) >= 3:
            pending = (str(values[0]), int(values[1] or 0))
        elif pending is not None:
            queue, received = pending
            fields: dict[str, FieldValue] = {"rx_pfc_frames": received, "tx_pfc_frames": int(values[0] or 0)}
            samples.append(_sample("pfc", device, port, fields, ts_ns, priority=queue))
            pending = None
    return samples


@parses("display qos queue statistics interface {port}")
def huawei_queues(text: str, device: str, port: str, ts_ns: int) -> list[Sample]:
    """``display qos queue statistics interface PORT``: per queue, passed/dropped packets on the first row
    (``queue CIR passed rate dropped rate drop-time``; the drop time may hold a space) and bytes on the second
    (``PIR passed-bytes rate dropped-bytes rate``)."""
    if not re.search(r"^\s*Queue\b.*\bPassed\b", text, re.MULTILINE):
        raise Unreadable("no 'Queue CIR/PIR Passed ... Dropped' header")
    samples = []
    pending: tuple[str, int, int] | None = None
    for line in text.splitlines():
        words = line.split()
        if not words or not words[0][0].isdigit():  # rules and headers; CIR/PIR may be a percentage
            continue
        numbers = [number(w) for w in words]
        if pending is None:  # the packets row: queue, CIR, passed, rate, dropped, rate, drop time
            if len(words) >= 6 and None not in (numbers[0], numbers[2], numbers[4]):
                pending = (words[0], int(numbers[2] or 0), int(numbers[4] or 0))
            continue
        if len(words) >= 4 and None not in (numbers[1], numbers[3]):  # the bytes row: PIR, passed, rate, dropped
            queue, passed, dropped = pending
            samples.append(_sample("queue", device, port, {"tx_pkts": passed, "tx_bytes": int(numbers[1] or 0),
                                                           "drop_pkts": dropped, "drop_bytes": int(numbers[3] or 0)},
                                   ts_ns, queue=queue))
            pending = None
    return samples


@parses("display qos ecn statistics")
def huawei_ecn(text: str, device: str, ts_ns: int) -> list[Sample]:
    """``display qos ecn statistics``: ECN-marked packets per port (all queues together)."""
    if not re.search(r"^\s*Interface\b.*ECN", text, re.MULTILINE | re.IGNORECASE):
        raise Unreadable("no 'Interface ECN-marked packets' header")
    samples = []
    for line in text.splitlines():
        words = line.split()
        if len(words) == 2 and not NUMBER.fullmatch(words[0]) and (marked := number(words[1])) is not None:
            samples.append(_sample("interface", device, words[0], {"ecn_marked_pkts": marked}, ts_ns))
    return samples
