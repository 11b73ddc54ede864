"""CLI contract: exit codes, one-line problems, deterministic render, schema export."""

import json
from pathlib import Path

from typer.testing import CliRunner

from fabric.cli.main import app
from tests.conftest import edit_yaml

runner = CliRunner()


def test_help_lists_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("validate", "render", "inventory", "demo"):
        assert command in result.output


def test_validate_clean_inventories():
    for inventory in ("inventories/lab-roce", "inventories/lab-ib"):
        result = runner.invoke(app, ["validate", inventory])
        assert result.exit_code == 0, result.output
        assert "0 errors" in result.output


def test_validate_json(lab_roce):
    edit_yaml(lab_roce / "fabric.yaml", lambda f: f["pfc"]["watchdog"].update({"restore_ms": 50}))
    result = runner.invoke(app, ["validate", str(lab_roce), "--json"])
    assert result.exit_code == 5
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert document["problems"][0]["where"] == "fabric.yaml:pfc.watchdog.restore_ms"


def test_validate_reports_every_problem_at_once(lab_roce):
    def change(h):
        h["leaf1"]["platform"] = "junos"
        h["leaf2"]["hostname"] = "127.0.1.11"
        h["spine1"]["data"]["interfaces"]["Ethernet1/1"]["speed_gbps"] = 100
    edit_yaml(lab_roce / "hosts.yaml", change)
    result = runner.invoke(app, ["validate", str(lab_roce)])
    assert result.exit_code == 5
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) >= 3


def test_validate_missing_folder():
    result = runner.invoke(app, ["validate", "no/such/inventory"])
    assert result.exit_code == 5
    assert "inventory folder not found" in result.output


def test_render_writes_device_folders_deterministically(tmp_path: Path):
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        result = runner.invoke(app, ["render", "inventories/lab-roce", "-o", str(out)])
        assert result.exit_code == 0, result.output
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files and files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert all((first / f).read_bytes() == (second / f).read_bytes() for f in files)
    assert {f.parts[0] for f in files} >= {"leaf1", "spine1", "gpu01"}


def test_render_limit_and_json(tmp_path: Path):
    result = runner.invoke(app, ["render", "inventories/lab-roce", "-o", str(tmp_path), "--limit", "role:spine",
                                 "--limit", "gpu0[12]", "--json"])
    assert result.exit_code == 0, result.output
    devices = [d["device"] for d in json.loads(result.stdout)["devices"]]
    assert devices == ["spine1", "spine2", "gpu01", "gpu02"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gpu01", "gpu02", "spine1", "spine2"]


def test_render_limit_matching_nothing(tmp_path: Path):
    result = runner.invoke(app, ["render", "inventories/lab-roce", "-o", str(tmp_path), "--limit", "nope*"])
    assert result.exit_code == 5 and "matches no device" in result.output


def test_render_refuses_invalid_inventory(lab_roce, tmp_path: Path):
    edit_yaml(lab_roce / "fabric.yaml", lambda f: f["qos"].update({"cnp_dscp": 26}))
    result = runner.invoke(app, ["render", str(lab_roce), "-o", str(tmp_path / "out")])
    assert result.exit_code == 5
    assert not (tmp_path / "out").exists()


def test_schema_export(tmp_path: Path):
    result = runner.invoke(app, ["inventory", "schema", "-o", str(tmp_path / "s.json")])
    assert result.exit_code == 0
    schema = json.loads((tmp_path / "s.json").read_text())
    fabric = schema["files"]["fabric.yaml"]
    assert fabric["additionalProperties"] is False
    assert "description" in fabric["properties"]["transport"]
    assert "hosts.yaml" in schema["files"] and "defaults.yaml" in schema["files"]


def test_every_model_field_is_described():
    from pydantic import BaseModel

    import fabric.inventory.models as models

    undocumented = [
        f"{cls.__name__}.{name}"
        for cls in vars(models).values()
        if isinstance(cls, type) and issubclass(cls, BaseModel) and cls.__module__ == models.__name__
        for name, field in cls.model_fields.items()
        if not field.description and cls.__name__ not in ("Fabric",)
    ]
    assert not undocumented


def test_a_broken_host_does_not_cascade_into_link_errors(lab_roce):
    edit_yaml(lab_roce / "hosts.yaml", lambda h: h["leaf1"]["data"].update({"asci": "spectrum3"}))
    result = runner.invoke(app, ["validate", str(lab_roce)])
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert result.exit_code == 5
    assert len(errors) == 1 and "did you mean 'asic'?" in errors[0]
