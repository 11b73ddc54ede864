"""Values interpolated into configs stay one word (shell) or one line (CLIs), whatever they hold: defence in
depth behind the inventory validation, so these intents are built directly, past the validator."""

from __future__ import annotations

import shlex
import subprocess

import jinja2
import pytest

from fabric.intent.models import DeviceIntent
from fabric.render import render_device
from fabric.render.filters import UnsafeValue, dquote, oneline, shquote
from tests.conftest import INVENTORIES
from tests.unit.render.cliparse import intents

HOST_COMMANDS = {"set", "ip", "mlnx_qos", "ethtool", "cma_roce_tos", "echo"}
ODD_NAME = "ens 1;reboot"  # a space and a command separator
ODD_RDMA = "mlx5 $(reboot)"


@pytest.fixture(scope="module")
def lab() -> dict[str, DeviceIntent]:
    return intents(INVENTORIES / "lab-roce")


def renamed_host(gpu01: DeviceIntent, name: str, rdma: str = "mlx5_0") -> DeviceIntent:
    """gpu01 with its first NIC port renamed everywhere the host templates read it."""
    assert gpu01.nic is not None and gpu01.pfc is not None
    old = gpu01.nic.ports[0].interface
    ports = [gpu01.nic.ports[0].model_copy(update={"interface": name, "rdma_device": rdma}), *gpu01.nic.ports[1:]]
    nic = gpu01.nic.model_copy(update={"ports": ports})
    pfc = gpu01.pfc.model_copy(update={"ports": [name if p == old else p for p in gpu01.pfc.ports]})
    return gpu01.model_copy(update={"nic": nic, "pfc": pfc})


def test_filters_leave_plain_values_bare() -> None:
    assert shquote("ens1np0") == "ens1np0" and shquote(9000) == "9000" and shquote("mlx5_0") == "mlx5_0"
    assert dquote("to gpu01") == '"to gpu01"' and dquote("") == '""'
    assert oneline("to gpu01") == "to gpu01"


def test_filters_quote_or_refuse() -> None:
    assert shquote("ens 1") == "'ens 1'"
    assert shlex.split(shquote("a'b;c")) == ["a'b;c"]
    for text in ('say "hi"', "$(reboot)", "`reboot`", "back\\slash", "bang!"):
        assert shlex.split(dquote(text)) == [text], text
    for bad in ("a\nb", "a\rb", "a\x00b", "a\u2028b"):
        for quote in (shquote, dquote, oneline):
            with pytest.raises(UnsafeValue):
                quote(bad)


def test_host_script_quotes_an_odd_interface_name(lab: dict[str, DeviceIntent]) -> None:
    text = render_device(renamed_host(lab["gpu01"], ODD_NAME, ODD_RDMA)).files["roce.sh"]
    subprocess.run(["bash", "-n"], input=text, text=True, check=True)  # still valid bash
    commands = [shlex.split(line) for line in text.splitlines() if line and not line.startswith("#")]
    assert {words[0] for words in commands} <= HOST_COMMANDS  # no "reboot" command slipped in
    uses = [words for words in commands if ODD_NAME in words or any(f"/{ODD_NAME}/" in w for w in words)]
    assert {words[0] for words in uses} == {"ip", "mlnx_qos", "ethtool", "echo"}
    assert ["ip", "link", "set", "dev", ODD_NAME, "mtu", "9000"] in commands
    assert ["mlnx_qos", "-i", ODD_NAME, "--trust", "dscp"] in commands
    assert any(w[:3] == ["cma_roce_tos", "-d", ODD_RDMA] for w in commands)
    assert any(w[0] == "echo" and w[2] == ">" and w[3].startswith(f"/sys/class/net/{ODD_NAME}/ecn/") for w in commands)


def test_host_script_unchanged_for_plain_names(lab: dict[str, DeviceIntent]) -> None:
    gpu01 = lab["gpu01"]
    assert gpu01.nic is not None
    same = renamed_host(gpu01, gpu01.nic.ports[0].interface, gpu01.nic.ports[0].rdma_device)
    assert render_device(same).files == render_device(gpu01).files
    assert "mlnx_qos -i ens1np0 --trust dscp" in render_device(gpu01).files["roce.sh"]


def test_host_name_with_a_line_break_is_refused(lab: dict[str, DeviceIntent]) -> None:
    with pytest.raises(UnsafeValue):
        render_device(renamed_host(lab["gpu01"], "ens1\nreboot"))
    with pytest.raises(UnsafeValue):
        render_device(lab["gpu01"].model_copy(update={"name": "gpu01\nreboot"}))


def described(intent: DeviceIntent, text: str) -> DeviceIntent:
    ports = [intent.interfaces[0].model_copy(update={"description": text}), *intent.interfaces[1:]]
    return intent.model_copy(update={"interfaces": ports})


@pytest.mark.parametrize("text", ['to "gpu01"', "to $(reboot)", "it's `x`", "50% \\ done!"])
def test_nvue_description_stays_one_word(lab: dict[str, DeviceIntent], text: str) -> None:
    leaf2 = described(lab["leaf2"], text)
    port = leaf2.interfaces[0].name
    lines = render_device(leaf2).files["nvue.cfg"].splitlines()
    line = next(line for line in lines if line.startswith(f"nv set interface {port} description "))
    assert shlex.split(line) == ["nv", "set", "interface", port, "description", text]


def test_nvue_plain_description_keeps_its_double_quotes(lab: dict[str, DeviceIntent]) -> None:
    leaf2 = lab["leaf2"]
    port = leaf2.interfaces[0]
    assert port.description
    assert f'nv set interface {port.name} description "{port.description}"' in render_device(leaf2).files["nvue.cfg"]


@pytest.mark.parametrize("device", ["leaf2", "leaf3", "leaf4", "spine1", "spine2"])
def test_description_with_a_line_break_is_refused(lab: dict[str, DeviceIntent], device: str) -> None:
    with pytest.raises(UnsafeValue):
        render_device(described(lab[device], "uplink\nreload"))


def test_refusal_is_a_value_error_not_a_template_error(lab: dict[str, DeviceIntent]) -> None:
    with pytest.raises(ValueError) as caught:
        render_device(described(lab["leaf3"], "a\nb"))
    assert not isinstance(caught.value, jinja2.TemplateError)
    assert "line break" in str(caught.value)
