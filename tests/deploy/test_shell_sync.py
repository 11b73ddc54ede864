"""Shell sessions stay in step with the device: a reply the session still owed an earlier line (netmiko's prompt
probe leaves one in flight on a loaded host) must not be taken for the next command's output."""

from __future__ import annotations

import pytest

from fabric.cli.deploy import lab_targets
from fabric.deploy.drivers import DRIVERS
from fabric.deploy.ssh import NetmikoSession
from fabric.inventory.load import load_inventory
from fabric.lab.control import Lab
from tests.conftest import INVENTORIES


@pytest.mark.parametrize("device", ["gpu01", "leaf1", "leaf2"])  # linux_mlx5, sonic, nvue: Linux shells
def test_an_owed_prompt_does_not_end_the_next_reply(twin: Lab, device: str) -> None:
    fabric = load_inventory(str(INVENTORIES / "lab-roce")).fabric
    assert fabric is not None
    target = lab_targets([fabric.devices[device]], twin.state_dir, 30.0)[0]
    driver = DRIVERS[target.platform](target)
    assert isinstance(driver, NetmikoSession) and driver.shell
    driver.open()
    try:
        for _ in range(2):
            driver.conn.write_channel(driver.conn.RETURN * 2)  # two prompts now owed, as after a doubled probe
            assert driver._run("echo one ; echo two").split() == ["one", "two"]
        twin.fault(device, "slow", 20)  # replies late: the echo of what is typed ahead comes before owed prompts
        try:
            driver.conn.write_channel(driver.conn.RETURN)
            assert driver._run("echo three") == "three"
        finally:
            twin.clear(device)
        assert driver._run("true") == ""
    finally:
        driver.close()
