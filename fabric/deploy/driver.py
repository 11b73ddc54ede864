"""The deploy contract: one small Driver protocol (napalm's life cycle) and the errors a deploy reports.

A driver is made for one ``Target`` and holds one session. The orchestrator calls, in order:
``open`` -> ``diff(candidate)`` -> ``get_running`` (the backup: the config the diff was computed against) ->
``push`` (changes + commit/save) -> ``verify`` -> ``close``; on any failure ``restore(backup)``. Which class
serves which platform is the literal table in ``fabric.deploy.drivers``.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

Kind = Literal["unreachable", "auth", "hostkey", "timeout", "dropped", "rejected", "verify", "error"]


@dataclass(frozen=True)
class Target:
    """Where and how to reach one device. ``password`` never appears in a repr, a log or a result."""

    device: str
    platform: str
    address: str
    port: int
    username: str
    password: str | None = field(default=None, repr=False)
    known_hosts: Path | None = None  # None: the user's ~/.ssh/known_hosts (strict checking either way)
    key_file: Path | None = None
    timeout_s: float = 30.0
    api_port: int | None = None  # eAPI (eos)
    api_transport: str = "https"


class DeployError(Exception):
    """A device-level failure: ``kind`` picks retry and exit code, the message is the one-line reason."""

    def __init__(self, kind: Kind, reason: str) -> None:
        super().__init__(reason)
        self.kind: Kind = kind
        self.reason = reason


class Driver(Protocol):
    """One session to one device (napalm-style). ``diff`` remembers what ``push`` will send."""

    backup_suffix: str

    def open(self) -> None:
        """Connect and log in; raises DeployError (unreachable, auth, hostkey)."""

    def get_running(self) -> str:
        """The running configuration as the device shows it (the backup); right after ``diff``, the text that
        diff read, so a large config is not read twice."""

    def diff(self, candidate: str) -> list[str]:
        """The semantic changes ``candidate`` makes to the running config, one line each; [] when none."""

    def push(self) -> None:
        """Apply what the last ``diff`` found and make it persistent (commit/save)."""

    def verify(self, candidate: str) -> list[str]:
        """Read the state back; the intended values that are not in force ([] when all are)."""

    def restore(self, backup: str) -> None:
        """Bring the device back to ``backup`` (a ``get_running`` text)."""

    def close(self) -> None:
        """End the session (never raises)."""


def classify(exc: BaseException) -> DeployError:
    """Any exception from a transport library as a DeployError with a one-line reason (no secrets: the
    libraries' messages name host and port, never the password)."""
    if isinstance(exc, DeployError):
        return exc
    name = type(exc).__name__
    text = " ".join(str(exc).split()) or name
    lowered = text.lower()
    if "authenticat" in lowered or "auth" in name.lower() or "401" in text or "unauthorized" in lowered:
        return DeployError("auth", "authentication failed; check the username and FABRIC_SSH_PASSWORD / key")
    if "host key" in lowered or "known_hosts" in lowered or name == "BadHostKeyException":
        return DeployError("hostkey", f"SSH host key not trusted ({text[:120]}); check known_hosts")
    if name == "ReadTimeout" or (isinstance(exc, TimeoutError | socket.timeout) and "connect" not in lowered):
        return DeployError("timeout", f"no answer in time ({text[:120]})")
    if isinstance(exc, ConnectionRefusedError) or "refused" in lowered or "TCP connection to device failed" in text \
            or ("connect" in lowered and "timed out" in lowered):
        return DeployError("unreachable", f"unreachable: {text.split('.')[0][:160]}")
    if name == "NetmikoTimeoutException" or "timed out" in lowered:
        return DeployError("timeout", f"no answer in time ({text.split('.')[0][:120]})")
    if isinstance(exc, EOFError | OSError) or "socket" in lowered or "closed" in lowered or "banner" in lowered:
        return DeployError("dropped", f"connection dropped: {text[:160]}")
    return DeployError("error", f"{name}: {text[:200]}")


def check_output(output: str, markers: tuple[str, ...], what: str) -> None:
    """Raise ``rejected`` with the device's own first error line when ``output`` carries an error marker."""
    for line in output.splitlines():
        if any(marker in line for marker in markers):
            raise DeployError("rejected", f"{what} refused: {line.strip()[:160]}")


def last_line(output: str) -> str:
    """The line a device ends a refusal with, shortened for a one-line reason."""
    lines = output.strip().splitlines()
    return lines[-1].strip()[:160] if lines else "no answer"


def first_problem(problems: list[str]) -> str:
    """The first change not in force, with its block (a hierarchical diff lists the block header first, and
    "verification failed: interface X" did not say which line of it)."""
    first = problems[0].strip()
    line = next((p.strip() for p in problems if p.lstrip()[:1] in "+-~"), first)
    return first if line == first else f"{first}: {line}"
