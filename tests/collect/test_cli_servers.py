"""Device servers the twin does not model, on loopback: an asyncssh server answering the NX-OS commands with the
fixtures' outputs, slower than the cycle's deadline (NX-OS runs ``show queuing interface X`` once per port; a real
Nexus answers an SSH exec in a few hundred ms, so a 64-port box needs far more than 5 s; the twin answers in
milliseconds and its slow fault delays interactive sessions only) or closing each exec channel without an exit
status, as some network OSes' SSH servers do; logins that fail; and an HTTP server where eAPI should be."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncssh

from fabric.collect.cli_source import CliPoller, SshLogin, SshTarget
from fabric.collect.snmp import PollResult

FIXTURES = Path(__file__).parent / "fixtures" / "nxos"
PORTS = tuple(f"Ethernet1/{n}" for n in range(1, 11))
DELAY_S = 0.15


def answer(command: str) -> str:
    if command == "show interface priority-flow-control":
        return (FIXTURES / "show_interface_priority-flow-control.txt").read_text()
    port = command.removeprefix("show queuing interface ")
    return (FIXTURES / "show_queuing_interface_Ethernet1_2.txt").read_text().replace("Ethernet1/2", port)


class SlowNexus(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return password == "pw-slow-nexus"


async def session(process: asyncssh.SSHServerProcess[str]) -> None:
    await asyncio.sleep(DELAY_S)
    process.stdout.write(answer(str(process.command)))
    process.exit(0)


async def session_without_status(process: asyncssh.SSHServerProcess[str]) -> None:
    process.stdout.write(answer(str(process.command)))
    process.close()  # no exit-status message: the client sees returncode None


async def poll_cycles(tmp_path: Path, cycles: int, deadline_s: float, serve: Any = session) -> list[PollResult]:
    key = asyncssh.generate_private_key("ssh-ed25519")
    server = await asyncssh.create_server(SlowNexus, "127.0.0.1", 0, server_host_keys=[key],
                                          process_factory=serve, encoding="utf-8")
    port = server.sockets[0].getsockname()[1]
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {key.export_public_key().decode()}")
    poller = CliPoller(SshLogin("pw-slow-nexus", known))
    try:
        target = SshTarget("spine9", "nxos", "127.0.0.1", port, "admin", PORTS)
        return [await poller.poll(target, deadline_s) for _ in range(cycles)]
    finally:
        poller.close()
        server.close()
        await server.wait_closed()


def queues_of(result: PollResult) -> set[str]:
    return {s.tags["interface"] for s in result.samples if s.measurement == "queue"}


def test_a_device_slower_than_its_deadline_keeps_what_it_answered_and_goes_on_next_cycle(tmp_path: Path) -> None:
    """It used to give nothing, every cycle, as 'ssh: no answer within 1 s', though it answered several commands."""
    results = asyncio.run(poll_cycles(tmp_path, 4, 1.0))
    first = results[0]
    assert first.error is not None and first.error.startswith("ssh: ") and " of 11 commands answered within 1 s; " \
        "the next cycle starts with `show queuing interface Ethernet1/" in first.error, first.error
    assert any(s.measurement == "interface" for s in first.samples)  # the PFC table, the first command
    assert 2 <= len(queues_of(first)) < len(PORTS)
    resumed = first.error.split("starts with `show queuing interface ")[1].split("`")[0]
    assert resumed not in queues_of(first) and resumed in queues_of(results[1])  # went on where it stopped
    assert set().union(*(queues_of(r) for r in results)) == set(PORTS)  # every port read in turn


def test_a_device_within_its_deadline_is_read_whole_every_cycle(tmp_path: Path) -> None:
    results = asyncio.run(poll_cycles(tmp_path, 2, 10.0))
    assert all(r.error is None and queues_of(r) == set(PORTS) for r in results)


def test_a_device_that_sends_no_exit_status_is_read(tmp_path: Path) -> None:
    """Every command failed as '`show interface priority-flow-control` exited None: ====...' though its output
    was there to parse."""
    [result] = asyncio.run(poll_cycles(tmp_path, 1, 10.0, session_without_status))
    assert result.error is None and queues_of(result) == set(PORTS)


async def login_error(tmp_path: Path, password: str, trust: bool, port_offset: int = 0) -> str | None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    server = await asyncssh.create_server(SlowNexus, "127.0.0.1", 0, server_host_keys=[key],
                                          process_factory=session, encoding="utf-8")
    port = server.sockets[0].getsockname()[1]
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {key.export_public_key().decode()}" if trust else "")
    if port_offset:
        server.close()
        await server.wait_closed()
    poller = CliPoller(SshLogin(password, known))
    try:
        result = await poller.poll(SshTarget("spine9", "nxos", "127.0.0.1", port, "netops", PORTS), 5.0)
        return None if result.error is None else result.error.replace(str(port), "PORT")
    finally:
        poller.close()
        server.close()
        await server.wait_closed()


def test_a_failed_login_says_what_to_fix(tmp_path: Path) -> None:
    """'ssh: PermissionDenied: Permission denied for user netops on host 127.0.0.1' named no setting to change."""
    assert asyncio.run(login_error(tmp_path, "wrong", True)) == (
        "ssh: PermissionDenied: Permission denied for user netops on host 127.0.0.1; check user 'netops' (the "
        "inventory's username) and FABRIC_SSH_PASSWORD")
    assert asyncio.run(login_error(tmp_path, "pw-slow-nexus", False)) == (
        "ssh: HostKeyNotVerifiable: Host key is not trusted for host 127.0.0.1; add the device's host key to "
        "~/.ssh/known_hosts (ssh-keyscan -p PORT 127.0.0.1 >> ~/.ssh/known_hosts) after checking it")
    refused = asyncio.run(login_error(tmp_path, "pw-slow-nexus", True, port_offset=1))
    assert refused is not None and refused.endswith(
        "; nothing listens on 127.0.0.1:PORT: check the device's hostname and port in the inventory"), refused


def test_an_http_server_that_is_not_eapi_says_so() -> None:
    """pyeapi's 'unable to connect to eAPI' (a 404 web page where eAPI should be) said nothing of what to check."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class NotEapi(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            body = b"<html><body>404 Not Found</body></html>"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotEapi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]

    async def run() -> PollResult:
        poller = CliPoller(SshLogin("pw"))
        try:
            return await poller.poll(SshTarget("leaf7", "eos", "127.0.0.1", port, "admin", (), "http"), 5.0)
        finally:
            poller.close()
    try:
        result = asyncio.run(run())
    finally:
        server.shutdown()
        server.server_close()
    assert result.error == (f"eapi: ConnectionError: unable to connect to eAPI; 127.0.0.1:{port} answered, but not as "
                            "eAPI: check the port and that the switch runs 'management api http-commands' with "
                            "'no shutdown'")
