"""The running state of a lab host (GPU server or OpenSM host): netdevs, mlx5 DCB/ECN state, RDMA devices, files.

Boot values are the real ones of an mlx5 NIC that nobody has configured yet (reference/lossless.md §6):
- DCB (en_dcbnl.c): DCBX firmware-controlled, trust pcp (no DSCP app entries), no PFC, cable length 7 m,
  every TC ``vendor`` with 100 %, and priority 0 in TC1 / priority 1 in TC0 (mlx5e_ets_init).
- ECN (MLNX_OFED sysfs): notification and reaction point enabled on every priority (ROCE_CC_PRIO_MASK=255)
  and the DCQCN parameters at their firmware defaults (lossless.md §6.4, congestion-and-tuning.md §1.2).
- 802.3x pause on in both directions, autonegotiation off; MTU 1500 (IPoIB: 2044); RDMA-CM ToS 0.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

PRIORITIES = range(8)
TSA_NAMES = ("strict", "ets", "vendor")

RP_PARAMS: dict[str, int] = {
    "clamp_tgt_rate": 0, "clamp_tgt_rate_after_time_inc": 1, "rpg_time_reset": 300, "rpg_byte_reset": 32767,
    "rpg_threshold": 1, "rpg_max_rate": 0, "rpg_ai_rate": 5, "rpg_hai_rate": 50, "rpg_gd": 11,
    "rpg_min_dec_fac": 50, "rpg_min_rate": 1, "rate_to_set_on_first_cnp": 0, "dce_tcp_g": 1019,
    "dce_tcp_rtt": 1, "rate_reduce_monitor_period": 4, "initial_alpha_value": 1023,
}
NP_PARAMS: dict[str, int] = {"min_time_between_cnps": 4, "cnp_dscp": 48, "cnp_802p_prio": 6}
PARAM_RANGES: dict[str, tuple[int, int]] = {
    "clamp_tgt_rate": (0, 1), "clamp_tgt_rate_after_time_inc": (0, 1), "cnp_dscp": (0, 63),
    "cnp_802p_prio": (0, 7), "rpg_min_dec_fac": (0, 100), "initial_alpha_value": (0, 1023), "dce_tcp_g": (0, 1023),
}
U32_MAX = 2**32 - 1


@dataclass
class QosState:
    """One netdev's DCB state as mlx5 keeps it (dcbnl IEEE objects + the DSCP app table)."""

    dcbx_host: bool = False
    dscp_apps: list[tuple[int, int]] = field(default_factory=list)  # (dscp, prio), kernel list order: newest first
    pfc_en: int = 0  # bit p = PFC on priority p
    cable_len_m: int = 7
    prio_tc: list[int] = field(default_factory=lambda: [1, 0, 2, 3, 4, 5, 6, 7])
    tsa: list[str] = field(default_factory=lambda: ["vendor"] * 8)
    tc_bw: list[int] = field(default_factory=lambda: [100] * 8)
    ratelimit_kbps: list[int] = field(default_factory=lambda: [0] * 8)
    prio2buffer: list[int] | None = None  # None: firmware's choice (PFC priorities in buffer 1)
    buffer_size: list[int] = field(default_factory=lambda: [130944, 130944, 0, 0, 0, 0, 0, 0])

    @property
    def trust(self) -> str:
        """mlx5 trusts DSCP exactly while the app table holds a DSCP entry."""
        return "dscp" if self.dscp_apps else "pcp"

    def set_dscp_app(self, dscp: int, prio: int) -> None:
        """mlx5e_dcbnl_ieee_setapp: the old entry of ``dscp`` goes, the new one is added at the list head."""
        self.dscp_apps = [(dscp, prio)] + [app for app in self.dscp_apps if app[0] != dscp]

    def del_dscp_app(self, dscp: int, prio: int) -> bool:
        if (dscp, prio) not in self.dscp_apps:
            return False
        self.dscp_apps.remove((dscp, prio))
        return True

    def dscp_priority(self, dscp: int) -> int:
        """The priority a received packet with ``dscp`` gets (trust pcp: untagged packets go to priority 0)."""
        return next((prio for d, prio in self.dscp_apps if d == dscp), 0)

    def pfc_enabled(self, prio: int) -> bool:
        return bool(self.pfc_en >> prio & 1)


