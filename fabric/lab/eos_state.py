"""The configuration store of one EOS twin device: running and startup config, flash files, config sessions.

Shared by every way into the device (eAPI now, an EOS SSH dialect later: ``LabDevice.config`` holds it).
A configuration session starts as a copy of the running config; ``commit`` replaces the running config with
it in one step, ``abort`` drops it; ``show configuration sessions`` lists them as EOS does.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fabric.lab.device import LabDevice
from fabric.lab.eos_config import Block, ConfigCursor, ConfigError, render_body

MAX_OPEN_SESSIONS = 5
MAX_SAVED_SESSIONS = 1


@dataclass
class ConfigSession:
    """A named configuration session: its candidate config and where it is in its life."""

    config: Block
    state: str = "pending"  # pending | completed
    commit_user: str = ""
    completed_time: float = 0.0


class EosState:
    """Running/startup configs, flash files and configuration sessions of one device."""

    def __init__(self, name: str, ports: Iterable[str]) -> None:
        self.ports = list(ports)
        self.running = self.clean()
        load(self.running, [f"hostname {name}", "management api http-commands", "no shutdown"])
        self.startup = self.body(self.running)
        self.flash: dict[str, str] = {}
        self.sessions: dict[str, ConfigSession] = {}

    @classmethod
    def of(cls, device: LabDevice) -> EosState:
        """The device's store, created on first use; refuses a device whose config another model owns."""
        if device.config is None:
            device.config = cls(device.name, device.counters.ports)
        if not isinstance(device.config, cls):
            raise TypeError(f"{device.name}: running config is a {type(device.config).__name__}, not an EosState; "
                            "an EOS dialect must use fabric.lab.eos_state.EosState as its initial_config")
        return device.config

    def clean(self) -> Block:
        """The factory configuration (``rollback clean-config``): every port present and empty."""
        root = Block()
        load(root, [f"interface {port}" for port in [*self.ports, "Management1"]])
        for child in root.children.values():
            child.physical = True
        load(root, ["spanning-tree mode mstp", "no ip routing"])
        return root

    @staticmethod
    def body(root: Block) -> str:
        return "\n".join(render_body(root)) + "\n"

    def show(self, root: Block, command: str) -> str:
        """A configuration as ``command`` prints it (``show running-config``, ``show session-config ...``)."""
        return f"! Command: {command}\n" + self.body(root)

    def replace(self, text: str) -> None:
        """``configure replace``: the running config becomes exactly ``text`` (over the factory config)."""
        root = self.clean()
        load(root, text.splitlines())
        self.running = root

    def save(self) -> None:
        """``write memory``."""
        self.startup = self.body(self.running)

    # -- configuration sessions --------------------------------------------------------------------

    def enter_session(self, name: str) -> ConfigSession:
        """``configure session NAME``: the pending session of that name, created from the running config."""
        session = self.sessions.get(name)
        if session is not None and session.state != "pending":
            raise ConfigError(f"Cannot enter session {name} (session has already been committed)")
        if session is None:
            if sum(s.state == "pending" for s in self.sessions.values()) >= MAX_OPEN_SESSIONS:
                raise ConfigError("Maximum number of pending sessions has been reached")
            session = self.sessions[name] = ConfigSession(copy.deepcopy(self.running))
        return session

    def pending(self, name: str) -> ConfigSession:
        session = self.sessions.get(name)
        if session is None or session.state != "pending":
            raise ConfigError(f"Session {name} does not exist")
        return session

    def commit(self, name: str, user: str) -> None:
        """Replace the running config with the session's, atomically."""
        session = self.pending(name)
        self.running = copy.deepcopy(session.config)
        session.state, session.commit_user, session.completed_time = "completed", user, time.time()
        completed = sorted((s.completed_time, n) for n, s in self.sessions.items() if s.state == "completed")
        for _, old in completed[:-MAX_SAVED_SESSIONS]:
            del self.sessions[old]

    def abort(self, name: str) -> None:
        self.pending(name)
        del self.sessions[name]

    def sessions_json(self) -> dict[str, Any]:
        """``show configuration sessions``, e.g. ``{"sessions": {"napalm_1": {"state": "pending", ...}}, ...}``."""
        sessions: dict[str, Any] = {}
        for name, s in self.sessions.items():
            sessions[name] = {"state": s.state, "commitUser": s.commit_user, "description": "", "instances": {}}
            if s.state == "completed":
                sessions[name]["completedTime"] = s.completed_time
        return {"sessions": sessions, "maxSavedSessions": MAX_SAVED_SESSIONS, "maxOpenSessions": MAX_OPEN_SESSIONS}

    def __str__(self) -> str:
        return self.body(self.running)


def load(root: Block, lines: Iterable[str]) -> None:
    """Apply configuration lines (a config file, a list of commands) up to ``end``; ConfigError names the line."""
    cursor = ConfigCursor(root)
    for line in lines:
        try:
            if not cursor.apply(line.strip()):
                return
        except ConfigError as error:
            raise ConfigError(f"{error} in line '{line.strip()}'") from None
