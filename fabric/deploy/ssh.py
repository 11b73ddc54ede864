"""SSH sessions through netmiko with strict host-key checking, and the file upload the shell platforms share."""

from __future__ import annotations

import base64
import contextlib
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fabric.core.platform import get_platform
from fabric.deploy.driver import DeployError, Target, classify

CHUNK = 900  # base64 characters per printf line: well inside a pty's 4095-character line


def netmiko_params(target: Target, device_type: str | None = None) -> dict[str, Any]:
    """ConnectHandler arguments: password (from the environment) or keys/agent; host keys always checked,
    against ``target.known_hosts`` or the user's own known_hosts."""
    params: dict[str, Any] = {
        "device_type": device_type or get_platform(target.platform).netmiko_device_type,
        "host": target.address, "port": target.port, "username": target.username,
        "conn_timeout": min(target.timeout_s, 10.0), "auth_timeout": target.timeout_s,
        "banner_timeout": target.timeout_s, "read_timeout_override": target.timeout_s,
        "ssh_strict": True, "session_log": None,
    }
    if target.known_hosts is not None:
        params.update(system_host_keys=False, alt_host_keys=True, alt_key_file=str(target.known_hosts))
    else:
        params.update(system_host_keys=True)
    if target.password:
        params.update(password=target.password, secret=target.password, use_keys=False, allow_agent=False)
    else:
        key_file = target.key_file or default_key()
        if key_file is None and not os.environ.get("SSH_AUTH_SOCK"):
            raise DeployError("auth", "no SSH credentials: set FABRIC_SSH_PASSWORD, or run an ssh-agent with the key, "
                                      "or create ~/.ssh/id_ed25519 (or id_ecdsa, id_rsa)")
        # netmiko refuses use_keys without a key_file ("specified key_file does not exist"): agent alone otherwise
        params.update(use_keys=key_file is not None, allow_agent=True,
                      key_file=str(key_file) if key_file is not None else None)
    return params


def default_key() -> Path | None:
    """The user's first default private key, as OpenSSH tries them."""
    for name in ("id_ed25519", "id_ecdsa", "id_rsa"):
        path = Path.home() / ".ssh" / name
        if path.is_file():
            return path
    return None


def connect(target: Target, device_type: str | None = None) -> Any:
    """An open netmiko session; connection problems become DeployError."""
    from netmiko import ConnectHandler

    try:
        conn = ConnectHandler(**netmiko_params(target, device_type))
    except Exception as exc:  # every library error becomes a one-line reason
        raise classify(exc) from None
    fix_base_prompt(conn)
    return conn


def fix_base_prompt(conn: Any) -> None:
    """On a loaded machine netmiko's prompt probe can read several prompts at once ("spine1# spine1#") and
    keep them all, as the base prompt or as the pattern a ``send_command`` waits for, which no reply matches
    again; the last of them is the prompt."""
    if conn.base_prompt and " " in conn.base_prompt.strip():
        conn.base_prompt = conn.base_prompt.split()[-1].rstrip("#>$")
    probe = conn.find_prompt

    def find_prompt(*args: Any, **kwargs: Any) -> str:
        words = str(probe(*args, **kwargs)).split()
        return words[-1] if words else ""

    conn.find_prompt = find_prompt


def disconnect(conn: Any) -> None:
    """Close quietly: a session that already died has nothing left to close."""
    if conn is None:
        return
    with contextlib.suppress(Exception):  # closing a dead session is not a failure
        conn.disconnect()


def upload(conn: Any, text: str, path: str) -> None:
    """Write ``text`` to ``path`` on a Linux-shell device: base64 in short printf lines, decoded in place."""
    encoded = base64.b64encode(text.encode()).decode()
    lines = [f"rm -f {path}.b64"]
    lines += [f"printf '%s' '{encoded[i:i + CHUNK]}' >> {path}.b64" for i in range(0, len(encoded), CHUNK)]
    lines.append(f"base64 -d {path}.b64 > {path} && rm -f {path}.b64")
    for line in lines:
        output = conn.send_command(line)
        if output.strip():
            raise DeployError("rejected", f"upload of {path} failed: {output.strip().splitlines()[0][:160]}")


