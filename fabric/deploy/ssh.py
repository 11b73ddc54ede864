"""SSH sessions through netmiko with strict host-key checking, and the file upload the shell platforms share."""

from __future__ import annotations

import base64
import contextlib
import re
import time
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
        params.update(use_keys=True, allow_agent=True,
                      key_file=str(target.key_file) if target.key_file else None)
    return params


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


def send_batch(conn: Any, lines: list[str], prompt: str, timeout_s: float) -> str:
    """Every line written at once, then read until each has had its ``prompt`` (a regex) back. The round
    trip per line is what makes a push slow, and netmiko's own batch mode waits for seconds of silence."""
    pattern = re.compile(prompt)
    deadline = time.monotonic() + timeout_s
    output = ""
    try:
        conn.write_channel("".join(line + conn.RETURN for line in lines))
        while len(pattern.findall(output)) < len(lines):
            if time.monotonic() > deadline:
                raise DeployError("timeout", f"no prompt back within {timeout_s:g} s while typing {len(lines)} lines")
            chunk = conn.read_channel()
            output += chunk
            if not chunk:
                time.sleep(0.005)
    except DeployError:
        raise
    except Exception as exc:  # a library error is a one-line reason
        raise classify(exc) from None
    return output


def send(conn: Any, line: str, timeout_s: float, expect: str | None = None) -> str:
    """One command's output (netmiko ``send_command``); library errors become DeployError."""
    try:
        return str(conn.send_command(line, expect_string=expect, read_timeout=timeout_s))
    except Exception as exc:  # a library error is a one-line reason
        raise classify(exc) from None
