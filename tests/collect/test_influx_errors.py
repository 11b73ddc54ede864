"""How the InfluxDB sink meets a server that answers but says no: a batch it cannot parse (HTTP 400, as InfluxDB 2
answers a line protocol integer past 64 bits signed), a token it does not accept (401). VictoriaMetrics (the other
sink tests' server) accepts anything and no InfluxDB 2 server ships in Debian or on PyPI, so a small HTTP server
on loopback answers as InfluxDB 2 documents: ``{"code": "invalid", "message": "unable to parse ..."}``."""

from __future__ import annotations

import gzip
import json
import logging
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from fabric.core.sample import Sample
from fabric.sink.influx import InfluxSink
from fabric.sink.lineprotocol import LineEncoder

TOKEN = "tok-accepted"


class Influx2:
    """Stores the lines of every accepted POST; refuses a token other than ``token`` (401) and a body with an
    integer out of int64 range or a ``poison`` field (400), as InfluxDB 2 does."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.token = TOKEN
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                lines = body.decode().split("\n")
                if self.headers.get("Authorization") != f"Token {server.token}":
                    return self.answer(401, {"code": "unauthorized", "message": "unauthorized access"})
                for line in lines:
                    big = next((n for n in re.findall(r"=(-?\d+)i\b", line) if not -2**63 <= int(n) < 2**63), None)
                    if big is not None or "poison=" in line:
                        why = "value out of range" if big else "invalid field format"
                        return self.answer(400, {"code": "invalid", "message": f"unable to parse '{line}': {why}"})
                server.lines.extend(lines)
                self.answer(204, None)

            def answer(self, status: int, doc: object) -> None:
                data = json.dumps(doc).encode() if doc is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def influx2() -> Iterator[Influx2]:
    server = Influx2()
    try:
        yield server
    finally:
        server.close()


def cycle(n: int, **extra: int) -> list[Sample]:
    return [Sample("nic_rdma", {"device": "gpu1", "interface": "ens1np0"}, {"rx_bytes": n, **extra}, n + 1)]


def test_a_counter64_past_int64_is_written_clamped_not_rejected(influx2: Influx2, tmp_path: Path) -> None:
    """An unsigned 64-bit counter near its wrap (2**64 - 5) was written as ``18446744073709551611i``: InfluxDB
    answered 400, the batch was spooled and, first in line, blocked every later cycle for ever."""
    sink = InfluxSink(influx2.url, "fabric", "fabric", TOKEN, tmp_path / "spool", attempts=1, backoff_s=0)
    sink.write(cycle(1, rx_vport_rdma_unicast_bytes=2**64 - 5))
    sink.write(cycle(2))
    sink.close()
    assert influx2.lines == [
        "nic_rdma,device=gpu1,interface=ens1np0 rx_bytes=1i,rx_vport_rdma_unicast_bytes=9223372036854775807i 2",
        "nic_rdma,device=gpu1,interface=ens1np0 rx_bytes=2i 3"]
    assert sink.health()["spool_points"] == 0
    assert LineEncoder().line(Sample("m", {}, {"low": -2**64}, 0)) == "m low=-9223372036854775808i 0"


def test_a_rejected_batch_is_kept_aside_and_the_rest_flows(influx2: Influx2, tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    """A batch the server cannot parse is no outage: sending it again cannot help, so it leaves the replay queue
    (kept under ``rejected/`` and counted) instead of being retried first in line every cycle."""
    sink = InfluxSink(influx2.url, "fabric", "fabric", TOKEN, tmp_path / "spool", attempts=3, backoff_s=0)
    with caplog.at_level(logging.WARNING, "fabric.sink.influx"):
        sink.write(cycle(1, poison=1))
        for n in range(2, 5):
            sink.write(cycle(n))
    sink.close()
    assert [line.split(" ")[1] for line in influx2.lines] == ["rx_bytes=2i", "rx_bytes=3i", "rx_bytes=4i"]
    health = sink.health()
    assert health["spool_points"] == 0 and health["spool_rejected"] == 1 and health["failed_posts"] == 1
    [kept] = (tmp_path / "spool" / "rejected").iterdir()
    assert kept.read_text() == "nic_rdma,device=gpu1,interface=ens1np0 rx_bytes=1i,poison=1i 2"
    [line] = caplog.messages
    assert line == (f"influx {influx2.url}: server rejected 1 points (HTTP 400: unable to parse 'nic_rdma,device=gpu1,"
                    "interface=ens1np0 rx_bytes=1i,poison=1i 2': invalid field format); kept in "
                    f"{kept}, the next batches go on")


def test_a_refused_token_is_one_line_spools_and_replays_once_fixed(influx2: Influx2, tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    """A 401 said ``write failed (HTTP 401), attempt n/3`` three times a cycle, never which setting was wrong."""
    influx2.token = "rotated"
    sink = InfluxSink(influx2.url, "fabric", "fabric", TOKEN, tmp_path / "spool", attempts=3, backoff_s=0)
    with caplog.at_level(logging.WARNING, "fabric.sink.influx"):
        for n in range(1, 4):
            sink.write(cycle(n))
        assert caplog.messages == [
            f"influx {influx2.url}: cannot write (HTTP 401: unauthorized access: FABRIC_INFLUX_TOKEN is not accepted; "
            f"set a valid API token); spooling to {tmp_path / 'spool'}, replayed in order once it works"]
        assert sink.health()["spool_points"] == 3 and not influx2.lines
        influx2.token = TOKEN
        sink.write(cycle(4))
    sink.close()
    assert [line.split(" ")[1] for line in influx2.lines] == [f"rx_bytes={n}i" for n in range(1, 5)]
    assert caplog.messages[1:] == [f"influx {influx2.url}: writes work again; replaying 4 spooled points"]
