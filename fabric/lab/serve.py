"""The twin process: every device of an inventory served from one asyncio loop until SIGTERM.

Run by ``fabric lab up`` as ``python -m fabric.lab.serve INV --state-dir DIR [--free-ports] [--workload FILE]``.
It writes ``lab.json`` (devices and endpoints), ``known_hosts`` and finally ``ready``; it answers control
requests (faults, status, truth) as JSON lines on ``control.sock``. With ``--workload`` the congestion engine
(fabric.lab.physics.engine) advances every device's counters from the workload and the applied config;
``--load`` alone keeps the old steady ticker (fabric.lab.traffic), no physics.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import signal
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fabric.intent.check import validate_inventory
from fabric.lab.device import FAULTS, HOST_COUNTERS, LabDevice, port_counter_names
from fabric.lab.dialects import DIALECTS
from fabric.lab.secrets import LabSecrets, known_hosts_line, load_or_create
from fabric.lab.sshserver import Credentials, start_ssh
from fabric.lab.traffic import run_traffic

NO_ENDPOINTS = ("ib_switch",)  # programmed by the subnet manager: nothing to log in to
# the faults the congestion engine acts on (fabric.lab.physics.engine), and whether at a server's NICs (True) or a
# switch's ports (False)
PHYSICS_FAULTS = {"pfc-storm": True, "slow-receiver": True, "headroom-short": False}


class Twin:
    """The running lab: devices, their listeners, and the control channel."""

    def __init__(self, devices: dict[str, LabDevice], lab_secrets: LabSecrets, state_dir: Path) -> None:
        self.devices = devices
        self.engine: Any = None  # fabric.lab.physics.engine.LiveEngine when a workload runs
        self.secrets = lab_secrets
        self.state_dir = state_dir
        self.endpoints: dict[str, list[dict[str, Any]]] = {name: [] for name in devices}
        self.closers: list[Any] = []

    async def start(self, free_ports: bool) -> None:
        credentials = Credentials(self.secrets.password, [self.secrets.client_key])
        for name, device in self.devices.items():
            if device.platform in NO_ENDPOINTS or device.platform not in DIALECTS:
                continue
            if free_ports:
                device.ssh_port = 0
            acceptor = await start_ssh(device, self.secrets.host_keys[name], credentials)
            device.ssh_port = acceptor.sockets[0].getsockname()[1]
            self.closers.append(acceptor)
            self.endpoints[name].append(self._endpoint("ssh", device.address, device.ssh_port,
                                                       device.inventory.username or "admin"))
        await self._start_eapi(free_ports)
        await self._start_snmp(free_ports)

    async def _start_eapi(self, free_ports: bool) -> None:
        """eos devices: the eAPI endpoint (fabric.lab.eapi)."""
        from fabric.lab.eapi import eapi_port, start_eapi

        for name, device in self.devices.items():
            if device.platform != "eos":
                continue
            has_ssh = any(e["protocol"] == "ssh" for e in self.endpoints[name])
            port = 0 if free_ports else eapi_port(device, device.ssh_port if has_ssh else None)
            server = await start_eapi(device, self.secrets.password, port)
            self.closers.append(server)
            self.endpoints[name].append(self._endpoint("eapi", device.address, server.sockets[0].getsockname()[1],
                                                       device.inventory.username or "admin"))

    async def _start_snmp(self, free_ports: bool) -> None:
        """Switches: the SNMP agent (fabric.lab.snmp)."""
        from fabric.lab.snmp import V3_USER, derive_credentials, endpoint_keys
        from fabric.lab.snmp.agent import start_snmp
        from fabric.lab.snmp.identity import has_agent

        switches = [device for device in self.devices.values() if has_agent(device)]
        agent = start_snmp(switches, derive_credentials(self.secrets.password), free_ports)
        self.closers.append(agent)
        for name, (address, port) in agent.ports.items():
            self.endpoints[name].append({**self._endpoint("snmp", address, port, V3_USER), **endpoint_keys()})

    @staticmethod
    def _endpoint(protocol: str, address: str, port: int, username: str) -> dict[str, Any]:
        return {"protocol": protocol, "address": address, "port": port, "username": username,
                "credentials": "credentials.json#password"}

    def digest(self, device: LabDevice) -> str:
        dialect = DIALECTS.get(device.platform)
        text = dialect(device, "").config_digest_text() if dialect else str(device.config or "")
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def describe(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "devices": {
            name: {"platform": d.platform, "address": d.address, "endpoints": self.endpoints[name],
                   "config_digest": self.digest(d),
                   "faults": sorted(kind for kind in list(d.faults.until) if d.faults.active(kind))}
            for name, d in self.devices.items()}}

    def control(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "status":
            engine = {"engine": self.engine.status()} if self.engine is not None else {}
            return {"ok": True, **self.describe(), **engine}
        if op == "truth":
            if self.engine is None:
                return {"ok": False, "error": "no workload runs in this lab; start it with 'fabric lab up INVENTORY "
                                              "--workload FILE'"}
            try:
                return {"ok": True, "truth": self.engine.truth()}
            except TimeoutError as exc:  # a tick that runs long (a workload heavier than the twin keeps up with)
                return {"ok": False, "error": str(exc)}
        device = self.devices.get(str(request.get("device")))
        if device is None:
            return {"ok": False, "error": f"no device {request.get('device')!r} in this lab"}
        if op == "fault" and request.get("port") is not None:
            return self._port_down(device, str(request.get("kind")), str(request.get("port")))
        if op == "fault":
            return self._fault(device, str(request.get("kind")), request.get("seconds"))
        if op == "clear":
            kind = request.get("kind")
            if kind is not None and kind not in FAULTS:
                return {"ok": False, "error": f"unknown fault {kind!r}; kinds: {', '.join(FAULTS)} (or all)"}
            device.faults.clear(kind)
            if kind in (None, "link-down"):  # clearing another kind leaves the ports taken down one by one down
                device.link_down.clear()
            return {"ok": True}
        if op == "counters":
            return self._counters(device, request)
        if op == "knobs":  # what the device has applied, in the engine's units (fabric.lab.applied)
            from fabric.lab.applied import applied_knobs, knobs_to_json

            return {"ok": True, "knobs": knobs_to_json(applied_knobs(device))}
        return {"ok": False, "error": f"unknown op {op!r}"}

    @staticmethod
    def _counters(device: LabDevice, request: dict[str, Any]) -> dict[str, Any]:
        """Read a port's counters, after adding ``add`` ({name: delta}) to them (tests drive counters so)."""
        port = str(request.get("port"))
        if port not in device.counters.ports:
            return {"ok": False, "error": f"{device.name} has no port {port!r}"}
        for name, delta in dict(request.get("add") or {}).items():
            if name not in device.counters.ports[port]:
                return {"ok": False, "error": f"unknown counter {name!r}"}
            device.counters.add(port, name, int(delta))
        return {"ok": True, "counters": dict(device.counters.ports[port])}

    def _cannot_act(self, device: LabDevice, kind: str) -> str | None:
        """Why a physics fault would do nothing here (it was accepted and listed, and changed no counter): the
        engine acts on ``pfc-storm``/``slow-receiver`` at a server's NICs and ``headroom-short`` at a switch's
        ports, and only when a workload runs."""
        if kind not in PHYSICS_FAULTS:
            return None
        if self.engine is None:
            return (f"{kind} acts through the congestion engine, and this lab runs no workload; start it with "
                    "'fabric lab up INVENTORY --workload FILE'")
        from fabric.lab.physics.topology import HOST_ROLES

        hosts = PHYSICS_FAULTS[kind]
        if (device.inventory.role in HOST_ROLES) != hosts:
            return (f"{kind} acts on {'a server' if hosts else 'a switch'}'s ports, and {device.name} is a "
                    f"{device.inventory.role}; pick {'a server' if hosts else 'a leaf or spine'}")
        return None

    @staticmethod
    def _port_down(device: LabDevice, kind: str, port: str) -> dict[str, Any]:
        """One port's link down (until cleared): the only fault that takes a port."""
        if kind != "link-down":
            return {"ok": False, "error": f"only link-down takes a port, not {kind!r}"}
        if port not in device.inventory.interfaces:
            return {"ok": False, "error": f"{device.name} has no port {port!r}"}
        device.link_down.add(port)
        return {"ok": True}

    def _fault(self, device: LabDevice, kind: str, seconds: float | None) -> dict[str, Any]:
        if kind not in FAULTS:
            return {"ok": False, "error": f"unknown fault {kind!r}; kinds: {', '.join(FAULTS)}"}
        if (why := self._cannot_act(device, kind)) is not None:
            return {"ok": False, "error": why}
        if seconds is not None and not seconds > 0:  # 0 meant "forever", a negative time a fault already over
            return {"ok": False, "error": f"--for {seconds:g}: a fault lasts a positive number of seconds; "
                                          "omit --for to keep it until cleared"}
        if kind == "counter-reset":
            device.counters.reset()
        device.faults.set(kind, seconds)
        return {"ok": True}

    async def serve_control(self) -> None:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            loop = asyncio.get_running_loop()
            while line := await reader.readline():
                try:
                    request = json.loads(line)
                    # the truth waits for the engine's tick to end: off this loop, which serves every endpoint
                    truth = isinstance(request, dict) and request.get("op") == "truth"
                    reply = await loop.run_in_executor(None, self.control, request) if truth else self.control(request)
                except (ValueError, TypeError) as exc:
                    reply = {"ok": False, "error": f"bad request: {exc}"}
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()
            writer.close()

        server = await asyncio.start_unix_server(handle, path=str(self.state_dir / "control.sock"))
        self.closers.append(server)

    def write_state(self) -> None:
        (self.state_dir / "lab.json").write_text(json.dumps(self.describe(), indent=2, sort_keys=True))
        lines = [known_hosts_line(e["address"], e["port"], self.secrets.host_keys[name])
                 for name, eps in self.endpoints.items() for e in eps if e["protocol"] == "ssh"]
        (self.state_dir / "known_hosts").write_text("\n".join(lines) + "\n")
        (self.state_dir / "ready").write_text(str(os.getpid()))

    def close(self) -> None:
        for closer in self.closers:
            closer.close()


