"""Bad input a user can give on the command line: one ``error:`` line naming the path, exit 5, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import INVENTORIES
from tests.e2e.conftest import fabric

INV = INVENTORIES / "examples" / "minimal"


@pytest.mark.parametrize("args", [
    ("render", INV, "-o", "{file}"),
    ("deploy", INV, "--dry-run", "--runs-dir", "{file}"),
    ("lab", "up", INV, "--detach", "--free-ports", "--state-dir", "{file}"),
    ("inventory", "schema", "-o", "{missing}/schema.json"),
    ("collect", INV, "--once", "--lab", "{missing}", "--sink", "jsonl:{tmp}/out.jsonl"),
], ids=["render-o-file", "deploy-runs-dir-file", "lab-state-dir-file", "schema-o-no-parent", "collect-lab-missing"])
def test_unusable_path_is_one_line(tmp_path: Path, args: tuple[str | Path, ...]) -> None:
    """Each of these printed a Python traceback (NotADirectoryError, FileExistsError, FileNotFoundError)."""
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder\n")
    values = {"file": str(a_file), "missing": str(tmp_path / "missing"), "tmp": str(tmp_path)}
    process = fabric(*(str(arg).format(**values) for arg in args),
                     env={"FABRIC_SNMP_COMMUNITY": "public", "FABRIC_SSH_PASSWORD": "x"})
    assert process.returncode == 5, process.stderr
    lines = process.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(tmp_path) in lines[0], process.stderr
    assert a_file.read_text() == "not a folder\n"
