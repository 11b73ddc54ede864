"""Which driver deploys which platform: one literal, greppable table (netmiko's dispatch style)."""

from __future__ import annotations

from collections.abc import Callable

from fabric.deploy.driver import Driver, Target
from fabric.deploy.host import HostDriver
from fabric.deploy.napalm import NapalmDriver
from fabric.deploy.nvue import NvueDriver
from fabric.deploy.opensm import OpensmDriver
from fabric.deploy.sonic import SonicDriver
from fabric.deploy.views import COMWARE, HUAWEI_CE, ViewCliDriver

DRIVERS: dict[str, Callable[[Target], Driver]] = {
    "eos": NapalmDriver,
    "nxos": NapalmDriver,
    "sonic": SonicDriver,
    "nvue": NvueDriver,
    "comware": lambda target: ViewCliDriver(target, COMWARE),
    "huawei_ce": lambda target: ViewCliDriver(target, HUAWEI_CE),
    "linux_mlx5": HostDriver,
    "opensm": OpensmDriver,
}


def candidate_text(files: dict[str, str]) -> str:
    """What a driver gets as its candidate: the rendered file, or for a platform that renders several
    (opensm) a JSON object of file name -> text."""
    import json

    return next(iter(files.values())) if len(files) == 1 else json.dumps(files, sort_keys=True)


def make_driver(target: Target) -> Driver:
    """The driver for ``target.platform``; an unknown one names the platforms that deploy."""
    try:
        return DRIVERS[target.platform](target)
    except KeyError:
        raise KeyError(f"no deploy driver for platform {target.platform!r}; "
                       f"deployable: {', '.join(sorted(DRIVERS))}") from None
