"""``fabric collect`` as a process: SIGTERM finishes the cycle and exits 0; bad input is one line and an exit code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fabric.lab.control import Lab
from tests.conftest import INVENTORIES

FABRIC = str(Path(sys.executable).parent / "fabric")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("FABRIC_SNMP", "FABRIC_INFLUX"))}
    return subprocess.run([FABRIC, "collect", *args], capture_output=True, text=True, timeout=60,
                          env={**clean, **(env or {})})


def test_sigterm_flushes_and_exits_zero(twin: Lab, tmp_path: Path) -> None:
    out = tmp_path / "samples.jsonl"
    process = subprocess.Popen([FABRIC, "collect", str(INVENTORIES / "lab-roce"), "--lab", str(twin.state_dir),
                                "--interval", "5", "--no-cli", "--sink", f"jsonl:{out}"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not (out.exists() and '"collector"' in out.read_text()):
            assert time.monotonic() < deadline and process.poll() is None, "no cycle written"
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]  # every line whole: nothing cut mid-write
    cycles = sum(r["measurement"] == "collector" for r in rows)
    assert cycles >= 1 and f"collect: {cycles} cycle(s)" in stderr


def test_unknown_sink_is_a_usage_error(twin: Lab) -> None:
    result = run(str(INVENTORIES / "lab-roce"), "--lab", str(twin.state_dir), "--once", "--sink", "kafka:x")
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        "error: --sink kafka:x: unknown sink; use influx, jsonl:PATH, lineprotocol:PATH or stdout"]


def test_missing_snmp_credentials_name_the_variables() -> None:
    result = run(str(INVENTORIES / "lab-roce"), "--once", "--no-cli")
    assert result.returncode == 2 and "FABRIC_SNMP_COMMUNITY" in result.stderr and "Traceback" not in result.stderr


def test_influx_without_url_and_token_never_printed(twin: Lab) -> None:
    result = run(str(INVENTORIES / "lab-roce"), "--lab", str(twin.state_dir), "--once", "--sink", "influx",
                 env={"FABRIC_INFLUX_TOKEN": "tok-123-secret"})
    assert result.returncode == 2 and "FABRIC_INFLUX_URL" in result.stderr and "tok-123" not in result.stderr


def test_invalid_inventory_exits_5(tmp_path: Path) -> None:
    result = run(str(tmp_path / "nowhere"), "--once")
    assert result.returncode == 5 and result.stderr.startswith("error: ") and "Traceback" not in result.stderr


def test_the_demo_glance_averages_each_queue_over_the_cycles() -> None:
    from fabric.cli.collect import glance_rates

    # drops in queue 0 only in the first interval (the twin's engine lagged during the second), queue 3 steady
    rates = glance_rates({"drops:0": [300.0, 0.0], "drops:3": [10.0, 30.0], "lossless:3": [10.0, 30.0],
                          "rx:": [4e9, 2e9], "pause:3": [100.0]})
    assert rates == {"pfc": 0.0, "pause": 100.0, "ecn": 0.0, "drops": 170.0, "lossless": 20.0, "rx": 3e9}


def test_a_short_snmpv3_key_is_a_usage_error_before_polling() -> None:
    """pysnmp refuses a key under 8 characters (RFC 3414) only when the first device is configured, with a
    WrongValueError traceback that ended the run."""
    result = run(str(INVENTORIES / "lab-roce"), "--once", "--no-cli", env={
        "FABRIC_SNMP_USER": "fabric", "FABRIC_SNMP_AUTH_KEY": "authkey-long-enough", "FABRIC_SNMP_PRIV_KEY": "s3cr"})
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        "error: FABRIC_SNMP_PRIV_KEY is shorter than 8 characters; SNMPv3 keys (RFC 3414) are 8 or more: set the key "
        "the agents use"]


def test_a_sink_that_cannot_write_loses_only_its_own_points(twin: Lab, tmp_path: Path) -> None:
    """A full disk under one file sink raised OSError out of the cycle: a traceback, exit 1, and the other sinks
    (InfluxDB among them) stopped too."""
    ok = tmp_path / "ok.jsonl"
    result = run(str(INVENTORIES / "lab-roce"), "--lab", str(twin.state_dir), "--interval", "1", "--duration", "2.5",
                 "--no-cli", "--sink", "jsonl:/dev/full", "--sink", f"jsonl:{ok}")
    assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr
    [error] = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert "sink jsonl:/dev/full: cannot write (No space left on device); " in error
    cycles = sum(json.loads(line)["measurement"] == "collector" for line in ok.read_text().splitlines())
    assert cycles >= 2 and f"collect: {cycles} cycle(s)" in result.stderr
    assert "points a sink could not write (its error above)" in result.stderr


def test_a_reader_that_closes_the_pipe_ends_the_run_quietly(twin: Lab) -> None:
    """``fabric collect ... --sink stdout | head -1``: it ended with exit 1 (a BrokenPipeError), and would run on
    for ever once it did not crash."""
    process = subprocess.Popen([FABRIC, "collect", str(INVENTORIES / "lab-roce"), "--lab", str(twin.state_dir),
                                "--interval", "1", "--no-cli", "--sink", "stdout"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("device,device=")
        process.stdout.close()
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr and "sink stdout: the reader closed the pipe; it gets nothing more" in stderr


def test_a_file_sink_on_a_pipe_writes(twin: Lab) -> None:
    """``--sink jsonl:/dev/stdout`` into a pipe: the cut-back of a failed write must not need a seekable file."""
    result = run(str(INVENTORIES / "lab-roce"), "--lab", str(twin.state_dir), "--once", "--no-cli", "--sink",
                 "jsonl:/dev/stdout")
    assert result.returncode == 0 and "cannot write" not in result.stderr, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert sum(r["measurement"] == "collector" for r in rows) == 1 and len(rows) > 100
