"""Feature ``buffers``: per-port lossless headroom, SONiC profiles, cells, and the PFC XOFF point."""

from __future__ import annotations

import math
from functools import lru_cache

from fabric.core.asic import Asic
from fabric.core.headroom import Headroom, pause_threshold, sonic_headroom, sonic_profile_name
from fabric.intent.models import BufferIntent, HeadroomProfile, PortBuffer, PortIntent
from fabric.inventory.models import BufferSpec, Device

LONG_CABLE_M = 100  # NX-OS: an ingress pause buffer is mandatory beyond 100 m (reference/lossless.md §4.1)


def required_headroom(asic: Asic, port: PortIntent, buffers: BufferSpec) -> Headroom:
    """The headroom the port's speed, cable and MTU need on this ASIC."""
    return sonic_headroom(asic, port.speed_gbps, port.cable_length_m, port.mtu,
                          buffers.lossless_mtu, buffers.small_packet_percentage)


def _port_buffer(asic: Asic, port: PortIntent, buffers: BufferSpec, explicit_bytes: int | None) -> PortBuffer:
    numbers = _buffer_numbers(asic, port.speed_gbps, port.cable_length_m, port.mtu, buffers.lossless_mtu,
                              buffers.small_packet_percentage, explicit_bytes)
    if explicit_bytes is not None:
        name = f"pg_lossless_{port.name.replace('/', '_')}_static_profile"
    else:
        name = sonic_profile_name(port.speed_gbps, port.cable_length_m, port.mtu, buffers.dynamic_th)
    # computed and validated once per distinct port shape; thousands of ports copy it with their names
    return numbers.model_copy(update={"interface": port.name, "profile": name})


@lru_cache(maxsize=4096)
def _buffer_numbers(asic: Asic, speed_gbps: int, cable_m: int, mtu: int, lossless_mtu: int,
                    small_packet_percentage: int, explicit_bytes: int | None) -> PortBuffer:
    need = sonic_headroom(asic, speed_gbps, cable_m, mtu, lossless_mtu, small_packet_percentage)
    xoff = explicit_bytes if explicit_bytes is not None else need.xoff
    size = xoff + need.xon if explicit_bytes is not None else need.size
    cells = asic.cell_bytes
    pause_buffer = math.ceil(size / cells) * cells
    pause_at = (pause_buffer - xoff) // cells * cells  # what is left above it absorbs the xoff bytes
    return PortBuffer(
        interface="-", profile="-", cable_length_m=cable_m, xon_bytes=need.xon, xoff_bytes=xoff, size_bytes=size,
        xon_cells=math.ceil(need.xon / cells), xoff_cells=math.ceil(xoff / cells), size_cells=math.ceil(size / cells),
        explicit=explicit_bytes is not None, long_cable=cable_m > LONG_CABLE_M, pause_buffer_bytes=pause_buffer,
        pause_threshold_bytes=pause_at, resume_threshold_bytes=max(pause_at - mtu, 0) // cells * cells,
    )


def build_buffers(device: Device, asic: Asic, ports: list[PortIntent], buffers: BufferSpec,
                  lossless_pgs: int) -> BufferIntent:
    """The ``buffers`` intent of a switch: one PortBuffer per lossless port, shared profiles by name."""
    port_buffers = [
        _port_buffer(asic, p, buffers, device.interfaces[p.name].headroom_bytes) for p in ports if p.lossless
    ]
    profiles: dict[str, HeadroomProfile] = {}
    for pb, port in zip(port_buffers, [p for p in ports if p.lossless], strict=True):
        profiles.setdefault(pb.profile, HeadroomProfile(
            name=pb.profile, speed_gbps=port.speed_gbps, cable_length_m=port.cable_length_m,
            xon_bytes=pb.xon_bytes, xoff_bytes=pb.xoff_bytes, size_bytes=pb.size_bytes,
            dynamic_th=buffers.dynamic_th))
    total = sum(pb.size_bytes for pb in port_buffers) * lossless_pgs
    return BufferIntent(
        model=buffers.model, asic=asic.name, cell_bytes=asic.cell_bytes, buffer_bytes=asic.buffer_bytes,
        dynamic_th=buffers.dynamic_th, lossless_mtu=buffers.lossless_mtu,
        small_packet_percentage=buffers.small_packet_percentage,
        lossless_pool_percent=buffers.lossless_pool_percent, lossy_pool_percent=100 - buffers.lossless_pool_percent,
        profiles=sorted(profiles.values(), key=lambda p: p.name), ports=port_buffers,
        total_headroom_bytes=total, pause_threshold_bytes=pause_threshold(asic.buffer_bytes, total, buffers.dynamic_th,
                                              buffers.congested_pgs),
    )
