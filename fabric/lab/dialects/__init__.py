"""Dialects by platform: one literal table, as netmiko's dispatch (fill order: one module per platform)."""

from __future__ import annotations

from fabric.lab.dialects.base import Dialect, EndSession
from fabric.lab.dialects.comware import ComwareDialect
from fabric.lab.dialects.huawei_ce import HuaweiCeDialect
from fabric.lab.dialects.linux_host import LinuxHostDialect
from fabric.lab.dialects.nvue import NvueDialect
from fabric.lab.dialects.nxos import NxosDialect
from fabric.lab.dialects.opensm_host import OpensmHostDialect
from fabric.lab.dialects.sonic import SonicDialect

DIALECTS: dict[str, type[Dialect]] = {
    "comware": ComwareDialect,
    "huawei_ce": HuaweiCeDialect,
    "linux_mlx5": LinuxHostDialect,
    "opensm": OpensmHostDialect,
    "nvue": NvueDialect,
    "nxos": NxosDialect,
    "sonic": SonicDialect,
}


def dialect_for(platform: str) -> type[Dialect]:
    """The dialect class of ``platform``; unknown platforms list the ones the lab speaks."""
    try:
        return DIALECTS[platform]
    except KeyError:
        raise KeyError(f"the lab has no dialect for {platform!r}; it speaks: {', '.join(sorted(DIALECTS))}") from None


__all__ = ["DIALECTS", "Dialect", "EndSession", "dialect_for"]
