"""Switch ASIC parameters used for headroom and buffer checks.

The NVIDIA rows are SONiC's ASIC_TABLE (platform/mellanox/asic_table.j2, via
reference/lossless.md §1.3). Buffer sizes are the vendors' published packet-buffer sizes.
Broadcom and Cisco parts have no public ASIC_TABLE; their latency terms reuse Spectrum-2's
values and their cell sizes are the documented MMU cell sizes, so headroom for them is an
estimate: a user with vendor numbers sets ``headroom_bytes`` on the interface instead.
"""

from __future__ import annotations

from dataclasses import dataclass

KB = 1024


@dataclass(frozen=True)
class Asic:
    """One ASIC: buffer size and the latency terms of SONiC's headroom formula (bytes)."""

    name: str
    vendor: str
    buffer_bytes: int
    cell_bytes: int
    pipeline_latency_bytes: float
    mac_phy_delay_bytes: float
    peer_response_bytes: float
    serdes_gbps: int = 50  # lane speed: a port of 8 lanes gets SONiC's 8-lane adjustment
    tile_latency: bool = False  # Spectrum-4/5 add speed/1000*120/8 bytes "on tile"
    xoff_extra_bytes: int = 0  # Spectrum-6 adds 18 KiB to every xoff


def _spectrum(name: str, buffer_mb: int, cell: int, serdes: int, pipeline_kb: float = 19,
              **kw: bool | int) -> Asic:
    return Asic(
        name, "nvidia", buffer_mb * KB * KB, cell,
        pipeline_kb * KB, 0.8 * KB, 3.8 * KB, serdes, **kw,  # type: ignore[arg-type]
    )


def _estimated(name: str, vendor: str, buffer_mb: int, cell: int, serdes: int) -> Asic:
    return Asic(name, vendor, buffer_mb * KB * KB, cell, 19 * KB, 0.8 * KB, 3.8 * KB, serdes)


ASICS: dict[str, Asic] = {
    "spectrum1": _spectrum("spectrum1", 16, 96, 25),
    "spectrum2": _spectrum("spectrum2", 42, 144, 50),
    "spectrum3": _spectrum("spectrum3", 64, 144, 50),
    "spectrum4": _spectrum("spectrum4", 160, 192, 100, tile_latency=True),
    "spectrum6": _spectrum("spectrum6", 160, 256, 200, pipeline_kb=42, tile_latency=True,
                           xoff_extra_bytes=18 * KB),
    "trident3": _estimated("trident3", "broadcom", 32, 256, 25),
    "tomahawk3": _estimated("tomahawk3", "broadcom", 64, 254, 50),
    "tomahawk4": _estimated("tomahawk4", "broadcom", 113, 254, 50),
    "tomahawk5": _estimated("tomahawk5", "broadcom", 165, 254, 100),
    "cloudscale": _estimated("cloudscale", "cisco", 40, 208, 25),
    "silicon-one": _estimated("silicon-one", "cisco", 100, 256, 100),
}


def get_asic(name: str) -> Asic:
    """Return the ASIC named ``name`` (KeyError lists valid names)."""
    try:
        return ASICS[name]
    except KeyError:
        raise KeyError(f"unknown ASIC {name!r}; valid ASICs: {', '.join(sorted(ASICS))}") from None
