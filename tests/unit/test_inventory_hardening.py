"""Inventory hardening: inputs found by fuzzing that passed validation, rendered unsafely or raised a traceback.

Each case is one clear 'error:' line naming the file/device/key and the fix, exit 5, nothing rendered.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from fabric.cli.main import app
from fabric.inventory.check import load_and_check
from fabric.inventory.yamlfile import read_yaml
from tests.conftest import edit_yaml


def messages(folder: Path) -> list[str]:
    return [str(p) for p in load_and_check(str(folder)).report.errors]


def validate(folder: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["validate", str(folder)])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def iface(hosts: dict, device: str, name: str) -> dict:
    return hosts[device]["data"]["interfaces"][name]


# --------------------------------------------------------------------------- 1. descriptions


@pytest.mark.parametrize("text", ["x\nreload", 'uplink "a"', "back\\slash", "tab\there", "bell\x07"])
def test_description_must_be_one_printable_line(lab_roce, tmp_path, text):
    edit_yaml(lab_roce / "hosts.yaml", lambda h: iface(h, "leaf1", "Ethernet0").update({"description": text}))
    code, output = validate(lab_roce)
    assert code == 5
    assert ("error: hosts.yaml:leaf1.data.interfaces.Ethernet0.description: description must be one line of "
            "printable text without '\"' or '\\'; fix: remove line breaks") in output
    render = CliRunner().invoke(app, ["render", str(lab_roce), "-o", str(tmp_path / "out")])
    assert render.exit_code == 5 and not (tmp_path / "out").exists()


def test_question_mark_in_a_description_typed_into_an_interactive_cli(lab_roce):
    # spine1 is NX-OS, pushed over SSH: '?' there lists the completions instead of being typed; SONiC's JSON takes it
    def change(h: dict) -> None:
        iface(h, "spine1", "Ethernet1/1").update({"description": "to leaf1 (temporary?)"})
        iface(h, "leaf1", "Ethernet0").update({"description": "to spine1 (temporary?)"})

    edit_yaml(lab_roce / "hosts.yaml", change)
    assert messages(lab_roce) == [
        "hosts.yaml:spine1.data.interfaces.Ethernet1/1.description: '?' asks the nxos CLI for help instead of typing "
        "it, so the description would be cut there; fix: remove the '?' (got 'to leaf1 (temporary?)')"]


def test_description_longer_than_switch_clis_take(lab_roce):
    edit_yaml(lab_roce / "hosts.yaml", lambda h: iface(h, "leaf3", "Ethernet1/1").update({"description": "x" * 241}))
    assert messages(lab_roce) == [
        "hosts.yaml:leaf3.data.interfaces.Ethernet1/1.description: description of 241 characters is longer than "
        "switch CLIs take (240); fix: shorten it to 240 characters"]


def test_plain_description_passes(lab_roce):
    edit_yaml(lab_roce / "hosts.yaml", lambda h: iface(h, "leaf1", "Ethernet0").update(
        {"description": "to spine1 Eth1/1 (row 3, rack 12) - 40 m"}))
    assert messages(lab_roce) == []


# --------------------------------------------------------------------------- 2. device and interface names


def _rename_device(hosts: dict, old: str, new: str) -> dict:
    renamed = {new if k == old else k: v for k, v in hosts.items()}
    for entry in renamed.values():
        for port in ((entry.get("data") or {}).get("interfaces") or {}).values():
            if port.get("peer", "").startswith(f"{old}:"):
                port["peer"] = new + port["peer"][len(old):]
    return renamed


@pytest.mark.parametrize("name", ["..", ".", "gpu/01", "gpu:01", "gpu 01", "x" * 300, "-gpu01"])
def test_device_name_is_hostname_like(lab_roce, tmp_path, name):
    path = lab_roce / "hosts.yaml"
    hosts = _rename_device(yaml.safe_load(path.read_text()), "gpu01", name)
    path.write_text(yaml.safe_dump(hosts, sort_keys=False))
    code, output = validate(lab_roce)
    assert code == 5
    assert f"error: hosts.yaml:{name}: device name {name!r} is not a valid name; fix: use 1-63 letters" in output
    assert "peer device 'gpu' is not in the inventory" not in output  # gpu:01 is not read as device 'gpu'
    out = tmp_path / "render" / "out"
    render = CliRunner().invoke(app, ["render", str(lab_roce), "-o", str(out)])
    assert render.exit_code == 5 and not out.parent.exists()


@pytest.mark.parametrize("name", ["ens 1", 'ens"1', "ens\\1", "ens1;reboot", "ens1\n"])
def test_interface_name_has_no_spaces_quotes_or_control_chars(lab_roce, name):
    def change(h):
        interfaces = h["gpu01"]["data"]["interfaces"]
        interfaces[name] = interfaces.pop("ens1np0")
        h["leaf1"]["data"]["interfaces"]["Ethernet8"]["peer"] = f"gpu01:{name}"
    edit_yaml(lab_roce / "hosts.yaml", change)
    found = messages(lab_roce)
    assert f"hosts.yaml:gpu01.data.interfaces.{name}: interface name {name!r} is not a valid name".translate(
        {10: "\\n"}) in " ".join(found)


@pytest.mark.parametrize("base", ["lab-roce", "lab-ib", "examples/minimal"])
def test_shipped_names_pass(base):
    assert messages(Path("inventories") / base) == []


def test_generator_port_names_pass():
    from fabric.inventory.generate import PORT_NAMES
    from fabric.inventory.rules.names import INTERFACE_NAME

    for platform, name in PORT_NAMES.items():
        for n in (1, 12, 64):
            for speed in (10, 25, 40, 50, 100, 200, 400, 800):
                assert INTERFACE_NAME.fullmatch(name(n, speed)), (platform, name(n, speed))


@pytest.mark.parametrize(("first", "second"), [("::1", "0:0::1"), ("Leaf1.mgmt.example.com", "leaf1.mgmt.example.com."),
                                               ("127.0.9.9", "127.0.9.9")])
def test_one_management_address_written_two_ways_is_a_duplicate(lab_roce, first, second):
    def change(h: dict) -> None:
        h["leaf1"]["hostname"], h["leaf2"]["hostname"] = first, second
        h["leaf2"]["port"] = 22  # leaf1 has no port (removed from defaults.yaml): SSH's 22 all the same
    edit_yaml(lab_roce / "hosts.yaml", change)
    edit_yaml(lab_roce / "defaults.yaml", lambda d: d.pop("port"))
    assert messages(lab_roce) == [f"hosts.yaml:leaf2.hostname: management address {second} is also used by leaf1; "
                                  "fix: give every device its own address"]


# --------------------------------------------------------------------------- 3. self links


def test_link_to_itself_is_an_error(lab_roce):
    def change(h):
        iface(h, "leaf1", "Ethernet0")["peer"] = "leaf1:Ethernet8"
        iface(h, "leaf1", "Ethernet8")["peer"] = "leaf1:Ethernet0"
    edit_yaml(lab_roce / "hosts.yaml", change)
    found = messages(lab_roce)
    assert ("leaf1:Ethernet0: the link goes from leaf1 to itself (leaf1:Ethernet8); fix: set peer to the "
            "device:interface at the cable's other end") in found


# --------------------------------------------------------------------------- 4. unknown parent group


def test_unknown_parent_group_names_groups_yaml(lab_roce):
    edit_yaml(lab_roce / "groups.yaml", lambda g: g["servers"].update({"groups": ["nope"]}))
    found = messages(lab_roce)
    assert any(m.startswith("groups.yaml:servers.groups: unknown group 'nope' (line ") and
               "fix: define it in groups.yaml or remove it" in m for m in found)


# --------------------------------------------------------------------------- 5. rdma_device


def test_roce_server_nic_needs_rdma_device(lab_roce):
    edit_yaml(lab_roce / "hosts.yaml", lambda h: iface(h, "gpu01", "ens1np0").pop("rdma_device"))
    found = messages(lab_roce)
    assert ("hosts.yaml:gpu01.data.interfaces.ens1np0.rdma_device: required for a RoCE server NIC (roce.sh "
            "configures QoS and cma_roce_tos by it); fix: set the NIC's RDMA device, e.g. rdma_device: mlx5_0 "
            "(see 'rdma link'), or lossless: false for a port without RoCE traffic") in found


def test_lossy_server_port_needs_no_rdma_device(lab_roce):
    def change(h):
        iface(h, "gpu01", "ens1np0").pop("rdma_device")
        iface(h, "gpu01", "ens1np0")["lossless"] = False
        for device, port in ((d, p) for d, e in h.items() for p, i in e["data"]["interfaces"].items()
                             if i.get("peer") == "gpu01:ens1np0"):
            iface(h, device, port)["lossless"] = False
    edit_yaml(lab_roce / "hosts.yaml", change)
    assert not any("rdma_device" in m for m in messages(lab_roce))


@pytest.mark.parametrize("name", ["mlx5\n0", "mlx5 0", "mlx5_0'", ""])
def test_rdma_device_name_is_one_error_not_a_render_traceback(lab_roce, tmp_path, name):
    # found by fuzzing: validated, then render stopped with an UnsafeValue traceback in roce.sh (cma_roce_tos -d)
    edit_yaml(lab_roce / "hosts.yaml", lambda h: iface(h, "gpu10", "ens2np0").update({"rdma_device": name}))
    code, output = validate(lab_roce)
    assert code == 5
    assert (f"error: hosts.yaml:gpu10.data.interfaces.ens2np0.rdma_device: RDMA device name {name!r} is not a valid "
            "name; fix: write the name 'rdma link' shows") in output
    render = CliRunner().invoke(app, ["render", str(lab_roce), "-o", str(tmp_path / "out")])
    assert render.exit_code == 5 and isinstance(render.exception, SystemExit)


# --------------------------------------------------------------------------- 6. YAML reader


@pytest.mark.parametrize(("text", "expected"), [
    ("a: " + "1" * 5000 + "\n", "YAML syntax error: integer of 5000 characters is too large"),
    ('{"a": ' + "1" * 5000 + "}\n", "YAML syntax error: integer of 5000 characters is too large"),
    ("? [a, b]\n: {hostname: 127.0.9.9}\n", "YAML syntax error: a key must be a plain value, not a list or mapping"),
    ('{"a":' * 100_000 + "1" + "}" * 100_000, "nested too deeply to read"),
    ("[" * 100_000 + "]" * 100_000, "YAML syntax error: exceeded maximum nesting depth"),
])
def test_reader_turns_hostile_yaml_into_one_error(tmp_path, text, expected):
    path = tmp_path / "hosts.yaml"
    path.write_text(text)
    doc = read_yaml(path)
    assert doc.error == expected and doc.data is None


def test_hostile_hosts_yaml_is_one_line_exit_5(lab_roce):
    (lab_roce / "hosts.yaml").write_text('{"a":' * 100_000 + "1" + "}" * 100_000)
    code, output = validate(lab_roce)
    assert code == 5
    assert "error: hosts.yaml: nested too deeply to read; fix: look for unbalanced brackets" in output


def test_merge_keys_are_supported_and_own_keys_win(tmp_path):
    path = tmp_path / "hosts.yaml"
    path.write_text("base: &b {speed_gbps: 400, cable_length_m: 3}\nport:\n  <<: *b\n  cable_length_m: 40\n")
    doc = read_yaml(path)
    assert doc.error is None and doc.duplicates == []
    assert doc.data["port"] == {"speed_gbps": 400, "cable_length_m": 40}
    assert doc.data["port"].lines["cable_length_m"] == 4


def test_merge_keys_keep_the_duplicate_check(tmp_path):
    path = tmp_path / "hosts.yaml"
    path.write_text("base: &b {x: 1}\nh:\n  <<: *b\n  y: 3\n  y: 4\n")
    assert read_yaml(path).duplicates == [("y", 5)]


def test_nested_merges_do_not_grow_exponentially(tmp_path):
    path = tmp_path / "hosts.yaml"
    text = "a0: &a0 {k: 1}\n" + "".join(f"a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}]}}\n" for i in range(1, 80))
    path.write_text(text)
    doc = read_yaml(path)
    assert doc.error is None and doc.data["a79"] == {"k": 1}


def test_merge_keys_in_an_inventory(lab_roce):
    text = (lab_roce / "hosts.yaml").read_text()
    assert "  platform: sonic\n" in text
    text = "_sonic: &sonic\n  platform: sonic\n" + text.replace("  platform: sonic\n", "  <<: *sonic\n", 1)
    (lab_roce / "hosts.yaml").write_text(text.replace("_sonic: &sonic", "x-sonic: &sonic"))
    found = messages(lab_roce)
    assert not any("merge" in m for m in found)


@pytest.mark.parametrize(("written", "read_as"), [("010", "8"), ("on", "True"), ("null", "None"), ("0x1f", "31")])
def test_unquoted_name_yaml_reads_as_a_value_is_one_error(lab_roce, written, read_as):
    # leaf1 renamed to a name YAML 1.1 reads as a number, boolean or null: it became device '8'/'True'/'None'
    # (out/True/config_db.json) and every peer naming it was 'not in the inventory'
    text = (lab_roce / "hosts.yaml").read_text().replace("\nleaf1:\n", f"\n{written}:\n", 1)
    text = re.sub(r"peer: leaf1:(\S+)", rf'peer: "{written}:\1"', text)
    (lab_roce / "hosts.yaml").write_text(text)
    assert messages(lab_roce) == [f"hosts.yaml:{written}: YAML reads the unquoted name '{written}' as {read_as}, not "
                                  f"as text (line 49); fix: quote it: '{written}':"]


def test_names_yaml_reads_back_as_the_same_text_stay(lab_roce):
    text = (lab_roce / "hosts.yaml").read_text().replace("\nleaf1:\n", "\n1001:\n", 1)
    (lab_roce / "hosts.yaml").write_text(re.sub(r"peer: leaf1:(\S+)", r'peer: "1001:\1"', text))
    assert messages(lab_roce) == []


def test_yml_files_are_named_not_ignored(lab_roce):
    # defaults.yml and groups.yml were not read at all: 60 errors about roles and groups, none naming the files
    for name in ("defaults", "groups"):
        (lab_roce / f"{name}.yaml").rename(lab_roce / f"{name}.yml")
    code, output = validate(lab_roce)
    assert code == 5
    assert [line for line in output.splitlines() if line.startswith("error:")] == [
        f"error: {name}.yml: fabric reads {name}.yaml, not {name}.yml; fix: rename {lab_roce / name}.yml to "
        f"{name}.yaml" for name in ("defaults", "groups")]


# --------------------------------------------------------------------------- 7. messages


def test_directory_instead_of_file(lab_roce):
    (lab_roce / "defaults.yaml").unlink()
    (lab_roce / "defaults.yaml").mkdir()
    (line,) = messages(lab_roce)
    assert line == (f"defaults.yaml: is a directory, not a file; fix: replace the directory "
                    f"{lab_roce / 'defaults.yaml'} with the YAML file defaults.yaml")


def test_empty_groups_yaml_does_not_claim_hosts_yaml_is_empty(lab_roce):
    (lab_roce / "groups.yaml").write_text("")
    found = messages(lab_roce)
    assert not any(m.startswith("hosts.yaml: no devices") for m in found)
    assert any(m.startswith("hosts.yaml:gpu01.groups: unknown group 'servers'") for m in found)


def test_empty_hosts_yaml_still_says_no_devices(lab_roce):
    (lab_roce / "hosts.yaml").write_text("")
    assert any(m.startswith("hosts.yaml: no devices") for m in messages(lab_roce))


def test_list_instead_of_mapping_names_the_file(lab_roce):
    (lab_roce / "fabric.yaml").write_text("- name: x\n- transport: roce\n")
    (line,) = messages(lab_roce)
    assert line == ("fabric.yaml: must be a mapping (key: value lines), not a list; fix: write the file as "
                    "indented 'key: value' lines (see the README's inventory example)")
