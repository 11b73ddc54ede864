"""CLI source: SSH (asyncssh, every device concurrently, each under the cycle's deadline) running the show
commands of ``CLI_COMMANDS`` and feeding their text to the pure parsers of ``cli_parsers``.

Which commands run on which platform is the table below, not code branches. Per-port commands are expanded
over the device's inventory ports.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fabric.collect.cli_parsers import (
    ethtool_stats,
    nvue_roce_counters,
    rdma_hw_counters,
    sonic_watermark,
    sonic_wredcounters,
)
from fabric.collect.snmp import PollResult
from fabric.core.sample import Sample

# parse(text, device, port, ts_ns) -> samples; "{port}" in a command makes it per port
Parse = Callable[[str, str, str, int], list[Sample]]
LOSSLESS_PRIORITY = 3  # the RoCE priority and traffic class (inventory default, DESIGN §3)

CLI_COMMANDS: dict[str, tuple[tuple[str, Parse], ...]] = {
    "sonic": (("show queue wredcounters", lambda t, d, _p, ts: sonic_wredcounters(t, d, ts)),
              ("show queue watermark unicast", lambda t, d, _p, ts: sonic_watermark(t, d, ts))),
    "nvue": (("nv show interface {port} qos roce counters -o json",
              lambda t, d, p, ts: nvue_roce_counters(t, d, p, LOSSLESS_PRIORITY, LOSSLESS_PRIORITY, ts)),),
    "linux_mlx5": (("ethtool -S {port}", lambda t, d, p, ts: ethtool_stats(t, d, p, ts)),
                   ("grep -H . /sys/class/infiniband/*/ports/*/hw_counters/*",
                    lambda t, d, _p, ts: rdma_hw_counters(t, d, ts))),
}


@dataclass(frozen=True)
class SshTarget:
    device: str
    platform: str
    address: str
    port: int
    username: str
    ports: tuple[str, ...] = ()


@dataclass
class SshLogin:
    """Password (from the environment or the lab) and known_hosts; ``repr`` hides the password."""

    password: str = field(repr=False)
    known_hosts: Path | None = None


class CliPoller:
    def __init__(self, login: SshLogin) -> None:
        self.login = login
        self._connections: dict[SshTarget, Any] = {}

    async def poll_all(self, targets: list[SshTarget], deadline_s: float) -> list[PollResult]:
        return list(await asyncio.gather(*(self.poll(t, deadline_s) for t in targets)))

    async def poll(self, target: SshTarget, deadline_s: float) -> PollResult:
        start = time.monotonic()
        try:
            samples = await asyncio.wait_for(self._poll(target), deadline_s)
            return PollResult(target.device, samples, None, time.monotonic() - start)
        except TimeoutError:
            return PollResult(target.device, [], f"ssh: no answer within {deadline_s:g} s", time.monotonic() - start)
        except Exception as exc:  # asyncssh/OS errors of many types: one device's failure stays its own
            return PollResult(target.device, [], f"ssh: {type(exc).__name__}: {exc}", time.monotonic() - start)

    async def _connection(self, target: SshTarget) -> Any:
        """One SSH connection per device, kept across cycles (a handshake costs more than the commands)."""
        import asyncssh

        connection = self._connections.get(target)
        if connection is None or connection.is_closed():
            trust = {"known_hosts": str(self.login.known_hosts)} if self.login.known_hosts else {}
            connection = await asyncssh.connect(target.address, port=target.port, username=target.username,
                                                password=self.login.password, client_keys=None, **trust)
            self._connections[target] = connection
        return connection

    async def _poll(self, target: SshTarget) -> list[Sample]:
        samples: list[Sample] = []
        try:
            connection = await self._connection(target)
            for command, parse in CLI_COMMANDS.get(target.platform, ()):
                ports = target.ports if "{port}" in command else ("",)
                for port in ports:
                    result = await connection.run(command.format(port=port), check=True)
                    samples += parse(str(result.stdout), target.device, port, time.time_ns())
        except BaseException:
            self._drop(target)  # a failed or timed-out device reconnects next cycle
            raise
        return samples

    def _drop(self, target: SshTarget) -> None:
        connection = self._connections.pop(target, None)
        if connection is not None:
            connection.close()

    def close(self) -> None:
        for target in list(self._connections):
            self._drop(target)


def cli_platforms() -> set[str]:
    return set(CLI_COMMANDS)
