"""CLI source: every device concurrently, each under the cycle's deadline, running the show commands of
``CLI_COMMANDS`` and feeding their output to the pure parsers of ``cli_parsers`` and ``switch_parsers``.

Which commands run on which platform, and over which transport (SSH through asyncssh, or EOS's eAPI JSON-RPC
through pyeapi, which returns the commands' JSON form), are the tables below, not code branches. Per-port
commands are expanded over the device's inventory ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fabric.collect.cli_parsers import (
    ParseError,
    ethtool_stats,
    nvue_roce_counters,
    rdma_hw_counters,
    sonic_watermark,
    sonic_wredcounters,
)
from fabric.collect.snmp import PollResult
from fabric.collect.switch_parsers import (
    comware_pfc,
    comware_queues,
    eos_ecn,
    eos_pfc,
    eos_queues,
    huawei_dcb_pfc,
    huawei_ecn,
    huawei_queues,
    nxos_pfc,
    nxos_queuing,
)
from fabric.core.sample import Sample

# parse(text, device, port, ts_ns, lossless) -> samples, ``lossless`` the device's RoCE priority; "{port}" in a
# command makes it per port
Parse = Callable[[str, str, str, int, int], list[Sample]]
LOSSLESS_PRIORITY = 3  # the RoCE priority and traffic class (inventory default, DESIGN §3)


def whole(parse: Callable[[str, str, int], list[Sample]]) -> Parse:
    """A parser of a device-wide command (no port argument) in the table's shape."""
    return lambda text, device, _port, ts_ns, _lossless: parse(text, device, ts_ns)


def per_port(parse: Callable[[str, str, str, int], list[Sample]]) -> Parse:
    """A parser of a per-port command that needs no lossless priority, in the table's shape."""
    return lambda text, device, port, ts_ns, _lossless: parse(text, device, port, ts_ns)


def nvue_roce(text: str, device: str, port: str, ts_ns: int, lossless: int) -> list[Sample]:
    """NVUE's RoCE counters are those of the port's lossless switch-priority (its traffic class: the same number,
    fabric maps them one to one): the device's own, passed in as ``lossless``, not always 3."""
    return nvue_roce_counters(text, device, port, lossless, lossless, ts_ns)


CLI_COMMANDS: dict[str, tuple[tuple[str, Parse], ...]] = {
    "sonic": (("show queue wredcounters", whole(sonic_wredcounters)),
              ("show queue watermark unicast", whole(sonic_watermark))),
    "nvue": (("nv show interface {port} qos roce counters -o json", nvue_roce),),
    "eos": (("show priority-flow-control counters detail", whole(eos_pfc)),
            ("show interfaces counters queue", whole(eos_queues)),
            ("show qos interfaces ecn counters queue", whole(eos_ecn))),
    "nxos": (("show interface priority-flow-control", whole(nxos_pfc)),
             ("show queuing interface {port}", per_port(nxos_queuing))),
    "comware": (("display priority-flow-control interface", whole(comware_pfc)),
                ("display qos queue-statistics interface outbound", whole(comware_queues))),
    "huawei_ce": (("display dcb pfc", whole(huawei_dcb_pfc)),
                  ("display qos queue statistics interface {port}", per_port(huawei_queues)),
                  ("display qos ecn statistics", whole(huawei_ecn))),
    "linux_mlx5": (("ethtool -S {port}", per_port(ethtool_stats)),
                   ("grep -H . /sys/class/infiniband/*/ports/*/hw_counters/*", whole(rdma_hw_counters))),
}
# how the commands reach a platform: SSH unless listed; EOS through eAPI ("https" on a real switch, the lab's
# endpoint is "http"), whose JSON results carry the counters without a text layout to parse
CLI_TRANSPORT: dict[str, str] = {"eos": "https"}


class CommandFailed(Exception):
    """A command that exited non-zero, as one line naming it, its status and what it said first (stderr, else
    stdout, where network OSes print their errors), e.g. '`ethtool -S ens9np0` exited 71: Cannot get driver
    information: No such device'. The connection is kept: the device answered."""

    def __init__(self, command: str, status: int | None, stderr: str, stdout: str, how: str = "exited") -> None:
        said = next((line.strip() for text in (stderr, stdout) for line in text.splitlines() if line.strip()), "")
        super().__init__(f"`{command}` {how} {status}" + (f": {said[:120]}" if said else ""))


@dataclass(frozen=True)
class SshTarget:
    """A device the CLI source polls: over SSH, or over eAPI when ``transport`` is ``http``/``https``."""

    device: str
    platform: str
    address: str
    port: int
    username: str
    ports: tuple[str, ...] = ()
    transport: str = "ssh"
    lossless: int = LOSSLESS_PRIORITY  # the device's RoCE priority: the lowest with PFC (inventory pfc.priorities)


