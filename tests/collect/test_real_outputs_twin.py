"""Garbage from a real SSH session is one line naming the device and the command: the twin's NX-OS switch polled
as if it were Comware answers every ``display`` command with its own error text, which the parsers refuse."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from fabric.collect.cli_source import CliPoller, SshLogin
from fabric.lab.control import Lab
from tests.collect.test_switch_cli_twin import cli_targets


def test_a_device_answering_another_platforms_commands_fails_in_one_line(twin: Lab) -> None:
    [target] = cli_targets(twin, ["spine1"])

    async def poll() -> str | None:
        poller = CliPoller(SshLogin(twin.password, twin.known_hosts))
        try:
            return (await poller.poll(replace(target, platform="comware"), 20.0)).error
        finally:
            poller.close()

    error = asyncio.run(poll())
    assert error is not None and "\n" not in error and "Traceback" not in error
    assert "spine1: cannot parse `display priority-flow-control interface`" in error
    assert not error.startswith("ssh: ")  # the parse error line as it is, not wrapped as a transport error
