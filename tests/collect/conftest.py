"""A real InfluxDB v2 write endpoint for sink tests: VictoriaMetrics (Debian ``victoria-metrics``) on a free
127.0.0.1 port with its own storage in tmp, stopped by PID; ``restart`` keeps the storage (the outage test)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

BINARY = shutil.which("victoria-metrics")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Victoria:
    def __init__(self, storage: Path) -> None:
        self.storage, self.port = storage, _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert BINARY
        self.process = subprocess.Popen(
            [BINARY, f"-httpListenAddr=127.0.0.1:{self.port}", f"-storageDataPath={self.storage}",
             "-search.latencyOffset=0s", "-loggerLevel=ERROR"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/health", timeout=1).read()
                return
            except OSError:
                assert time.monotonic() < deadline, "victoria-metrics did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
            self.process = None

    def export(self, match: str, points: int | None = None) -> list[dict[str, Any]]:
        """Every stored series matching ``match`` with values and timestamps, after a forced flush; with
        ``points``, waits (up to 15 s) until that many values are visible: new series reach the index a
        moment after the write is acknowledged, even after force_flush."""
        deadline = time.monotonic() + 15
        while True:
            urllib.request.urlopen(urllib.request.Request(f"{self.url}/internal/force_flush", method="POST"),
                                   timeout=10).read()
            query = urllib.parse.urlencode({"match[]": match})
            body = urllib.request.urlopen(f"{self.url}/api/v1/export?{query}", timeout=30).read().decode()
            rows = [json.loads(line) for line in body.splitlines() if line]
            if points is None or sum(len(r["values"]) for r in rows) >= points or time.monotonic() > deadline:
                return rows
            time.sleep(0.2)


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[Victoria]:
    if BINARY is None:
        pytest.skip("victoria-metrics is not installed (scripts/apt-packages.txt)")
    server = Victoria(tmp_path / "vm")
    server.start()
    try:
        yield server
    finally:
        server.stop()
