"""Feature ``ib``: OpenSM routing, SM priority, QoS tables and partitions."""

from __future__ import annotations

from fabric.intent.models import IbIntent, IbPartitionIntent
from fabric.inventory.models import Device, InfinibandSpec, Partition

KEYWORDS = ("ALL", "ALL_CAS", "ALL_SWITCHES", "ALL_ROUTERS", "SELF")
ROOTED_ENGINES = {"ftree", "updn", "dnup"}  # engines that take root_guid_file (opensm doc/current-routing.txt)


def port_guids(device: Device) -> list[str]:
    """Port GUIDs of a device's interfaces, in interface order."""
    return [i.port_guid for i in device.interfaces.values() if i.port_guid]


def _members(partition: Partition, devices: dict[str, Device]) -> list[str]:
    members = []
    for member in partition.members:
        if member in KEYWORDS:
            members.append(f"{member}={partition.membership}")
        elif member in devices:
            members.extend(f"{guid}={partition.membership}" for guid in port_guids(devices[member]))
    return members


def _table(weights: dict[int, int]) -> str:
    return ",".join(f"{vl}:{w}" for vl, w in sorted(weights.items()))


def build_ib(ib: InfinibandSpec, devices: dict[str, Device]) -> IbIntent:
    """The ``ib`` intent of the subnet manager host."""
    partitions = [
        IbPartitionIntent(name=p.name, pkey=p.pkey, ipoib=p.ipoib, sl=p.sl, members=_members(p, devices))
        for p in ib.partitions
    ]
    roots = [d.node_guid for d in devices.values() if d.role == "spine" and d.node_guid]
    engines = {name.strip() for name in ib.routing_engine.split(",")}
    return IbIntent(
        routing_engine=ib.routing_engine, sm_priority=ib.sm_priority, lmc=ib.lmc,
        sweep_interval_s=ib.sweep_interval_s, qos_enabled=ib.qos.enabled, max_vls=ib.qos.max_vls,
        high_limit=ib.qos.high_limit, vlarb_high=_table(ib.qos.vlarb_high), vlarb_low=_table(ib.qos.vlarb_low),
        sl2vl=",".join(map(str, ib.qos.sl2vl)), partitions=partitions, root_guids=roots,
        root_guid_file=bool(roots and engines & ROOTED_ENGINES),
    )
