"""fabric lab up | status | fault | down, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fabric.cli.main import app
from fabric.lab.control import Lab
from tests.conftest import INVENTORIES

runner = CliRunner()


def test_lab_cli_life_cycle(tmp_path: Path) -> None:
    state = str(tmp_path / "lab")
    up = runner.invoke(app, ["lab", "up", str(INVENTORIES / "lab-roce"), "--detach", "--free-ports",
                             "--state-dir", state])
    try:
        assert up.exit_code == 0, up.output
        assert "lab up: 22 devices" in up.output
        again = runner.invoke(app, ["lab", "up", str(INVENTORIES / "lab-roce"), "--detach", "--state-dir", state])
        assert again.exit_code == 5 and "already running" in again.output

        status = runner.invoke(app, ["lab", "status", "--json", "--state-dir", state])
        assert status.exit_code == 0
        document = json.loads(status.stdout)
        assert document["devices"]["gpu05"]["endpoints"][0]["protocol"] == "ssh"
        assert Lab(Path(state)).password not in status.output

        shown = runner.invoke(app, ["lab", "status", "--json", "--show-credentials", "--state-dir", state])
        assert json.loads(shown.stdout)["credentials"]["password"] == Lab(Path(state)).password

        fault = runner.invoke(app, ["lab", "fault", "gpu05", "slow", "--for", "30", "--state-dir", state])
        assert fault.exit_code == 0 and "gpu05: slow injected for 30 s" in fault.output
        faults = json.loads(runner.invoke(app, ["lab", "status", "--json", "--state-dir", state]).stdout)
        assert faults["devices"]["gpu05"]["faults"] == ["slow"]
        cleared = runner.invoke(app, ["lab", "fault", "gpu05", "all", "--clear", "--state-dir", state])
        assert cleared.exit_code == 0
        bad = runner.invoke(app, ["lab", "fault", "gpu05", "melt", "--state-dir", state])
        assert bad.exit_code == 5 and "unknown fault 'melt'" in bad.output
        nodev = runner.invoke(app, ["lab", "fault", "gpu99", "slow", "--state-dir", state])
        assert nodev.exit_code == 5 and "no device 'gpu99'" in nodev.output
    finally:
        down = runner.invoke(app, ["lab", "down", "--state-dir", state])
    assert down.exit_code == 0 and "lab down" in down.output
    after = runner.invoke(app, ["lab", "status", "--state-dir", state])
    assert after.exit_code == 5 and "no lab is running" in after.output
