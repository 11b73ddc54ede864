"""Effective per-device settings: fabric.yaml with the device's own overrides applied."""

from __future__ import annotations

import math

from fabric.inventory.models import Device, FabricSpec, Interface, PfcSpec, QosSpec


def effective_qos(spec: FabricSpec, device: Device) -> QosSpec:
    """fabric.yaml qos with the device's ``data.qos`` overrides (fabric.yaml's own object when there are none)."""
    if not device.qos.model_fields_set:  # nearly every device: skip dumping an empty override
        return spec.qos
    overrides = device.qos.model_dump(exclude_none=True)
    return spec.qos.model_copy(update=overrides) if overrides else spec.qos


def effective_pfc(spec: FabricSpec, device: Device) -> PfcSpec:
    """fabric.yaml pfc with the device's ``data.pfc`` overrides (fabric.yaml's own object when there are none)."""
    if not device.pfc.model_fields_set:
        return spec.pfc
    overrides = device.pfc.model_dump(exclude_none=True)
    return spec.pfc.model_copy(update=overrides) if overrides else spec.pfc


def port_mtu(spec: FabricSpec, device: Device, interface: Interface) -> int:
    """The interface's MTU, else the fabric's switch or host MTU."""
    if interface.mtu is not None:
        return interface.mtu
    return spec.host_mtu if device.role in ("server", "sm") else spec.mtu


def cable_length(spec: FabricSpec, interface: Interface) -> int:
    """The interface's cable length, else fabric.yaml's default, in whole metres rounded up.

    Switches take whole metres (SONiC CABLE_LENGTH "40m", Cumulus cable-length), and the headroom a
    switch computes is for that length, so the intent rounds once, upwards, for every platform.
    """
    length = interface.cable_length_m
    return math.ceil(spec.buffers.default_cable_length_m if length is None else length)


def dscp_to_tc(qos: QosSpec) -> dict[int, int]:
    """All 64 DSCPs: RoCE DSCPs to the lossless TC, the CNP DSCP to the CNP TC, the rest to the default TC."""
    table = dict.fromkeys(range(64), qos.default_priority)
    table.update(dict.fromkeys(qos.roce_dscp, qos.lossless_priority))
    table[qos.cnp_dscp] = qos.cnp_priority
    return table
