"""Pure parsers of show-command output into samples, for what no MIB carries (ECN marks, WRED drops,
watermarks, pause duration, host NIC counters). Each takes the command's text and returns samples; tested on
fixture folders of real outputs per platform (tests/collect/fixtures/<platform>/<command>.txt, napalm style).
"""

from __future__ import annotations

import json
import re

from fabric.core.sample import FieldValue, Sample

SONIC_WRED = {"WredDrp/pkts": "wred_drop_pkts", "WredDrp/bytes": "wred_drop_bytes",
              "EcnMarked/pkts": "ecn_marked_pkts", "EcnMarked/bytes": "ecn_marked_bytes"}
ETHTOOL_LINE = re.compile(r"^\s+([\w.\-]+):\s+(-?\d+)\s*$")
HW_COUNTER_LINE = re.compile(r"^/sys/class/infiniband/([^/]+)/ports/(\d+)/hw_counters/(\w+):(\d+)$")
# counter widths for rate processing: every CLI counter is 64-bit; watermarks are gauges (no rate)
WIDTHS: dict[tuple[str, str], int] = {("queue", f): 64 for f in SONIC_WRED.values()}
WIDTHS |= {("pfc", f): 64 for f in ("rx_pause_duration_us", "tx_pause_duration_us")}


def sonic_tables(text: str) -> list[list[dict[str, str]]]:
    """SONiC's tabulate output (a header, a dashed rule, rows; blocks separated by blank lines) as row dicts.
    Columns are cut at the rule's dash groups, so headers with spaces (``Port Rx``) stay one column."""
    tables: list[list[dict[str, str]]] = []
    lines = text.split("\n")
    for n, line in enumerate(lines):
        if n == 0 or not re.fullmatch(r"-+(\s+-+)*\s*", line):
            continue
        spans = [(m.start(), m.end()) for m in re.finditer(r"-+", line)]
        header = lines[n - 1]

        def cut(row: str, spans: list[tuple[int, int]] = spans) -> list[str]:
            edges = [s for s, _ in spans[1:]] + [max(len(row), spans[-1][1])]
            starts = [0, *edges[:-1]]
            return [row[a:b].strip() for a, b in zip(starts, edges, strict=True)]

        names = cut(header)
        rows = []
        for row in lines[n + 1:]:
            if not row.strip():
                break
            rows.append(dict(zip(names, cut(row), strict=True)))
        tables.append(rows)
    return tables


def _int(text: str) -> int | None:
    text = text.replace(",", "")
    return int(text) if re.fullmatch(r"-?\d+", text) else None


def sonic_wredcounters(text: str, device: str, ts_ns: int) -> list[Sample]:
    """``show queue wredcounters``: WRED drops and ECN marks per unicast queue."""
    samples = []
    for table in sonic_tables(text):
        for row in table:
            if not row.get("TxQ", "").startswith("UC"):
                continue
            fields: dict[str, FieldValue] = {}
            for column, name in SONIC_WRED.items():
                value = _int(row.get(column, ""))
                if value is not None:
                    fields[name] = value
            if fields:
                samples.append(Sample("queue", {"device": device, "interface": row["Port"],
                                                "queue": row["TxQ"][2:]}, fields, ts_ns))
    return samples


def sonic_watermark(text: str, device: str, ts_ns: int) -> list[Sample]:
    """``show queue watermark unicast``: the egress shared-buffer watermark per queue, bytes (a gauge)."""
    samples = []
    for table in sonic_tables(text):
        for row in table:
            for column, value in row.items():
                number = _int(value)
                if column.startswith("UC") and number is not None:
                    samples.append(Sample("queue", {"device": device, "interface": row["Port"],
                                                    "queue": column[2:]}, {"watermark_bytes": number}, ts_ns))
    return samples


def nvue_roce_counters(text: str, device: str, port: str, priority: int, tc: int, ts_ns: int) -> list[Sample]:
    """``nv show interface PORT qos roce counters -o json``: pause frames and duration of the RoCE priority,
    ECN marks and the watermark of the RoCE traffic class."""
    doc = json.loads(text)
    rx, tx = doc["rx-stats"], doc["tx-stats"]
    tags = {"device": device, "interface": port}
    return [
        Sample("pfc", {**tags, "priority": str(priority)},
               {"rx_pause_duration_us": int(rx["rx-pfc-stats"]["pause-duration"]),
                "tx_pause_duration_us": int(tx["tx-pfc-stats"]["pause-duration"])}, ts_ns),
        Sample("queue", {**tags, "queue": str(tc)},
               {"ecn_marked_pkts": int(tx["tx-ecn-stats"]["ecn-marked-packets"]),
                "watermark_bytes": int(tx["tx-roce-stats"]["tc-max-usage"])}, ts_ns),
    ]


def ethtool_stats(text: str, device: str, interface: str, ts_ns: int) -> list[Sample]:
    """``ethtool -S IF`` as one ``nic_rdma`` sample; field names are the driver's, as Telegraf's ethtool input
    keeps them (``rx_prio3_pause``, ``tx_pause_ctrl_phy``...)."""
    fields: dict[str, FieldValue] = {}
    for line in text.split("\n"):
        match = ETHTOOL_LINE.match(line)
        if match:
            fields[match.group(1).replace("-", "_").replace(".", "_")] = int(match.group(2))
    return [Sample("nic_rdma", {"device": device, "interface": interface}, fields, ts_ns)] if fields else []


def rdma_hw_counters(text: str, device: str, ts_ns: int) -> list[Sample]:
    """``grep -H . /sys/class/infiniband/*/ports/*/hw_counters/*``: one ``nic_rdma`` sample per RDMA port, the
    file names as field names (``np_cnp_sent``, ``rp_cnp_handled``...), as Telegraf's infiniband input reads them."""
    ports: dict[tuple[str, str], dict[str, FieldValue]] = {}
    for line in text.split("\n"):
        match = HW_COUNTER_LINE.match(line.strip())
        if match:
            rdma, port, name, value = match.groups()
            ports.setdefault((rdma, port), {})[name] = int(value)
    return [Sample("nic_rdma", {"device": device, "rdma_device": rdma, "port": port}, fields, ts_ns)
            for (rdma, port), fields in ports.items()]
