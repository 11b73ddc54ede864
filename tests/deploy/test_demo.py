"""`fabric demo` (what `make demo` runs), end to end: validate, render, then one twin under a congesting
workload: the congestion of the factory-fresh fabric, the deploy (dry run, real, idempotent), the congestion of
the lossless fabric, the twin down."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FABRIC = str(Path(sys.executable).parent / "fabric")


def glance(output: str, heading: str) -> list[dict[str, float]]:
    """The rows of one "congestion at a glance" table, by column name."""
    lines = output.split(f"{heading}: top ports")[1].splitlines()
    header = next(line for line in lines if line.startswith("┃"))
    names = [cell.strip() for cell in header.strip("┃").split("┃")]
    rows = []
    for line in lines[lines.index(header) + 2:]:
        if not line.startswith("│"):
            break
        cells = [cell.strip() for cell in line.strip("│").split("│")]
        rows.append({name: float(cell) for name, cell in zip(names, cells, strict=True)
                     if name not in ("device", "port")})
    return rows


def test_demo_deploys_the_twin_and_shows_congestion_change() -> None:
    process = subprocess.run([FABRIC, "demo"], capture_output=True, text=True, timeout=400,
                             env={**os.environ, "COLUMNS": "200"}, stdin=subprocess.DEVNULL)
    output = process.stdout + process.stderr
    assert process.returncode == 0, output
    assert "Traceback" not in output
    assert "22 devices would change, nothing pushed" in output
    assert "22 changed, 0 unchanged, 0 failed" in output
    assert "[+] re-deploy: 0 changed, 22 unchanged (idempotent)" in output
    before, after = glance(output, "before deploy"), glance(output, "after deploy")
    assert len(before) == len(after) == 5
    assert any(row["drops/s"] > 0 for row in before)  # factory-fresh: lossy, the incast tail-drops
    assert all(row["lossless drops/s"] == 0 for row in after)  # deployed: lossless, headroom covers the cables
    assert any(row["pfc rx/s"] > 0 or row["ecn marks/s"] > 0 for row in after)  # pauses and marks instead
    assert output.rstrip().endswith("[+] twin down")
