"""The broken-inventory corpus (tests/broken/<case>/case.yaml): each case breaks one rule of a shipped
inventory and names the exact line `fabric validate` must print and the exit code it must return."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from fabric.cli.main import app
from tests.conftest import INVENTORIES

CORPUS = Path(__file__).resolve().parents[1] / "broken"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "case.yaml").exists())


def _walk(data: Any, path: str) -> tuple[Any, Any]:
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    return node, (int(last) if isinstance(node, list) else last)


def build_case(name: str, dest: Path) -> tuple[Path, dict[str, Any]]:
    """Copy the case's base inventory, apply its set/delete/append edits and replacement files."""
    case = yaml.safe_load((CORPUS / name / "case.yaml").read_text())
    folder = dest / name
    shutil.copytree(INVENTORIES / case["base"], folder)
    for file, edits in case.get("set", {}).items():
        data = yaml.safe_load((folder / file).read_text())
        for path, value in edits.items():
            node, key = _walk(data, path)
            node[key] = value
        (folder / file).write_text(yaml.safe_dump(data, sort_keys=False))
    for file, paths in case.get("delete", {}).items():
        data = yaml.safe_load((folder / file).read_text())
        for path in paths:
            node, key = _walk(data, path)
            del node[key]
        (folder / file).write_text(yaml.safe_dump(data, sort_keys=False))
    for file, text in case.get("append", {}).items():
        with (folder / file).open("a") as handle:
            handle.write(text)
    for extra in (CORPUS / name).iterdir():
        if extra.name != "case.yaml":
            shutil.copy(extra, folder / extra.name)
    return folder, case


def test_corpus_covers_every_rule_family():
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", CASES)
def test_broken_inventory(name: str, tmp_path: Path) -> None:
    folder, case = build_case(name, tmp_path)
    result = CliRunner().invoke(app, ["validate", str(folder)])
    output = result.output
    assert result.exit_code == case["exit"], output
    assert "Traceback" not in output
    lines = output.splitlines()
    for expected in case["expect"]:
        assert any(expected in line for line in lines), f"missing {expected!r} in:\n{output}"
    for secret in case.get("absent", []):
        assert secret not in output
    problems = [line for line in lines if line.startswith(("error: ", "warning: "))]
    assert problems, "every problem is one 'error:'/'warning:' line"
