"""Per-lab credentials and keys, generated once and kept in the state dir (0600), never printed unless asked."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import asyncssh


@dataclass(frozen=True)
class LabSecrets:
    """The lab password, the client key users and tests log in with, and the host keys of every device."""

    password: str
    client_key: asyncssh.SSHKey
    host_keys: dict[str, asyncssh.SSHKey]


def _private(path: Path, data: bytes) -> None:
    path.touch(mode=0o600, exist_ok=True)
    os.chmod(path, 0o600)
    path.write_bytes(data)


def _key(path: Path) -> asyncssh.SSHKey:
    if path.exists():
        return asyncssh.read_private_key(str(path))
    key = asyncssh.generate_private_key("ssh-ed25519")
    _private(path, key.export_private_key())
    path.with_suffix(".pub").write_bytes(key.export_public_key())
    return key


def load_or_create(state_dir: Path, devices: list[str]) -> LabSecrets:
    """Read the lab's secrets from ``state_dir``, creating what is missing."""
    (state_dir / "keys").mkdir(parents=True, exist_ok=True)
    creds = state_dir / "credentials.json"
    if creds.exists():
        password = json.loads(creds.read_text())["password"]
    else:
        password = secrets.token_urlsafe(18)
        _private(creds, json.dumps({"password": password}).encode())
    client = _key(state_dir / "keys" / "client")
    hosts = {name: _key(state_dir / "keys" / f"host-{name}") for name in devices}
    return LabSecrets(password, client, hosts)


def known_hosts_line(address: str, port: int, key: asyncssh.SSHKey) -> str:
    """An OpenSSH known_hosts line for a device endpoint."""
    host = address if port == 22 else f"[{address}]:{port}"
    return f"{host} {key.export_public_key().decode().strip()}"