def build_devices(inventory: str) -> dict[str, LabDevice]:
    """A LabDevice per inventory device, its running config from its dialect."""
    result = validate_inventory(inventory)
    if result.fabric is None or not result.report.ok:
        problems = "; ".join(str(p) for p in result.report.errors[:3])
        raise SystemExit(f"lab: {inventory} is not a valid inventory: {problems}")
    devices = {}
    for name, device in result.fabric.devices.items():
        lab_device = LabDevice(device, device.hostname, device.port or 22)
        for port in device.interfaces:
            extra = HOST_COUNTERS if device.role == "server" else []
            lab_device.counters.ports[port] = dict.fromkeys([*port_counter_names(), *extra], 0)
        dialect = DIALECTS.get(device.platform)
        if dialect is not None:
            lab_device.config = dialect.initial_config(lab_device)
        devices[name] = lab_device
    return devices


def start_engine(twin: Twin, inventory: str, workload_path: str) -> Any:
    """The congestion engine for ``workload_path`` over the twin's devices (a bad workload: one-line exit)."""
    from fabric.lab.physics.engine import LiveEngine
    from fabric.lab.workload import WorkloadError, hosts_of, load_workload

    fabric = validate_inventory(inventory).fabric
    assert fabric is not None  # build_devices checked it
    try:
        workload = load_workload(workload_path)
        workload.generators(hosts_of(fabric))  # fits this inventory (fan-in, hosts, pods)
    except WorkloadError as exc:
        raise SystemExit(f"lab: {exc}") from None
    twin.engine = LiveEngine(twin.devices, fabric, workload, digest=twin.digest)
    return twin.engine


