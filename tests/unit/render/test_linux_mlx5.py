"""linux_mlx5: the host script sets exactly what the intent says, one idempotent command per line."""

import subprocess
from pathlib import Path

import pytest

from fabric.intent import build_intent
from fabric.inventory import load_inventory
from fabric.render import render_device
from tests.conftest import edit_yaml


def script(inventory: Path, device: str) -> tuple[list[str], str]:
    intent = build_intent(load_inventory(inventory).fabric)[device]
    text = render_device(intent).files["roce.sh"]
    return [line for line in text.splitlines() if line and not line.startswith("#")], text


@pytest.fixture(scope="module")
def gpu01() -> tuple[list[str], str]:
    return script(Path("inventories/lab-roce"), "gpu01")


def test_every_command_for_each_port(gpu01):
    commands, _ = gpu01
    for netdev, rdma in (("ens1np0", "mlx5_0"), ("ens2np0", "mlx5_1")):
        expected = [
            f"ip link set dev {netdev} mtu 9000",
            f"mlnx_qos -i {netdev} --trust dscp",
            f"mlnx_qos -i {netdev} --dscp2prio set,26,3",
            f"mlnx_qos -i {netdev} --dscp2prio set,48,6",
            f"mlnx_qos -i {netdev} --tsa ets,ets,ets,ets,ets,ets,strict,ets --tcbw 50,0,0,50,0,0,0,0",
            f"cma_roce_tos -d {rdma} -t 106",
            f"mlnx_qos -i {netdev} --pfc 0,0,0,1,0,0,0,0",
            f"ethtool -A {netdev} autoneg off rx off tx off",
            f"echo 1 > /sys/class/net/{netdev}/ecn/roce_np/enable/3",
            f"echo 1 > /sys/class/net/{netdev}/ecn/roce_rp/enable/3",
            f"echo 300 > /sys/class/net/{netdev}/ecn/roce_rp/params/rpg_time_reset",
            f"echo 5 > /sys/class/net/{netdev}/ecn/roce_rp/params/rpg_ai_rate",
            f"echo 48 > /sys/class/net/{netdev}/ecn/roce_np/params/cnp_dscp",
            f"echo 6 > /sys/class/net/{netdev}/ecn/roce_np/params/cnp_802p_prio",
            f"echo 4 > /sys/class/net/{netdev}/ecn/roce_np/params/min_time_between_cnps",
        ]
        for line in expected:
            assert line in commands, line


def test_script_shape(gpu01):
    commands, text = gpu01
    assert text.startswith("#!/bin/bash\n")
    assert commands[0] == "set -euo pipefail"
    assert not any(">>" in c for c in commands)  # overwrite, never append: re-running changes nothing
    assert len(commands) == len(set(commands))
    assert subprocess.run(["bash", "-n"], input=text, text=True, capture_output=True).returncode == 0


def test_settings_follow_the_inventory(lab_roce):
    edit_yaml(lab_roce / "fabric.yaml", lambda f: (
        f["qos"].update({"lossless_priority": 4, "roce_dscp": [24], "lossless_bandwidth_percent": 70}),
        f["pfc"].update({"priorities": [4]}), f["dcqcn"].update({"rpg_time_reset_us": 50})))
    commands, _ = script(lab_roce, "gpu03")
    assert "mlnx_qos -i ens1np0 --pfc 0,0,0,0,1,0,0,0" in commands
    assert "mlnx_qos -i ens1np0 --dscp2prio set,24,4" in commands
    assert "cma_roce_tos -d mlx5_0 -t 98" in commands  # 24 << 2 | 2
    assert "echo 1 > /sys/class/net/ens1np0/ecn/roce_np/enable/4" in commands
    assert "mlnx_qos -i ens1np0 --tsa ets,ets,ets,ets,ets,ets,strict,ets --tcbw 30,0,0,0,70,0,0,0" in commands
    assert "echo 50 > /sys/class/net/ens1np0/ecn/roce_rp/params/rpg_time_reset" in commands


def test_infiniband_host_gets_only_the_header():
    commands, text = script(Path("inventories/lab-ib"), "gpu01")
    assert commands == ["set -euo pipefail"]
    assert "subnet manager" in text