@dataclass
class EcnState:
    """MLNX_OFED /sys/class/net/<if>/ecn: per-priority enables and the DCQCN parameters."""

    np_enable: list[int] = field(default_factory=lambda: [1] * 8)
    rp_enable: list[int] = field(default_factory=lambda: [1] * 8)
    np_params: dict[str, int] = field(default_factory=lambda: dict(NP_PARAMS))
    rp_params: dict[str, int] = field(default_factory=lambda: dict(RP_PARAMS))


@dataclass
class Netdev:
    """A NIC port as Linux sees it."""

    name: str
    ifindex: int
    mac: str
    speed_gbps: int
    rdma_device: str | None = None
    infiniband: bool = False
    mtu: int = 1500
    admin_up: bool = True
    pause_autoneg: bool = False
    pause_rx: bool = True
    pause_tx: bool = True
    qos: QosState | None = None
    ecn: EcnState | None = None

    @property
    def max_mtu(self) -> int:
        return 4092 if self.infiniband else 9978

    @property
    def min_mtu(self) -> int:
        return 68


@dataclass
class RdmaDevice:
    """An RDMA device (one port, port 1) and the RDMA-CM default ToS of that port."""

    name: str
    netdev: str
    roce_tos: int = 0


@dataclass
class OpensmService:
    """The opensm systemd unit: running or not, and the options it read from opensm.conf when it (re)started."""

    active: bool = True
    since: float = field(default_factory=time.time)
    options: dict[str, str] = field(default_factory=dict)
    unrecognized: list[str] = field(default_factory=list)


@dataclass
class HostState:
    """Everything a host session can change; ``LabDevice.config`` of a linux_mlx5 or opensm device."""

    hostname: str
    netdevs: dict[str, Netdev]
    rdma: dict[str, RdmaDevice]
    dirs: set[str] = field(default_factory=set)
    files: dict[str, str] = field(default_factory=dict)
    opensm: OpensmService | None = None

    def digest_text(self) -> str:
        """A canonical text of the applied state (what ``lab status`` hashes): /etc, NICs, RDMA, services."""
        parts: list[Any] = [sorted(item for item in self.files.items() if item[0].startswith("/etc/"))]
        for dev in self.netdevs.values():
            parts.append((dev.name, dev.mtu, dev.admin_up, dev.pause_autoneg, dev.pause_rx, dev.pause_tx,
                          dev.qos, dev.ecn))
        parts += [(r.name, r.roce_tos) for r in self.rdma.values()]
        if self.opensm is not None:
            parts.append((self.opensm.active, sorted(self.opensm.options.items())))
        return repr(parts)


def _mac(hostname: str, index: int, infiniband: bool, port_guid: str | None) -> str:
    digest = hashlib.sha256(f"{hostname}/{index}".encode()).digest()
    if infiniband:  # IPoIB: 4 bytes QPN/flags, 8 bytes subnet prefix, 8 bytes port GUID
        raw = bytes.fromhex(port_guid[2:]) if port_guid else digest[:8]
        return "00:00:10:29:fe:80:00:00:00:00:00:00:" + ":".join(f"{b:02x}" for b in raw)
    return "0c:42:a1:" + ":".join(f"{b:02x}" for b in digest[:3])


def boot_state(hostname: str, interfaces: dict[str, Any], opensm: bool = False) -> HostState:
    """The state of a freshly booted host with ``interfaces`` (inventory Interface objects by netdev name)."""
    netdevs: dict[str, Netdev] = {}
    rdma: dict[str, RdmaDevice] = {}
    for index, (name, port) in enumerate(interfaces.items(), start=2):
        infiniband = name.startswith("ib")
        mac = _mac(hostname, index, infiniband, port.port_guid)
        netdevs[name] = Netdev(
            name=name, ifindex=index, mac=mac, speed_gbps=int(port.speed_gbps),
            rdma_device=port.rdma_device, infiniband=infiniband, mtu=2044 if infiniband else 1500,
            qos=None if infiniband else QosState(), ecn=None if infiniband else EcnState())
        if port.rdma_device:
            rdma[port.rdma_device] = RdmaDevice(port.rdma_device, name)
    dirs = {"/", "/etc", "/home", "/root", "/tmp", "/sys", "/sys/class", "/sys/class/net",
            "/sys/class/infiniband", "/usr", "/usr/sbin", "/var", "/var/log"}
    state = HostState(hostname, netdevs, rdma, dirs=dirs, files={"/etc/hostname": hostname + "\n"})
    if opensm:
        state.dirs.add("/etc/opensm")
        state.opensm = OpensmService()
    return state
