#!/bin/bash
# fabric: lossless RoCE host settings for gpu01 (reference/lossless.md §6); one command per line, each sets an absolute value, so a second run leaves the same state.
set -euo pipefail
# qos: reference/lossless.md §6.1: MTU, trust dscp, DSCP -> priority, ETS per TC, RDMA-CM ToS 106 (DSCP 26 << 2 | ECT(0))
# --prio_tc pins priority n to TC n, the indexing of --tsa/--tcbw: mlx5 boots with priority 0 in TC1 and priority 1 in TC0 (en_dcbnl.c mlx5e_ets_init).
ip link set dev ens1np0 mtu 9000
mlnx_qos -i ens1np0 --trust dscp
mlnx_qos -i ens1np0 --dscp2prio set,26,3
mlnx_qos -i ens1np0 --dscp2prio set,48,6
mlnx_qos -i ens1np0 --prio_tc 0,1,2,3,4,5,6,7 --tsa ets,ets,ets,ets,ets,ets,strict,ets --tcbw 50,0,0,50,0,0,0,0
cma_roce_tos -d mlx5_0 -t 106
ip link set dev ens2np0 mtu 9000
mlnx_qos -i ens2np0 --trust dscp
mlnx_qos -i ens2np0 --dscp2prio set,26,3
mlnx_qos -i ens2np0 --dscp2prio set,48,6
mlnx_qos -i ens2np0 --prio_tc 0,1,2,3,4,5,6,7 --tsa ets,ets,ets,ets,ets,ets,strict,ets --tcbw 50,0,0,50,0,0,0,0
cma_roce_tos -d mlx5_1 -t 106
# pfc: reference/lossless.md §6.1: DCBX host-controlled, so no peer can rewrite these settings (mlnx_qos --dcbx), 802.3x pause off, PFC on priority 3
# 802.3x goes before PFC; an unchanged ethtool -A returns 0 through ethtool's netlink path (ethtool and kernel >= 5.6), the old ioctl path exits 78.
mlnx_qos -i ens1np0 --dcbx os
ethtool -A ens1np0 rx off tx off
mlnx_qos -i ens1np0 --pfc 0,0,0,1,0,0,0,0
mlnx_qos -i ens2np0 --dcbx os
ethtool -A ens2np0 rx off tx off
mlnx_qos -i ens2np0 --pfc 0,0,0,1,0,0,0,0
# ecn: reference/lossless.md §6.2 (MLNX_OFED sysfs): notification point (CNP on CE) and reaction point (rate cut on CNP) per priority
echo 1 > /sys/class/net/ens1np0/ecn/roce_np/enable/3
echo 1 > /sys/class/net/ens1np0/ecn/roce_rp/enable/3
echo 1 > /sys/class/net/ens2np0/ecn/roce_np/enable/3
echo 1 > /sys/class/net/ens2np0/ecn/roce_rp/enable/3
# dcqcn: reference/lossless.md §6.2, congestion-and-tuning.md §1.2 (MLNX_OFED sysfs): reaction-point knobs, CNP marking DSCP 48 priority 6
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
