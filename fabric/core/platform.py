"""The platform vocabulary: one literal, greppable table keyed by platform name.

Vendor-library names (netmiko device types, napalm drivers) appear here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["switch", "host", "sm", "managed-by-sm"]
OutputFormat = Literal["text", "json"]


@dataclass(frozen=True)
class Output:
    """One rendered file: the feature templates that build it, in order, and how they combine.

    ``text`` outputs are the feature templates concatenated; ``json`` outputs are JSON objects
    deep-merged table by table (SONiC config_db), so every feature template stays one feature.
    """

    file: str
    templates: tuple[str, ...]
    format: OutputFormat = "text"


@dataclass(frozen=True)
class PlatformSpec:
    """What fabric knows about one platform."""

    name: str
    kind: Kind
    transports: tuple[str, ...]
    outputs: tuple[Output, ...]
    netmiko_device_type: str | None = None
    napalm_driver: str | None = None
    description: str = ""
    max_mtu: int = 9216  # the largest port MTU the CLI accepts


_SWITCH_CLI = ("interfaces.j2", "qos.j2", "pfc.j2", "buffers.j2", "ecn.j2")

PLATFORMS: dict[str, PlatformSpec] = {
    "sonic": PlatformSpec(
        "sonic", "switch", ("roce",),
        (Output("config_db.json", ("interfaces.j2", "qos.j2", "pfc.j2", "buffers.j2", "ecn.j2"), "json"),),
        netmiko_device_type="linux", description="SONiC (config_db JSON)",
    ),
    "nvue": PlatformSpec(
        "nvue", "switch", ("roce",), (Output("nvue.cfg", _SWITCH_CLI),),
        netmiko_device_type="linux", description="NVIDIA Cumulus Linux (nv set)",
    ),
    "eos": PlatformSpec(
        "eos", "switch", ("roce",), (Output("eos.cfg", _SWITCH_CLI),),
        napalm_driver="eos", description="Arista EOS (eAPI)", max_mtu=9214,
    ),
    "nxos": PlatformSpec(
        "nxos", "switch", ("roce",), (Output("nxos.cfg", _SWITCH_CLI),),
        napalm_driver="nxos_ssh", netmiko_device_type="cisco_nxos", description="Cisco NX-OS",
    ),
    "comware": PlatformSpec(
        "comware", "switch", ("roce",), (Output("comware.cfg", _SWITCH_CLI),),
        netmiko_device_type="hp_comware", description="H3C Comware 7",
    ),
    "huawei_ce": PlatformSpec(
        "huawei_ce", "switch", ("roce",), (Output("huawei_ce.cfg", _SWITCH_CLI),),
        netmiko_device_type="huawei_vrpv8", description="Huawei CloudEngine",
    ),
    "linux_mlx5": PlatformSpec(
        "linux_mlx5", "host", ("roce", "infiniband"),
        (Output("roce.sh", ("header.j2", "qos.j2", "pfc.j2", "ecn.j2", "dcqcn.j2")),),
        netmiko_device_type="linux", description="GPU server with NVIDIA ConnectX NICs",
    ),
    "opensm": PlatformSpec(
        "opensm", "sm", ("infiniband",),
        (
            Output("opensm.conf", ("opensm.j2",)),
            Output("partitions.conf", ("partitions.j2",)),
            Output("qos-policy.conf", ("qos_policy.j2",)),
            Output("root_guids.conf", ("root_guids.j2",)),
        ),
        netmiko_device_type="linux", description="OpenSM subnet manager host",
    ),
    "ib_switch": PlatformSpec(
        "ib_switch", "managed-by-sm", ("infiniband",), (),
        description="InfiniBand switch, programmed by the subnet manager (nothing rendered)",
    ),
}


class UnknownPlatformError(KeyError):
    """Raised when a platform name is not in PLATFORMS."""


def get_platform(name: str) -> PlatformSpec:
    """Return the spec for ``name``; an unknown name lists the valid ones."""
    try:
        return PLATFORMS[name]
    except KeyError:
        raise UnknownPlatformError(
            f"unknown platform {name!r}; valid platforms: {', '.join(sorted(PLATFORMS))}"
        ) from None
