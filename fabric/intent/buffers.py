"""Feature ``buffers``: per-port lossless headroom, SONiC profiles, cells, and the PFC XOFF point."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from fabric.core.asic import Asic
from fabric.core.headroom import Headroom, pause_threshold, sonic_headroom, sonic_profile_name
from fabric.intent.models import BufferIntent, PortBuffer, PortIntent
from fabric.inventory.models import BufferSpec, Device

LONG_CABLE_M = 100  # NX-OS: an ingress pause buffer is mandatory beyond 100 m (reference/lossless.md §4.1)


def required_headroom(asic: Asic, port: PortIntent, buffers: BufferSpec) -> Headroom:
    """The headroom the port's speed, cable and MTU need on this ASIC."""
    return sonic_headroom(asic, port.speed_gbps, port.cable_length_m, port.mtu,
                          buffers.lossless_mtu, buffers.small_packet_percentage)


# (speed Gb/s, cable m, MTU, explicit headroom bytes): ports of one shape share every number but their name.
Shape = tuple[int, int, int, int | None]


def _shape_numbers(asic: Asic, shape: Shape, buffers: BufferSpec) -> dict[str, Any]:
    """Every PortBuffer field but ``interface`` (and ``profile`` for explicit headroom) of one port shape."""
    speed_gbps, cable_m, mtu, explicit_bytes = shape
    numbers = _buffer_numbers(asic, speed_gbps, cable_m, mtu, buffers.lossless_mtu,
                              buffers.small_packet_percentage, explicit_bytes).model_dump(exclude={"interface"})
    numbers["profile"] = sonic_profile_name(speed_gbps, cable_m, mtu, buffers.dynamic_th)
    return numbers


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


def _headroom_profile(port_buffer: dict[str, Any], speed_gbps: int, dynamic_th: int) -> dict[str, Any]:
    """HeadroomProfile fields of the profile a port buffer names."""
    return {"name": port_buffer["profile"], "speed_gbps": speed_gbps, "cable_length_m": port_buffer["cable_length_m"],
            "xon_bytes": port_buffer["xon_bytes"], "xoff_bytes": port_buffer["xoff_bytes"],
            "size_bytes": port_buffer["size_bytes"], "dynamic_th": dynamic_th}


def build_buffers(device: Device, asic: Asic, ports: list[PortIntent], buffers: BufferSpec,
                  lossless_pgs: int) -> BufferIntent:
    """The ``buffers`` intent of a switch: one PortBuffer per lossless port, shared profiles by name.

    The numbers are computed once per port shape; the intent is built as plain fields and validated in
    one call, cheaper than building (or copying) one model per port.
    """
    shapes: dict[Shape, dict[str, Any]] = {}
    port_buffers: list[dict[str, Any]] = []
    profiles: dict[str, dict[str, Any]] = {}
    for port in ports:
        if not port.lossless:
            continue
        explicit_bytes = device.interfaces[port.name].headroom_bytes
        shape = (port.speed_gbps, port.cable_length_m, port.mtu, explicit_bytes)
        if shape not in shapes:
            shapes[shape] = _shape_numbers(asic, shape, buffers)
        entry = {**shapes[shape], "interface": port.name}
        if explicit_bytes is not None:
            entry["profile"] = f"pg_lossless_{port.name.replace('/', '_')}_static_profile"
        port_buffers.append(entry)
        if entry["profile"] not in profiles:
            profiles[entry["profile"]] = _headroom_profile(entry, port.speed_gbps, buffers.dynamic_th)
    total = sum(pb["size_bytes"] for pb in port_buffers) * lossless_pgs
    return BufferIntent.model_validate({
        "model": buffers.model, "asic": asic.name, "cell_bytes": asic.cell_bytes, "buffer_bytes": asic.buffer_bytes,
        "dynamic_th": buffers.dynamic_th, "lossless_mtu": buffers.lossless_mtu,
        "small_packet_percentage": buffers.small_packet_percentage,
        "lossless_pool_percent": buffers.lossless_pool_percent,
        "lossy_pool_percent": 100 - buffers.lossless_pool_percent,
        "profiles": [profiles[name] for name in sorted(profiles)], "ports": port_buffers,
        "total_headroom_bytes": total,
        "pause_threshold_bytes": pause_threshold(asic.buffer_bytes, total, buffers.dynamic_th, buffers.congested_pgs),
    })