async def run_engine(engine: Any, period_s: float = 0.1) -> None:
    """Step the engine by the wall-clock time since the last step, ``period_s`` apart, until cancelled. The
    NumPy part runs on a worker thread so the SSH/SNMP/eAPI endpoints keep answering meanwhile; reading the
    devices' state and writing their counters stay on this loop."""
    loop = asyncio.get_running_loop()
    last = loop.time()
    pool = ThreadPoolExecutor(1, thread_name_prefix="engine")
    try:
        while True:
            await asyncio.sleep(period_s)
            now = loop.time()
            try:
                seconds = engine.prepare(now - last)
                last = now
                engine.write(await loop.run_in_executor(pool, engine.compute, seconds))
            except Exception as exc:  # a model bug must not take the devices' endpoints down
                # the devices keep answering with the counts written so far; the status says why they stopped
                engine.failed = f"{type(exc).__name__}: {exc}"
                traceback.print_exc(file=sys.stderr)  # the lab's log (serve.log in its state directory)
                return
    finally:  # cancelled ('lab down'): a tick being computed is abandoned, not waited for (it can take minutes)
        pool.shutdown(wait=False, cancel_futures=True)


async def run(inventory: str, state_dir: Path, free_ports: bool, load: float, workload: str | None = None) -> None:
    devices = build_devices(inventory)
    twin = Twin(devices, load_or_create(state_dir, list(devices)), state_dir)
    if workload:
        start_engine(twin, inventory, workload)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await twin.start(free_ports)
    await twin.serve_control()
    traffic = None
    if twin.engine is not None:
        traffic = asyncio.create_task(run_engine(twin.engine))
    elif load > 0:
        traffic = asyncio.create_task(run_traffic(list(devices.values()), load))
    twin.write_state()
    await stop.wait()
    if traffic is not None:
        traffic.cancel()
    twin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fabric.lab.serve")
    parser.add_argument("inventory")
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("--free-ports", action="store_true", help="listen on free ports instead of the inventory's")
    parser.add_argument("--load", type=float, default=0.0, help="steady traffic, fraction of line rate (0: none)")
    parser.add_argument("--workload", help="workloads/*.yaml: run the congestion engine on this workload")
    args = parser.parse_args(argv)
    args.state_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(run(args.inventory, args.state_dir, args.free_ports, args.load, args.workload))
    return 0


if __name__ == "__main__":
    code = main()
    # the engine's worker thread may still be inside a tick: exit without joining it (the endpoints are
    # closed and the state written), so 'lab down' does not wait for it or fall back to SIGKILL
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
