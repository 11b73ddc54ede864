"""Loading: Nornir inheritance, and one clear line per file problem."""

from pathlib import Path

import yaml

from fabric.inventory import load_inventory
from tests.conftest import edit_yaml


def messages(folder: Path) -> list[str]:
    return [str(p) for p in load_inventory(folder).report]


def test_shipped_inventories_load_clean():
    for name in ("lab-roce", "lab-ib"):
        result = load_inventory(Path("inventories") / name)
        assert result.fabric is not None
        assert result.report.problems == []


def test_inheritance_host_then_groups_then_defaults(lab_roce):
    fabric = load_inventory(lab_roce).fabric
    gpu = fabric.devices["gpu01"]
    assert gpu.platform == "linux_mlx5"  # from group servers
    assert gpu.username == "fabric"  # group beats defaults
    assert gpu.password == "${FABRIC_PASSWORD}"  # from defaults
    assert gpu.role == "server"  # data key from group
    assert fabric.devices["leaf3"].port == 443  # host beats defaults
    assert fabric.devices["leaf1"].port == 22


def test_first_group_wins_and_parents_follow(lab_ib):
    edit_yaml(lab_ib / "groups.yaml", lambda g: g["spines"].update({"platform": "opensm"}))
    fabric = load_inventory(lab_ib).fabric
    assert fabric.devices["spine1"].platform == "opensm"  # spines listed before its parent 'switches'
    assert fabric.devices["leaf1"].platform == "ib_switch"  # from parent group


def test_yaml_syntax_error_names_file_and_line(lab_roce):
    (lab_roce / "groups.yaml").write_text("spines:\n  data: {role: spine\nleaves: x\n")
    (line,) = messages(lab_roce)
    assert line.startswith("groups.yaml: YAML syntax error") and "(line " in line


def test_duplicate_key_reported_with_line(lab_roce):
    text = (lab_roce / "hosts.yaml").read_text()
    (lab_roce / "hosts.yaml").write_text(text + "leaf1:\n  hostname: 127.0.9.9\n")
    assert any(m.startswith("hosts.yaml:leaf1: duplicate key") and "line" in m for m in messages(lab_roce))


def test_unknown_key_suggests_nearest(lab_roce):
    edit_yaml(lab_roce / "hosts.yaml", lambda h: h["leaf1"]["data"]["interfaces"]["Ethernet0"].update(
        {"cable_lenght_m": 3}))
    (line,) = messages(lab_roce)
    assert line.startswith("hosts.yaml:leaf1.data.interfaces.Ethernet0.cable_lenght_m: unknown key")
    assert "did you mean 'cable_length_m'?" in line


def test_wrong_type_and_unit(lab_roce):
    def change(h):
        h["leaf1"]["data"]["interfaces"]["Ethernet0"]["cable_length_m"] = "40ft"
        h["leaf1"]["data"]["interfaces"]["Ethernet8"]["speed_gbps"] = "fast"
    edit_yaml(lab_roce / "hosts.yaml", change)
    found = messages(lab_roce)
    assert any("Ethernet0.cable_length_m: unit 'ft' is not valid" in m for m in found)
    assert any("Ethernet8.speed_gbps: expected a port speed" in m for m in found)


def test_missing_required_field_after_inheritance(lab_roce):
    edit_yaml(lab_roce / "hosts.yaml", lambda h: h["gpu01"].update({"groups": []}))
    found = messages(lab_roce)
    assert any(m.startswith("hosts.yaml:gpu01.platform: required key is missing") for m in found)
    assert any(m.startswith("hosts.yaml:gpu01.data.role: required key is missing") for m in found)


def test_plaintext_password_points_to_env_form(lab_roce):
    edit_yaml(lab_roce / "defaults.yaml", lambda d: d.update({"password": "hunter2"}))
    (line,) = messages(lab_roce)
    assert line.startswith("defaults.yaml:password: plaintext secret") and "${ENV_VAR}" in line
    assert "hunter2" not in line


def test_missing_files_and_folder(tmp_path):
    assert next(str(p) for p in load_inventory(tmp_path / "nope").report).endswith("inventory folder not found; "
                                                                                 "fix: pass the folder holding "
                                                                                 "hosts.yaml and fabric.yaml")
    found = messages(tmp_path)
    assert any(m.startswith("fabric.yaml: file is missing") for m in found)
    assert any(m.startswith("hosts.yaml: file is missing") for m in found)


def test_unknown_group(lab_roce):
    edit_yaml(lab_roce / "hosts.yaml", lambda h: h["leaf1"].update({"groups": ["leaves", "lefs"]}))
    assert any(m.startswith("hosts.yaml:leaf1.groups: unknown group 'lefs'") for m in messages(lab_roce))


def test_json_subset_hosts_load_like_block_yaml(lab_roce, tmp_path):
    from fabric.inventory.write import dump_json_subset

    block = load_inventory(lab_roce).fabric
    data = yaml.safe_load((lab_roce / "hosts.yaml").read_text())
    (lab_roce / "hosts.yaml").write_text(dump_json_subset(data))
    assert yaml.safe_load((lab_roce / "hosts.yaml").read_text()) == data  # still YAML
    fast = load_inventory(lab_roce)
    assert fast.report.problems == [] and fast.fabric.devices == block.devices


def test_json_subset_duplicates_and_bad_keys_still_reported(lab_roce):
    text = '{\n"leaf1": {"hostname": "127.0.9.1", "platform": "sonic"},\n"leaf1": {"hostname": "127.0.9.2"},\n' \
           '"leaf2": {"hostnme": "127.0.9.3"}\n}\n'
    (lab_roce / "hosts.yaml").write_text(text)
    found = messages(lab_roce)
    assert "hosts.yaml:leaf1: duplicate key; fix: keep one definition (names must be unique)" in found
    assert any(m.startswith("hosts.yaml:leaf2.hostnme: unknown key") for m in found)
