"""What a device has applied, in vendor-neutral units: the engine's view of configuration.

``fabric.lab.applied`` reads these from each platform's twin state (config_db, nv config, running-config...);
anything the device has not configured keeps the factory value given here, so an unconfigured fabric is
lossy (no PFC), unmarked (no ECN) and uses NIC firmware DCQCN defaults (reference §1.2, NVIDIA column).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DEFAULT_DSCP_TO_TC = {dscp: dscp >> 3 for dscp in range(64)}  # the 802.1p-style default when nothing is mapped


@dataclass(frozen=True)
class EcnKnobs:
    """RED/ECN on one egress queue: mark probability rises linearly from 0 at Kmin to Pmax at Kmax."""

    kmin_bytes: int
    kmax_bytes: int
    pmax: float  # 0..1


@dataclass(frozen=True)
class WatchdogKnobs:
    """PFC watchdog on a port: a queue paused for ``detect_ms`` with nothing sent is a storm."""

    detect_ms: int = 200
    restore_ms: int = 200
    action: Literal["drop", "forward", "alert"] = "drop"


@dataclass(frozen=True)
class PortKnobs:
    """One switch or NIC port. Byte thresholds are per ingress priority group (PG = priority here)."""

    mtu: int = 9100
    speed_gbps: int = 100
    pfc_priorities: frozenset[int] = frozenset()
    xoff_bytes: int | None = None  # static XOFF threshold; None: dynamic (alpha x free shared buffer)
    xon_bytes: int | None = None  # None: two MTUs below XOFF (the reader sets it when the platform states it)
    dynamic_alpha: float = 1.0  # SONiC dynamic_th d -> alpha = 2**d
    headroom_bytes: int = 0  # absorbs in-flight bytes after XOFF; 0 means a pause cannot prevent drops
    ecn: dict[int, EcnKnobs] = field(default_factory=dict)  # queue -> RED/ECN; absent: no marking, tail drop
    watchdog: WatchdogKnobs | None = None


@dataclass(frozen=True)
class DcqcnKnobs:
    """Host NIC DCQCN (mlx5 sysfs names and units, reference §1.2; defaults = NVIDIA firmware)."""

    np_enabled_priorities: frozenset[int] = frozenset()
    rp_enabled_priorities: frozenset[int] = frozenset()
    min_time_between_cnps_us: float = 4.0
    rate_reduce_monitor_period_us: float = 4.0
    dce_tcp_g: int = 1019  # firmware fixed point of the alpha gain; the engines use g = 1/256 (reference §1.2)
    dce_tcp_rtt_us: float = 1.0  # alpha update interval
    initial_alpha_value: int = 1023  # 1023 = 1.0
    rpg_time_reset_us: float = 300.0
    rpg_byte_reset: int = 32767
    rpg_threshold: int = 1
    rpg_ai_rate_mbps: float = 5.0
    rpg_hai_rate_mbps: float = 50.0
    rpg_min_rate_mbps: float = 1.0
    rpg_min_dec_fac: int = 50
    clamp_tgt_rate: bool = False  # False (firmware default): a cut keeps RT unless a rate increase came since
    cnp_dscp: int = 48
    cnp_priority: int = 6


@dataclass(frozen=True)
class DeviceKnobs:
    """A device's applied QoS: classification, per-port knobs, buffer, and (hosts) DCQCN + RoCE ToS."""

    device: str
    trust: Literal["dscp", "pcp"] = "pcp"
    dscp_to_tc: dict[int, int] = field(default_factory=lambda: dict(DEFAULT_DSCP_TO_TC))
    tc_to_queue: dict[int, int] = field(default_factory=lambda: {tc: tc for tc in range(8)})
    buffer_bytes: int = 32 * 1024 * 1024  # shared ingress pool the dynamic thresholds divide
    ports: dict[str, PortKnobs] = field(default_factory=dict)
    dcqcn: DcqcnKnobs | None = None  # hosts only
    roce_dscp: int = 0  # hosts: DSCP of RoCE traffic (cma_roce_tos >> 2); 0 until configured

    def port(self, name: str) -> PortKnobs:
        return self.ports.get(name, PortKnobs())

    def queue_of(self, dscp: int) -> int:
        """The egress queue a packet with ``dscp`` lands in (pcp trust: everything in the default queue)."""
        tc = self.dscp_to_tc.get(dscp, 0) if self.trust == "dscp" else 0
        return self.tc_to_queue.get(tc, tc)
