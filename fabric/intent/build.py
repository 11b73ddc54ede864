"""build_intent: inventory -> one DeviceIntent per device (pure; no I/O)."""

from __future__ import annotations

from typing import Any

from fabric.core.asic import ASICS
from fabric.core.gcpause import paused_gc
from fabric.core.platform import PLATFORMS
from fabric.intent.buffers import build_buffers
from fabric.intent.ecn import build_ecn
from fabric.intent.ib import build_ib
from fabric.intent.models import DeviceIntent
from fabric.intent.nic import build_nic
from fabric.intent.pfc import build_pfc
from fabric.intent.qos import build_qos
from fabric.inventory.effective import cable_length, effective_pfc, effective_qos, port_mtu
from fabric.inventory.models import Device, Fabric

# The smallest port MTU a platform's CLI takes. Comware and CloudEngine set it as "jumboframe enable <size>", a
# jumbo frame size: above 1536 bytes on H3C (S6850 interface guide), 1536-12288 on CloudEngine (Ansible ce_mtu).
# A 1500 MTU would be refused; the smallest jumbo size admits every frame such an MTU sends.
MIN_MTU = {"comware": 1536, "huawei_ce": 1536}


def build_ports(fabric: Fabric, device: Device) -> list[dict[str, Any]]:
    """Every interface with its effective MTU (within what the platform's CLI takes) and cable length, as
    PortIntent fields.

    Plain fields, validated together with the DeviceIntent that holds them: one validation call per
    device instead of one per port.
    """
    spec = fabric.spec
    max_mtu = PLATFORMS[device.platform].max_mtu if device.platform in PLATFORMS else 9216
    min_mtu = MIN_MTU.get(device.platform, 0)
    roce = spec.transport == "roce"
    return [
        {"name": name, "speed_gbps": i.speed_gbps, "speed_mbps": i.speed_gbps * 1000,
         "mtu": min(max(port_mtu(spec, device, i), min_mtu), max_mtu), "peer": i.peer,
         "cable_length_m": cable_length(spec, i),
         "lossless": i.lossless and roce, "description": i.description or (f"to {i.peer}" if i.peer else "")}
        for name, i in device.interfaces.items()
    ]


def _roce_switch(fabric: Fabric, device: Device, intent: DeviceIntent) -> DeviceIntent:
    spec = fabric.spec
    qos, pfc = effective_qos(spec, device), effective_pfc(spec, device)
    ports = intent.interfaces
    asic = ASICS.get(device.asic or "")
    update = {
        "qos": build_qos(qos, pfc.priorities),
        "pfc": build_pfc(pfc, ports),
        "ecn": build_ecn(spec.ecn, ports, {n: i.ecn_profile for n, i in device.interfaces.items()},
                         qos.lossless_priority, asic.cell_bytes if asic else None),
    }
    if asic is not None:
        update["buffers"] = build_buffers(device, asic, ports, spec.buffers, len(pfc.priorities))
    return intent.model_copy(update=update)


def _roce_server(fabric: Fabric, device: Device, intent: DeviceIntent) -> DeviceIntent:
    spec = fabric.spec
    qos, pfc = effective_qos(spec, device), effective_pfc(spec, device)
    return intent.model_copy(update={
        "qos": build_qos(qos, pfc.priorities),
        "pfc": build_pfc(pfc, intent.interfaces),
        "nic": build_nic(device, intent.interfaces, qos, spec.dcqcn),
    })


def build_device(fabric: Fabric, device: Device) -> DeviceIntent:
    """The intent of one device; features that do not apply to it stay None."""
    spec = fabric.spec
    intent = DeviceIntent.model_validate({
        "name": device.name, "platform": device.platform, "role": device.role, "hostname": device.hostname,
        "transport": spec.transport, "mtu": spec.host_mtu if device.role in ("server", "sm") else spec.mtu,
        "interfaces": build_ports(fabric, device),
    })
    kind = PLATFORMS[device.platform].kind if device.platform in PLATFORMS else None
    if spec.transport == "roce" and kind == "switch":
        return _roce_switch(fabric, device, intent)
    if spec.transport == "roce" and kind == "host":
        return _roce_server(fabric, device, intent)
    if kind == "sm" and spec.infiniband is not None:
        return intent.model_copy(update={"ib": build_ib(spec.infiniband, fabric.devices)})
    return intent


def build_intent(fabric: Fabric) -> dict[str, DeviceIntent]:
    """One DeviceIntent per device, in inventory order."""
    with paused_gc():  # ~100 acyclic objects per device: collecting meanwhile only re-walks the inventory
        return {name: build_device(fabric, device) for name, device in fabric.devices.items()}
