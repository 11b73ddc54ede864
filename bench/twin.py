"""Twin benchmark: start time, memory, SSH push rate and SNMP walk rate of the lab, against bare floors.

    python bench/twin.py                    # 50- and 200-switch CLOS inventories
    python bench/twin.py --quick            # 50 switches, 20 SSH sessions
    python bench/twin.py --sizes 50,200 --sessions 60 --workers 10 --snmp-rounds 3 --ssh-platform nvue

Per size, one twin (``Lab(state_dir).up(inv, free_ports=True)``) of a generated inventory whose switch
platforms are spread over every RoCE switch platform, plus a few servers:
  start     wall time of ``up()``; VmRSS of the twin process (and its children) right after, VmHWM at the end
  ssh       sessions/s of netmiko logins + a 10-line ``send_config_set`` + logout, from a pool of ``--workers``
            threads, round-robin over the devices of the first platform in SSH_RECIPES whose dialect
            accepts a probe push; floor: the same netmiko code and pool against a bare asyncssh server
            (child process: any password, line editor, ``host# ``/``host(config)# `` prompts, nothing else)
  snmp      varbinds/s of full ``snmpbulkwalk -v2c -Cr25`` walks (from .1) of every switch agent at once;
            floor: snmpsim, one endpoint per twin agent serving that agent's first walk as a static .snmprec
            (checked: the floor returns the same OIDs and values), walked alike
  CPU       the server side's CPU per session / per varbind, from /proc: the netmiko client saturates the
            2 cores first, so sessions/s alone hides what the twin costs
A benchmark, not a test: it prints numbers and ratios and asserts nothing about time. Platforms without
a dialect (or an SNMP agent) when it runs are listed as skipped. Everything it starts is stopped by PID.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fabric.inventory.generate import generate, switch_platforms
from fabric.inventory.write import write_inventory
from fabric.lab.control import Lab, LabError
from fabric.lab.dialects import DIALECTS
from fabric.lab.snmp import load_credentials

SERVERS, NICS_PER_SERVER = 4, 2
UPLINK_SPEED_GBPS = 100  # 200 switches x 100G stays inside every platform's spine ASIC
SNMPBULKWALK = "/usr/bin/snmpbulkwalk"
WALK = ["-v2c", "-Cr25", "-On", "-Ox", "-Oe", "-m", "", "-t", "5", "-r", "1"]  # numeric, hex strings, no MIBs
WALK_TIMEOUT_S = 120.0
START_TIMEOUT_S = 30.0
SNMPSIM_START_TIMEOUT_S = 120.0  # it indexes one data file per agent before it listens
NO_MORE = "No more variables left in this MIB View"
T = TypeVar("T")


# --------------------------------------------------------------------------- processes and memory


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(p) for p in task.read_text().split()]
        except OSError:
            continue
    return found + [grand for child in found for grand in _children(child)]


def _status_kb(pid: int, key: str) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
    return int(match.group(1)) if match else 0


def memory_mb(pid: int, key: str = "VmRSS") -> float:
    """``key`` (VmRSS, VmHWM) of ``pid`` plus all its descendants, in MB."""
    return sum(_status_kb(p, key) for p in [pid, *_children(pid)]) / 1024


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its descendants so far."""
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def with_cpu(pid: int, run: Callable[[], T]) -> tuple[T, float]:
    """``run()``'s result and the CPU seconds ``pid`` spent meanwhile (the server's side of the work)."""
    before = cpu_s(pid)
    result = run()
    return result, cpu_s(pid) - before


