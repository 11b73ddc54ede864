#!/bin/bash
# fabric: lossless RoCE settings for gpu16 (reference/lossless.md §6); every line sets a value, so a re-run changes nothing.
set -euo pipefail
# qos: reference/lossless.md §6.1: trust dscp, DSCP -> priority, ETS, RDMA-CM ToS 106 (DSCP 26 << 2 | ECT(0))
ip link set dev ens1np0 mtu 9000
mlnx_qos -i ens1np0 --trust dscp
mlnx_qos -i ens1np0 --dscp2prio set,26,3
mlnx_qos -i ens1np0 --dscp2prio set,48,6
mlnx_qos -i ens1np0 --tsa ets,ets,ets,ets,ets,ets,strict,ets --tcbw 50,0,0,50,0,0,0,0
cma_roce_tos -d mlx5_0 -t 106
ip link set dev ens2np0 mtu 9000
mlnx_qos -i ens2np0 --trust dscp
mlnx_qos -i ens2np0 --dscp2prio set,26,3
mlnx_qos -i ens2np0 --dscp2prio set,48,6
mlnx_qos -i ens2np0 --tsa ets,ets,ets,ets,ets,ets,strict,ets --tcbw 50,0,0,50,0,0,0,0
cma_roce_tos -d mlx5_1 -t 106
# pfc: reference/lossless.md §6.1: PFC on 3, 802.3x pause off; DCBX stays static (firmware DCBX_WILLING_P1=False via mlxconfig, applied at provisioning)
mlnx_qos -i ens1np0 --pfc 0,0,0,1,0,0,0,0
ethtool -A ens1np0 autoneg off rx off tx off
mlnx_qos -i ens2np0 --pfc 0,0,0,1,0,0,0,0
ethtool -A ens2np0 autoneg off rx off tx off
# ecn: reference/lossless.md §6.2: notification point (CNP on CE) and reaction point (rate cut on CNP) on the lossless priority
echo 1 > /sys/class/net/ens1np0/ecn/roce_np/enable/3
echo 1 > /sys/class/net/ens1np0/ecn/roce_rp/enable/3
echo 1 > /sys/class/net/ens2np0/ecn/roce_np/enable/3
echo 1 > /sys/class/net/ens2np0/ecn/roce_rp/enable/3
# dcqcn: reference/lossless.md §6.2, congestion-and-tuning.md §1.2: reaction-point knobs and CNP marking (DSCP 48, priority 6)
echo 300 > /sys/class/net/ens1np0/ecn/roce_rp/params/rpg_time_reset
echo 32767 > /sys/class/net/ens1np0/ecn/roce_rp/params/rpg_byte_reset
echo 1 > /sys/class/net/ens1np0/ecn/roce_rp/params/rpg_threshold
echo 5 > /sys/class/net/ens1np0/ecn/roce_rp/params/rpg_ai_rate
echo 50 > /sys/class/net/ens1np0/ecn/roce_rp/params/rpg_hai_rate
echo 1 > /sys/class/net/ens1np0/ecn/roce_rp/params/rpg_min_rate
echo 50 > /sys/class/net/ens1np0/ecn/roce_rp/params/rpg_min_dec_fac
echo 11 > /sys/class/net/ens1np0/ecn/roce_rp/params/rpg_gd
echo 4 > /sys/class/net/ens1np0/ecn/roce_rp/params/rate_reduce_monitor_period
echo 1023 > /sys/class/net/ens1np0/ecn/roce_rp/params/initial_alpha_value
echo 1019 > /sys/class/net/ens1np0/ecn/roce_rp/params/dce_tcp_g
echo 1 > /sys/class/net/ens1np0/ecn/roce_rp/params/dce_tcp_rtt
echo 0 > /sys/class/net/ens1np0/ecn/roce_rp/params/clamp_tgt_rate
echo 1 > /sys/class/net/ens1np0/ecn/roce_rp/params/clamp_tgt_rate_after_time_inc
echo 4 > /sys/class/net/ens1np0/ecn/roce_np/params/min_time_between_cnps
echo 48 > /sys/class/net/ens1np0/ecn/roce_np/params/cnp_dscp
echo 6 > /sys/class/net/ens1np0/ecn/roce_np/params/cnp_802p_prio
echo 300 > /sys/class/net/ens2np0/ecn/roce_rp/params/rpg_time_reset
echo 32767 > /sys/class/net/ens2np0/ecn/roce_rp/params/rpg_byte_reset
echo 1 > /sys/class/net/ens2np0/ecn/roce_rp/params/rpg_threshold
echo 5 > /sys/class/net/ens2np0/ecn/roce_rp/params/rpg_ai_rate
echo 50 > /sys/class/net/ens2np0/ecn/roce_rp/params/rpg_hai_rate
echo 1 > /sys/class/net/ens2np0/ecn/roce_rp/params/rpg_min_rate
echo 50 > /sys/class/net/ens2np0/ecn/roce_rp/params/rpg_min_dec_fac
echo 11 > /sys/class/net/ens2np0/ecn/roce_rp/params/rpg_gd
echo 4 > /sys/class/net/ens2np0/ecn/roce_rp/params/rate_reduce_monitor_period
echo 1023 > /sys/class/net/ens2np0/ecn/roce_rp/params/initial_alpha_value
echo 1019 > /sys/class/net/ens2np0/ecn/roce_rp/params/dce_tcp_g
echo 1 > /sys/class/net/ens2np0/ecn/roce_rp/params/dce_tcp_rtt
echo 0 > /sys/class/net/ens2np0/ecn/roce_rp/params/clamp_tgt_rate
echo 1 > /sys/class/net/ens2np0/ecn/roce_rp/params/clamp_tgt_rate_after_time_inc
echo 4 > /sys/class/net/ens2np0/ecn/roce_np/params/min_time_between_cnps
echo 48 > /sys/class/net/ens2np0/ecn/roce_np/params/cnp_dscp
echo 6 > /sys/class/net/ens2np0/ecn/roce_np/params/cnp_802p_prio
