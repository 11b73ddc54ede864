"""Render benchmark: the whole pipeline against raw Jinja2 on a generated rail-optimised fabric.

    python bench/render.py            # 2,048 switches (512 spines, 1,536 rail leaves), 8,192 servers x 8 NICs
    python bench/render.py --small    # 64 switches, 192 servers: a quick run
    python bench/render.py --profile  # also print the pipeline's top fabric/ hotspots (cProfile)

Arms, measured in the same run on the same templates:
  pipeline  load_inventory + check_fabric + build_intent + check_intent + render_fabric (every device)
            (what ``fabric render`` does, minus writing files)
  floor     template.render(ctx) for every feature template of every device, each template loaded once and
            the cyclic GC paused (as render_fabric does), the contexts (template_context(intent)) computed
            before the clock starts, on an Environment of the same settings
Target: pipeline / floor <= 2, whole run < 60 s on 2 cores. Both arms are timed by the wall clock and by
process CPU time: on a shared machine the CPU ratio is the steadier one. A benchmark, not a test: it asserts
nothing about time. Feature templates that do not exist yet are replaced by empty files in both arms and counted.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import jinja2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fabric.core.gcpause import paused_gc
from fabric.core.platform import PLATFORMS
from fabric.intent import build_intent
from fabric.intent.check import check_intent
from fabric.inventory import load_inventory
from fabric.inventory.check import check_fabric
from fabric.inventory.generate import generate
from fabric.inventory.write import write_inventory
from fabric.render.render import TEMPLATES, environment, render_fabric, template_context

SWITCH_PLATFORMS = ["sonic", "nvue", "eos", "nxos", "comware", "huawei_ce"]
FULL: dict[str, Any] = {"spines": 512, "leaves": 1536, "servers": 8192, "nics_per_server": 8, "spine_planes": 8,
        "uplink_speed_gbps": 200}  # 400G to the GPUs; 51.2T spines carry 192 x 200G down
SMALL: dict[str, Any] = {"spines": 16, "leaves": 48, "servers": 192, "nics_per_server": 8, "spine_planes": 8,
         "uplink_speed_gbps": 200}
T = TypeVar("T")


def timed(label: str, times: dict[str, float], fn: Callable[[], T]) -> T:
    """Run fn; record its wall time under ``label`` and its CPU time under ``label + ' cpu'``."""
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    times[label] = time.perf_counter() - start
    times[f"{label} cpu"] = time.process_time() - cpu
    return value


def template_root(into: Path) -> tuple[Path, set[str]]:
    """A copy of templates/ where each missing feature template is an empty file; returns the missing ones."""
    root = into / "templates"
    shutil.copytree(TEMPLATES, root) if TEMPLATES.is_dir() else root.mkdir()
    missing = set()
    for spec in PLATFORMS.values():
        for output in spec.outputs:
            for name in output.templates:
                path = root / spec.name / name
                if not path.exists():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text("", encoding="utf-8")
                    missing.add(f"{spec.name}/{name}")
    return root, missing


def pipeline(folder: Path, root: Path, times: dict[str, float]) -> dict[str, Any]:
    """The pipeline arm, phase by phase; returns the intents."""
    loaded = timed("load", times, lambda: load_inventory(folder))
    assert loaded.fabric is not None and loaded.report.ok, [str(p) for p in loaded.report][:5]
    fabric = loaded.fabric
    report = timed("check_fabric", times, lambda: check_fabric(fabric))
    intents = timed("build_intent", times, lambda: build_intent(fabric))
    report.extend(timed("check_intent", times, lambda: check_intent(fabric, intents)).problems)
    assert report.ok, [str(p) for p in report][:5]
    configs = timed("render", times, lambda: render_fabric(intents, root))
    times["lines"] = sum(c.lines for c in configs.values())
    return intents


def floor(intents: dict[str, Any], root: Path, times: dict[str, float]) -> int:
    """Raw Jinja2: every feature template of every device from precomputed contexts; returns the renders.

    Each template is loaded once and the cyclic GC is paused, as render_fabric does: the floor gets every
    speed-up of the pipeline's render step that is not about building the intent.
    """
    env = environment.__wrapped__(root)  # same settings and filters, fresh template cache
    jobs = [(f"{i.platform}/{name}", template_context(i))
            for i in intents.values() for o in PLATFORMS[i.platform].outputs for name in o.templates]
    timed("floor", times, lambda: _render_raw(env, jobs))
    return len(jobs)


def _render_raw(env: jinja2.Environment, jobs: list[tuple[str, dict[str, Any]]]) -> None:
    with paused_gc():
        templates = {name: env.get_template(name) for name in dict.fromkeys(name for name, _ in jobs)}
        for name, context in jobs:
            templates[name].render(context)


def hotspots(folder: Path, root: Path, limit: int = 25) -> str:
    """The pipeline under cProfile: functions in fabric/ (and the loaders they call) by cumulative time."""
    profiler = cProfile.Profile()
    profiler.enable()
    pipeline(folder, root, {})
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).sort_stats("cumulative")
    stats.print_stats(r"fabric/|yaml/(constructor|composer|parser|scanner)|pydantic/main|jinja2/environment", limit)
    stats.sort_stats("tottime").print_stats(limit)
    return text.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="64 switches instead of 2,048")
    parser.add_argument("--profile", action="store_true", help="profile the pipeline arm (a second run)")
    args = parser.parse_args(argv)
    shape = SMALL if args.small else FULL
    wall = time.perf_counter()
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="fabric-bench-") as tmp:
        folder = Path(tmp) / "inventory"
        files = timed("generate", times, lambda: generate("rail", platforms=SWITCH_PLATFORMS, **shape))
        timed("write", times, lambda: write_inventory(files, folder))
        root, missing = template_root(Path(tmp))
        intents = pipeline(folder, root, times)
        renders = floor(intents, root, times)
        skipped = sum(1 for i in intents.values() for o in PLATFORMS[i.platform].outputs
                      for name in o.templates if f"{i.platform}/{name}" in missing)
        report(shape, files, folder, times, renders, skipped, missing, time.perf_counter() - wall)
        if args.profile:
            print(hotspots(folder, root))
    return 0


def report(shape: dict[str, Any], files: dict[str, Any], folder: Path, times: dict[str, float], renders: int,
           skipped: int, missing: set[str], wall_s: float) -> None:
    hosts = files["hosts.yaml"]
    interfaces = sum(len(h["data"]["interfaces"]) for h in hosts.values())
    size_mb = (folder / "hosts.yaml").stat().st_size / 1e6
    phases = ("load", "check_fabric", "build_intent", "check_intent", "render")
    print(f"fabric: rail, {shape['spines']} spines + {shape['leaves']} leaves = "
          f"{shape['spines'] + shape['leaves']} switches, {shape['servers']} servers x {shape['nics_per_server']} NICs;"
          f" {len(hosts)} devices, {interfaces} interfaces, hosts.yaml {size_mb:.1f} MB")
    print(f"generate {times['generate']:.2f} s, write {times['write']:.2f} s")
    print("pipeline phases: " + ", ".join(f"{p} {times[p]:.2f} s (cpu {times[p + ' cpu']:.2f})" for p in phases))
    print(f"templates: {renders} renders, {skipped} skipped (missing: {', '.join(sorted(missing)) or 'none'}); "
          f"{int(times['lines'])} lines rendered")
    for clock, suffix in (("wall", ""), ("cpu", " cpu")):
        pipeline_s, floor_s = sum(times[p + suffix] for p in phases), times["floor" + suffix]
        print(f"{clock:4s}: pipeline {pipeline_s:.2f} s   floor (raw jinja2) {floor_s:.2f} s   "
              f"ratio {pipeline_s / floor_s if floor_s else float('inf'):.2f} (target <= 2)")
    print(f"wall time {wall_s:.1f} s (target < 60 s)")


if __name__ == "__main__":
    sys.exit(main())
