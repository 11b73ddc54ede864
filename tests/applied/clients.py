"""The clients that push configs in these tests: the deploy path's netmiko/napalm drivers, as tests/lab uses them."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fabric.intent.check import validate_inventory
from fabric.intent.models import DeviceIntent
from fabric.lab.applied import knobs_from_json
from fabric.lab.control import Lab
from fabric.lab.physics.knobs import DeviceKnobs
from fabric.render import render_fabric
from tests.conftest import INVENTORIES

HOST = "gpu01"
CHUNK = 900
HUAWEI_PROMPT = r"(?:[\]>]|\]:)\s*$"


def knobs(lab: Lab, device: str) -> DeviceKnobs:
    """The device's applied knobs, read inside the twin (control op ``knobs``)."""
    return knobs_from_json(lab.request(op="knobs", device=device)["knobs"])


@contextmanager
def netmiko(lab: Lab, device: str, device_type: str) -> Iterator[Any]:
    from netmiko import ConnectHandler

    ep = lab.endpoint(device)
    conn = ConnectHandler(device_type=device_type, host=ep["address"], port=ep["port"], username=ep["username"],
                          password=lab.password, allow_agent=False, use_keys=False)
    try:
        yield conn
    finally:
        conn.disconnect()


def write_file(conn: Any, text: str, path: str) -> None:
    """The deploy recipe for a file on a SONiC shell: base64 in short printf lines, decoded into place."""
    encoded = base64.b64encode(text.encode()).decode()
    conn.send_command(f"rm -f {path}.b64")
    for i in range(0, len(encoded), CHUNK):
        conn.send_command(f"printf '%s' '{encoded[i:i + CHUNK]}' >> {path}.b64")
    conn.send_command(f"base64 -d {path}.b64 > {path}")


def push_sonic(lab: Lab, text: str) -> None:
    with netmiko(lab, "leaf1", "linux") as conn:
        write_file(conn, text, "/tmp/fabric.json")
        assert "Error" not in conn.send_command("sudo config load /tmp/fabric.json -y")


def sonic_patch(lab: Lab, ops: list[dict[str, Any]]) -> str:
    """``config apply-patch`` of JSON-patch ``ops`` on leaf1; its output."""
    with netmiko(lab, "leaf1", "linux") as conn:
        write_file(conn, json.dumps(ops), "/tmp/patch.json")
        return str(conn.send_command("sudo config apply-patch /tmp/patch.json"))


def push_nvue(lab: Lab, text: str) -> None:
    with netmiko(lab, "leaf2", "linux") as conn:
        assert "Error" not in conn.send_config_set([line for line in text.splitlines() if line.startswith("nv ")])
        assert conn.send_command("nv config apply -y").startswith("applied")


def push_eos(lab: Lab, text: str) -> None:
    from napalm import get_network_driver

    ep = lab.endpoint("leaf3", "eapi")
    driver = get_network_driver("eos")(ep["address"], ep["username"], lab.password, timeout=10,
                                       optional_args={"transport": "http", "port": ep["port"]})
    driver.open()
    try:
        driver.load_merge_candidate(config=text)
        driver.commit_config()
    finally:
        driver.close()


def push_nxos(lab: Lab, text: str) -> None:
    with netmiko(lab, "spine1", "cisco_nxos") as conn:
        assert "%" not in conn.send_config_set(text.splitlines())


def paste(conn: Any, lines: list[str], device: str) -> str:
    """Lines pasted into a view CLI as an operator pastes a config (type-ahead, one write), read up to the user
    view prompt ``<device>`` that the final ``return`` brings; what the session printed meanwhile."""
    conn.write_channel("\n".join([*lines, "return"]) + "\n")
    return str(conn.read_until_pattern(pattern=rf"<{device}>\s*$", read_timeout=60))


def push_comware(lab: Lab, text: str) -> None:
    with netmiko(lab, "leaf4", "hp_comware") as conn:
        output = paste(conn, ["system-view", *text.splitlines()], "leaf4")
    assert "%" not in output, output


def type_huawei(conn: Any, lines: list[str]) -> list[str]:
    """Lines typed one by one (netmiko's send_config_set waits 2 s per config-mode check on VRP), each reply."""
    return [str(conn.send_command(line, expect_string=HUAWEI_PROMPT)) for line in lines]


def push_huawei(lab: Lab, text: str) -> None:
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    with netmiko(lab, "spine2", "huawei_vrpv8") as conn:
        output = paste(conn, ["system-view", *lines, "commit"], "spine2")
    assert "Error" not in output and "Failed" not in output and "[~spine2]" in output, output


def push_host(lab: Lab, text: str) -> None:
    with netmiko(lab, HOST, "linux") as conn:
        conn.send_config_set([line for line in text.splitlines() if line and not line.startswith(("#", "set "))])


PUSH: dict[str, Callable[[Lab, str], None]] = {
    "leaf1": push_sonic, "leaf2": push_nvue, "leaf3": push_eos, "leaf4": push_comware, "spine1": push_nxos,
    "spine2": push_huawei, HOST: push_host}


def rendered() -> tuple[dict[str, DeviceIntent], dict[str, str]]:
    """lab-roce's intents, and what ``fabric render`` makes of them for the devices of PUSH (files joined)."""
    validated = validate_inventory(str(INVENTORIES / "lab-roce"))
    configs = render_fabric({name: validated.intents[name] for name in PUSH})
    return validated.intents, {name: "".join(config.files.values()) for name, config in configs.items()}
