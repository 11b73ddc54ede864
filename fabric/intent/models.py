"""DeviceIntent: the vendor-neutral structured configuration of one device.

Builders in this package fill it from the inventory; templates only print it. Every value a
template needs is here, already in the unit its feature uses (bytes, ms, cells).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PortIntent(Model):
    """A port as every feature sees it."""

    name: str
    speed_gbps: int
    speed_mbps: int
    mtu: int
    peer: str | None = None
    cable_length_m: int = Field(description="Whole metres, rounded up (SONiC CABLE_LENGTH takes whole metres).")
    lossless: bool
    description: str = ""


class EtsClass(Model):
    """One traffic class of the egress scheduler."""

    tc: int
    mode: Literal["strict", "dwrr"]
    bandwidth_percent: int | None = None
    name: str


class QosIntent(Model):
    """Classification and scheduling (feature ``qos``)."""

    trust: Literal["dscp", "pcp"]
    roce_dscp: list[int]
    cnp_dscp: int
    lossless_tc: int
    cnp_tc: int
    default_tc: int
    dscp_to_tc: dict[int, int] = Field(description="All 64 DSCP values.")
    dscp_groups: dict[int, list[int]] = Field(description="TC -> its DSCP values, for 'match dscp' style maps.")
    tc_to_queue: dict[int, int]
    tc_to_pg: dict[int, int]
    ets: list[EtsClass]


class WatchdogIntent(Model):
    """PFC watchdog timers."""

    enabled: bool
    detect_ms: int
    restore_ms: int
    poll_ms: int
    robustness: int = Field(description="Polls per detection: ceil(detect_ms / poll_ms) (Cumulus robustness).")
    action: Literal["drop", "forward", "alert"]


class PfcIntent(Model):
    """Priority flow control (feature ``pfc``)."""

    priorities: list[int]
    priority_vector: str = Field(description="'0,0,0,1,0,0,0,0' for mlnx_qos --pfc.")
    ports: list[str] = Field(description="Lossless ports: PFC on, link pause off.")
    link_pause: bool
    dcbx_willing: bool
    watchdog: WatchdogIntent


class HeadroomProfile(Model):
    """One lossless headroom profile (SONiC BUFFER_PROFILE pg_lossless_*)."""

    name: str
    speed_gbps: int
    cable_length_m: int
    xon_bytes: int
    xoff_bytes: int
    size_bytes: int
    dynamic_th: int


class PortBuffer(Model):
    """Headroom of one lossless port, in bytes and in the ASIC's cells."""

    interface: str
    profile: str
    cable_length_m: int
    xon_bytes: int
    xoff_bytes: int
    size_bytes: int
    xon_cells: int
    xoff_cells: int
    size_cells: int
    explicit: bool = Field(False, description="Set by headroom_bytes in the inventory, not computed.")
    long_cable: bool = Field(False, description="Cable over 100 m: NX-OS then requires an ingress pause buffer.")
    pause_buffer_bytes: int = Field(0, description="NX-OS pause buffer-size: the PG's buffer, whole cells.")
    pause_threshold_bytes: int = Field(0, description="NX-OS pause-threshold: buffer minus the xoff headroom.")
    resume_threshold_bytes: int = Field(0, description="NX-OS resume-threshold: one port MTU below the pause point.")


class BufferIntent(Model):
    """Ingress buffers (feature ``buffers``)."""

    model: Literal["dynamic", "traditional"]
    asic: str
    cell_bytes: int
    buffer_bytes: int
    dynamic_th: int
    lossless_mtu: int
    small_packet_percentage: int
    lossless_pool_percent: int = Field(description="Share of the buffer for the lossless ingress pool.")
    lossy_pool_percent: int = Field(description="The rest, for the lossy pool.")
    profiles: list[HeadroomProfile]
    ports: list[PortBuffer]
    total_headroom_bytes: int
    pause_threshold_bytes: int = Field(description="Shared-buffer depth at which a lossless PG sends XOFF.")


class EcnProfileIntent(Model):
    """A WRED/ECN profile for the lossless queue."""

    name: str
    kmin_bytes: int
    kmax_bytes: int
    pmax_percent: int = Field(description="Whole percent, 1-100 (what every CLI accepts).")
    kmin_cells: int | None = Field(None, description="Kmin in the ASIC's cells (queue-length CLIs such as H3C).")
    kmax_cells: int | None = Field(None, description="Kmax in the ASIC's cells.")
    weight: int
    source: str = Field(description="Where the numbers come from (explicit profile or the auto table).")


class EcnIntent(Model):
    """ECN marking on the lossless queue (feature ``ecn``)."""

    queue: int
    profiles: list[EcnProfileIntent]
    ports: dict[str, str] = Field(description="Interface -> profile name.")


class NicPort(Model):
    """One ConnectX port as mlnx_qos, cma_roce_tos and sysfs see it."""

    interface: str
    rdma_device: str
    speed_gbps: int
    mtu: int
    peer: str | None


class NicIntent(Model):
    """Host NIC settings (feature ``nic``: qos/pfc/ecn/dcqcn on the host)."""

    trust: Literal["dscp", "pcp"]
    ports: list[NicPort]
    roce_dscp: int
    roce_tos: int = Field(description="DSCP << 2 | ECT(0): the RDMA-CM ToS.")
    lossless_priority: int
    cnp_dscp: int
    cnp_priority: int
    dscp2prio: dict[int, int] = Field(description="DSCP -> priority entries that differ from DSCP/8.")
    prio_tc: list[int] = Field(description="TC of priority 0..7 for mlnx_qos --prio_tc (priority n in TC n).")
    ets_bandwidth: list[int] = Field(description="Per-TC DWRR share for mlnx_qos --tcbw.")
    ets_tsa: list[str] = Field(description="Per-TC scheduler for mlnx_qos --tsa.")
    np_enable_priorities: list[int]
    rp_enable_priorities: list[int]
    rp_params: dict[str, int] = Field(description="/sys/class/net/<if>/ecn/roce_rp/params/<name>.")
    np_params: dict[str, int] = Field(description="/sys/class/net/<if>/ecn/roce_np/params/<name>.")


class IbPartitionIntent(Model):
    """A partition with its members resolved to port GUIDs."""

    name: str
    pkey: str
    ipoib: bool
    sl: int | None
    members: list[str] = Field(description="'0x...=full' entries or keywords such as ALL=full.")


class IbIntent(Model):
    """Subnet manager settings (feature ``ib``)."""

    routing_engine: str
    sm_priority: int
    lmc: int
    sweep_interval_s: int
    qos_enabled: bool
    max_vls: int
    high_limit: int
    vlarb_high: str
    vlarb_low: str
    sl2vl: str
    partitions: list[IbPartitionIntent]
    root_guids: list[str]
    root_guid_file: bool = Field(description="Whether the routing chain reads root GUIDs (ftree, updn, dnup).")
    config_dir: str = Field("/etc/opensm", description="Where opensm.conf and the files it names live.")


class DeviceIntent(Model):
    """Everything fabric wants one device to be."""

    name: str
    platform: str
    role: str
    hostname: str
    transport: Literal["roce", "infiniband"]
    mtu: int
    interfaces: list[PortIntent]
    qos: QosIntent | None = None
    pfc: PfcIntent | None = None
    buffers: BufferIntent | None = None
    ecn: EcnIntent | None = None
    nic: NicIntent | None = None
    ib: IbIntent | None = None
