"""The eAPI endpoint of an EOS twin device: JSON-RPC ``runCmds`` over HTTP/1.1 (``POST /command-api``).

What napalm's ``eos`` driver and pyeapi send, answered as EOS does: basic authentication with the lab
password; each request is a fresh CLI session (unprivileged until ``enable``); ``format`` json or text;
results one per command; the first failing command ends the request with a JSON-RPC error whose ``data``
holds the results so far plus ``{"errors": [...]}`` for the failure (code 1002 for an invalid command,
1000 for one that could not run, 1003 for a text-only command asked for JSON). Faults: ``auth-fail`` answers
401, ``slow`` delays every reply, ``reject-config`` refuses configuration changes (direct configuration,
session commits, ``configure replace``) and leaves the running config as it was.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
from http import HTTPStatus
from typing import Any

from fabric.lab.device import LabDevice
from fabric.lab.eos_config import ConfigCursor, ConfigError
from fabric.lab.eos_show import CommandError, Output, ShowContext, failed, invalid, show
from fabric.lab.eos_state import EosState

EAPI_PORT = 443  # eAPI's port when the inventory's is taken by the device's SSH listener
MAX_BODY = 16 << 20
REJECTED = "Configuration changes are not allowed: the configuration is locked"  # [wording unverified]


class EapiCli:
    """The CLI behind one eAPI request: exec mode, configuration mode, or a configuration session."""

    def __init__(self, device: LabDevice, state: EosState, user: str) -> None:
        self.device, self.state, self.user = device, state, user
        self.privileged = False
        self.cursor: ConfigCursor | None = None  # None: exec mode
        self.session: str | None = None  # the configuration session being edited

    def run(self, command: str) -> Output:
        tokens = command.split()
        if not tokens:
            return Output()
        if tokens[0] == "show":
            return show(ShowContext(self.device, self.state, self.session), command)
        if self.cursor is not None:
            return self._configure(command, tokens)
        return self._exec(tokens)

    # -- exec mode -------------------------------------------------------------------------------

    def _exec(self, tokens: list[str]) -> Output:
        if tokens in (["enable"], ["disable"]):
            self.privileged = tokens == ["enable"]
            return Output()
        if tokens[0] not in ("configure", "copy", "write"):
            raise invalid(f"Invalid input (at token 0: '{tokens[0]}')")
        if not self.privileged:
            raise invalid("Invalid input (privileged mode required)")
        if tokens[0] == "write":
            if tokens[1:] not in ([], ["memory"]):
                raise invalid(f"Invalid input (at token 1: '{tokens[1]}')")
            self.state.save()
            return Output("Copy completed successfully.\n", {"messages": ["Copy completed successfully."]})
        if tokens[0] == "copy":
            return self._copy(tokens)
        if tokens[1:] in ([], ["terminal"]):
            self.cursor = ConfigCursor(self.state.running)
            return Output()
        if tokens[1] == "session":
            return self._session(tokens)
        if tokens[1] == "replace":
            return self._replace(tokens)
        raise invalid(f"Invalid input (at token 1: '{tokens[1]}')")

    def _session(self, tokens: list[str]) -> Output:
        if len(tokens) == 2:
            raise invalid("Incomplete command")
        name, action = tokens[2], tokens[3:]
        try:
            if not action:
                self.cursor, self.session = ConfigCursor(self.state.enter_session(name).config), name
            elif action == ["commit"]:
                self._commit(name)
            elif action == ["abort"]:
                self.state.abort(name)
            else:
                raise invalid(f"Invalid input (at token 3: '{tokens[3]}')")
        except ConfigError as error:
            raise failed(str(error)) from None
        return Output()

    def _commit(self, name: str) -> None:
        self.state.pending(name)
        if self.device.faults.active("reject-config"):
            raise failed(REJECTED)
        self.state.commit(name, self.user)

    def _replace(self, tokens: list[str]) -> Output:
        if len(tokens) == 2:
            raise invalid("Incomplete command")
        if tokens[3:] not in ([], ["force"]):
            raise invalid(f"Invalid input (at token 3: '{tokens[3]}')")
        text = self._read(tokens[2])
        if self.device.faults.active("reject-config"):
            raise failed(REJECTED)
        try:
            self.state.replace(text)
        except ConfigError as error:
            raise failed(str(error)) from None
        return Output()

    def _copy(self, tokens: list[str]) -> Output:
        if len(tokens) != 3:
            raise invalid("Incomplete command" if len(tokens) < 3 else f"Invalid input (at token 3: '{tokens[3]}')")
        text = self._read(tokens[1])
        target = tokens[2]
        if target == "startup-config":
            self.state.startup = text
        elif target.startswith("flash:"):
            self.state.flash[target.removeprefix("flash:").lstrip("/")] = text
        elif target == "running-config":
            self._merge(text)
        else:
            raise invalid(f"Invalid input (at token 2: '{target}')")
        return Output("Copy completed successfully.\n", {"messages": ["Copy completed successfully."]})

    def _read(self, source: str) -> str:
        if source == "running-config":
            return self.state.body(self.state.running)
        if source == "startup-config":
            return self.state.startup
        if source.startswith("flash:"):
            name = source.removeprefix("flash:").lstrip("/")
            if name in self.state.flash:
                return self.state.flash[name]
            raise failed(f"Error copying {source} (No such file or directory)")
        raise invalid(f"Invalid input: '{source}'")

    def _merge(self, text: str) -> None:
        if self.device.faults.active("reject-config"):
            raise failed(REJECTED)
        cursor = ConfigCursor(self.state.running)
        for line in text.splitlines():
            try:
                if not cursor.apply(line.strip()):
                    return
            except ConfigError as error:
                raise failed(f"{error} in line '{line.strip()}'") from None

    # -- configuration modes ---------------------------------------------------------------------

    def _configure(self, command: str, tokens: list[str]) -> Output:
        assert self.cursor is not None
        if self.session is not None and tokens in (["commit"], ["abort"], ["rollback", "clean-config"]):
            return self._session_mode(tokens)
        if self.session is None and self.device.faults.active("reject-config") and tokens[0] not in ("end", "exit"):
            raise failed(REJECTED)
        try:
            stays = self.cursor.apply(command)
        except ConfigError as error:
            raise invalid(str(error)) from None
        if not stays:
            self.cursor = self.session = None
        return Output()

    def _session_mode(self, tokens: list[str]) -> Output:
        assert self.session is not None
        name = self.session
        if tokens == ["rollback", "clean-config"]:
            self.state.pending(name).config = self.state.clean()
            self.cursor = ConfigCursor(self.state.pending(name).config)
            return Output()
        try:
            self._commit(name) if tokens == ["commit"] else self.state.abort(name)
        except ConfigError as error:
            raise failed(str(error)) from None
        self.cursor = self.session = None
        return Output()


# -- JSON-RPC --------------------------------------------------------------------------------------

def _rpc_error(request_id: Any, code: int, message: str, data: list[Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


def _result(output: Output, fmt: str, command: str) -> dict[str, Any]:
    if fmt == "text":
        return {"output": output.text}
    if output.json is None:
        raise CommandError(1003, "unconverted command", f"Command '{command}' has no JSON output; use format text")
    return output.json


def run_cmds(device: LabDevice, user: str, body: bytes) -> dict[str, Any]:
    """Answer one JSON-RPC request body, as a JSON-RPC response object."""
    try:
        request = json.loads(body)
    except ValueError:
        return _rpc_error(None, -32700, "Parse error")
    if not isinstance(request, dict) or request.get("jsonrpc") != "2.0":
        return _rpc_error(None, -32600, "Expected field 'jsonrpc' not specified")
    request_id, params = request.get("id"), request.get("params")
    if request.get("method") != "runCmds":
        return _rpc_error(request_id, -32601, f"Method '{request.get('method')}' not found")
    if not isinstance(params, dict) or not isinstance(params.get("cmds"), list):
        return _rpc_error(request_id, -32602, "Expected field 'cmds' not specified")
    fmt = params.get("format") or "json"
    commands = [c.get("cmd") if isinstance(c, dict) else c for c in params["cmds"]]
    if fmt not in ("json", "text") or not all(isinstance(c, str) for c in commands):
        return _rpc_error(request_id, -32602, "Invalid 'format' or 'cmds'")
    if params.get("autoComplete"):
        return _rpc_error(request_id, -32602, "autoComplete is not supported by the lab: type keywords in full")
    return _run(device, user, request_id, [str(c) for c in commands], fmt)


def _run(device: LabDevice, user: str, request_id: Any, commands: list[str], fmt: str) -> dict[str, Any]:
    """Run the commands in one CLI session until the first failure."""
    cli, results = EapiCli(device, EosState.of(device), user), []
    for index, command in enumerate(commands):
        try:
            results.append(_result(cli.run(command), fmt, command))
        except CommandError as error:
            entry: dict[str, Any] = {"errors": [error.error]}
            if fmt == "text":
                entry = {"output": f"% {error.error}\n", **entry}
            message = f"CLI command {index + 1} of {len(commands)} '{command}' failed: {error.kind}"
            return _rpc_error(request_id, error.code, message, [*results, entry])
    return {"jsonrpc": "2.0", "id": request_id, "result": results}


# -- HTTP ------------------------------------------------------------------------------------------

def _user(headers: dict[str, str], password: str) -> str | None:
    """The user of a valid ``Authorization: Basic`` header, or None."""
    scheme, _, encoded = headers.get("authorization", "").partition(" ")
    try:
        user, _, given = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    ok = scheme.lower() == "basic" and bool(user) and hmac.compare_digest(given.encode(), password.encode())
    return user if ok else None


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes] | None:
    line = await reader.readline()
    if not line.strip():
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while (header := await reader.readline()).strip():
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    if not 0 <= length <= MAX_BODY:
        raise ValueError("bad Content-Length")
    return method, target, headers, await reader.readexactly(length)


def _respond(device: LabDevice, password: str, method: str, target: str, headers: dict[str, str],
             body: bytes) -> tuple[int, dict[str, Any] | str]:
    if target.split("?")[0] != "/command-api":
        return 404, "Not Found"
    if method != "POST":
        return 405, "Method Not Allowed"
    user = _user(headers, password)
    if user is None or device.faults.active("auth-fail"):
        return 401, "Unable to authenticate user: Bad username/password combination"
    return 200, run_cmds(device, user, body)


def _http(status: int, payload: dict[str, Any] | str, close: bool) -> bytes:
    body = (json.dumps(payload) if isinstance(payload, dict) else payload).encode()
    kind = "application/json" if isinstance(payload, dict) else "text/plain"
    head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", "Server: fabric-lab-eapi", f"Content-Type: {kind}",
            f"Content-Length: {len(body)}", f"Connection: {'close' if close else 'keep-alive'}"]
    if status == 401:
        head.append('WWW-Authenticate: Basic realm="eAPI"')
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def start_eapi(device: LabDevice, password: str, port: int) -> asyncio.Server:
    """Listen for eAPI on the device's address and ``port`` (0: a free one)."""
    EosState.of(device)

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (request := await _read_request(reader)) is not None:
                method, target, headers, body = request
                status, payload = _respond(device, password, method, target, headers, body)
                if device.faults.active("slow"):
                    await asyncio.sleep(device.faults.slow_s)
                close = headers.get("connection", "").lower() == "close"
                writer.write(_http(status, payload, close))
                await writer.drain()
                if close:
                    break
        except ValueError:
            writer.write(_http(400, "Bad Request", close=True))
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(connection, device.address, port, reuse_address=True)


def eapi_port(device: LabDevice, ssh_port: int | None) -> int:
    """The inventory's port for eAPI, unless the device's SSH listener already has it."""
    port = device.inventory.port
    return port if port is not None and port != ssh_port else EAPI_PORT
