"""fabric workload check: ok files, bad files (exit 5, one line each), fit to an inventory."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fabric.cli.main import app
from tests.workload.conftest import WORKLOADS

runner = CliRunner()


def test_check_shipped_files() -> None:
    files = [str(WORKLOADS / "llm-3d.yaml"), str(WORKLOADS / "websearch-40.yaml")]
    result = runner.invoke(app, ["workload", "check", *files])
    assert result.exit_code == 0 and result.output.count(": ok (") == 2


def test_check_bad_file_exits_5_with_one_line_per_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: t\nduration_s: 1\nphases:\n  - kind: incast\n    fan_in: 1\n    size_bytes: 1KB\n"
                   "    period_s: -1\n")
    result = runner.invoke(app, ["workload", "check", str(bad)])
    assert result.exit_code == 5
    lines = result.output.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith(f"error: {bad}:phases[0].") for line in lines)


def test_check_against_an_inventory_reports_offered_load() -> None:
    result = runner.invoke(app, ["workload", "check", str(WORKLOADS / "websearch-40.yaml"), "--inventory",
                                 "inventories/lab-roce", "--seconds", "0.2", "--json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)[str(WORKLOADS / "websearch-40.yaml")]
    # 40 % of lab-roce's 32 NICs: 16 x 200G + 8 x 400G + 8 x 100G = 7.2 Tb/s
    assert row["tag"] == "websearch" and abs(row["offered_gbps"] - 0.4 * 7200) < 0.08 * 0.4 * 7200


def test_check_names_the_key_that_does_not_fit(tmp_path: Path) -> None:
    wide = tmp_path / "wide.yaml"
    wide.write_text((WORKLOADS / "incast-16to1.yaml").read_text().replace("fan_in: 16", "fan_in: 64"))
    result = runner.invoke(app, ["workload", "check", str(wide), "--inventory", "inventories/lab-roce"])
    assert result.exit_code == 5 and f"{wide}:phases[0].fan_in: 64 sender NICs needed" in result.output
