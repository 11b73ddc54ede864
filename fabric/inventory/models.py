"""Typed inventory models (pydantic v2, extra keys forbidden, every field described).

Two levels, as in Nornir: the *file* models (``HostEntry``, ``GroupEntry``, ``DefaultsEntry``)
mirror hosts.yaml / groups.yaml / defaults.yaml with every field optional, so each file can be
checked on its own; ``Device`` is a host after inheritance (defaults -> groups -> host), with the
required fields present. ``FabricSpec`` is fabric.yaml: the fabric-wide intent.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from fabric.core.units import Bytes, Gbps, Meters, Millis

Priority = Annotated[int, Field(ge=0, le=7)]
U32 = 2**32 - 1  # sysfs u32 attributes (DCQCN knobs)
Dscp = Annotated[int, Field(ge=0, le=63)]
T = TypeVar("T")


def _once_each(values: list[T]) -> list[T]:
    """A list of distinct values: a repeated priority or DSCP is rendered twice ("pfc_enable": "3,3") and a
    repeated PFC priority counts its headroom twice."""
    repeated = sorted({str(v) for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"lists {', '.join(repeated)} more than once; list each value once")
    return values


Priorities = Annotated[list[Priority], AfterValidator(_once_each)]
Dscps = Annotated[list[Dscp], AfterValidator(_once_each)]
Role = Literal["spine", "leaf", "server", "sm"]
SECRET_REF = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --------------------------------------------------------------------------- hosts / groups


class Interface(Model):
    """One port: a switch port, a server NIC port or an IB port."""

    speed_gbps: Gbps = Field(description="Port speed in Gb/s (10, 25, 40, 50, 100, 200, 400, 800).")
    peer: str | None = Field(None, description="The other end as 'device:interface'; both ends must name each other.")
    cable_length_m: Meters | None = Field(
        None, gt=0, description="Cable length in metres, above 0 (SONiC configures no headroom for a '0m' "
        "cable); defaults to fabric.yaml buffers.default_cable_length_m.")
    lossless: bool = Field(True, description="Whether the port carries lossless RoCE traffic (PFC, headroom, ECN).")
    mtu: int | None = Field(
        None, ge=1280, le=9216, description="Port MTU; defaults to fabric.yaml mtu (host_mtu on servers).")
    headroom_bytes: Bytes | None = Field(
        None, description="Explicit per-priority headroom; omit to compute it from speed, cable and ASIC.")
    ecn_profile: str | None = Field(
        None, description="Name of an ECN profile in fabric.yaml ecn.profiles for this port.")
    rdma_device: str | None = Field(None, description="Server NICs: the RDMA device of this netdev, e.g. mlx5_0.")
    port_guid: str | None = Field(None, pattern=r"^0x[0-9a-fA-F]{16}$", description="InfiniBand: the port GUID.")
    description: str | None = Field(None, description="Free text, rendered as the port description.")


class QosOverride(Model):
    """Per-device overrides of fabric.yaml qos (allowed, but the validator requires fabric-wide agreement)."""

    roce_dscp: Dscps | None = Field(None, description="DSCP values of RoCE data traffic.")
    lossless_priority: Priority | None = Field(None, description="Priority/TC carrying RoCE data (lossless).")
    cnp_dscp: Dscp | None = Field(None, description="DSCP of congestion notification packets.")
    cnp_priority: Priority | None = Field(None, description="Priority/TC of CNPs (strict, never lossless).")
    trust: Literal["dscp", "pcp"] | None = Field(None, description="What the port classifies on.")


class PfcOverride(Model):
    """Per-device overrides of fabric.yaml pfc."""

    priorities: Priorities | None = Field(None, description="Priorities with PFC enabled on this device.")
    dcbx_willing: bool | None = Field(None, description="Whether DCBX accepts the peer's settings (must stay false).")


class DataEntry(Model):
    """The ``data`` block of a host, group or defaults entry (every key optional at this level)."""

    role: Role | None = Field(None, description="spine, leaf, server or sm (subnet manager host).")
    asic: str | None = Field(None, description="Switch ASIC (see fabric.core.asic), e.g. spectrum3, tomahawk4.")
    nic: str | None = Field(None, description="Server NIC model, e.g. ConnectX-7.")
    pod: int | None = Field(None, ge=0, description="Pod number (rail-optimised fabrics).")
    rail: int | None = Field(None, ge=0, description="Rail number of a rail leaf.")
    node_guid: str | None = Field(None, pattern=r"^0x[0-9a-fA-F]{16}$", description="InfiniBand node GUID.")
    interfaces: dict[str, Interface] | None = Field(None, description="Ports by name.")
    qos: QosOverride | None = Field(None, description="Overrides of fabric.yaml qos for this device.")
    pfc: PfcOverride | None = Field(None, description="Overrides of fabric.yaml pfc for this device.")


class ConnectionEntry(Model):
    """Connection settings shared by hosts, groups and defaults."""

    hostname: str | None = Field(None, description="Management address (the twin serves 127.x.y.z).")
    port: int | None = Field(None, ge=1, le=65535, description="Management port (SSH 22, eAPI 443).")
    username: str | None = Field(None, description="Login user.")
    password: str | None = Field(None, description="Login password as a ${ENV_VAR} reference, never plaintext.")
    platform: str | None = Field(None, description="Platform name: sonic, nvue, eos, nxos, comware, ...")
    data: DataEntry | None = Field(None, description="Fabric data: role, ASIC, interfaces.")

    @field_validator("password")
    @classmethod
    def _secret_is_reference(cls, value: str | None) -> str | None:
        if value is not None and not SECRET_REF.match(value):
            raise ValueError("plaintext secret; write it as a ${ENV_VAR} reference and export the variable")
        return value


class HostEntry(ConnectionEntry):
    """One entry of hosts.yaml."""

    groups: list[str] = Field(default_factory=list, description="Groups, first match wins (Nornir order).")


class GroupEntry(HostEntry):
    """One entry of groups.yaml (groups may belong to groups)."""


class DefaultsEntry(ConnectionEntry):
    """defaults.yaml."""


class Device(Model):
    """A host after inheritance: what intent builders and transports consume."""

    name: str = Field(description="Inventory name.")
    hostname: str = Field(description="Management address.")
    port: int | None = Field(None, description="Management port, or the platform default.")
    username: str | None = Field(None, description="Login user.")
    password: str | None = Field(None, description="${ENV_VAR} reference to the password.")
    platform: str = Field(description="Platform name.")
    groups: tuple[str, ...] = Field((), description="Groups, as listed on the host.")
    role: Role = Field(description="spine, leaf, server or sm.")
    asic: str | None = Field(None, description="Switch ASIC.")
    nic: str | None = Field(None, description="Server NIC model.")
    pod: int | None = Field(None, description="Pod number.")
    rail: int | None = Field(None, description="Rail number.")
    node_guid: str | None = Field(None, description="InfiniBand node GUID.")
    interfaces: dict[str, Interface] = Field(default_factory=dict, description="Ports by name.")
    qos: QosOverride = Field(default_factory=QosOverride, description="QoS overrides.")
    pfc: PfcOverride = Field(default_factory=PfcOverride, description="PFC overrides.")


# --------------------------------------------------------------------------- fabric.yaml


class QosSpec(Model):
    """Traffic classes: RoCE data lossless, CNPs strict, the rest default (reference/lossless.md §0)."""

    roce_dscp: Dscps = Field([26], min_length=1, description="DSCP values of RoCE data traffic.")
    lossless_priority: Priority = Field(3, description="Priority/TC of RoCE data; PFC runs on it.")
    cnp_dscp: Dscp = Field(48, description="DSCP of CNPs (mlx5 default 48).")
    cnp_priority: Priority = Field(6, description="Priority/TC of CNPs: strict priority, never lossless.")
    default_priority: Priority = Field(0, description="Priority/TC of all other traffic.")
    trust: Literal["dscp", "pcp"] = Field("dscp", description="Classify on DSCP (L3 RoCE) or PCP.")
    lossless_bandwidth_percent: int = Field(50, ge=1, le=99, description="ETS DWRR share of the lossless TC.")


class WatchdogSpec(Model):
    """PFC watchdog (SONiC defaults 200/200 ms, drop; reference/lossless.md §1.5)."""

    enabled: bool = Field(True, description="Arm the PFC watchdog on lossless queues.")
    detect_ms: Millis = Field(200, description="Storm detection time (100-5000 ms).")
    restore_ms: Millis = Field(400, description="Restoration time; must be >= detect_ms.")
    poll_ms: Millis = Field(100, description="Polling interval (100-1000 ms).")
    action: Literal["drop", "forward", "alert"] = Field("drop", description="What a stormed queue does.")


class PfcSpec(Model):
    """Priority flow control."""

    priorities: Priorities = Field(
        [3], min_length=1, description="Priorities with PFC (normally just the lossless one).")
    watchdog: WatchdogSpec = Field(default_factory=WatchdogSpec, description="PFC watchdog.")
    link_pause: bool = Field(False, description="802.3x global pause; must stay off where PFC runs.")
    dcbx_willing: bool = Field(False, description="DCBX willing bit; static, non-willing config is the norm.")


class BufferSpec(Model):
    """Ingress buffers and headroom (reference/lossless.md §1.3)."""

    model: Literal["dynamic", "traditional"] = Field("dynamic", description="SONiC buffer model.")
    default_cable_length_m: Meters = Field(
        5, gt=0, description="Cable length for ports that do not state one, above 0 (SONiC configures no headroom "
        "for a '0m' cable).")
    dynamic_th: int = Field(0, ge=-8, le=8, description="Shared-buffer alpha exponent: threshold = 2^n x free buffer.")
    lossless_mtu: int = Field(1024, ge=64, le=9216, description="LOSSLESS_TRAFFIC_PATTERN mtu (bytes).")
    small_packet_percentage: int = Field(
        50, ge=0, le=100, description="LOSSLESS_TRAFFIC_PATTERN small_packet_percentage.")
    lossless_pool_percent: int = Field(
        50, ge=1, le=99, description="Share of the buffer for the lossless ingress pool (Cumulus traffic-pool).")
    headroom_budget_percent: int = Field(
        50, ge=1, le=100, description="Share of the ASIC buffer all lossless headroom may take together.")
    congested_pgs: int = Field(
        1, ge=1, description="Lossless PGs assumed congested at once when deriving the PFC XOFF point.")


class EcnProfile(Model):
    """RED/ECN marking on a lossless queue."""

    kmin_bytes: Bytes = Field(description="Marking starts at this queue depth.")
    kmax_bytes: Bytes = Field(description="Marking probability reaches pmax_percent here (marks all above).")
    pmax_percent: float = Field(description="Marking probability at Kmax, in (0, 100].")
    weight: int = Field(0, ge=0, le=15, description="RED averaging weight (0 = instantaneous queue).")


class EcnSpec(Model):
    """ECN thresholds per lossless queue: automatic by port speed, or explicit profiles."""

    mode: Literal["auto", "explicit"] = Field("auto", description="auto scales by port speed; explicit uses profiles.")
    profiles: dict[str, EcnProfile] = Field(default_factory=dict, description="Named profiles.")
    default_profile: str | None = Field(None, description="Profile for ports without ecn_profile (explicit mode).")


class DcqcnSpec(Model):
    """DCQCN NIC knobs (names and defaults of ConnectX firmware; reference/congestion-and-tuning.md §1.2).

    Each is written to a sysfs file that takes a decimal u32 (reference/lossless.md §6.3): at most 2^32 - 1.
    """

    rpg_time_reset_us: int = Field(300, ge=1, le=U32, description="Rate-increase timer.")
    rpg_byte_reset: int = Field(32767, ge=1, le=U32, description="Rate-increase byte counter.")
    rpg_threshold: int = Field(1, ge=1, le=31, description="Fast-recovery steps.")
    rpg_ai_rate_mbps: int = Field(5, ge=1, le=U32, description="Additive increase rate.")
    rpg_hai_rate_mbps: int = Field(50, ge=1, le=U32, description="Hyper additive increase rate.")
    rpg_min_rate_mbps: int = Field(1, ge=1, le=U32, description="Minimum rate.")
    rpg_min_dec_fac: int = Field(50, ge=1, le=100, description="Bound of one rate cut, percent.")
    rpg_gd: int = Field(11, ge=0, le=15, description="Alpha update gain exponent.")
    rate_reduce_monitor_period_us: int = Field(4, ge=1, le=U32, description="Minimum time between cuts.")
    initial_alpha_value: int = Field(1023, ge=0, le=1023, description="Initial alpha (1023 = 1.0).")
    dce_tcp_g: int = Field(1019, ge=0, le=1023, description="Alpha EWMA gain (fixed point).")
    dce_tcp_rtt_us: int = Field(1, ge=1, le=U32, description="Alpha update period.")
    min_time_between_cnps_us: int = Field(4, ge=0, le=U32, description="NP: minimum CNP interval per QP.")
    clamp_tgt_rate: bool = Field(False, description="Clamp target rate on every cut.")
    clamp_tgt_rate_after_time_inc: bool = Field(True, description="Clamp target rate after a timer increase.")


class Range(Model):
    """Inclusive bounds."""

    min: float = Field(description="Lower bound.")
    max: float = Field(description="Upper bound.")

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min != self.min or self.max != self.max:
            raise ValueError("min and max must be numbers, not nan")
        if self.min > self.max:
            raise ValueError(f"min {self.min:.15g} is above max {self.max:.15g}, so no value is inside; swap them")
        return self


class TunerSpec(Model):
    """Guard rails for the closed-loop tuner."""

    kmin_bytes: Range = Field(Range(min=20_000, max=2_000_000), description="Bounds of Kmin.")
    kmax_bytes: Range = Field(Range(min=100_000, max=8_000_000), description="Bounds of Kmax.")
    pmax_percent: Range = Field(Range(min=1, max=100), description="Bounds of Pmax.")
    max_step_percent: float = Field(25, gt=0, le=100, description="Largest relative change per decision.")
    cooldown_s: int = Field(60, ge=0, description="Minimum time between pushes to one device.")
    max_pushes_per_hour: int = Field(6, ge=1, description="Rate limit per device.")


class IbQosSpec(Model):
    """OpenSM QoS (reference/lossless.md §7.1)."""

    enabled: bool = Field(True, description="qos TRUE in opensm.conf.")
    max_vls: int = Field(8, ge=1, le=15, description="qos_max_vls.")
    high_limit: int = Field(0, ge=0, le=255, description="qos_high_limit.")
    vlarb_high: dict[int, int] = Field({0: 4}, description="VL -> weight, high-priority arbitration table.")
    vlarb_low: dict[int, int] = Field(
        {0: 0, 1: 4, 2: 4, 3: 4, 4: 4, 5: 4, 6: 4, 7: 4}, description="VL -> weight, low-priority table.")
    sl2vl: list[int] = Field(
        [*range(8), *range(8)], min_length=16, max_length=16, description="VL for SL 0..15 (below max_vls).")


class Partition(Model):
    """One InfiniBand partition."""

    name: str = Field(description="Partition name.")
    pkey: str = Field(pattern=r"^0x[0-9a-fA-F]{1,4}$", description="Partition key (low 15 bits used).")
    ipoib: bool = Field(False, description="Create the IPoIB broadcast group.")
    sl: int | None = Field(None, ge=0, le=15, description="Service level of the partition's multicast group.")
    members: list[str] = Field(description="Device names, or ALL / ALL_CAS / ALL_SWITCHES.")
    membership: Literal["full", "limited", "both"] = Field("full", description="Membership of the listed members.")


class InfinibandSpec(Model):
    """Subnet manager intent."""

    routing_engine: str = Field("ftree", description="opensm routing_engine chain, e.g. 'ftree,updn'.")
    sm_priority: int = Field(15, ge=0, le=15, description="SM priority (15 wins mastership).")
    lmc: int = Field(0, ge=0, le=7, description="LID mask control.")
    sweep_interval_s: int = Field(10, ge=0, description="Heavy sweep interval.")
    qos: IbQosSpec = Field(default_factory=IbQosSpec, description="QoS tables.")
    partitions: list[Partition] = Field(default_factory=list, description="Partitions beyond the default.")


class AlertSpec(Model):
    """Thresholds of the alert rules `fabric collect` runs every cycle (DESIGN §7)."""

    pfc_storm_frames_per_s: float = Field(
        10_000, ge=0, description="PFC frames per second received on one port above which it is a pause storm.")
    lossless_drop_pkts_per_s: float = Field(
        0, ge=0, description="Drops per second on a lossless queue above which to alert (lossless means 0).")
    ecn_absent_pause_frames_per_s: float = Field(
        100, ge=0, description="PFC frames per second sent on a lossless priority above which zero ECN marks on "
        "its queue raise ecn_absent.")
    cnp_surge_per_s: float = Field(
        50_000, ge=0, description="CNPs per second a host RDMA port sends (np_cnp_sent) above which to alert.")


class TelemetrySpec(Model):
    """Telemetry collection settings."""

    alerts: AlertSpec = Field(default_factory=AlertSpec, description="Alert thresholds.")


class FabricSpec(Model):
    """fabric.yaml: the fabric-wide intent."""

    name: str = Field(description="Fabric name.")
    transport: Literal["roce", "infiniband"] = Field(description="Lossless RoCEv2 Ethernet, or InfiniBand.")
    mtu: int = Field(9216, ge=1500, le=9216, description="Switch port MTU.")
    host_mtu: int = Field(9000, ge=1500, le=9216, description="Server NIC MTU.")
    qos: QosSpec = Field(default_factory=QosSpec, description="Traffic classes.")
    pfc: PfcSpec = Field(default_factory=PfcSpec, description="Priority flow control.")
    buffers: BufferSpec = Field(default_factory=BufferSpec, description="Buffers and headroom.")
    ecn: EcnSpec = Field(default_factory=EcnSpec, description="ECN marking.")
    dcqcn: DcqcnSpec = Field(default_factory=DcqcnSpec, description="DCQCN NIC knobs.")
    tuner: TunerSpec = Field(default_factory=TunerSpec, description="Tuner guard rails.")
    telemetry: TelemetrySpec = Field(default_factory=TelemetrySpec, description="Collection and alert thresholds.")
    infiniband: InfinibandSpec | None = Field(None, description="Subnet manager intent (transport infiniband).")


class Fabric(Model):
    """A loaded inventory: fabric.yaml plus resolved devices, in hosts.yaml order."""

    spec: FabricSpec
    devices: dict[str, Device]
    path: str = ""
    unresolved: tuple[str, ...] = Field((), description="Hosts that failed to load (already reported).")
