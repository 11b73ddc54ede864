"""Rules on names and free text that end up in file paths, shell scripts and device CLIs."""

from __future__ import annotations

import re
from collections.abc import Iterator

from fabric.core.problems import Problem
from fabric.inventory.models import Fabric

# Device names become directories (render -o OUT/<device>/) and the device half of 'device:interface'.
DEVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
# Interface names are written unquoted into switch CLIs and host scripts (mlnx_qos -i NAME).
INTERFACE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./:-]{0,63}")


def valid_device_name(name: str) -> bool:
    return DEVICE_NAME.fullmatch(name) is not None


def device_names(fabric: Fabric) -> Iterator[Problem]:
    """Device names are host-name-like: no path separators, ':' or whitespace, at most 63 characters."""
    for name in fabric.devices:
        if not valid_device_name(name):
            yield Problem(f"hosts.yaml:{name}", f"device name {name!r} is not a valid name",
                          "use 1-63 letters, digits, '-', '_' or '.', starting with a letter or digit "
                          "(no '/', ':' or spaces)")


def interface_names(fabric: Fabric) -> Iterator[Problem]:
    """Interface names carry no whitespace, quotes, backslashes or control characters."""
    for name, device in fabric.devices.items():
        for ifname in device.interfaces:
            if INTERFACE_NAME.fullmatch(ifname) is None:
                yield Problem(f"hosts.yaml:{name}.data.interfaces.{ifname}", f"interface name {ifname!r} is not "
                              "a valid name", "use the NOS's name, e.g. Ethernet0, Ethernet1/1, swp1, ens1np0: "
                              "1-64 letters, digits, '-', '_', '.', '/' or ':' (no spaces or quotes)")


# RDMA device names (mlx5_0, mlx5_bond_0, rocep65s0f0) are written into host scripts (cma_roce_tos -d NAME).
RDMA_DEVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def rdma_device_names(fabric: Fabric) -> Iterator[Problem]:
    """RDMA device names are kernel names: no whitespace, quotes or control characters."""
    for name, device in fabric.devices.items():
        for ifname, iface in device.interfaces.items():
            rdma = iface.rdma_device
            if rdma is not None and RDMA_DEVICE_NAME.fullmatch(rdma) is None:
                yield Problem(f"hosts.yaml:{name}.data.interfaces.{ifname}.rdma_device",
                              f"RDMA device name {rdma!r} is not a valid name",
                              "write the name 'rdma link' shows, e.g. mlx5_0: 1-64 letters, digits, '_', '.' or '-'")


# Platforms configured by typing into an interactive CLI session, where '?' asks for help instead of being typed.
HELP_KEY_PLATFORMS = ("nxos", "comware", "huawei_ce")
MAX_DESCRIPTION = 240  # the shortest limit of the switch CLIs: EOS 240, Huawei CE 242, NX-OS 254, Comware 255


def descriptions(fabric: Fabric) -> Iterator[Problem]:
    """A description is one line of printable text a CLI takes as it is: no newline, '"' or '\\'; on CLIs typed
    interactively no '?'; at most 240 characters."""
    for name, device in fabric.devices.items():
        for ifname, iface in device.interfaces.items():
            text = iface.description
            if text is None:
                continue
            where = f"hosts.yaml:{name}.data.interfaces.{ifname}.description"
            if not text.isprintable() or '"' in text or "\\" in text:
                yield Problem(where, "description must be one line of printable text without '\"' or '\\'",
                              "remove line breaks, tabs, control characters, double quotes and backslashes "
                              f"(got {text!r})")
            if "?" in text and device.platform in HELP_KEY_PLATFORMS:
                yield Problem(where, f"'?' asks the {device.platform} CLI for help instead of typing it, so the "
                              "description would be cut there", f"remove the '?' (got {text!r})")
            if len(text) > MAX_DESCRIPTION:
                yield Problem(where, f"description of {len(text)} characters is longer than switch CLIs take "
                              f"({MAX_DESCRIPTION})", f"shorten it to {MAX_DESCRIPTION} characters")


RULES = [device_names, interface_names, rdma_device_names, descriptions]
