"""Bad input a user can give on the command line: one ``error:`` line naming the path, exit 5, no traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from fabric.lab.control import Lab
from tests.conftest import INVENTORIES, edit_yaml
from tests.e2e.conftest import FABRIC, fabric, generate, results

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


def no_secrets(home: Path) -> dict[str, str]:
    """An environment with no password, no agent and ``home`` as HOME."""
    env = {k: v for k, v in os.environ.items() if k not in ("FABRIC_SSH_PASSWORD", "SSH_AUTH_SOCK")}
    return {**env, "HOME": str(home)}


def test_deploy_without_any_ssh_credential_says_what_to_set(tmp_path: Path) -> None:
    """No FABRIC_SSH_PASSWORD, no agent, no key: netmiko's 'use_keys has been set to True, but specified key_file
    does not exist' came out for every device; now the line names the three ways to give a credential."""
    process = subprocess.run([FABRIC, "deploy", str(INV), "--dry-run", "--limit", "gpu1", "--timeout", "5",
                              "--runs-dir", str(tmp_path / "runs"), "--json"],
                             capture_output=True, text=True, timeout=120, env=no_secrets(tmp_path))
    assert process.returncode == 3 and "Traceback" not in process.stderr
    [result] = json.loads(process.stdout)["devices"]
    assert result["reason"].startswith("no SSH credentials: set FABRIC_SSH_PASSWORD"), result


def test_deploy_logs_in_with_the_users_default_key(tmp_path: Path, lab_of: Callable[..., Lab]) -> None:
    """README: FABRIC_SSH_PASSWORD, else SSH keys / the agent. With only ~/.ssh/id_ed25519 (the lab's client key)
    the deploy never reached the device (netmiko refused use_keys without a key_file)."""
    inv = generate(tmp_path / "inv", "--kind", "clos", "--spines", "1", "--leaves", "1", "--servers", "1",
                   "--nics-per-server", "1", "--platforms", "sonic")
    lab = lab_of(inv)
    endpoint = lab.endpoint("gpu01")
    edit_yaml(inv / "hosts.yaml", lambda hosts: hosts["gpu01"].update(port=endpoint["port"]))
    (tmp_path / ".ssh").mkdir()
    shutil.copy(lab.client_key, tmp_path / ".ssh" / "id_ed25519")
    process = subprocess.run([FABRIC, "deploy", str(inv), "--dry-run", "--limit", "gpu01", "--known-hosts",
                              str(lab.known_hosts), "--runs-dir", str(tmp_path / "runs"), "--json"],
                             capture_output=True, text=True, timeout=120, env=no_secrets(tmp_path))
    assert process.returncode == 0, process.stdout[-1500:] + process.stderr[-1500:]
    assert results(process)["gpu01"]["status"] == "would-change"


def minimal_copy(tmp_path: Path) -> Path:
    inv = tmp_path / "inv"
    shutil.copytree(INV, inv)
    return inv


def test_inventory_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    """A file saved as Latin-1 (or a stray binary) made validate, and every command that loads an inventory or a
    workload, die with UnicodeDecodeError."""
    inv = minimal_copy(tmp_path)
    (inv / "defaults.yaml").write_bytes(b"port: 22\nusername: adm\xefn\npassword: ${FABRIC_PASSWORD}\n")
    for args in (("validate", inv), ("render", inv, "-o", tmp_path / "out")):
        process = fabric(*args)
        assert process.returncode == 5
        errors = [line for line in process.stderr.splitlines() if line.startswith("error:")]
        assert errors == ["error: defaults.yaml: not UTF-8 text: byte 0xef cannot be decoded; save the file as "
                          "UTF-8 (line 2); fix: correct the YAML at that line"], process.stderr
    workload = tmp_path / "w.yaml"
    workload.write_bytes(b"name: w\ndescription: caf\xe9\n")
    process = fabric("workload", "check", workload)
    assert process.returncode == 5 and "not UTF-8 text" in process.stderr


def test_a_key_named_like_an_emoji_code_is_printed_as_typed(tmp_path: Path) -> None:
    """rich turned ``defaults.yaml:smile:`` into ``defaults.yaml😄``: the message no longer named the key."""
    inv = minimal_copy(tmp_path)
    with (inv / "defaults.yaml").open("a") as f:
        f.write("smile: 1\n")
    process = fabric("validate", inv)
    assert process.returncode == 5
    assert "error: defaults.yaml:smile: unknown key 'smile'" in process.stderr, process.stderr


@pytest.mark.parametrize("load", ["-1", "1.5"])
def test_lab_load_outside_zero_to_line_rate_is_a_usage_error(tmp_path: Path, load: str) -> None:
    """--load -1 started a lab whose counters ran backwards (each collect cycle a discontinuity)."""
    lab = Lab(tmp_path / "lab")
    try:
        process = fabric("lab", "up", INV, "--detach", "--free-ports", "--load", load, "--state-dir", lab.state_dir)
    finally:
        lab.down()  # a lab the bug started
    assert process.returncode == 2 and "--load" in process.stderr


@pytest.mark.parametrize("option", [("--once", "--deadline", "-1"), ("--once", "--deadline", "0"),
                                    ("--interval", "1", "--duration", "-5")])
def test_collect_times_must_be_positive(tmp_path: Path, option: tuple[str, ...]) -> None:
    """--deadline -1 polled every device and failed each with "no answer within -1 s" (exit 3); a negative
    --duration ran a cycle anyway."""
    process = fabric("collect", INV, *option, "--sink", f"jsonl:{tmp_path / 'out.jsonl'}",
                     env={"FABRIC_SNMP_COMMUNITY": "public"}, timeout=60)
    assert process.returncode == 2 and option[-2] in process.stderr
    assert not (tmp_path / "out.jsonl").exists()
