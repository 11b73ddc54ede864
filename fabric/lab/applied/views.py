"""The running configuration of a view-CLI device (Comware, Huawei VRP) as word lists per view."""

from __future__ import annotations

from fabric.lab.device import LabDevice
from fabric.lab.dialects.viewconfig import ViewConfig, ViewDeviceState


def running(device: LabDevice) -> ViewConfig | None:
    """The running (committed) configuration; None when the device holds another kind of state."""
    state = device.config
    return state.running if isinstance(state, ViewDeviceState) else None


def lines_of(config: ViewConfig, header: str) -> list[list[str]]:
    """The statements of view ``header`` ("" for system view), split into words; [] when absent."""
    section = config.sections.get(header)
    return [line.split() for line in section.lines()] if section else []


def sections_of(config: ViewConfig, kind: str) -> dict[str, list[list[str]]]:
    return {header: lines_of(config, header) for header in config.headers(kind)}
