"""fabric workload check: ok files, bad files (exit 5, one line each), fit to an inventory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
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


def test_check_names_the_link_a_phase_overloads_on_its_own() -> None:
    """websearch-40 sends 40 % of every NIC's line rate to uniformly random NICs: gpu13-16's 8 x 100G NICs sit
    behind leaf4's two 100G uplinks, so each spine's link to leaf4 is offered ~3.6x its line rate."""
    args = ["workload", "check", str(WORKLOADS / "websearch-40.yaml"), "--inventory", "inventories/lab-roce"]
    [row] = json.loads(runner.invoke(app, [*args, "--json"]).output)[str(WORKLOADS / "websearch-40.yaml")]
    placed = row["placed"]
    assert placed["busiest_link"].endswith(" -> leaf4") and placed["busiest_link"].startswith("spine")
    assert placed["capacity_gbps"] == 100.0 and 2.5 < placed["ratio"] < 5.0
    assert placed["unroutable_gbps"] == 0.0
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"warning: {WORKLOADS / 'websearch-40.yaml'}: phase websearch alone offers" in result.output
    assert "the twin abandons its flows still unfinished after timeout_s" in result.output


def test_check_is_quiet_about_a_load_the_fabric_carries(tmp_path: Path) -> None:
    light = tmp_path / "light.yaml"
    light.write_text("name: light\nduration_s: 10\nphases:\n  - kind: websearch\n    load: 0.15\n"
                     "    dst: {names: [gpu0*, gpu10, gpu11, gpu12]}\n")
    result = runner.invoke(app, ["workload", "check", str(light), "--inventory", "inventories/lab-roce"])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output


def test_check_counts_what_has_no_path(tmp_path: Path) -> None:
    """A rail fabric of two spine planes: an incast onto NIC 0 of gpu001 from 14 NICs takes NIC 0 of the 7 other
    servers, then their NIC 1, on the other plane: half its bytes have no path. A mix stays in each NIC's plane."""
    from fabric.inventory.generate import generate
    from fabric.inventory.write import write_inventory

    write_inventory(generate("rail", 2, 4, 8, 2, ["sonic"], spine_planes=2), tmp_path / "inv")
    spill = tmp_path / "spill.yaml"
    spill.write_text("name: spill\nduration_s: 1\nphases:\n  - kind: incast\n    fan_in: 14\n    size_bytes: 1MB\n"
                     "    period_s: 5ms\n    target: {first: 1}\n")
    for workload, no_path in ((spill, 0.5), (WORKLOADS / "websearch-40.yaml", 0.0)):
        args = ["workload", "check", str(workload), "--inventory", str(tmp_path / "inv")]
        [row] = json.loads(runner.invoke(app, [*args, "--json"]).output)[str(workload)]
        assert row["placed"]["unroutable_gbps"] / row["offered_gbps"] == pytest.approx(no_path)
        assert ("between NICs with no path" in runner.invoke(app, args).output) == (no_path > 0)


def _refusal(tmp_path: Path, phase: str, key: str | None, marker: str) -> str | None:
    """``workload check --inventory lab-roce`` of a one-phase file: accepted (exit 0) when ``key`` is None, else
    refused (exit 5, no traceback) with exactly one line holding ``marker``, which is returned."""
    path = tmp_path / "fast.yaml"
    path.write_text(f"name: fast\nduration_s: 1\nphases:\n  - {phase}\n")
    result = runner.invoke(app, ["workload", "check", str(path), "--inventory", "inventories/lab-roce"])
    if key is None:
        assert result.exit_code == 0, result.output
        return None
    assert result.exit_code == 5 and "Traceback" not in result.output, result.output
    [line] = [x for x in result.output.splitlines() if marker in x]
    return line


@pytest.mark.parametrize(("phase", "key"), [
    ("{kind: websearch, load: 0.4, cdf: [[0, 0], [128, 100]]}", "phases[0].load"),
    ("{kind: alltoall, size_bytes: 1KB, period_s: 1us}", "phases[0]"),
    ("{kind: alltoall, size_bytes: 1KB, cycle: {period_s: 1us, on_s: 0.5us}}", "phases[0]"),
    ("{kind: incast, fan_in: 4, size_bytes: 1KB, period_s: 1us}", None),
])
def test_check_refuses_a_phase_that_would_start_millions_of_flows_a_second(tmp_path: Path, phase: str,
                                                                          key: str | None) -> None:
    """A 64 B mean size at 40 % of lab-roce's 400G NICs is ~3e8 flows/s per NIC; an all-to-all every 1 us (or
    once per 1 us cycle) starts 15 flows per NIC each time, 1.5e7/s: each would hold the twin's engine for
    minutes per tick (the first had the check killed for memory). Refused with the key, exit 5, one line. An
    incast every 1 us is 1e6 flows/s per sender: accepted."""
    line = _refusal(tmp_path, phase, key, "flows/s on a NIC")
    assert line is None or line.startswith(f"error: {tmp_path / 'fast.yaml'}:{key}: starts ")