@dataclass
class SshLogin:
    """Password (from the environment or the lab) and known_hosts; ``repr`` hides the password."""

    password: str = field(repr=False)
    known_hosts: Path | None = None


class CliPoller:
    def __init__(self, login: SshLogin) -> None:
        self.login = login
        self._connections: dict[SshTarget, Any] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._pool_size = 0
        self._deadline_s = 30.0
        self._resume: dict[SshTarget, int] = {}  # where a device's next cycle starts (its deadline cut the last)

    async def poll_all(self, targets: list[SshTarget], deadline_s: float) -> list[PollResult]:
        eapi = sum(1 for t in targets if t.transport != "ssh")
        if eapi > self._pool_size:
            # pyeapi blocks: one thread per eAPI device, or the default executor (cores + 4) would queue them
            if self._pool is not None:
                self._pool.shutdown(wait=False)
            self._pool, self._pool_size = ThreadPoolExecutor(max_workers=eapi, thread_name_prefix="eapi"), eapi
        self._deadline_s = deadline_s
        return list(await asyncio.gather(*(self.poll(t, deadline_s) for t in targets)))

    async def poll(self, target: SshTarget, deadline_s: float) -> PollResult:
        """One device's samples; a command that fails or whose output does not parse is reported (one line each,
        ``; ``-joined) without discarding what the device's other commands gave: a release that lacks one command
        (CloudEngine serves ``display qos ecn statistics`` on some models only) still yields the rest. A device
        whose commands (one per port on NX-OS and CloudEngine) outlast the deadline keeps what it answered, and
        its next cycle starts with the first command it did not reach, so every port is read in turn."""
        start = time.monotonic()
        runs = self._runs(target)
        samples: list[Sample] = []
        errors: list[str] = []
        done = [0]  # commands answered, in ``runs`` order; kept when the deadline cancels the rest
        try:
            await asyncio.wait_for(self._poll(target, runs, samples, errors, done), deadline_s)
            return PollResult(target.device, samples, "; ".join(errors) or None, time.monotonic() - start)
        except TimeoutError:
            if not done[0]:
                return PollResult(target.device, [], f"ssh: no answer within {deadline_s:g} s",
                                  time.monotonic() - start)
            self._resume[target] = (self._resume.get(target, 0) + done[0]) % len(runs)
            late = (f"ssh: {done[0]} of {len(runs)} commands answered within {deadline_s:g} s; the next cycle starts "
                    f"with `{runs[done[0]][0]}` (a longer --deadline reads every port each cycle)")
            return PollResult(target.device, samples, "; ".join([*errors, late]), time.monotonic() - start)
        except Exception as exc:  # asyncssh/OS errors of many types: one device's failure stays its own
            how = "ssh" if target.transport == "ssh" else "eapi"
            said = " ".join(str(exc).split())
            return PollResult(target.device, [], f"{how}: {type(exc).__name__}: {said}{hint(target, exc, said)}",
                              time.monotonic() - start)

    def _runs(self, target: SshTarget) -> list[tuple[str, str, Parse]]:
        """(command, port, parser) of every command the device runs this cycle, starting where the last cycle's
        deadline stopped it."""
        runs = [(command.format(port=port), port, parse)
                for command, parse in CLI_COMMANDS.get(target.platform, ())
                for port in (target.ports if "{port}" in command else ("",))]
        at = self._resume.get(target, 0) % max(len(runs), 1)
        return runs[at:] + runs[:at]

    async def connect_all(self, targets: list[SshTarget], deadline_s: float) -> None:
        """Open every SSH connection before the first cycle, so the first cycle's deadline measures the devices'
        answers rather than a burst of key exchanges; a device that does not connect here is retried (and
        reported) by the cycle."""
        async def connect(target: SshTarget) -> None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._connection(target), deadline_s)

        await asyncio.gather(*(connect(t) for t in targets if t.transport == "ssh"))

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

    async def _poll(self, target: SshTarget, runs: list[tuple[str, str, Parse]], samples: list[Sample],
                    errors: list[str], done: list[int]) -> None:
        """Run and parse ``runs`` in order into ``samples`` and ``errors``, counting them in ``done[0]``; over SSH
        each command's samples count as soon as it answered."""
        try:
            if target.transport == "ssh":
                connection = await self._connection(target)
                for command, port, parse in runs:
                    result = await connection.run(command)
                    stdout, stderr = str(result.stdout or ""), str(result.stderr or "")
                    output = ((stdout, time.time_ns()) if answered(result.returncode, stdout, stderr) else
                              CommandFailed(command, result.returncode, stderr, stdout))
                    self._parse(target, port, parse, output, samples, errors)
                    done[0] += 1
            else:
                outputs = await self._eapi(target, [command for command, _, _ in runs])
                for (_, port, parse), output in zip(runs, outputs, strict=True):
                    self._parse(target, port, parse, output, samples, errors)
                done[0] = len(runs)
        except BaseException:
            self._drop(target)  # a failed or timed-out device reconnects next cycle
            raise

    @staticmethod
    def _parse(target: SshTarget, port: str, parse: Parse, output: tuple[str, int] | CommandFailed,
               samples: list[Sample], errors: list[str]) -> None:
        try:
            if isinstance(output, CommandFailed):
                raise output
            samples += parse(output[0], target.device, port, output[1], target.lossless)
        except (ParseError, CommandFailed) as exc:  # already one line naming the command and what went wrong
            errors.append(str(exc))

    async def _eapi(self, target: SshTarget, commands: list[str]) -> list[tuple[str, int] | CommandFailed]:
        """Every command in one eAPI ``runCmds`` request (pyeapi, run in a thread: it is synchronous); each
        result's JSON, re-serialised so the parsers stay text-in like the SSH ones. eAPI ends a request at its
        first failing command (a release or platform without ``show qos interfaces ecn counters queue``): the
        results before it count, it is a ``CommandFailed``, and the commands after it go in a new request."""
        import pyeapi  # type: ignore[import-untyped]

        outputs: list[tuple[str, int] | CommandFailed] = []
        while len(outputs) < len(commands):
            remaining = commands[len(outputs):]
            try:
                outputs += await self._run_cmds(target, remaining)
            except pyeapi.eapilib.CommandError as exc:
                data = exc.output if isinstance(exc.output, list) else []  # results so far, then the failure's
                ts_ns = time.time_ns()
                outputs += [(json.dumps(result), ts_ns) for result in data[:-1][:len(remaining) - 1]]
                failing = data[-1] if data else {}
                errors = failing.get("errors", []) if isinstance(failing, dict) else []
                outputs.append(CommandFailed(commands[len(outputs)], exc.error_code,
                                             "\n".join(map(str, errors)) or str(exc.error_text), "",
                                             how="failed with eAPI error"))
        return outputs

    async def _run_cmds(self, target: SshTarget, commands: list[str]) -> list[tuple[str, int] | CommandFailed]:
        import pyeapi

        connection = self._connections.get(target)
        if connection is None:
            connection = pyeapi.client.connect(transport=target.transport, host=target.address, port=target.port,
                                               username=target.username, password=self.login.password,
                                               timeout=max(1, int(self._deadline_s + 0.999)))
            self._connections[target] = connection
        reply = await asyncio.get_running_loop().run_in_executor(self._pool, connection.execute, commands, "json")
        ts_ns = time.time_ns()
        return [(json.dumps(result), ts_ns) for result in reply["result"]]

    def _drop(self, target: SshTarget) -> None:
        connection = self._connections.pop(target, None)
        if connection is not None and target.transport == "ssh":  # an eAPI client holds no open connection
            connection.close()

    def close(self) -> None:
        for target in list(self._connections):
            self._drop(target)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool, self._pool_size = None, 0


