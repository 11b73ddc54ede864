"""The control channel while the engine is busy: found by running a workload heavier than the twin keeps up with
(a ring all-reduce every 100 us: a 10 ms tick took 13 s). `fabric lab truth` waited for the tick on the twin's
event loop, so every endpoint and `lab status` froze with it, and the client died with a TimeoutError traceback."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from fabric.lab.control import Lab, LabError
from fabric.lab.serve import Twin, build_devices
from tests.conftest import INVENTORIES


def test_a_lab_that_does_not_answer_is_a_lab_error_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "pid").write_text(str(os.getpid()))  # "running": this process
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(tmp_path / "control.sock"))
        server.listen(1)  # accepts, never answers
        lab = Lab(tmp_path)
        lab.timeout_s = 0.2
        with pytest.raises(LabError, match=r"did not answer within 0\.2 s"):
            lab.status()
    with pytest.raises(LabError, match="cannot reach the lab"):
        lab.status()  # the socket is gone


class SlowTruth:
    """An engine whose truth takes a while (a long tick holds its lock)."""

    def status(self) -> dict[str, Any]:
        return {"model_s": 0.0}

    def truth(self) -> dict[str, Any]:
        time.sleep(0.5)
        return {"model_s": 0.0}


def test_a_slow_truth_leaves_the_control_loop_answering(tmp_path: Path) -> None:
    twin = Twin(build_devices(str(INVENTORIES / "examples" / "minimal")), None, tmp_path)  # type: ignore[arg-type]
    twin.engine = SlowTruth()

    def ask(op: str) -> tuple[dict[str, Any], float]:  # a client in another thread, as `fabric lab` is
        began = time.monotonic()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(tmp_path / "control.sock"))
            sock.sendall(json.dumps({"op": op}).encode() + b"\n")
            reply = json.loads(sock.makefile("rb").readline())
        return reply, time.monotonic() - began

    async def main() -> tuple[tuple[dict[str, Any], float], tuple[dict[str, Any], float]]:
        await twin.serve_control()
        answers: dict[str, tuple[dict[str, Any], float]] = {}
        # both clients on threads of their own: the status is asked while the truth is being computed, whatever
        # this loop is doing
        clients = [threading.Thread(target=lambda: answers.setdefault("truth", ask("truth"))),
                   threading.Timer(0.1, lambda: answers.setdefault("status", ask("status")))]
        for client in clients:
            client.start()
        while any(client.is_alive() for client in clients):
            await asyncio.sleep(0.01)
        twin.close()
        return answers["status"], answers["truth"]

    (status, status_s), (truth, _) = asyncio.run(main())
    assert status["ok"] and truth["ok"]
    assert status_s < 0.3, f"status waited {status_s:.2f} s for the truth"


def test_the_engine_s_truth_gives_up_waiting_for_a_long_tick() -> None:
    from fabric.intent.check import validate_inventory
    from fabric.lab.physics.engine import LiveEngine

    inventory = str(INVENTORIES / "examples" / "minimal")
    engine = LiveEngine(build_devices(inventory), validate_inventory(inventory).fabric, None)  # type: ignore[arg-type]
    assert engine.truth()["workload"] is None
    held = threading.Event()
    release = threading.Event()

    def tick() -> None:
        with engine.lock:
            held.set()
            release.wait(5)

    worker = threading.Thread(target=tick)
    worker.start()
    held.wait(5)
    try:
        with pytest.raises(TimeoutError, match=r"computing one tick for over 0\.1 s"):
            engine.truth(wait_s=0.1)
    finally:
        release.set()
        worker.join()
