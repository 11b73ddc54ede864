"""SONiC's dynamic headroom formula (buffer_headroom_mellanox.lua), as a pure function.

Inputs and steps follow reference/lossless.md §1.3, so a rendered ``pg_lossless_*`` profile equals
what buffermgrd computes on the switch for the same port speed, cable length, MTU and ASIC.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from fabric.core.asic import Asic
from fabric.core.units import ceil_to

SPEED_OF_LIGHT_IN_CABLE = 198_000_000  # m/s
MIN_PACKET = 64
SONIC_DEFAULT_MTU = 9100
# IEEE 802.3 31B.3.7 pause quanta per speed (Mb/s)
PAUSE_QUANTA = {800_000: 905, 400_000: 905, 200_000: 453, 100_000: 394, 50_000: 147,
                40_000: 118, 25_000: 80, 10_000: 67, 1_000: 2, 100: 1}


@dataclass(frozen=True)
class Headroom:
    """Per-PG headroom in bytes."""

    xon: int
    xoff: int
    size: int


def _worst_case_factor(cell: int) -> int:
    if cell > 2 * MIN_PACKET:
        return math.ceil(cell / MIN_PACKET)
    return math.ceil(2 * cell / (1 + cell))


def _cell_occupancy(cell: int, lossless_mtu: int, small_packet_percentage: int) -> float:
    spp = small_packet_percentage
    by_byte = 100 * MIN_PACKET / ((spp * MIN_PACKET + (100 - spp) * lossless_mtu) / 100)
    return (100 - by_byte + by_byte * _worst_case_factor(cell)) / 100


def _propagation_delay(asic: Asic, speed_mbps: int, cable_m: float, port_mtu: int, gearbox_delay_ns: float) -> float:
    bytes_on_cable = 2 * cable_m * speed_mbps * 1_000_000_000 / SPEED_OF_LIGHT_IN_CABLE / 8000
    bytes_on_gearbox = speed_mbps * gearbox_delay_ns / (8 * 1024) if gearbox_delay_ns else 0
    quanta = PAUSE_QUANTA.get(speed_mbps)
    peer_response = quanta * 512 / 8 if quanta is not None else asic.peer_response_bytes
    on_tile = speed_mbps / 1000 * 120 / 8 if asic.tile_latency else 0
    return port_mtu + bytes_on_cable + 2 * bytes_on_gearbox + asic.mac_phy_delay_bytes + peer_response + on_tile


def is_8lane(asic: Asic, speed_gbps: int) -> bool:
    """Whether the port uses 8 SerDes lanes on this ASIC (e.g. 400G on 50G-lane Spectrum-3)."""
    return speed_gbps // asic.serdes_gbps >= 8


@lru_cache(maxsize=4096)
def sonic_headroom(asic: Asic, speed_gbps: int, cable_m: float, port_mtu: int, lossless_mtu: int,
                   small_packet_percentage: int, gearbox_delay_ns: float = 0,
                   shared_headroom_pool: bool = False) -> Headroom:
    """xon/xoff/size of one lossless PG, as SONiC's dynamic buffer model computes them.

    >>> from fabric.core.asic import ASICS
    >>> sonic_headroom(ASICS["spectrum2"], 100, 5, 9100, 1024, 50)
    Headroom(xon=19456, xoff=48128, size=67584)
    """
    speed_mbps = speed_gbps * 1000
    eight_lanes = is_8lane(asic, speed_gbps)
    pipeline = asic.pipeline_latency_bytes * 2 if eight_lanes else asic.pipeline_latency_bytes
    delay = _propagation_delay(asic, speed_mbps, cable_m, port_mtu, gearbox_delay_ns)
    occupancy = _cell_occupancy(asic.cell_bytes, lossless_mtu, small_packet_percentage)
    xoff = ceil_to(lossless_mtu + delay * occupancy, 1024) + asic.xoff_extra_bytes
    if not shared_headroom_pool and small_packet_percentage != 100:
        worst = ceil_to(lossless_mtu + delay * _cell_occupancy(asic.cell_bytes, lossless_mtu, 100), 1024)
        if xoff + 2048 < worst + asic.xoff_extra_bytes:
            xoff += 2048
    xon = ceil_to(pipeline, 1024)
    size = xon if shared_headroom_pool else xoff + xon + (port_mtu if eight_lanes else 0)
    return Headroom(xon=xon, xoff=xoff, size=ceil_to(size, 1024))


@lru_cache(maxsize=4096)
def sonic_profile_name(speed_gbps: int, cable_m: float, port_mtu: int, dynamic_th: int,
                       default_dynamic_th: int = 0) -> str:
    """``pg_lossless_<speed>_<cable>[_mtu<mtu>][_th<th>]_profile``, as buffermgrd names it."""
    name = f"pg_lossless_{speed_gbps * 1000}_{cable_text(cable_m)}"
    if port_mtu != SONIC_DEFAULT_MTU:
        name += f"_mtu{port_mtu}"
    if dynamic_th != default_dynamic_th:
        name += f"_th{dynamic_th}"
    return name + "_profile"


def pause_threshold(buffer_bytes: int, total_headroom: int, dynamic_th: int, congested_pgs: int) -> int:
    """Depth at which a lossless PG crosses its dynamic threshold and sends XOFF.

    With alpha = 2^dynamic_th (SAI's shared dynamic threshold) and k PGs congested together, each
    settles at alpha * free / (1 + alpha * k), where free is the buffer left after headroom.
    """
    alpha = 2.0**dynamic_th
    free = max(buffer_bytes - total_headroom, 0)
    return int(alpha * free / (1 + alpha * congested_pgs))


def cable_text(cable_m: float) -> str:
    """'40m' (SONiC CABLE_LENGTH form; whole metres)."""
    return f"{math.ceil(cable_m)}m"
