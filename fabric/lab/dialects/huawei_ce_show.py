"""Huawei CloudEngine display commands fed by the device's counters (reference/lossless.md §5.2).

Layouts follow the CE6800 V300R023C00 command reference examples: ``display dcb pfc [interface if]`` (PFC
frames received/transmitted per lossless queue, rx/tx_pfc<q>_frames), ``display qos queue statistics
interface if`` (passed/dropped packets and bytes per queue, q<q>_tx_* and q<q>_drop_*) and ``display qos ecn
statistics [interface if]`` (ECN-marked packets, the sum of q<q>_ecn_marked_pkts).
"""

from __future__ import annotations

from fabric.lab.device import LabDevice
from fabric.lab.dialects.viewconfig import ViewConfig
from fabric.lab.dialects.viewshow import RateMeter

PFC_RULE = "-" * 89
PFC_HEADER = [PFC_RULE,
              "Interface         Queue         Received(Frames)        ReceivedRate(pps)     DeadlockNum",
              "                             Transmitted(Frames)     TransmittedRate(pps)     RecoveryNum",
              PFC_RULE]
QUEUE_RULE = " " + "-" * 94
QUEUE_HEADER = [" Queue   CIR/PIR              Passed     Pass Rate             Dropped     Drop Rate  Drop Time",
                "        (% or kbps)   (Packets/Bytes)    (pps/bps)      (Packets/Bytes)    (pps/bps)",
                QUEUE_RULE]
ECN_RULE = "-" * 36


def lossless_queues(config: ViewConfig) -> list[int]:
    """The PFC priorities of the ``dcb pfc`` profile (queue 3 when the profile names none, the default)."""
    section = config.sections.get("dcb pfc")
    for line in section.lines() if section else []:
        words = line.split()
        if words[0] == "priority" and all(w.isdigit() for w in words[1:]):
            return [int(w) for w in words[1:]]
    return [3]


def pfc_enabled(config: ViewConfig, port: str) -> bool:
    return any(line.startswith("dcb pfc enable") for line in config.sections[f"interface {port}"].lines())


def dcb_pfc(device: LabDevice, config: ViewConfig, ports: list[str], meter: RateMeter) -> str:
    rows = list(PFC_HEADER)
    for port in (p for p in ports if pfc_enabled(config, p)):
        counters = device.counters.port(port)
        for index, queue in enumerate(lossless_queues(config)):
            recv, sent = counters.get(f"rx_pfc{queue}_frames", 0), counters.get(f"tx_pfc{queue}_frames", 0)
            rx_rate = meter.rate(port, f"rx_pfc{queue}_frames", recv)
            tx_rate = meter.rate(port, f"tx_pfc{queue}_frames", sent)
            name = port if index == 0 else ""
            rows.append(f"{name:<18}{queue:>6}{recv:>24}{rx_rate:>25}{0:>16}")
            rows.append(f"{'':<24}{sent:>24}{tx_rate:>25}{0:>16}")
        rows.append(PFC_RULE)
    return "\n".join(rows)


def queue_statistics(device: LabDevice, port: str, meter: RateMeter) -> str:
    counters = device.counters.port(port)
    pir_kbps = int(device.inventory.interfaces[port].speed_gbps * 1_000_000)
    rows = list(QUEUE_HEADER)
    for q in range(8):
        values = [counters.get(f"q{q}_{name}", 0) for name in ("tx_pkts", "tx_bytes", "drop_pkts", "drop_bytes")]
        rates = [meter.rate(port, f"q{q}_{name}", v) for name, v in
                 zip(("tx_pkts", "tx_bytes", "drop_pkts", "drop_bytes"), values, strict=True)]
        rows.append(f"{q:>6}{0:>10}{values[0]:>20}{rates[0]:>14}{values[2]:>20}{rates[2]:>14}{'-':>11}")
        rows.append(f"{'':<6}{pir_kbps:>10}{values[1]:>20}{rates[1] * 8:>14}{values[3]:>20}{rates[3] * 8:>14}")
        rows.append(QUEUE_RULE)
    return "\n".join(rows)


def ecn_statistics(device: LabDevice, ports: list[str]) -> str:
    rows = ["Interface          ECN-marked packets", ECN_RULE]
    for port in ports:
        counters = device.counters.port(port)
        marked = sum(counters.get(f"q{q}_ecn_marked_pkts", 0) for q in range(8))
        rows.append(f"{port:<18}{marked:>12}")
    rows.append(ECN_RULE)
    return "\n".join(rows)
