"""Comware 7 display commands fed by the device's counters (reference/lossless.md §5.1).

``display priority-flow-control interface [if]`` prints one row per no-drop 802.1p priority with the PFC
frames received and sent (rx/tx_pfc<p>_frames) and their recent rates; ``display qos queue-statistics
interface [if] outbound`` prints per-queue forwarded and dropped packets and bytes (q<q>_tx_*, q<q>_drop_*).
"""

from __future__ import annotations

from fabric.lab.device import LabDevice
from fabric.lab.dialects.viewconfig import ViewConfig
from fabric.lab.dialects.viewshow import RateMeter

ABBREVIATIONS = {"HundredGigE": "HGE", "FortyGigE": "FGE", "Twenty-FiveGigE": "WGE", "Ten-GigabitEthernet": "XGE",
                 "GigabitEthernet": "GE"}
PFC_HEADER = f"{'Interface':<14}{'AdminMode':<10}{'OperMode':<9}{'Dot1pList':<12}{'Prio':<5}{'Recv':<11}" \
             f"{'Send':<11}{'Inpps':<11}Outpps"


def short_name(port: str) -> str:
    """``HundredGigE1/0/1`` -> ``HGE1/0/1`` as Comware's tables print interfaces."""
    for full, short in ABBREVIATIONS.items():
        if port.startswith(full):
            return short + port[len(full):]
    return port


def _pfc_setting(config: ViewConfig, port: str) -> tuple[str, list[int]]:
    """(admin mode, no-drop priorities) of a port from its interface view."""
    mode, priorities = "Disabled", []
    for line in config.sections[f"interface {port}"].lines():
        words = line.split()
        if words[:1] == ["priority-flow-control"] and words[1:] in (["enable"], ["auto"]):
            mode = "Enabled" if words[1] == "enable" else "Auto"
        if words[:3] == ["priority-flow-control", "no-drop", "dot1p"]:
            priorities = [int(w) for w in words[3:]]
    return mode, priorities


def priority_flow_control(device: LabDevice, config: ViewConfig, ports: list[str], meter: RateMeter) -> str:
    rows = [PFC_HEADER]
    for port in ports:
        mode, priorities = _pfc_setting(config, port)
        up = port not in device.link_down and not device.faults.active("link-down")
        oper = "Enabled" if mode != "Disabled" and priorities and up else "Disabled"
        dot1p = ",".join(map(str, priorities)) or "--"
        lead = f"{short_name(port):<14}{mode:<10}{oper:<9}{dot1p:<12}"
        if mode == "Disabled" or not priorities:
            rows.append(f"{lead}{'--':<5}{'--':<11}{'--':<11}{'--':<11}--")
            continue
        counters = device.counters.port(port)
        for index, prio in enumerate(priorities):
            recv, sent = counters.get(f"rx_pfc{prio}_frames", 0), counters.get(f"tx_pfc{prio}_frames", 0)
            inpps = meter.rate(port, f"rx_pfc{prio}_frames", recv)
            outpps = meter.rate(port, f"tx_pfc{prio}_frames", sent)
            head = lead if index == 0 else " " * len(lead)
            rows.append(f"{head}{prio:<5}{recv:<11}{sent:<11}{inpps:<11}{outpps}")
    return "\n".join(rows)


def queue_statistics(device: LabDevice, ports: list[str], meter: RateMeter) -> str:
    blocks = []
    for port in ports:
        c = device.counters.port(port)
        total = [sum(c.get(f"q{q}_{name}", 0) for q in range(8)) for name in ("tx_pkts", "tx_bytes", "drop_pkts",
                                                                                "drop_bytes")]
        lines = [f"Interface: {port}", " Direction: outbound", f" Forwarded: {total[0]} packets, {total[1]} bytes",
                 f" Dropped: {total[2]} packets, {total[3]} bytes"]
        for q in range(8):
            pkts, octets = c.get(f"q{q}_tx_pkts", 0), c.get(f"q{q}_tx_bytes", 0)
            pps, bps = meter.rate(port, f"q{q}_tx_pkts", pkts), meter.rate(port, f"q{q}_tx_bytes", octets) * 8
            lines += [f" Queue {q}", f"  Forwarded: {pkts} packets, {octets} bytes, {pps} pps, {bps} bps",
                      f"  Dropped: {c.get(f'q{q}_drop_pkts', 0)} packets, {c.get(f'q{q}_drop_bytes', 0)} bytes"]
        blocks.append("\n".join(lines))
    return "\n".join(blocks)
