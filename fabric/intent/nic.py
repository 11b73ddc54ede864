"""Feature ``nic``: ConnectX host settings (mlnx_qos, cma_roce_tos, ECN enable, DCQCN knobs).

Facts from reference/lossless.md §6: ToS = DSCP << 2 | ECT(0); roce_np/roce_rp enable per priority;
rp/np parameter names of the MLNX_OFED sysfs tree.
"""

from __future__ import annotations

from fabric.intent.models import NicIntent, PortIntent
from fabric.inventory.models import DcqcnSpec, Device, QosSpec

ECT0 = 0b10


def roce_tos(dscp: int) -> int:
    """RDMA-CM ToS byte: DSCP in the top six bits, ECT(0) in the ECN bits (26 -> 106)."""
    return dscp << 2 | ECT0


def rp_params(dcqcn: DcqcnSpec) -> dict[str, int]:
    """Reaction-point knobs by their sysfs names."""
    return {
        "rpg_time_reset": dcqcn.rpg_time_reset_us, "rpg_byte_reset": dcqcn.rpg_byte_reset,
        "rpg_threshold": dcqcn.rpg_threshold, "rpg_ai_rate": dcqcn.rpg_ai_rate_mbps,
        "rpg_hai_rate": dcqcn.rpg_hai_rate_mbps, "rpg_min_rate": dcqcn.rpg_min_rate_mbps,
        "rpg_min_dec_fac": dcqcn.rpg_min_dec_fac, "rpg_gd": dcqcn.rpg_gd,
        "rate_reduce_monitor_period": dcqcn.rate_reduce_monitor_period_us,
        "initial_alpha_value": dcqcn.initial_alpha_value, "dce_tcp_g": dcqcn.dce_tcp_g,
        "dce_tcp_rtt": dcqcn.dce_tcp_rtt_us, "clamp_tgt_rate": int(dcqcn.clamp_tgt_rate),
        "clamp_tgt_rate_after_time_inc": int(dcqcn.clamp_tgt_rate_after_time_inc),
    }


def np_params(dcqcn: DcqcnSpec, qos: QosSpec) -> dict[str, int]:
    """Notification-point knobs by their sysfs names."""
    return {"min_time_between_cnps": dcqcn.min_time_between_cnps_us, "cnp_dscp": qos.cnp_dscp,
            "cnp_802p_prio": qos.cnp_priority}


def _ets(qos: QosSpec) -> tuple[list[int], list[str]]:
    bandwidth = [0] * 8
    bandwidth[qos.default_priority] = 100 - qos.lossless_bandwidth_percent
    bandwidth[qos.lossless_priority] = qos.lossless_bandwidth_percent
    tsa = ["strict" if tc == qos.cnp_priority else "ets" for tc in range(8)]
    return bandwidth, tsa


def build_nic(device: Device, ports: list[PortIntent], qos: QosSpec, dcqcn: DcqcnSpec) -> NicIntent:
    """The ``nic`` intent of a RoCE server: every interface with an RDMA device."""
    nic_ports = [  # NicPort fields, validated with the NicIntent in one call
        {"interface": p.name, "rdma_device": device.interfaces[p.name].rdma_device,
         "speed_gbps": p.speed_gbps, "mtu": p.mtu, "peer": p.peer}
        for p in ports if device.interfaces[p.name].rdma_device
    ]
    dscp2prio = dict.fromkeys(sorted(qos.roce_dscp), qos.lossless_priority) | {qos.cnp_dscp: qos.cnp_priority}
    bandwidth, tsa = _ets(qos)
    return NicIntent.model_validate({
        "trust": qos.trust, "ports": nic_ports, "roce_dscp": min(qos.roce_dscp),
        "roce_tos": roce_tos(min(qos.roce_dscp)), "lossless_priority": qos.lossless_priority,
        "cnp_dscp": qos.cnp_dscp, "cnp_priority": qos.cnp_priority, "dscp2prio": dscp2prio,
        "prio_tc": list(range(8)), "ets_bandwidth": bandwidth, "ets_tsa": tsa,
        "np_enable_priorities": [qos.lossless_priority], "rp_enable_priorities": [qos.lossless_priority],
        "rp_params": rp_params(dcqcn), "np_params": np_params(dcqcn, qos),
    })