def stop(process: subprocess.Popen[Any]) -> None:
    """SIGTERM this child by PID, SIGKILL after 5 s; reaps it."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def free_udp_ports(count: int) -> list[int]:
    """``count`` distinct free UDP ports on 127.0.0.1 (held open together so none repeats)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def wait_for(ready: Callable[[], bool], process: subprocess.Popen[Any], what: str, timeout_s: float) -> None:
    """Poll ``ready`` until true; raise if ``process`` dies or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode} before it was ready")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready within {timeout_s:g} s")
        time.sleep(0.05)


# --------------------------------------------------------------------------- inventory


@dataclass
class Fleet:
    """A generated inventory: its folder, the switch names per platform and the ports of every device."""

    folder: Path
    switches: int
    platforms: dict[str, list[str]] = field(default_factory=dict)
    ports: dict[str, list[str]] = field(default_factory=dict)


def make_fleet(switches: int, into: Path) -> Fleet:
    """A CLOS of ``switches`` switches (spines + leaves, platforms round-robin) and SERVERS servers."""
    spines = 2 if switches <= 64 else 8
    files = generate("clos", spines, switches - spines, SERVERS, NICS_PER_SERVER, switch_platforms("roce"),
                     name=f"bench-{switches}", uplink_speed_gbps=UPLINK_SPEED_GBPS)
    write_inventory(files, into)
    fleet = Fleet(into, switches)
    for name, host in files["hosts.yaml"].items():
        fleet.ports[name] = list(host["data"]["interfaces"])
        if "platform" in host:
            fleet.platforms.setdefault(host["platform"], []).append(name)
    return fleet


# --------------------------------------------------------------------------- SSH arm


@dataclass(frozen=True)
class SshRecipe:
    """How to push ten configuration lines to one platform with netmiko."""

    device_type: str
    lines: Callable[[list[str], str], list[str]]
    errors: tuple[str, ...]
    readback: Callable[[list[str]], str]  # a show command whose output must then contain the pushed text
    shown: Callable[[str], str]  # what of the push, tagged ``tag``, that output shows


def _nxos_lines(ports: list[str], tag: str) -> list[str]:
    return [line for port in (ports * 5)[:5] for line in (f"interface {port}", f"description bench {tag}")]


def _nvue_lines(ports: list[str], tag: str) -> list[str]:
    return [f"nv set interface {port} description bench-{tag}-{i}" for i, port in enumerate((ports * 10)[:10])]


SSH_RECIPES: dict[str, SshRecipe] = {  # preference order
    "nxos": SshRecipe("cisco_nxos", _nxos_lines, ("% Invalid", "% Incomplete", "% Ambiguous", "% Permission"),
                      lambda ports: "show running-config", lambda tag: f"description bench {tag}"),
    "nvue": SshRecipe("linux", _nvue_lines, ("Error", "Invalid", "not found"),
                      lambda ports: "nv config diff", lambda tag: f"bench-{tag}-0"),
}


@dataclass(frozen=True)
class Target:
    """One SSH endpoint to push to."""

    host: str
    port: int
    username: str
    password: str
    ports: list[str]


def push(recipe: SshRecipe, target: Target, tag: str, read_back: bool = False) -> str:
    """One session: login, ten config lines, logout; returns send_config_set's output (+ the readback's)."""
    from netmiko import ConnectHandler

    conn = ConnectHandler(device_type=recipe.device_type, host=target.host, port=target.port,
                          username=target.username, password=target.password, allow_agent=False, use_keys=False)
    try:
        output = str(conn.send_config_set(recipe.lines(target.ports, tag)))
        return output + (str(conn.send_command(recipe.readback(target.ports))) if read_back else "")
    finally:
        conn.disconnect()


def session_rate(recipe: SshRecipe, targets: list[Target], sessions: int, workers: int) -> tuple[float, int]:
    """(sessions/s, failed sessions) of ``sessions`` pushes round-robin over ``targets``."""
    def one(i: int) -> bool:
        try:
            output = push(recipe, targets[i % len(targets)], f"s{i}")
        except Exception:
            return False
        return not any(error in output for error in recipe.errors)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one, range(sessions)))
    elapsed = time.perf_counter() - start
    return sessions / elapsed, results.count(False)


def pick_platform(lab: Lab, fleet: Fleet, only: str | None) -> tuple[str | None, list[str]]:
    """The first SSH_RECIPES platform (or ``only``) whose dialect accepts a probe push and shows it in its
    running config; notes on the ones passed over."""
    notes = []
    for platform, recipe in SSH_RECIPES.items():
        if only and platform != only:
            continue
        if platform not in DIALECTS or not fleet.platforms.get(platform):
            notes.append(f"{platform}: no dialect" if platform not in DIALECTS else f"{platform}: no device")
            continue
        try:
            output = push(recipe, twin_targets(lab, fleet, platform)[0], "probe", read_back=True)
        except Exception as error:
            notes.append(f"{platform}: probe failed ({type(error).__name__}: {str(error).splitlines()[0][:80]})")
            continue
        refused = [e for e in recipe.errors if e in output]
        if refused:
            notes.append(f"{platform}: probe push refused ({refused[0]})")
        elif recipe.shown("probe") not in output:
            notes.append(f"{platform}: probe push not shown by {recipe.readback(['<port>'])!r}")
        else:
            return platform, notes
    return None, notes


def twin_targets(lab: Lab, fleet: Fleet, platform: str) -> list[Target]:
    targets = []
    for name in fleet.platforms[platform]:
        ep = lab.endpoint(name, "ssh")
        targets.append(Target(ep["address"], ep["port"], ep["username"], lab.password, fleet.ports[name]))
    return targets


# --------------------------------------------------------------------------- SSH floor server (child process)


def serve_floor_ssh(style: str, port_file: Path) -> None:
    """A bare asyncssh server on 127.0.0.1: any password, prompts only. Writes its port to ``port_file``."""
    import asyncssh

    class AnyPassword(asyncssh.SSHServer):
        def begin_auth(self, username: str) -> bool:
            return True

        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username: str, password: str) -> bool:
            return True

    async def session(process: asyncssh.SSHServerProcess[str]) -> None:
        modes: list[str] = []  # cisco: [] exec, ["config"], ["config", "if"]; linux: [] user, ["root"]
        try:
            process.stdout.write(_floor_prompt(style, modes))
            while (line := await process.stdin.readline()) and _floor_step(style, modes, line.strip()):
                process.stdout.write(_floor_prompt(style, modes))
        except (asyncssh.BreakReceived, asyncssh.TerminalSizeChanged, BrokenPipeError, ConnectionError):
            pass
        process.exit(0)

    async def main() -> None:
        key = asyncssh.generate_private_key("ssh-ed25519")
        server = await asyncssh.create_server(AnyPassword, "127.0.0.1", 0, server_host_keys=[key],
                                              process_factory=session, encoding="utf-8", line_editor=True)
        partial = port_file.with_suffix(".partial")
        partial.write_text(str(server.sockets[0].getsockname()[1]))
        partial.rename(port_file)  # the parent never reads half a number
        await asyncio.Event().wait()  # until SIGTERM

    asyncio.run(main())


def _floor_prompt(style: str, modes: list[str]) -> str:
    if style == "linux":
        return "root@host:~# " if modes else "admin@host:~$ "
    return "host(" + "-".join(modes) + ")# " if modes else "host# "


def _floor_step(style: str, modes: list[str], line: str) -> bool:
    """Change mode for ``line``; False ends the session. Everything else is silently accepted."""
    if style == "linux":
        if line == "sudo -s":
            modes[:] = ["root"]
        elif line == "exit":
            if not modes:
                return False
            modes.clear()
        return True
    if line in ("configure terminal", "conf t") and not modes:
        modes[:] = ["config"]
    elif line == "end":
        modes.clear()
    elif line == "exit":
        if not modes:
            return False
        modes.pop()
    elif modes and line.startswith("interface "):
        modes[:] = ["config", "if"]
    return True


@contextmanager
def floor_ssh(style: str, into: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port_file = into / f"floor-ssh-{style}.port"
    port_file.unlink(missing_ok=True)  # a previous size's server wrote one too
    process = subprocess.Popen([sys.executable, __file__, "--serve-floor-ssh", style, str(port_file)],
                               stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(port_file.exists, process, "floor SSH server", START_TIMEOUT_S)
        yield process, int(port_file.read_text())
    finally:
        stop(process)


# --------------------------------------------------------------------------- SNMP arm


def walk_all(endpoints: list[tuple[str, int, str]], rounds: int) -> tuple[float, int, int, list[str]]:
    """``rounds`` rounds of concurrent full walks of every (host, port, community): (varbinds/s, varbinds,
    failed walks, the first round's walk output of each endpoint)."""
    varbinds, failed, elapsed, outputs = 0, 0, 0.0, []
    for _ in range(rounds):
        start = time.perf_counter()
        walks = [subprocess.Popen([SNMPBULKWALK, *WALK, "-c", community, f"{host}:{port}", ".1"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                 for host, port, community in endpoints]
        for process in walks:
            try:
                output, _ = process.communicate(timeout=WALK_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                stop(process)
                failed += 1
                output = ""
            else:
                failed += process.returncode != 0
            varbinds += len(parse_walk(output))
            outputs.append(output)
        elapsed += time.perf_counter() - start
    return varbinds / elapsed, varbinds, failed, outputs[:len(endpoints)]


def parse_walk(output: str) -> list[tuple[str, str]]:
    """(OID, 'TYPE: value') per varbind of net-snmp output; wrapped Hex-STRING lines joined, end marker dropped."""
    records: list[tuple[str, str]] = []
    for line in output.splitlines():
        match = re.match(r"^\.?((?:\d+\.)*\d+) = (.*)$", line)
        if match:
            records.append((match.group(1), match.group(2)))
        elif records:
            records[-1] = (records[-1][0], records[-1][1] + " " + line.strip())
    return [(oid, value) for oid, value in records if NO_MORE not in value]


SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SNMPREC_TAGS = {"INTEGER": "2", "OID": "6", "Counter32": "65", "Gauge32": "66", "Counter64": "70",
                "IpAddress": "64"}


def same_data(twin: list[str], floor: list[str]) -> str:
    """Whether the floor's first-round walks returned the twin's OIDs and values (sysUpTime aside)."""
    def varbinds(walks: list[str]) -> list[list[tuple[str, str]]]:
        return [[(oid, value) for oid, value in parse_walk(walk) if oid != SYS_UPTIME] for walk in walks]

    differ = sum(a != b for a, b in zip(varbinds(twin), varbinds(floor), strict=True))
    return "floor serves the same OIDs and values" if not differ else f"MISMATCH: {differ} agents differ"


def snmprec_line(oid: str, value: str) -> str:
    """One ``OID|TAG|VALUE`` line of snmpsim's format for a net-snmp ``-On -Ox -Oe`` varbind."""
    kind, _, text = value.partition(": ")
    if value == '""':
        return f"{oid}|4|"
    if kind == "Hex-STRING":
        return f"{oid}|4x|{text.replace(' ', '').lower()}"
    if kind == "STRING":
        return f"{oid}|4x|{text.strip(chr(34)).encode().hex()}"
    if kind == "Timeticks":  # "(17) 0:00:00.17"
        return f"{oid}|67|{text.split(')')[0].lstrip('(')}"
    if kind == "OID":
        return f"{oid}|6|{text.lstrip('.')}"
    if kind not in SNMPREC_TAGS:
        raise ValueError(f"no snmprec tag for {value!r}")
    return f"{oid}|{SNMPREC_TAGS[kind]}|{text.split()[0]}"


@contextmanager
def floor_snmp(snmprecs: list[str], community: str, into: Path) -> Iterator[tuple[subprocess.Popen[bytes],
                                                                                 list[tuple[str, int, str]]]]:
    """snmpsim on one 127.0.0.1 endpoint per ``snmprecs`` entry; endpoint i is walked with community
    ``<community>-<i>``, whose data file is ``snmprecs[i]``. (snmpsim 1.2.2 cannot pick a data file by
    endpoint under pysnmp 7: its probe hook is the camelCase ``handleMgmtOperation``, which pysnmp 7 never
    calls; a community per agent gives every floor agent the same OIDs and values as its twin agent.)"""
    data, cache = into / "snmpsim-data", into / "snmpsim-cache"
    shutil.rmtree(data, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    data.mkdir(parents=True)
    for i, snmprec in enumerate(snmprecs):
        (data / f"{community}-{i}.snmprec").write_text(snmprec)
    endpoints = [("127.0.0.1", port, f"{community}-{i}") for i, port in enumerate(free_udp_ports(len(snmprecs)))]
    responder = shutil.which("snmpsim-command-responder", path=str(Path(sys.executable).parent))
    if responder is None:
        raise RuntimeError("snmpsim is not installed: pip install snmpsim 'pysmi>=2,<3'")
    command = [responder, f"--data-dir={data}", f"--cache-dir={cache}", "--log-level=error",
               *[f"--agent-udpv4-endpoint={host}:{port}" for host, port, _ in endpoints]]
    with (into / "snmpsim.log").open("wb") as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                                   start_new_session=True, env={**os.environ, "SNMPSIM_ALLOW_ROOT": "true"})
    try:
        last = snmprecs[-1].split("|", 1)[0]
        wait_for(lambda: _answers(endpoints[-1], last), process, "snmpsim", SNMPSIM_START_TIMEOUT_S)
        yield process, endpoints
    finally:
        stop(process)


def _answers(endpoint: tuple[str, int, str], oid: str) -> bool:
    host, port, community = endpoint
    result = subprocess.run(["/usr/bin/snmpget", "-v2c", "-c", community, "-t", "0.3", "-r", "0", "-On",
                             f"{host}:{port}", oid], capture_output=True, text=True, timeout=10)
    return result.returncode == 0 and oid in result.stdout


# --------------------------------------------------------------------------- one size


def bench_size(switches: int, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    fleet = make_fleet(switches, tmp / f"inv-{switches}")
    devices = sum(len(names) for names in fleet.platforms.values()) + SERVERS
    print(f"\n== {switches} switches ({devices} devices): "
          + ", ".join(f"{p} {len(n)}" for p, n in sorted(fleet.platforms.items())))
    no_ssh = sorted(p for p in fleet.platforms if p not in DIALECTS)
    print(f"   without an SSH dialect (no SSH endpoint; skipped by the SSH arm): {', '.join(no_ssh) or 'none'}")
    lab = Lab(tmp / f"lab-{switches}")
    start = time.perf_counter()
    lab.up(fleet.folder, free_ports=True, timeout_s=max(30.0, devices * 1.0))
    row: dict[str, Any] = {"switches": switches, "devices": devices, "up_s": time.perf_counter() - start}
    try:
        pid = lab.pid
        assert pid is not None
        row["rss_mb"] = memory_mb(pid)
        print(f"start: up() {row['up_s']:.2f} s; twin RSS {row['rss_mb']:.0f} MB "
              f"({row['rss_mb'] * 1024 / devices:.0f} kB/device)")
        row.update(bench_ssh(lab, fleet, args, tmp))
        row.update(bench_snmp(lab, fleet, args, tmp))
        row["hwm_mb"] = memory_mb(pid, "VmHWM")
        print(f"memory: twin peak RSS (VmHWM) after the runs {row['hwm_mb']:.0f} MB")
    finally:
        lab.down()
    return row


def bench_ssh(lab: Lab, fleet: Fleet, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    platform, notes = pick_platform(lab, fleet, args.ssh_platform)
    for note in notes:
        print(f"ssh: skipped {note}")
    if platform is None:
        print("ssh: no platform with a working dialect: SSH arm skipped")
        return {}
    recipe, targets, twin_pid = SSH_RECIPES[platform], twin_targets(lab, fleet, platform), lab.pid or 0
    (rate, failed), twin_cpu = with_cpu(twin_pid, lambda: session_rate(recipe, targets, args.sessions, args.workers))
    with floor_ssh("linux" if recipe.device_type == "linux" else "cisco", tmp) as (process, port):
        floor_target = Target("127.0.0.1", port, "admin", "any", targets[0].ports)
        (floor, floor_failed), floor_cpu = with_cpu(
            process.pid, lambda: session_rate(recipe, [floor_target], args.sessions, args.workers))
        floor_rss = memory_mb(process.pid, "VmHWM")
    per = 1000 / args.sessions
    print(f"ssh ({platform}, netmiko {recipe.device_type}, {args.sessions} sessions over {len(targets)} devices, "
          f"{args.workers} workers): twin {rate:.1f} sessions/s ({failed} failed, server CPU "
          f"{twin_cpu * per:.0f} ms/session)   floor {floor:.1f} sessions/s ({floor_failed} failed, server CPU "
          f"{floor_cpu * per:.0f} ms/session, bare asyncssh, peak RSS {floor_rss:.0f} MB)   "
          f"ratio twin/floor {rate / floor:.2f}" + ("  (floor sessions failed: no ratio)" if floor_failed else ""))
    return {"ssh_platform": platform, "ssh_twin": rate, "ssh_floor": floor, "ssh_failed": failed}


def bench_snmp(lab: Lab, fleet: Fleet, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    community = load_credentials(lab).community
    endpoints, skipped = [], []
    for platform, names in sorted(fleet.platforms.items()):
        for name in names:
            try:
                ep = lab.endpoint(name, "snmp")
            except LabError:
                skipped.append(platform)
                continue
            endpoints.append((ep["address"], ep["port"], community))
    if skipped:
        print(f"snmp: skipped {len(skipped)} switches without an SNMP agent ({', '.join(sorted(set(skipped)))})")
    if not endpoints:
        print("snmp: no agents: SNMP arm skipped")
        return {}
    (rate, varbinds, failed, walks), twin_cpu = with_cpu(lab.pid or 0, lambda: walk_all(endpoints, args.snmp_rounds))
    snmprecs = ["".join(snmprec_line(oid, value) + "\n" for oid, value in parse_walk(walk)) for walk in walks]
    if failed or not all(snmprecs):
        print(f"snmp: {failed} twin walks failed: SNMP floor skipped")
        return {}
    with floor_snmp(snmprecs, community, tmp) as (process, floor_endpoints):
        (floor_rate, floor_varbinds, floor_failed, floor_walks), floor_cpu = with_cpu(
            process.pid, lambda: walk_all(floor_endpoints, args.snmp_rounds))
        floor_rss = memory_mb(process.pid, "VmHWM")
    same = same_data(walks, floor_walks)
    print(f"snmp ({len(endpoints)} agents at once, {args.snmp_rounds} round(s), {varbinds:,} varbinds, {same}): "
          f"twin {rate:,.0f} varbinds/s ({failed} failed walks, agent CPU {twin_cpu * 1e6 / varbinds:.0f} us/varbind)"
          f"   floor {floor_rate:,.0f} varbinds/s (snmpsim, {floor_failed} failed, agent CPU "
          f"{floor_cpu * 1e6 / max(floor_varbinds, 1):.0f} us/varbind, peak RSS {floor_rss:.0f} MB)   "
          f"ratio twin/floor {rate / floor_rate:.2f}")
    return {"snmp_twin": rate, "snmp_floor": floor_rate, "snmp_failed": failed}


# --------------------------------------------------------------------------- main


def summary(rows: list[dict[str, Any]]) -> None:
    print("\nswitches devices  up(s)  RSS(MB)  ssh twin/floor (sessions/s)  snmp twin/floor (varbinds/s)")
    for r in rows:
        ssh = (f"{r['ssh_twin']:6.1f} / {r['ssh_floor']:6.1f} = {r['ssh_twin'] / r['ssh_floor']:.2f}"
               if "ssh_twin" in r else "skipped")
        snmp = (f"{r['snmp_twin']:7,.0f} / {r['snmp_floor']:7,.0f} = {r['snmp_twin'] / r['snmp_floor']:.2f}"
                if "snmp_twin" in r else "skipped")
        print(f"{r['switches']:8d} {r['devices']:7d} {r['up_s']:6.2f} {r['rss_mb']:8.0f}  {ssh:27s}  {snmp}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", help="switch counts, comma-separated (default 50,200; --quick: 50)")
    parser.add_argument("--quick", action="store_true", help="50 switches, 20 sessions")
    parser.add_argument("--sessions", type=int, help="SSH sessions per arm (default 60; --quick: 20)")
    parser.add_argument("--workers", type=int, default=10, help="netmiko thread pool size (default 10)")
    parser.add_argument("--ssh-platform", choices=sorted(SSH_RECIPES), help="push to this platform only")
    parser.add_argument("--snmp-rounds", type=int, default=1, help="rounds of walks per arm (default 1)")
    parser.add_argument("--serve-floor-ssh", nargs=2, metavar=("STYLE", "PORT_FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_floor_ssh:
        serve_floor_ssh(args.serve_floor_ssh[0], Path(args.serve_floor_ssh[1]))
        return 0
    sizes = [int(s) for s in (args.sizes or ("50" if args.quick else "50,200")).split(",")]
    args.sessions = args.sessions or (20 if args.quick else 60)
    print(f"dialects registered: {', '.join(sorted(DIALECTS))}; {os.cpu_count()} CPUs")
    wall = time.perf_counter()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="fabric-bench-twin-") as tmp:
        for switches in sizes:
            rows.append(bench_size(switches, args, Path(tmp)))
    summary(rows)
    print(f"wall time {time.perf_counter() - wall:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
