"""A simple counter source until the congestion engine lands: steady traffic on every up link.

Each tick adds ``load`` of line rate to every connected port, 80 % on the lossless queue and 20 % on the
default queue, in both directions. No congestion, so no pauses, marks or drops: those come from physics.
"""

from __future__ import annotations

import asyncio

from fabric.lab.device import LabDevice

MEAN_PACKET_BYTES = 4096
LOSSLESS_SHARE = 0.8


def advance(device: LabDevice, seconds: float, load: float, lossless_queue: int = 3) -> None:
    """Add ``seconds`` of traffic at ``load`` x line rate to every port that has a peer and is up."""
    for name, port in device.inventory.interfaces.items():
        if port.peer is None or name in device.link_down or device.faults.active("link-down"):
            continue
        octets = int(port.speed_gbps * 1e9 / 8 * load * seconds)
        packets = octets // MEAN_PACKET_BYTES
        lossless = int(octets * LOSSLESS_SHARE)
        other = octets - lossless
        deltas = {"rx_octets": octets, "tx_octets": octets, "rx_ucast_pkts": packets, "tx_ucast_pkts": packets,
                  f"q{lossless_queue}_tx_bytes": lossless, f"q{lossless_queue}_tx_pkts": lossless // MEAN_PACKET_BYTES,
                  "q0_tx_bytes": other, "q0_tx_pkts": other // MEAN_PACKET_BYTES}
        for key, delta in deltas.items():
            device.counters.add(name, key, delta)


async def run_traffic(devices: list[LabDevice], load: float = 0.3, period_s: float = 1.0) -> None:
    """Advance every device's counters once per period until cancelled."""
    loop = asyncio.get_running_loop()
    last = loop.time()
    while True:
        await asyncio.sleep(period_s)
        now = loop.time()
        for device in devices:
            advance(device, now - last, load)
        last = now
