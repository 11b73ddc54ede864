"""The README's examples are real: its inventory is the shipped example, its output is what fabric prints."""

import re
from pathlib import Path

from typer.testing import CliRunner

from fabric.cli.main import app

README = Path("README.md").read_text()
EXAMPLE = Path("inventories/examples/minimal")


def test_readme_inventory_example_is_the_shipped_one():
    for name in ("fabric.yaml", "defaults.yaml", "groups.yaml", "hosts.yaml"):
        block = re.search(rf"`{re.escape(name)}`\n```yaml\n(.*?)```", README, re.S)
        assert block, f"README has no block for {name}"
        assert block.group(1) == (EXAMPLE / name).read_text(), f"README {name} differs from {EXAMPLE / name}"


def test_readme_example_validates_clean():
    assert CliRunner().invoke(app, ["validate", str(EXAMPLE)]).exit_code == 0


def test_readme_validate_output_is_real():
    block = re.search(r"\$ fabric validate inventories/examples/broken\n(.*?)\$ echo \$\?\n(\d+)", README, re.S)
    assert block
    result = CliRunner().invoke(app, ["validate", "inventories/examples/broken"])
    assert result.exit_code == int(block.group(2))
    assert sorted(result.output.splitlines()) == sorted(block.group(1).splitlines())
