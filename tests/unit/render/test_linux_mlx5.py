"""linux_mlx5: roce.sh sets exactly what the intent says, one plain, re-runnable command per line."""

import subprocess
from pathlib import Path

import pytest

from fabric.intent import build_intent
from fabric.inventory import load_inventory
from fabric.render import render_device
from tests.conftest import edit_yaml

# Every program the script may call; anything else is a command a host does not have.
HOST_COMMANDS = {"set", "ip", "mlnx_qos", "ethtool", "cma_roce_tos", "echo"}
RP_PARAMS = {
    "rpg_time_reset": 300, "rpg_byte_reset": 32767, "rpg_threshold": 1, "rpg_ai_rate": 5, "rpg_hai_rate": 50,
    "rpg_min_rate": 1, "rpg_min_dec_fac": 50, "rpg_gd": 11, "rate_reduce_monitor_period": 4,
    "initial_alpha_value": 1023, "dce_tcp_g": 1019, "dce_tcp_rtt": 1, "clamp_tgt_rate": 0,
    "clamp_tgt_rate_after_time_inc": 1,
}
NP_PARAMS = {"min_time_between_cnps": 4, "cnp_dscp": 48, "cnp_802p_prio": 6}


def script(inventory: Path, device: str) -> tuple[list[str], str]:
    """(command lines without comments, whole text) of one device's roce.sh."""
    intent = build_intent(load_inventory(inventory).fabric)[device]
    text = render_device(intent).files["roce.sh"]
    return [line for line in text.splitlines() if line and not line.startswith("#")], text


@pytest.fixture(scope="module")
def gpu01() -> tuple[list[str], str]:
    return script(Path("inventories/lab-roce"), "gpu01")


def gpu01_expected() -> list[str]:
    ports = (("ens1np0", "mlx5_0"), ("ens2np0", "mlx5_1"))
    qos = [line for netdev, rdma in ports for line in (
        f"ip link set dev {netdev} mtu 9000",
        f"mlnx_qos -i {netdev} --trust dscp",
        f"mlnx_qos -i {netdev} --dscp2prio set,26,3",
        f"mlnx_qos -i {netdev} --dscp2prio set,48,6",
        f"mlnx_qos -i {netdev} --prio_tc 0,1,2,3,4,5,6,7 --tsa ets,ets,ets,ets,ets,ets,strict,ets"
        " --tcbw 50,0,0,50,0,0,0,0",
        f"cma_roce_tos -d {rdma} -t 106",
    )]
    pfc = [line for netdev, _ in ports for line in (
        f"mlnx_qos -i {netdev} --dcbx os",
        f"ethtool -A {netdev} rx off tx off",
        f"mlnx_qos -i {netdev} --pfc 0,0,0,1,0,0,0,0",
    )]
    ecn = [line for netdev, _ in ports for line in (
        f"echo 1 > /sys/class/net/{netdev}/ecn/roce_np/enable/3",
        f"echo 1 > /sys/class/net/{netdev}/ecn/roce_rp/enable/3",
    )]
    dcqcn = [line for netdev, _ in ports for line in (
        *(f"echo {v} > /sys/class/net/{netdev}/ecn/roce_rp/params/{k}" for k, v in RP_PARAMS.items()),
        *(f"echo {v} > /sys/class/net/{netdev}/ecn/roce_np/params/{k}" for k, v in NP_PARAMS.items()),
    )]
    return ["set -euo pipefail", *qos, *pfc, *ecn, *dcqcn]


def test_every_command_line_of_gpu01(gpu01):
    commands, _ = gpu01
    assert commands == gpu01_expected()


def test_script_is_plain_and_rerunnable(gpu01):
    commands, text = gpu01
    assert text.startswith("#!/bin/bash\n# fabric: lossless RoCE host settings for gpu01 ")
    assert {c.split()[0] for c in commands} <= HOST_COMMANDS
    assert not any(">>" in c for c in commands)  # overwrite, never append: a second run writes the same values
    assert not any(token in c for c in commands for token in ("$", "<<", "()", "&&", "||", ";"))
    assert len(commands) == len(set(commands))
    assert subprocess.run(["bash", "-n"], input=text, text=True, capture_output=True).returncode == 0


def test_order_within_a_port(gpu01):
    commands, _ = gpu01
    at = {c: i for i, c in enumerate(commands)}
    # 802.3x pause is turned off before PFC goes on, with DCBX already host-controlled
    assert at["mlnx_qos -i ens1np0 --dcbx os"] < at["ethtool -A ens1np0 rx off tx off"] \
        < at["mlnx_qos -i ens1np0 --pfc 0,0,0,1,0,0,0,0"]
    # mlnx_qos refuses --trust and --dscp2prio together, so trust comes first, on its own line
    assert at["mlnx_qos -i ens1np0 --trust dscp"] < at["mlnx_qos -i ens1np0 --dscp2prio set,26,3"]


def test_settings_follow_the_inventory(lab_roce):
    edit_yaml(lab_roce / "fabric.yaml", lambda f: (
        f["qos"].update({"lossless_priority": 4, "roce_dscp": [24], "lossless_bandwidth_percent": 70}),
        f["pfc"].update({"priorities": [4]}), f["dcqcn"].update({"rpg_time_reset_us": 50})))
    commands, _ = script(lab_roce, "gpu03")
    assert "mlnx_qos -i ens1np0 --pfc 0,0,0,0,1,0,0,0" in commands
    assert "mlnx_qos -i ens1np0 --dscp2prio set,24,4" in commands
    assert not any("set,26," in c for c in commands)
    assert "cma_roce_tos -d mlx5_0 -t 98" in commands  # 24 << 2 | 2
    assert "echo 1 > /sys/class/net/ens1np0/ecn/roce_np/enable/4" in commands
    assert "echo 1 > /sys/class/net/ens1np0/ecn/roce_rp/enable/4" in commands
    assert not any(c.endswith("/enable/3") for c in commands)
    assert ("mlnx_qos -i ens1np0 --prio_tc 0,1,2,3,4,5,6,7 --tsa ets,ets,ets,ets,ets,ets,strict,ets"
            " --tcbw 30,0,0,0,70,0,0,0") in commands
    assert "echo 50 > /sys/class/net/ens1np0/ecn/roce_rp/params/rpg_time_reset" in commands


def test_pcp_trust_sets_no_dscp_map(lab_roce):
    # on mlx5 a DSCP app entry switches the port back to DSCP trust, so PCP trust must not get one
    edit_yaml(lab_roce / "fabric.yaml", lambda f: f["qos"].update({"trust": "pcp"}))
    commands, _ = script(lab_roce, "gpu01")
    assert "mlnx_qos -i ens1np0 --trust pcp" in commands
    assert not any("--dscp2prio" in c for c in commands)


def test_infiniband_host_gets_only_the_header():
    commands, text = script(Path("inventories/lab-ib"), "gpu01")
    assert commands == ["set -euo pipefail"]
    assert "gpu01 is an InfiniBand host" in text and "subnet manager" in text
    assert subprocess.run(["bash", "-n"], input=text, text=True, capture_output=True).returncode == 0
