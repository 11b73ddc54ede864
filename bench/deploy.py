"""Deploy benchmark: ``fabric deploy`` (diff, backup, push, verify) against a floor of plain netmiko pushes.

    python bench/deploy.py                      # 200 switches (8 spines, 192 leaves), 10 workers
    python bench/deploy.py --switches 50 --workers 10

A generated CLOS inventory (``fabric inventory generate`` with every RoCE switch platform round-robin) comes up
as a twin; its switches' rendered configs are pushed twice, each time to a freshly started twin:
  floor   a plain script: netmiko ConnectHandler + ``send_config_set(rendered lines)`` + save (SONiC: the
          config_db JSON uploaded through the shell and ``sudo config load``; EOS, which the twin serves over
          eAPI only: one JSON-RPC POST of the lines and ``write memory``), in a ThreadPoolExecutor, with no
          diff, backup or verify
  deploy  ``fabric.deploy.run.deploy`` with the same worker count: connect, semantic diff, backup, push,
          commit/save, read-back verify
Printed: wall time of both, their ratio (target <= 1.5), per-device median and p99 seconds. A benchmark, not
a test: it asserts nothing about time. Everything it starts is stopped by PID.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fabric.cli.deploy import lab_targets
from fabric.core.platform import get_platform
from fabric.deploy.driver import Target
from fabric.deploy.drivers import candidate_text
from fabric.deploy.run import Options, deploy
from fabric.deploy.ssh import netmiko_params, upload
from fabric.intent.check import validate_inventory
from fabric.inventory.generate import generate, switch_platforms
from fabric.inventory.write import write_inventory
from fabric.lab.control import Lab
from fabric.render import render_fabric

SERVERS, NICS_PER_SERVER, UPLINK_SPEED_GBPS = 4, 2, 100
T = TypeVar("T")


def make_inventory(switches: int, into: Path) -> Path:
    spines = 2 if switches <= 64 else 8
    files = generate("clos", spines, switches - spines, SERVERS, NICS_PER_SERVER, switch_platforms("roce"),
                     name=f"bench-deploy-{switches}", uplink_speed_gbps=UPLINK_SPEED_GBPS)
    write_inventory(files, into)
    return into


def floor_push(target: Target, text: str) -> None:
    """What a plain script does: log in, type the rendered config, save."""
    if target.platform == "eos":
        _eapi(target, ["enable", "configure", *[line.strip() for line in text.splitlines()
                                                 if line.strip() and not line.lstrip().startswith("!")],
                       "end", "write memory"])
        return
    from netmiko import ConnectHandler

    params = netmiko_params(target, get_platform(target.platform).netmiko_device_type)
    with ConnectHandler(**params) as conn:
        lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith(("#", "!"))]
        if target.platform == "sonic":
            upload(conn, text, "/tmp/floor.json")
            conn.send_command("sudo config load /tmp/floor.json -y")
            conn.send_command("sudo config save -y")
        elif target.platform == "nvue":
            conn.send_config_set(lines, exit_config_mode=True)
            conn.send_command("nv config apply -y")
            conn.send_command("nv config save")
        elif target.platform == "huawei_ce":
            conn.send_config_set([*lines, "commit"], exit_config_mode=True)
            conn.save_config()
        else:
            conn.send_config_set(lines)
            conn.save_config()


def _eapi(target: Target, cmds: list[str]) -> None:
    body = json.dumps({"jsonrpc": "2.0", "method": "runCmds", "id": "floor",
                       "params": {"version": 1, "cmds": cmds, "format": "json"}}).encode()
    auth = base64.b64encode(f"{target.username}:{target.password}".encode()).decode()
    request = urllib.request.Request(f"http://{target.address}:{target.api_port}/command-api", data=body,
                                     headers={"Content-Type": "application/json", "Authorization": f"Basic {auth}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    if "error" in answer:
        raise RuntimeError(f"{target.device}: eAPI error {answer['error']}")


def on_fresh_twin(inventory: Path, scratch: Path, work: Callable[[Lab], T]) -> T:
    lab = Lab(scratch / f"twin-{time.monotonic_ns()}").up(inventory, free_ports=True, timeout_s=120)
    try:
        return work(lab)
    finally:
        lab.down()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--switches", type=int, default=200)
    parser.add_argument("--workers", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-deploy-") as tmp:
        scratch = Path(tmp)
        inventory = make_inventory(args.switches, scratch / "inventory")
        result = validate_inventory(str(inventory))
        assert result.fabric is not None and result.report.ok, result.report
        switches = [d for d in result.fabric.devices.values() if d.role in ("spine", "leaf")]
        configs = render_fabric({d.name: result.intents[d.name] for d in switches})
        candidates = {name: candidate_text(c.files) for name, c in configs.items()}
        platforms = sorted({d.platform for d in switches})
        print(f"{len(switches)} switches ({', '.join(platforms)}), {args.workers} workers, "
              f"{sum(c.lines for c in configs.values())} rendered lines")

        retries: list[str] = []

        def floor_with_retry(target: Target) -> float:
            """netmiko's prompt/config-mode probes can miss on a loaded machine; a script would run it again."""
            start = time.monotonic()
            for attempt in range(3):
                try:
                    floor_push(target, candidates[target.device])
                    break
                except Exception as exc:
                    retries.append(f"{target.device}: {type(exc).__name__}")
                    if attempt == 2:
                        raise
            return time.monotonic() - start

        def floor(lab: Lab) -> tuple[float, list[float]]:
            targets = lab_targets(switches, lab.state_dir, 120.0)
            start = time.monotonic()
            with ThreadPoolExecutor(max_workers=args.workers) as pool:
                seconds = list(pool.map(floor_with_retry, targets))
            wall = time.monotonic() - start
            for platform in platforms:
                mine = [s for t, s in zip(targets, seconds, strict=True) if t.platform == platform]
                print(f"  floor  {platform:10s} median {statistics.median(mine):5.2f} s  max {max(mine):6.2f} s")
            return wall, seconds

        def full(lab: Lab) -> tuple[float, list[float], int]:
            targets = lab_targets(switches, lab.state_dir, 600.0)  # a 192-port spine's config is long
            start = time.monotonic()
            report = deploy(targets, candidates, scratch / "runs", Options(workers=args.workers))
            wall = time.monotonic() - start
            for r in report.failed:
                print(f"  deploy failed: {r.device}: {r.reason}")
            for platform in platforms:
                mine = [r.seconds for r in report.results if r.platform == platform]
                print(f"  deploy {platform:10s} median {statistics.median(mine):5.2f} s  max {max(mine):6.2f} s")
            return wall, [r.seconds for r in report.results], sum(r.status == "changed" for r in report.results)

        floor_wall, floor_seconds = on_fresh_twin(inventory, scratch, floor)
        deploy_wall, deploy_seconds, changed = on_fresh_twin(inventory, scratch, full)
        for name, wall, seconds in (("floor (netmiko + pool, no diff/verify)", floor_wall, floor_seconds),
                                    ("fabric deploy (diff, backup, push, verify)", deploy_wall, deploy_seconds)):
            print(f"{name:44s} {wall:7.1f} s   per device median {statistics.median(seconds):5.2f} s  "
                  f"p99 {percentile(seconds, 0.99):5.2f} s")
        if retries:
            print(f"floor sessions retried: {len(retries)} ({', '.join(sorted(set(retries))[:5])})")
        print(f"ratio deploy / floor: {deploy_wall / floor_wall:.2f} (target <= 1.5); "
              f"{changed}/{len(switches)} devices changed and verified")


if __name__ == "__main__":
    main()