def test_check_warns_when_the_twin_would_lag_a_workload(tmp_path: Path) -> None:
    """An AliStorage-sized mix at 50 % of lab-roce's 32 NICs starts ~1e7 flows/s, ten times what the engine
    follows live: the check says so before 'lab up' does it silently; the shipped workloads are below that."""
    busy = tmp_path / "busy.yaml"
    busy.write_text("name: busy\nduration_s: 1\nphases:\n  - {kind: websearch, cdf: alistorage2019, load: 0.5}\n")
    shipped = [(WORKLOADS / f"{name}.yaml", False) for name in ("incast-16to1", "mixed-storage")]
    for path, lags in [(busy, True), *shipped]:
        result = runner.invoke(app, ["workload", "check", str(path), "--inventory", "inventories/lab-roce",
                                     "--seconds", "0.01"])
        assert result.exit_code == 0, result.output
        assert ("flows/s on this inventory; the twin's engine keeps up with about" in result.output) is lags


@pytest.mark.parametrize("seconds", ["inf", "nan", "30"])
def test_check_window_is_bounded(seconds: str) -> None:
    """An unbounded window drew flows until memory ran out (--seconds 30: over 3 GB) or overflowed (inf)."""
    result = runner.invoke(app, ["workload", "check", str(WORKLOADS / "websearch-40.yaml"), "--inventory",
                                 "inventories/lab-roce", "--seconds", seconds])
    assert result.exit_code == 2 and "--seconds" in result.output


def test_check_warns_about_a_phase_that_sends_nothing_between_servers(tmp_path: Path) -> None:
    """Tensor parallelism alone (pp 1, dp 1) stays inside each server: the phase loads, and the check says it
    puts nothing on the fabric rather than showing a row of zeros."""
    tp_only = tmp_path / "tp.yaml"
    tp_only.write_text("name: tp\nduration_s: 1\nphases:\n  - {kind: llm_training, tp: 8, pp: 1, dp: 1, "
                       "parameters: 7B, hidden_size: 4096, stage_compute_s: 1ms, iteration_s: 10ms}\n")
    result = runner.invoke(app, ["workload", "check", str(tp_only), "--inventory", "inventories/lab-roce"])
    assert result.exit_code == 0, result.output
    assert "phase llm_training starts no flow between servers" in result.output


@pytest.mark.parametrize(("phase", "key", "floor_ms"), [
    # a 64 MB ring over lab-roce's 16 servers x 2 rails: each NIC sends 2 x 15/16 x 32 MB = 60 MB, 4.8 ms on the
    # 100G NICs
    ("{kind: allreduce, size_bytes: 64MB, period_s: 4ms}", "phases[0].period_s", 4.8),
    # 16 x 500 KB onto gpu01's 200G NIC 0: 0.32 ms
    ("{kind: incast, fan_in: 16, size_bytes: 500KB, period_s: 0.3ms, target: {first: 1}}", "phases[0].period_s", 0.32),
    ("{kind: allreduce, size_bytes: 64MB, period_s: 5ms}", None, 0.0),
    ("{kind: incast, fan_in: 16, size_bytes: 500KB, period_s: 0.4ms, target: {first: 1}}", None, 0.0),
])
def test_check_refuses_launches_that_cannot_end_within_their_period(tmp_path: Path, phase: str, key: str | None,
                                                                   floor_ms: float) -> None:
    """A collective launched every period that moves more through one NIC than its line carries in a period
    piles launches up without end (a 100 us ring grew the twin's rows from 17 k to 275 k in 50 ms of model time,
    seconds per tick): refused with the key, the busiest NIC and the period that fits; one that fits is not."""
    line = _refusal(tmp_path, phase, key, "pile up")
    if line is not None:
        assert line.startswith(f"error: {tmp_path / 'fast.yaml'}:{key}: one launch moves ")
        assert f"at least {floor_ms:.4g} ms at its line rate" in line and "raise period_s to at least" in line


@pytest.mark.parametrize(("degrees", "key"), [
    ("tp: 3, pp: 2, dp: 1", "phases[0].tp"),  # lab-roce's servers have 2 NICs
    ("tp: 4, pp: 2, dp: 1", None),
    ("tp: 8, pp: 9, dp: 1", "phases[0].pp"),  # its largest pod has 8 servers
    ("tp: 8, pp: 4, dp: 4", "phases[0].dp"),  # 3 pods have >= 4
    ("tp: 8, pp: 4, dp: 3", None),
])
def test_check_refuses_llm_degrees_the_inventory_cannot_hold(tmp_path: Path, degrees: str, key: str | None) -> None:
    """An llm_training phase whose tp, pp or dp the selected servers cannot hold: exit 5, one line naming the key
    and the fix; the degrees on the other side of each boundary are accepted."""
    phase = (f"{{kind: llm_training, {degrees}, parameters: 1B, hidden_size: 2048, stage_compute_s: 1ms, "
             "iteration_s: 0.5}")
    line = _refusal(tmp_path, phase, key, "; fix: ")
    assert line is None or line.startswith(f"error: {tmp_path / 'fast.yaml'}:{key}: ")
