"""The lab's SSH endpoints (asyncssh): one listener per device, each session driven by the platform dialect.

Interactive sessions (a PTY, as netmiko and OpenSSH open them) get asyncssh's line editor, so every typed
character is echoed and Enter may be CR, LF or CRLF; output lines end in CRLF. ``ssh host COMMAND`` runs
the command through the same dialect and returns its exit status.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable

import asyncssh

from fabric.lab.device import LabDevice
from fabric.lab.dialects import Dialect, EndSession, dialect_for


class Credentials:
    """Who may log in to the lab: the lab's generated password, or the lab's client key."""

    def __init__(self, password: str, client_keys: list[asyncssh.SSHKey]) -> None:
        self.password = password
        self.client_keys = {key.export_public_key().split()[1] for key in client_keys}


class DeviceSSHServer(asyncssh.SSHServer):
    """Authentication for one device: the lab password or key, unless an auth-fail fault is active."""

    def __init__(self, device: LabDevice, credentials: Credentials) -> None:
        self.device = device
        self.credentials = credentials

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        if self.device.faults.active("auth-fail"):
            return False
        return hmac.compare_digest(password.encode(), self.credentials.password.encode())

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        if self.device.faults.active("auth-fail"):
            return False
        return key.export_public_key().split()[1] in self.credentials.client_keys


def _session(device: LabDevice) -> Callable[[asyncssh.SSHServerProcess[str]], asyncio.Future[None]]:
    async def run(process: asyncssh.SSHServerProcess[str]) -> None:
        username = process.get_extra_info("username") or ""
        dialect = dialect_for(device.platform)(device, username)
        try:
            if process.command:
                output, status = dialect.run_command(process.command)
                process.stdout.write(output + ("\n" if output else ""))
                process.exit(status)
                return
            await _interactive(process, device, dialect)
        except (asyncssh.BreakReceived, asyncssh.TerminalSizeChanged, BrokenPipeError, ConnectionError):
            pass
        process.exit(0)

    return run  # type: ignore[return-value]


async def _interactive(process: asyncssh.SSHServerProcess[str], device: LabDevice, dialect: Dialect) -> None:
    process.stdout.write(dialect.banner + dialect.prompt())
    while True:
        line = await process.stdin.readline()
        if not line:
            return
        if device.faults.active("ssh-drop"):
            process.channel.get_connection().abort()  # the TCP session dies mid-conversation
            return
        if device.faults.active("slow"):
            await asyncio.sleep(device.faults.slow_s)
        try:
            output = dialect.handle(line.rstrip("\r\n"))
        except EndSession:
            return
        process.stdout.write((output + "\n" if output else "") + dialect.prompt())


async def start_ssh(device: LabDevice, host_key: asyncssh.SSHKey, credentials: Credentials) -> asyncssh.SSHAcceptor:
    """Listen on the device's address and SSH port."""
    return await asyncssh.create_server(
        lambda: DeviceSSHServer(device, credentials), device.address, device.ssh_port,
        server_host_keys=[host_key], process_factory=_session(device), encoding="utf-8",
        line_editor=True, max_line_length=4095, reuse_address=True,  # a Linux terminal's line limit
    )
