"""Rules for InfiniBand fabrics: an SM with intent, GUIDs where OpenSM needs them, sane QoS tables."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from fabric.core.problems import Problem
from fabric.inventory.models import Fabric

KEYWORDS = ("ALL", "ALL_CAS", "ALL_SWITCHES", "ALL_ROUTERS", "SELF")
# opensm osm_opensm.c routing_modules (case-sensitive); an unknown name is logged and skipped, so the
# subnet silently falls back to minhop. "no_fallback" is a keyword of the chain, not an engine.
ROUTING_ENGINES = ("minhop", "updn", "dnup", "file", "ftree", "lash", "dor", "torus-2QoS", "nue", "dfsssp", "sssp",
                   "no_fallback")
# partitions.conf splits a definition at '=', ',', ':', ';' and drops what follows '#' (osm_prtn_config.c).
PARTITION_NAME = re.compile(r"[^=,:;#\x00-\x1f\x7f]+")


def subnet_manager(fabric: Fabric) -> Iterator[Problem]:
    """An InfiniBand fabric has an infiniband section and at least one SM host."""
    if fabric.spec.transport != "infiniband":
        if fabric.spec.infiniband is not None:
            yield Problem("fabric.yaml:infiniband", "InfiniBand settings on a RoCE fabric are ignored",
                          "remove the section or set transport: infiniband", severity="warning")
        return
    if fabric.spec.infiniband is None:
        yield Problem("fabric.yaml:infiniband", "required when transport is infiniband",
                      "add an infiniband section (routing_engine, sm_priority, qos, partitions)")
    if not any(d.role == "sm" for d in fabric.devices.values()):
        yield Problem("hosts.yaml", "no subnet manager host (role sm)", "add a host with platform opensm and role sm")


def guids(fabric: Fabric) -> Iterator[Problem]:
    """HCA ports carry port GUIDs (partitions list them); GUIDs are unique."""
    if fabric.spec.transport != "infiniband":
        return
    seen: dict[str, str] = {}
    for device in fabric.devices.values():
        for name, iface in device.interfaces.items():
            where = f"hosts.yaml:{device.name}.data.interfaces.{name}.port_guid"
            if device.role in ("server", "sm") and iface.port_guid is None:
                yield Problem(where, "missing on an HCA port", "add the port GUID (ibstat shows it)")
            if iface.port_guid is not None:
                if iface.port_guid.lower() in seen:
                    yield Problem(where, f"GUID {iface.port_guid} is also used by {seen[iface.port_guid.lower()]}",
                                  "GUIDs are unique")
                seen[iface.port_guid.lower()] = f"{device.name}:{name}"



def node_guids(fabric: Fabric) -> Iterator[Problem]:
    """Node GUIDs are unique: the spines' ones are the ftree roots, and a copied one leaves a spine out."""
    if fabric.spec.transport != "infiniband":
        return
    seen: dict[str, str] = {}
    for device in fabric.devices.values():
        guid = (device.node_guid or "").lower()
        if guid in seen:
            yield Problem(f"hosts.yaml:{device.name}.data.node_guid",
                          f"node GUID {device.node_guid} is also {seen[guid]}'s", "GUIDs are unique (ibstat shows it)")
        elif guid:
            seen[guid] = device.name


def qos_tables(fabric: Fabric) -> Iterator[Problem]:
    """SL2VL and VL arbitration only use VLs below max_vls."""
    ib = fabric.spec.infiniband
    if ib is None or fabric.spec.transport != "infiniband":
        return
    qos = ib.qos
    for sl, vl in enumerate(qos.sl2vl):
        if vl >= qos.max_vls:
            yield Problem("fabric.yaml:infiniband.qos.sl2vl",
                          f"SL {sl} maps to VL {vl}, not below max_vls {qos.max_vls}",
                          "map every SL to a VL in 0..max_vls-1")
            break
    for table in ("vlarb_high", "vlarb_low"):
        bad = [vl for vl in getattr(qos, table) if not 0 <= vl < qos.max_vls]
        if bad:
            yield Problem(f"fabric.yaml:infiniband.qos.{table}", f"VL {bad[0]} is not below max_vls {qos.max_vls}",
                          "list only VLs in 0..max_vls-1")
        weights = [w for w in getattr(qos, table).values() if not 0 <= w <= 255]
        if weights:
            yield Problem(f"fabric.yaml:infiniband.qos.{table}", f"weight {weights[0]} is outside 0-255", "")


def partitions(fabric: Fabric) -> Iterator[Problem]:
    """Partition members exist, PKeys are unique and not the default 0x7fff."""
    ib = fabric.spec.infiniband
    if ib is None:
        return
    seen: dict[int, str] = {}
    for index, part in enumerate(ib.partitions):
        where = f"fabric.yaml:infiniband.partitions.{index}"
        if not PARTITION_NAME.fullmatch(part.name) or part.name.strip() != part.name:
            yield Problem(f"{where}.name", f"partition name {part.name!r} cannot be written to partitions.conf",
                          "use letters, digits, '_', '-' or '.' (OpenSM splits a definition at = , : ; and "
                          "drops what follows #)")
        pkey = int(part.pkey, 16) & 0x7FFF
        if pkey == 0x7FFF:
            yield Problem(f"{where}.pkey", "0x7fff is the default partition", "use another PKey, e.g. 0x8001")
        elif pkey == 0:
            yield Problem(f"{where}.pkey", f"PKey {part.pkey} has no partition number (its low 15 bits are 0), so "
                          "OpenSM would pick another PKey for it",
                          "use a PKey whose low 15 bits are 0x0001-0x7ffe, e.g. 0x8001")
        elif pkey in seen:
            yield Problem(f"{where}.pkey", f"PKey {part.pkey} repeats partition '{seen[pkey]}'",
                          "give each partition its own PKey")
        seen.setdefault(pkey, part.name)
        for member in part.members:
            if member not in KEYWORDS and member not in fabric.devices:
                yield Problem(f"{where}.members", f"'{member}' is not a device or keyword",
                              f"use device names or one of {', '.join(KEYWORDS)}")
            elif member in fabric.devices and not any(i.port_guid for i in fabric.devices[member].interfaces.values()):
                yield Problem(f"{where}.members", f"'{member}' has no port GUID, so partitions.conf would list "
                              "nothing for it", "add port_guid to its ports, or use ALL_SWITCHES for the switches")


def routing_engines(fabric: Fabric) -> Iterator[Problem]:
    """Every engine of the routing chain exists in OpenSM (an unknown one would silently route minhop)."""
    ib = fabric.spec.infiniband
    if ib is None or fabric.spec.transport != "infiniband":
        return
    names = [name.strip() for name in ib.routing_engine.split(",")]
    for name in names:
        if name not in ROUTING_ENGINES:
            near = difflib.get_close_matches(name, ROUTING_ENGINES, n=1)
            hint = f"did you mean '{near[0]}'? " if near else ""
            yield Problem("fabric.yaml:infiniband.routing_engine", f"unknown OpenSM routing engine {name!r}",
                          f"{hint}write a comma-separated chain of: {', '.join(ROUTING_ENGINES)}")


RULES = [subnet_manager, guids, node_guids, qos_tables, partitions, routing_engines]
