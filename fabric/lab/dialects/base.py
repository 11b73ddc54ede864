"""The dialect contract: one interactive CLI session of one platform, driven line by line by the SSH server.

A dialect owns its platform's running configuration (``LabDevice.config``, created once per device by
``initial_config``) and answers each typed line the way the real CLI does: output text, a new prompt,
its own error wording for an invalid command, and no state change when a command is refused.
"""

from __future__ import annotations

from typing import Any, ClassVar

from fabric.lab.device import LabDevice


class EndSession(Exception):
    """Raised by ``handle`` when the user logs out (``exit``/``quit``/``logout`` at the top level)."""


class Dialect:
    """Base class: subclasses override ``prompt`` and ``handle`` (and ``initial_config`` for state)."""

    banner: ClassVar[str] = ""

    def __init__(self, device: LabDevice, username: str) -> None:
        self.device = device
        self.username = username

    @classmethod
    def initial_config(cls, device: LabDevice) -> Any:
        """The running configuration a freshly booted device has (shared by all its sessions)."""
        return None

    def prompt(self) -> str:
        """The prompt shown after every reply, e.g. ``leaf1# `` or ``admin@leaf1:~$ ``."""
        raise NotImplementedError

    def handle(self, line: str) -> str:
        """Run one typed line; return its output (lines joined by ``\\n``, no trailing prompt)."""
        raise NotImplementedError

    def run_command(self, command: str) -> tuple[str, int]:
        """A non-interactive ``ssh host COMMAND``: (output, exit status). Default: each line through handle."""
        outputs = []
        for line in command.splitlines():
            try:
                outputs.append(self.handle(line))
            except EndSession:
                break
        return "\n".join(o for o in outputs if o), 0

    def config_digest_text(self) -> str:
        """Text whose digest identifies the applied configuration (``lab status``); running config by default."""
        return str(self.device.config)
