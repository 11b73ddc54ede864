"""Start, stop, inspect and fault a lab from another process: the API behind ``fabric lab`` and the tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

DEFAULT_STATE_DIR = Path(os.environ.get("FABRIC_LAB_DIR", ".fabric/lab"))


class LabError(Exception):
    """A lab operation that cannot be done; the message is one line for the user."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Lab:
    """A lab's state dir, and the process serving it."""

    def __init__(self, state_dir: Path = DEFAULT_STATE_DIR) -> None:
        self.state_dir = Path(state_dir)
        self.timeout_s = 10.0  # per control request
        self.killed = False  # the last 'down' needed SIGKILL

    # -- life cycle -------------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        path = self.state_dir / "pid"
        return int(path.read_text()) if path.exists() else None

    def running(self) -> bool:
        pid = self.pid
        return pid is not None and _alive(pid)

    def up(self, inventory: str | Path, free_ports: bool = False, load: float = 0.0, timeout_s: float = 30.0,
           workload: str | Path | None = None) -> Lab:
        """Start the twin process for ``inventory`` and wait until every endpoint listens; ``workload`` runs
        the congestion engine on that workload file (``load``: the steady ticker without physics)."""
        if self.running():
            raise LabError(f"a lab is already running from {self.state_dir} (pid {self.pid}); "
                           "run 'fabric lab down' first")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        for stale in ("ready", "control.sock", "lab.json"):
            (self.state_dir / stale).unlink(missing_ok=True)
        command = [sys.executable, "-m", "fabric.lab.serve", str(inventory), "--state-dir", str(self.state_dir)]
        if free_ports:
            command.append("--free-ports")
        if load:
            command += ["--load", str(load)]
        if workload is not None:
            command += ["--workload", str(workload)]
        with (self.state_dir / "serve.log").open("wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        (self.state_dir / "pid").write_text(str(process.pid))
        deadline = time.monotonic() + timeout_s
        while not (self.state_dir / "ready").exists():
            if process.poll() is not None:
                (self.state_dir / "pid").unlink(missing_ok=True)
                raise LabError(f"the lab did not start: {self._log_tail()}")
            if time.monotonic() > deadline:
                self.down()
                raise LabError(f"the lab did not come up within {timeout_s:g} s: {self._log_tail()}")
            time.sleep(0.05)
        return self

    def down(self, timeout_s: float = 10.0) -> bool:
        """Stop the twin by PID (SIGTERM, then SIGKILL); True when one was running."""
        pid = self.pid
        if pid is None or not _alive(pid):
            self._forget()
            return False
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
            with contextlib.suppress(ChildProcessError):  # reap our own child, or it lingers as a zombie
                os.waitpid(pid, os.WNOHANG)
        self.killed = _alive(pid)  # it did not stop by itself within timeout_s
        if self.killed:
            os.killpg(pid, signal.SIGKILL)
        self._forget()
        return True

    def _forget(self) -> None:
        for name in ("pid", "ready", "control.sock"):
            (self.state_dir / name).unlink(missing_ok=True)

    def _log_tail(self) -> str:
        log = self.state_dir / "serve.log"
        lines = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
        return lines[-1] if lines else "no output"

    # -- control channel ---------------------------------------------------------------------------

    def request(self, **request: Any) -> dict[str, Any]:
        """Send one control request to the running twin; its JSON reply."""
        if not self.running():
            raise LabError(f"no lab is running from {self.state_dir}; run 'fabric lab up INVENTORY'")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout_s)
                sock.connect(str(self.state_dir / "control.sock"))
                sock.sendall(json.dumps(request).encode() + b"\n")
                reply = sock.makefile("rb").readline()
        except TimeoutError:
            raise LabError(f"the lab in {self.state_dir} (pid {self.pid}) did not answer within {self.timeout_s:g} s; "
                           "it may be overloaded (see its serve.log)") from None
        except OSError as exc:  # the process runs but its control socket is gone or refuses (starting, stopping)
            raise LabError(f"cannot reach the lab in {self.state_dir} (pid {self.pid}): {exc.strerror or exc}; "
                           "if it is starting or stopping, try again") from None
        if not reply:
            raise LabError(f"the lab in {self.state_dir} (pid {self.pid}) closed the connection without an answer; "
                           "see its serve.log")
        answer: dict[str, Any] = json.loads(reply)
        if not answer.get("ok"):
            raise LabError(str(answer.get("error")))
        return answer

    def status(self) -> dict[str, Any]:
        """Devices, endpoints, applied-config digests and active faults."""
        return self.request(op="status")

    def model_s(self) -> float:
        """How far the congestion engine has advanced the workload, in model seconds (0.0 without one)."""
        return float(self.status().get("engine", {}).get("model_s", 0.0))

    def wait_model(self, seconds: float, timeout_s: float = 60.0) -> float:
        """Wait until the engine has advanced ``seconds`` of model time from now, so counters read afterwards
        reflect the workload (the engine may run slower than the wall clock: see ``lag_s`` in the status);
        the model time reached. A lab without a workload, or one that does not get there: ``LabError``."""
        engine = self.status().get("engine")
        if engine is None:
            raise LabError(f"the lab in {self.state_dir} runs no workload; start it with --workload")
        target = float(engine["model_s"]) + seconds
        deadline = time.monotonic() + timeout_s
        while (now := self.model_s()) < target:
            if time.monotonic() > deadline:
                raise LabError(f"the twin's engine reached {now:.2f} of {target:.2f} model seconds in "
                               f"{timeout_s:g} s; the machine may be overloaded")
            time.sleep(0.1)
        return now

    def truth(self) -> dict[str, Any]:
        """Ground truth of the running workload (FCT slowdown by size bucket, collective completion times,
        goodput, per-flow rates): for tests and benchmarks only, a real fabric cannot tell this."""
        truth: dict[str, Any] = self.request(op="truth")["truth"]
        return truth

    def fault(self, device: str, kind: str, seconds: float | None = None, port: str | None = None) -> None:
        """Inject a fault on ``device`` for ``seconds`` (until cleared when None); ``link-down`` may name a port."""
        self.request(op="fault", device=device, kind=kind, seconds=seconds, port=port)

    def counters(self, device: str, port: str, **add: int) -> dict[str, int]:
        """A port's counters, after adding ``add`` (name=delta) to them."""
        counters: dict[str, int] = self.request(op="counters", device=device, port=port, add=add)["counters"]
        return counters

    def clear(self, device: str, kind: str | None = None) -> None:
        """Clear one fault kind, or every fault, on ``device``."""
        self.request(op="clear", device=device, kind=kind)

    # -- what clients need -------------------------------------------------------------------------

    def endpoint(self, device: str, protocol: str = "ssh") -> dict[str, Any]:
        state = json.loads((self.state_dir / "lab.json").read_text())
        for endpoint in state["devices"][device]["endpoints"]:
            if endpoint["protocol"] == protocol:
                return dict(endpoint)
        raise LabError(f"{device} has no {protocol} endpoint in this lab")

    @property
    def password(self) -> str:
        return str(json.loads((self.state_dir / "credentials.json").read_text())["password"])

    @property
    def client_key(self) -> Path:
        return self.state_dir / "keys" / "client"

    @property
    def known_hosts(self) -> Path:
        return self.state_dir / "known_hosts"
