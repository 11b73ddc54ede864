"""Telemetry benchmark (issue 6), ratios against peers measured in the same run; asserts nothing about time.

1. One SNMP collection cycle (``fabric.collect`` poller: all columns of IF-MIB, IEEE PFC, Cisco PFC/queue
   tables, every device concurrently) over N SONiC leaves x 64 ports of a generated CLOS in the twin, against
   net-snmp ``snmpbulkwalk`` of the same column roots from the same agents, all devices concurrently (the C
   floor). Target: <= 1.5x net-snmp's wall time.
2. InfluxDB sink throughput (influxdb-client, gzip, batches) into VictoriaMetrics, against a raw line-protocol
   POST of the same points with urllib, serialised with ``Sample.line`` (target: >= 0.7x); also printed, the
   ratio against the POSTs alone with the bodies serialised before the clock starts (a stricter floor).

Usage: .venv/bin/python bench/collect.py [--sizes 10,50] [--points 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fabric.collect.snmp import COLUMNS, SnmpAuth, SnmpPoller, SnmpTarget
from fabric.collect.table import snmp_groups
from fabric.core.sample import Sample
from fabric.inventory.generate import generate
from fabric.inventory.write import write_inventory
from fabric.lab.control import Lab
from fabric.lab.snmp import load_credentials
from fabric.sink.influx import InfluxSink

SNMPBULKWALK = "/usr/bin/snmpbulkwalk"
# per-request timeout, the same for both clients: the twin's agents share one event loop with its physics, which
# on a busy 2-core box can hold a reply past 5 s (both clients then fail the same way)
TIMEOUT_S = 20
DEADLINE_S = 900  # per device: a 50-switch walk on the loaded twin takes minutes on a busy box


def fleet(n: int, into: Path) -> list[str]:
    """N SONiC leaves with 64 ports each (2 uplinks + 62 server NICs); returns the leaf names."""
    files = generate("clos", 2, n, 31 * n, 2, ["sonic"], name=f"bench-collect-{n}", uplink_speed_gbps=100,
                     server_speed_gbps=100)
    write_inventory(files, into)
    return [name for name, host in files["hosts.yaml"].items() if name.startswith("leaf")]


def roots(platform: str) -> list[str]:
    return [".".join(map(str, oid)) for group in snmp_groups(platform) for oid, *_ in COLUMNS[group]]


def pysnmp_cycle(targets: list[SnmpTarget], auth: SnmpAuth) -> tuple[float, int]:
    async def run() -> tuple[float, int]:
        poller = SnmpPoller(auth, timeout_s=TIMEOUT_S, retries=1)
        try:
            await poller.poll_all(targets[:1], 30)  # warm the engine (MIB builder, transports) once
            start = time.perf_counter()
            results = await poller.poll_all(targets, DEADLINE_S)
            elapsed = time.perf_counter() - start
        finally:
            poller.close()
        failed = {r.device: r.error for r in results if r.error}
        assert not failed, failed
        return elapsed, sum(len(r.samples) for r in results)
    return asyncio.run(run())


def netsnmp_cycle(targets: list[SnmpTarget], community: str) -> float:
    """Per device one shell running snmpbulkwalk over each column root in turn; all devices at once."""
    start = time.perf_counter()
    procs = []
    for t in targets:
        walks = " && ".join(f"{SNMPBULKWALK} -v2c -c \"$C\" -Cr32 -On -Ox -m '' -t {TIMEOUT_S} -r 1 "
                            f"udp:{t.address}:{t.port} {root} >/dev/null" for root in roots(t.platform))
        procs.append(subprocess.Popen(["sh", "-c", walks], env={"C": community}))
    codes = [p.wait() for p in procs]
    elapsed = time.perf_counter() - start
    assert codes == [0] * len(codes), codes
    return elapsed


def bench_snmp(n: int, work: Path) -> None:
    folder = work / f"inv-{n}"
    leaves = fleet(n, folder)
    lab = Lab(work / f"twin-{n}").up(folder, free_ports=True, load=0.3, timeout_s=300)
    try:
        creds = load_credentials(lab)
        targets = [SnmpTarget(d, "sonic", lab.endpoint(d, "snmp")["address"], int(lab.endpoint(d, "snmp")["port"]))
                   for d in leaves]
        ours, samples = pysnmp_cycle(targets, SnmpAuth(community=creds.community))
        floor = netsnmp_cycle(targets, creds.community)
    finally:
        lab.down()
    print(f"snmp cycle  N={n:<3} x 64 ports: fabric collect {ours:6.2f} s ({samples} samples), "
          f"net-snmp snmpbulkwalk {floor:6.2f} s  ratio {ours / floor:4.2f}x (target <= 1.5x)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(url: str, body: bytes) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{url}/api/v2/write?precision=ns", data=body), timeout=30).read()


def bench_sink(points: int, work: Path) -> None:
    binary = shutil.which("victoria-metrics")
    if binary is None:
        print("sink: victoria-metrics not installed, skipped")
        return
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    vm = subprocess.Popen([binary, f"-httpListenAddr=127.0.0.1:{port}", f"-storageDataPath={work / 'vm'}",
                           "-loggerLevel=ERROR"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1).read()
                break
            except OSError:
                time.sleep(0.05)
        now = time.time_ns()
        samples = [Sample("interface", {"device": f"leaf{i % 50}", "interface": f"Ethernet{i % 64}", "run": tag},
                          {"rx_octets": i, "rx_octets_per_s": i * 0.5}, now - (points - i) * 1000)
                   for tag in ("sink", "raw") for i in range(points)]
        ours, raw = samples[:points], samples[points:]
        timings = {}
        for gzip in (True, False):
            sink = InfluxSink(url, "fabric", "fabric", "", work / f"spool-{gzip}", batch_points=5000, gzip=gzip)
            tagged = [Sample(s.measurement, {**s.tags, "gzip": str(gzip)}, s.fields, s.ts_ns) for s in ours]
            start = time.perf_counter()  # the points exist before the clock starts, as they do for the floor
            sink.write(tagged)
            sink.close()  # POSTs run in the sink's writer thread: the clock stops when they are all sent
            timings[gzip] = time.perf_counter() - start
            assert sink.health()["written"] == points and sink.health()["spool_points"] == 0
        start = time.perf_counter()
        for i in range(0, points, 5000):  # the floor: the same points, serialised the same way, one POST per batch
            post(url, "\n".join(s.line() for s in raw[i:i + 5000]).encode())
        raw_s = time.perf_counter() - start
        # a stricter floor: only the POSTs, the bodies serialised before the clock starts
        bodies = ["\n".join(Sample(s.measurement, {**s.tags, "run": "post"}, s.fields, s.ts_ns).line()
                            for s in raw[i:i + 5000]).encode() for i in range(0, points, 5000)]
        start = time.perf_counter()
        for body in bodies:
            post(url, body)
        post_s = time.perf_counter() - start
    finally:
        vm.terminate()
        vm.wait(timeout=15)
    for gzip, sink_s in timings.items():
        mode = "on " if gzip else "off"
        print(f"sink        {points} points: influx sink (gzip {mode}) {points / sink_s:9.0f} pt/s, "
              f"raw POST {points / raw_s:9.0f} pt/s  ratio {raw_s / sink_s:4.2f}x (target >= 0.7x); "
              f"POST of pre-serialised bodies {points / post_s:9.0f} pt/s  ratio {post_s / sink_s:4.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,50")
    parser.add_argument("--points", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-collect-") as tmp:
        work = Path(tmp)
        bench_sink(args.points, work)
        for n in (int(s) for s in args.sizes.split(",") if s):  # --sizes "": the sink benchmark only
            bench_snmp(n, work)


if __name__ == "__main__":
    main()