def hint(target: SshTarget, exc: Exception, said: str) -> str:
    """What to fix for the usual ways a login fails (the library's own words come first)."""
    where = f"{target.address}:{target.port}"
    name = type(exc).__name__
    if name == "HostKeyNotVerifiable":
        return (f"; add the device's host key to ~/.ssh/known_hosts (ssh-keyscan -p {target.port} {target.address} "
                ">> ~/.ssh/known_hosts) after checking it")
    if name == "PermissionDenied" or "Unauthorized" in said:
        return f"; check user {target.username!r} (the inventory's username) and FABRIC_SSH_PASSWORD"
    if "unable to connect to eAPI" in said:  # an answer that is not eAPI's JSON (a web page, another service)
        return (f"; {where} answered, but not as eAPI: check the port and that the switch runs 'management api "
                "http-commands' with 'no shutdown'")
    if isinstance(exc, ConnectionRefusedError) or "Connection refused" in said:
        return f"; nothing listens on {where}: check the device's hostname and port in the inventory"
    if isinstance(exc, socket.gaierror) or "Name or service not known" in said:
        return f"; {target.address!r} does not resolve: fix the device's hostname in the inventory or its DNS record"
    return ""


def answered(status: int | None, stdout: str, stderr: str) -> bool:
    """Whether an SSH exec's output is the command's answer: exit status 0, or no exit status at all (network
    OSes whose SSH servers close the channel without one) with something on stdout for the parser to judge (an
    error text there is its one-line ParseError)."""
    return status == 0 or (status is None and (bool(stdout.strip()) or not stderr.strip()))


def cli_platforms() -> set[str]:
    return set(CLI_COMMANDS)
