"""A ConnectX host: DCB (mlnx_qos), ECN sysfs, RDMA-CM ToS -> knobs (reference/lossless.md §6).

- Trust DSCP while the DCB app table holds a DSCP entry; DSCP -> priority from those entries over the firmware's
  DSCP/8 table; priority -> TC from ``prio_tc`` (the host's "queue").
- PFC: ``pfc_en`` bits. The receive buffer's thresholds as mlx5e port_buffer.c computes them: headroom
  xoff = (301 + 2.16 x cable_len m) x speed Gb/s (at least 40) + 2.72 x MTU bytes; the lossless buffer's
  XOFF threshold = buffer size - xoff, XON = XOFF threshold - MTU.
- DCQCN: the sysfs ``roce_np/roce_rp`` enables and params (units as sysfs: us, Mb/s, bytes).
- RoCE DSCP: the RDMA-CM default ToS >> 2 (``cma_roce_tos``); the first NIC port that has one set.
Device-level values (trust, maps, DCQCN) are those of the host's first NIC port in inventory order.
"""

from __future__ import annotations

import dataclasses

from fabric.lab.applied.common import Classification, PortDraft, finish
from fabric.lab.device import LabDevice
from fabric.lab.dialects.host_state import HostState, Netdev
from fabric.lab.physics.knobs import DEFAULT_DSCP_TO_TC, DcqcnKnobs, DeviceKnobs

LOSSLESS_BUFFER = 1  # mlx5: PFC priorities share buffer 1 unless prio2buffer says otherwise
MIN_SPEED_MBPS = 40_000


def headroom(netdev: Netdev) -> int:
    """mlx5e calculate_xoff (integer arithmetic, speed in Mb/s)."""
    assert netdev.qos is not None
    speed = max(netdev.speed_gbps * 1000, MIN_SPEED_MBPS)
    return (301 + 216 * netdev.qos.cable_len_m // 100) * speed // 1000 + 272 * netdev.mtu // 100


def read(device: LabDevice) -> DeviceKnobs:
    state = device.config
    if not isinstance(state, HostState):
        return DeviceKnobs(device=device.name)
    nics = [state.netdevs[n] for n in device.inventory.interfaces if n in state.netdevs and state.netdevs[n].qos]
    drafts = {nic.name: _port(nic) for nic in nics}
    first = nics[0] if nics else None
    knobs = finish(device, _classification(first) if first else Classification(), drafts)
    tos = next((r.roce_tos for nic in nics for r in state.rdma.values() if r.netdev == nic.name and r.roce_tos), 0)
    return dataclasses.replace(knobs, dcqcn=_dcqcn(first) if first else None, roce_dscp=tos >> 2)


def _classification(nic: Netdev) -> Classification:
    assert nic.qos is not None
    dscp = dict(DEFAULT_DSCP_TO_TC)
    for value, prio in reversed(nic.qos.dscp_apps):  # the newest entry of a DSCP wins (list head)
        dscp[value] = prio
    return Classification("dscp" if nic.qos.trust == "dscp" else "pcp", dscp, dict(enumerate(nic.qos.prio_tc)))


def _port(nic: Netdev) -> PortDraft:
    qos = nic.qos
    assert qos is not None
    draft = PortDraft(mtu=nic.mtu, speed_gbps=nic.speed_gbps, pfc={p for p in range(8) if qos.pfc_enabled(p)})
    if draft.pfc:
        buffer = (qos.prio2buffer or [LOSSLESS_BUFFER] * 8)[min(draft.pfc)]
        size, xoff = qos.buffer_size[buffer], headroom(nic)
        draft.headroom_bytes, draft.reserved_bytes = xoff, size
        draft.xoff_bytes = max(size - xoff, 0)
        draft.xon_bytes = max(draft.xoff_bytes - nic.mtu, 0)
    return draft


def _dcqcn(nic: Netdev) -> DcqcnKnobs:
    ecn = nic.ecn
    if ecn is None:
        return DcqcnKnobs()
    rp, np = ecn.rp_params, ecn.np_params
    return DcqcnKnobs(
        np_enabled_priorities=frozenset(p for p, on in enumerate(ecn.np_enable) if on),
        rp_enabled_priorities=frozenset(p for p, on in enumerate(ecn.rp_enable) if on),
        min_time_between_cnps_us=np["min_time_between_cnps"],
        rate_reduce_monitor_period_us=rp["rate_reduce_monitor_period"],
        dce_tcp_g=rp["dce_tcp_g"], dce_tcp_rtt_us=rp["dce_tcp_rtt"], initial_alpha_value=rp["initial_alpha_value"],
        rpg_time_reset_us=rp["rpg_time_reset"], rpg_byte_reset=rp["rpg_byte_reset"], rpg_threshold=rp["rpg_threshold"],
        rpg_ai_rate_mbps=rp["rpg_ai_rate"], rpg_hai_rate_mbps=rp["rpg_hai_rate"], rpg_min_rate_mbps=rp["rpg_min_rate"],
        rpg_min_dec_fac=rp["rpg_min_dec_fac"], cnp_dscp=np["cnp_dscp"], cnp_priority=np["cnp_802p_prio"])