def _read_until(conn: Any, done: Callable[[str], bool], timeout_s: float, what: str) -> str:
    """Read until ``done(output)``; a closed channel fails at once (netmiko would wait out its timeout)."""
    deadline = time.monotonic() + timeout_s
    output = ""
    while not done(output):
        if time.monotonic() > deadline:
            raise DeployError("timeout", f"no prompt back within {timeout_s:g} s ({what})")
        try:
            chunk = conn.read_channel()
        except Exception as exc:  # a library error is a one-line reason
            raise classify(exc) from None
        output += chunk
        if not chunk:
            channel = conn.remote_conn
            if getattr(channel, "closed", False) or getattr(channel, "eof_received", False):
                raise DeployError("dropped", f"connection dropped ({what})")
            time.sleep(0.005)
    return output


def _write(conn: Any, text: str) -> None:
    try:
        conn.write_channel(text)
    except Exception as exc:  # a library error is a one-line reason
        raise classify(exc) from None


def send_batch(conn: Any, lines: list[str], prompt: str, timeout_s: float) -> str:
    """Every line written at once, then read until each has had its ``prompt`` (a regex) back. The round
    trip per line is what makes a push slow, and netmiko's own batch mode waits for seconds of silence."""
    pattern = re.compile(prompt)
    _write(conn, "".join(line + conn.RETURN for line in lines))
    return _read_until(conn, lambda out: len(pattern.findall(out)) >= len(lines), timeout_s,
                       f"typing {len(lines)} lines")


def send(conn: Any, line: str, timeout_s: float, expect: str | None = None) -> str:
    """One command's output, without its echo and the prompt that follows: read until ``expect`` (a regex,
    default the session's prompt) matches the end of what came after the echo."""
    pattern = re.compile(expect or re.escape(conn.base_prompt) + r"[^\n]*[#$>\]]\s*$")
    _write(conn, line + conn.RETURN)

    def done(out: str) -> bool:
        _, newline, after = out.partition("\n")
        return bool(newline) and pattern.search(after) is not None

    output = _read_until(conn, done, timeout_s, line.split()[0] if line.split() else "enter")
    lines = output.replace("\r", "").split("\n")[1:]
    if lines and conn.base_prompt in lines[-1]:  # the prompt, not a question the device asks
        lines = lines[:-1]
    return "\n".join(lines)


BEGIN, END = "@@fabric-begin@@", "@@fabric-end@@"


def quoted_echo(mark: str) -> str:
    """A shell command printing ``mark`` whose own text does not contain it (``echo @@fa''bric...``), so the
    echo of a typed line can never be taken for the line's output."""
    return f"echo {mark[:4]}''{mark[4:]}"


def send_marked(conn: Any, line: str, timeout_s: float) -> str:
    """Linux shells: the output of ``line`` (one command line, no trailing comment), cut between two marker
    lines the shell prints around it. A prompt the session still owed an earlier line (on a loaded host
    netmiko's prompt probe can leave one in flight) or echoed type-ahead cannot end or pollute the reply."""
    prompt = re.compile(re.escape(conn.base_prompt) + r"[^\n]*[#$>\]]\s*$")
    _write(conn, f"{quoted_echo(BEGIN)} ; {line} ; {quoted_echo(END)}" + conn.RETURN)

    def done(out: str) -> bool:
        out = out.replace("\r", "")
        end = out.rfind(f"{END}\n")
        return end >= 0 and prompt.search(out[end:]) is not None

    output = _read_until(conn, done, timeout_s, line.split()[0] if line.split() else "enter").replace("\r", "")
    # only the shell's output can hold a marker; an owed prompt may sit right before it on the same line
    start, end = output.find(f"{BEGIN}\n"), output.rfind(f"{END}\n")
    return output[start + len(BEGIN) + 1:end].removesuffix("\n") if start >= 0 else ""


class NetmikoSession:
    """What every netmiko-driven driver shares: one session per target, opened and closed the same way, and
    the running config a ``diff`` just read, which is the backup (no second read of a large config)."""

    shell = False  # a Linux shell (bash): commands can be wrapped in marker echoes

    def __init__(self, target: Target) -> None:
        self.target = target
        self.conn: Any = None
        self.seen: str | None = None

    def read_running(self) -> str:
        raise NotImplementedError

    def get_running(self) -> str:
        return self.seen if self.seen is not None else self.read_running()

    def open(self) -> None:
        self.conn = connect(self.target)

    def _run(self, line: str) -> str:
        """One command's output; on Linux shells (``shell``) cut between markers, immune to stale prompts."""
        if self.shell:
            return send_marked(self.conn, line, self.target.timeout_s)
        return send(self.conn, line, self.target.timeout_s)

    def close(self) -> None:
        disconnect(self.conn)
