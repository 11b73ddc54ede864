"""The InfluxDB sink through influxdb-client into a real v2 write endpoint (VictoriaMetrics): exact counts and
values read back, and an outage of >= 10 s mid-run after which every sample has arrived exactly once."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fabric.collect.run import Collector, CycleReport
from fabric.collect.snmp import SnmpAuth, SnmpPoller
from fabric.core.sample import Sample
from fabric.lab.control import Lab
from fabric.sink.base import JsonlSink
from fabric.sink.influx import InfluxSink
from tests.collect.conftest import Victoria
from tests.conftest import INVENTORIES

BASE_NS = (time.time_ns() // 10**9 - 3600) * 10**9  # within the server's default retention


def batch(run: str, cycle: int, ports: int = 50) -> list[Sample]:
    ts = BASE_NS + cycle * 1_000_000_000
    return [Sample("interface", {"device": "d1", "interface": f"e{p}", "run": run},
                   {"rx_octets": cycle * 1000 + p, "rx_octets_per_s": float(p)}, ts) for p in range(ports)]


def values(server: Victoria, run: str, points: int) -> dict[str, list[int]]:
    """{interface: rx_octets values in time order}, as the server stores them."""
    rows = server.export(f'interface_rx_octets{{run="{run}"}}', points)
    return {str(row["metric"]["interface"]): [int(v) for v in row["values"]] for row in rows}


def test_points_arrive_exact(victoria: Victoria, tmp_path: Path) -> None:
    sink = InfluxSink(victoria.url, "fabric", "fabric", "", tmp_path / "spool", batch_points=70)
    for cycle in range(3):
        sink.write(batch("exact", cycle))
    sink.close()
    stored = values(victoria, "exact", 150)
    assert stored == {f"e{p}": [c * 1000 + p for c in range(3)] for p in range(50)}
    assert sink.health() == {"written": 150, "spool_points": 0, "spool_dropped": 0, "spool_rejected": 0,
                             "failed_posts": 0}


def test_outage_spools_then_replays_in_order_exactly_once(victoria: Victoria, tmp_path: Path) -> None:
    sink = InfluxSink(victoria.url, "fabric", "fabric", "", tmp_path / "spool", attempts=2, backoff_s=0.05,
                      timeout_s=2)
    cycle = 0
    sink.write(batch("outage", cycle))
    victoria.stop()
    down_since = time.monotonic()
    while time.monotonic() - down_since < 10.5:  # the collector keeps cycling while the server is away
        cycle += 1
        sink.write(batch("outage", cycle))
        time.sleep(0.5)
    assert sink.health()["spool_points"] == 50 * cycle and sink.failed_posts > 0
    victoria.start()
    cycle += 1
    sink.write(batch("outage", cycle))  # drains the spool first, then this cycle
    sink.close()
    assert sink.health()["spool_points"] == 0 and sink.health()["spool_dropped"] == 0
    stored = values(victoria, "outage", 50 * (cycle + 1))
    assert stored == {f"e{p}": [c * 1000 + p for c in range(cycle + 1)] for p in range(50)}


def test_spool_bound_drops_oldest_and_counts_them(tmp_path: Path) -> None:
    sink = InfluxSink("http://127.0.0.1:9", "fabric", "fabric", "", tmp_path / "spool", spool_bytes=20_000,
                      attempts=1, backoff_s=0)
    for cycle in range(10):
        sink.write(batch("bound", cycle))
    health = sink.health()
    assert health["spool_dropped"] > 0 and health["spool_points"] + health["spool_dropped"] == 500
    first = sink.spool.batches()[0].read_text().split("\n")[0]
    assert f"rx_octets={(10 - health['spool_points'] // 50) * 1000}i" in first  # the newest survive, in order


def collect_snmp_to_influx(tmp_path: Path, lab: Lab, url: str, token: str, interval: str,
                           duration: str) -> subprocess.CompletedProcess[str]:
    """``fabric collect`` of lab-roce's SNMP agents in the running ``lab`` into the InfluxDB at ``url`` (and a
    jsonl file), spooling under ``tmp_path``."""
    env = {**os.environ, "FABRIC_INFLUX_URL": url, "FABRIC_INFLUX_TOKEN": token}
    return subprocess.run(
        [str(Path(sys.executable).parent / "fabric"), "collect", str(INVENTORIES / "lab-roce"), "--lab",
         str(lab.state_dir), "--interval", interval, "--duration", duration, "--no-cli", "--sink", "influx",
         "--sink", f"jsonl:{tmp_path / 'c.jsonl'}", "--spool", str(tmp_path / "spool")],
        capture_output=True, text=True, timeout=120, env=env)


def test_collect_interval_against_the_twin_into_victoria(victoria: Victoria, tmp_path: Path) -> None:
    """The CLI as an operator runs it: a twin under load, aligned cycles, SNMP -> rates -> InfluxDB. SNMP only:
    the twin serves SSH commands one at a time (a host's sysfs glob alone costs it ~150 ms), so on a busy
    2-core box the 22-device CLI cycle overruns a short interval; the CLI source has its own twin tests."""
    lab = Lab(tmp_path / "twin").up(INVENTORIES / "lab-roce", free_ports=True, load=0.3)
    try:
        polled = sum(1 for eps in json.loads((lab.state_dir / "lab.json").read_text())["devices"].values()
                     if any(e["protocol"] == "snmp" for e in eps["endpoints"]))
        result = collect_snmp_to_influx(tmp_path, lab, victoria.url, "secret-token-x", "3", "6.5")
    finally:
        lab.down()
    assert result.returncode == 0, result.stderr
    assert "secret-token-x" not in result.stdout + result.stderr
    cycles = int(result.stderr.split("collect: ")[1].split(" cycle")[0])
    assert cycles >= 2
    rows = victoria.export('interface_rx_octets_per_s{device="leaf1",interface="Ethernet0"}', cycles - 1)
    assert len(rows) == 1 and len(rows[0]["values"]) == cycles - 1
    assert all(v > 0 for v in rows[0]["values"])
    health = victoria.export("collector_devices_ok", cycles)
    assert [int(v) for v in health[0]["values"]] == [polled] * cycles


async def one(collector: Collector) -> CycleReport:
    poller = SnmpPoller(collector.auth)
    try:
        return await collector.cycle(poller)
    finally:
        poller.close()


def test_spool_overflow_is_an_alert_in_the_data(tmp_path: Path) -> None:
    """The collector turns the sink's drop count into an ``alert`` sample, written to every sink."""
    dead = InfluxSink("http://127.0.0.1:9", "fabric", "fabric", "", tmp_path / "spool", spool_bytes=2_000,
                      attempts=1, backoff_s=0)
    dead.write(batch("pre", 0))
    dead.write(batch("pre", 1))  # one spool file per write: the second pushes the first out
    local = tmp_path / "local.jsonl"
    with open(local, "a") as stream:
        collector = Collector([], SnmpAuth(community="unused"), [dead, JsonlSink(stream, owned=False)])
        report = asyncio.run(one(collector))

    [alert] = report.alerts
    assert alert.tags == {"rule": "spool_overflow"} and alert.fields["value"] == 50.0  # dropped before this cycle
    assert '"spool_overflow"' in local.read_text()


def test_default_spool_is_under_the_users_state_dir(tmp_path: Path) -> None:
    env = {"FABRIC_INFLUX_URL": "http://127.0.0.1:9", "FABRIC_INFLUX_TOKEN": "t", "HOME": str(tmp_path / "home")}
    sink = InfluxSink.from_settings({**env, "XDG_STATE_HOME": str(tmp_path / "state")}, {})
    assert sink.spool.folder == tmp_path / "state" / "fabric" / "collect-spool" and sink.spool.folder.is_dir()
    sink.client.close()  # type: ignore[no-untyped-call]
    sink = InfluxSink.from_settings(env, {})
    assert sink.spool.folder == tmp_path / "home" / ".local" / "state" / "fabric" / "collect-spool"
    sink.client.close()  # type: ignore[no-untyped-call]


class Silent:
    """A server that accepts connections and never answers (a hung InfluxDB, a firewall that eats replies):
    the kernel completes the handshake from the backlog, nobody reads."""

    def __init__(self) -> None:
        import socket

        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(64)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def close(self) -> None:
        self.socket.close()


def test_a_silent_server_holds_no_cycle_and_loses_nothing(victoria: Victoria, tmp_path: Path) -> None:
    """Every write used to wait out the request timeout (three times on the first failure): a collector with a
    10 s interval and a hung server ran a cycle every 20-40 s. Now only the first write waits (it cannot know
    yet), the next ones spool at once, and the spool replays in order into a server that answers."""
    silent = Silent()
    try:
        sink = InfluxSink(silent.url, "fabric", "fabric", "", tmp_path / "spool", attempts=3, backoff_s=0,
                          timeout_s=1.0)
        start = time.monotonic()
        sink.write(batch("silent", 0))
        assert time.monotonic() - start < 2.5
        waits = []
        for cycle in range(1, 6):
            start = time.monotonic()
            sink.write(batch("silent", cycle))
            waits.append(time.monotonic() - start)
        assert max(waits) < 0.3, waits
        start = time.monotonic()
        sink.close()
        assert time.monotonic() - start < 2.5
        assert sink.health()["spool_points"] == 300 and sink.health()["written"] == 0
    finally:
        silent.close()
    replay = InfluxSink(victoria.url, "fabric", "fabric", "", tmp_path / "spool")
    replay.write([])
    replay.close()
    assert replay.health()["spool_points"] == 0 and replay.health()["written"] == 300
    stored = values(victoria, "silent", 300)
    assert stored == {f"e{p}": [c * 1000 + p for c in range(6)] for p in range(50)}


def test_collect_keeps_its_interval_while_influx_hangs(tmp_path: Path) -> None:
    """The symptom an operator saw: ``--interval 1 --duration 6`` against a hung server ran 2 cycles."""
    lab = Lab(tmp_path / "twin").up(INVENTORIES / "lab-roce", free_ports=True)
    silent = Silent()
    try:
        result = collect_snmp_to_influx(tmp_path, lab, silent.url, "tok", "1", "6")
    finally:
        silent.close()
        lab.down()
    assert result.returncode == 0, result.stderr
    cycles = int(result.stderr.split("collect: ")[1].split(" cycle")[0])
    assert cycles >= 4, result.stderr
    assert result.stderr.count("cannot write (") == 1  # one line for the outage, not one per cycle
    spooled = sum(len(p.read_text().split("\n")) for p in (tmp_path / "spool").glob("*.lp"))
    written = len((tmp_path / "c.jsonl").read_text().splitlines())
    assert spooled == written  # every point of every cycle waits on disk


def test_a_spool_the_disk_cannot_take_drops_counted_points_and_goes_on(tmp_path: Path,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    """With the spool folder unusable (a full disk; here a file where the folder was, as after a tmp cleaner), a
    spooled write raised OSError out of the cycle. Now those points are dropped, counted and said in one line;
    the spool works again once the folder can be written, and a stray file in it is not taken for a batch."""
    spool = tmp_path / "spool"
    sink = InfluxSink("http://127.0.0.1:9", "fabric", "fabric", "", spool, attempts=1, backoff_s=0)
    (spool / "notes.lp").write_text("not a batch")
    spool.rename(tmp_path / "elsewhere")
    spool.write_text("a file, not a folder")
    with caplog.at_level(logging.ERROR, "fabric.sink.influx"):
        sink.write(batch("disk", 0))
        sink.write(batch("disk", 1))
    assert sink.health()["spool_dropped"] == 100 and sink.health()["spool_points"] == 0
    assert f"cannot spool to {spool} (File exists), 50 points dropped so far" in caplog.text
    spool.unlink()
    (tmp_path / "elsewhere").rename(spool)
    sink.write(batch("disk", 2))
    sink.close()
    assert sink.health()["spool_points"] == 50 and [p.name for p in sink.spool.batches()] == ["000000000000.lp"]


def test_a_damaged_spool_file_is_moved_aside_and_the_rest_replays(victoria: Victoria, tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    """A spool file that is not UTF-8 text (damaged outside fabric) raised UnicodeDecodeError when the sink
    opened the spool: ``fabric collect --sink influx`` could not start until someone found and removed it."""
    spool = tmp_path / "spool"
    spool.mkdir()
    lines = [Sample("interface", {"device": "d1", "interface": "e0", "run": "damaged"}, {"rx_octets": n},
                    BASE_NS + n * 1_000_000_000).line() for n in range(2)]
    (spool / "000000000000.lp").write_text(lines[0])
    (spool / "000000000001.lp").write_bytes(b"\xff\xfe garbage")
    (spool / "000000000002.lp").write_text(lines[1])
    sink = InfluxSink(victoria.url, "fabric", "fabric", "", spool)
    with caplog.at_level(logging.ERROR, "fabric.sink.influx"):
        sink.write([])
        sink.close()
    assert sink.health()["written"] == 2 and sink.health()["spool_points"] == 0
    [kept] = (spool / "rejected").iterdir()
    assert kept.read_bytes() == b"\xff\xfe garbage" and "000000000001.lp is not line protocol text" in caplog.text
    assert values(victoria, "damaged", 2) == {"e0": [0, 1]}
