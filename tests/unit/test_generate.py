"""fabric inventory generate: generated inventories load and validate clean, and are wired as promised."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from fabric.cli.main import app
from fabric.core.asic import ASICS
from fabric.intent.check import validate_inventory
from fabric.inventory import Fabric, load_inventory
from fabric.inventory.check import load_and_check
from fabric.inventory.generate import (
    SERVER_HOSTS,
    SWITCH_HOSTS,
    ShapeError,
    address,
    generate,
)
from fabric.inventory.write import dump_yaml, write_inventory

runner = CliRunner()
ALL_ROCE = ["sonic", "nvue", "eos", "nxos", "comware", "huawei_ce"]

# (id, positional arguments of generate, keyword arguments)
CASES: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("clos-all-platforms", ("clos", 2, 6, 24, 2, ALL_ROCE), {}),
    ("clos-100g-servers", ("clos", 3, 4, 10, 3, ["comware", "huawei_ce"]), {"server_speed_gbps": 100}),
    ("clos-single-homed", ("clos", 2, 3, 7, 1, ["eos", "nxos"]), {"uplink_speed_gbps": 800,
                                                                  "server_speed_gbps": 200}),
    ("rail-sonic-eos", ("rail", 4, 8, 30, 4, ["sonic", "eos"]), {}),
    ("rail-planes", ("rail", 8, 16, 64, 8, ["nvue", "nxos", "huawei_ce", "comware"]), {"spine_planes": 8}),
    ("rail-servers-per-leaf", ("rail", 2, 6, 9, 2, ["sonic"]), {"servers_per_leaf": 4}),
    ("clos-infiniband", ("clos", 2, 4, 8, 1, []), {"transport": "infiniband"}),
    ("rail-infiniband", ("rail", 4, 8, 16, 4, ["ib_switch"]), {"transport": "infiniband", "spine_planes": 2}),
]

PORT_PATTERNS = {
    "sonic": r"Ethernet(0|[1-9][0-9]*)",
    "nvue": r"swp[1-9][0-9]*",
    "eos": r"Ethernet[1-9][0-9]*/1",
    "nxos": r"Ethernet1/[1-9][0-9]*",
    "comware": r"(HundredGigE|TwoHundredGigE|FourHundredGigE|EightHundredGigE)1/0/[1-9][0-9]*",
    "huawei_ce": r"(100|200|400|800)GE1/0/[1-9][0-9]*",
    "ib_switch": r"[1-9][0-9]*",
    "linux_mlx5": r"(ens[1-9][0-9]*np0|ib[0-9]+)",
    "opensm": r"ib[0-9]+",
}


@pytest.fixture(params=CASES, ids=[c[0] for c in CASES])
def generated(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    _, args, kwargs = request.param
    files = generate(*args, **kwargs)
    write_inventory(files, tmp_path / "inv")
    return tmp_path / "inv", {"args": args, "kwargs": kwargs}


def _fabric(folder: Path) -> Fabric:
    loaded = load_inventory(folder)
    assert loaded.fabric is not None
    return loaded.fabric


def test_loads_with_zero_problems_and_validates(generated: tuple[Path, dict[str, Any]]) -> None:
    folder, _ = generated
    loaded = load_inventory(folder)
    assert loaded.fabric is not None
    assert [str(p) for p in loaded.report] == []
    checked = load_and_check(str(folder))
    assert [str(p) for p in checked.report] == []
    validated = validate_inventory(str(folder))  # intent rules too: headroom budget, ECN below XOFF
    assert validated.report.ok, [str(p) for p in validated.report]


def test_links_are_symmetric_with_equal_speeds(generated: tuple[Path, dict[str, Any]]) -> None:
    fabric = _fabric(generated[0])
    links = 0
    for device in fabric.devices.values():
        for name, iface in device.interfaces.items():
            assert iface.peer is not None
            peer_name, peer_if = iface.peer.split(":", 1)
            other = fabric.devices[peer_name].interfaces[peer_if]
            assert other.peer == f"{device.name}:{name}"
            assert (other.speed_gbps, other.cable_length_m) == (iface.speed_gbps, iface.cable_length_m)
            links += 1
    assert links % 2 == 0 and links > 0


def test_cables_ports_and_platforms_are_plausible(generated: tuple[Path, dict[str, Any]]) -> None:
    fabric = _fabric(generated[0])
    uplink_cables = set()
    for device in fabric.devices.values():
        for name, iface in device.interfaces.items():
            assert re.fullmatch(PORT_PATTERNS[device.platform], name), (device.platform, name)
            peer = fabric.devices[iface.peer.split(":")[0]]  # type: ignore[union-attr]
            if {device.role, peer.role} == {"leaf", "spine"}:
                assert 30 <= iface.cable_length_m <= 100
                uplink_cables.add(iface.cable_length_m)
            else:
                assert iface.cable_length_m == 3
        if device.role in ("server", "sm"):
            assert device.platform in ("linux_mlx5", "opensm")
        elif fabric.spec.transport == "roce":
            assert device.asic in ASICS
        else:
            assert device.platform == "ib_switch"
    assert len(uplink_cables) > 1


def test_switch_platforms_round_robin(tmp_path: Path) -> None:
    hosts = generate("clos", 3, 6, 6, 2, ALL_ROCE)["hosts.yaml"]
    switches = [h["platform"] for n, h in hosts.items() if n.startswith(("spine", "leaf"))]
    assert switches == ALL_ROCE + ALL_ROCE[:3]
    assert {h["data"]["asic"] for h in hosts.values() if "asic" in h["data"]} <= set(ASICS)


def test_infiniband_adds_a_subnet_manager_and_guids() -> None:
    files = generate("rail", 2, 4, 8, 2, [], transport="infiniband")
    hosts = files["hosts.yaml"]
    assert hosts["sm1"]["platform"] == "opensm" and hosts["sm1"]["data"]["role"] == "sm"
    assert files["groups.yaml"]["switches"] == {"platform": "ib_switch"}
    guids = [i["port_guid"] for h in hosts.values() for i in h["data"]["interfaces"].values() if "port_guid" in i]
    assert len(guids) == 8 * 2 + 1 == len(set(guids))


def test_rail_nic_k_goes_to_rail_leaf_k_of_its_pod(tmp_path: Path) -> None:
    write_inventory(generate("rail", 8, 24, 70, 8, ALL_ROCE, spine_planes=8), tmp_path)
    fabric = _fabric(tmp_path)
    servers = [d for d in fabric.devices.values() if d.role == "server"]
    assert len(servers) == 70
    pods = set()
    for server in servers:
        assert server.pod is not None
        pods.add(server.pod)
        for k, iface in enumerate(server.interfaces.values()):
            leaf = fabric.devices[iface.peer.split(":")[0]]  # type: ignore[union-attr]
            assert (leaf.role, leaf.pod, leaf.rail) == ("leaf", server.pod, k)
    assert pods == {0, 1, 2}
    for leaf in (d for d in fabric.devices.values() if d.role == "leaf"):  # plane = rail: spines of one plane
        spines = {i.peer.split(":")[0] for i in leaf.interfaces.values() if i.peer.startswith("spine")}  # type: ignore[union-attr]
        assert spines == {f"spine{leaf.rail + 1}"}


def test_clos_every_leaf_reaches_every_spine_and_servers_use_consecutive_leaves() -> None:
    hosts = generate("clos", 3, 4, 4, 2, ["sonic"])["hosts.yaml"]
    for n in range(1, 5):
        peers = [i["peer"].split(":")[0] for i in hosts[f"leaf{n}"]["data"]["interfaces"].values()]
        assert peers[:3] == ["spine1", "spine2", "spine3"]
    homes = {s: [i["peer"].split(":")[0] for i in hosts[s]["data"]["interfaces"].values()]
             for s in ("gpu01", "gpu02", "gpu03")}
    assert homes == {"gpu01": ["leaf1", "leaf2"], "gpu02": ["leaf3", "leaf4"], "gpu03": ["leaf1", "leaf2"]}


def test_management_addresses_are_distinct_at_scale() -> None:
    switches = {address(SWITCH_HOSTS, i) for i in range(20_000)}
    servers = {address(SERVER_HOSTS, i) for i in range(100_000)}
    assert len(switches) == 20_000 and len(servers) == 100_000
    assert not switches & servers
    assert "127.0.0.1" not in switches | servers
    octets = [[int(o) for o in a.split(".")] for a in switches | servers]
    assert all(o[0] == 127 and 0 < o[1] < 256 and 0 <= o[2] < 256 and 0 < o[3] < 255 for o in octets)


@pytest.mark.slow
def test_bench_scale_fabric_is_consistent() -> None:
    """The benchmark's 2,048 switches and 8,192 servers: distinct addresses, every link seen from both ends."""
    hosts = generate("rail", 512, 1536, 8192, 8, ALL_ROCE, spine_planes=8, uplink_speed_gbps=200)["hosts.yaml"]
    assert len(hosts) == 2048 + 8192
    assert len({h["hostname"] for h in hosts.values()}) == len(hosts)
    ends = {(name, port) for name, h in hosts.items() for port in h["data"]["interfaces"]}
    peers = {tuple(i["peer"].split(":", 1)) for h in hosts.values() for i in h["data"]["interfaces"].values()}
    assert ends == peers and len(ends) == 2 * (8192 * 8 + 1536 * 64)


def test_passwords_are_references() -> None:
    files = generate("clos", 1, 2, 2, 1, ["eos"])
    assert files["defaults.yaml"]["password"] == "${FABRIC_PASSWORD}"
    assert all("password" not in h for h in files["hosts.yaml"].values())


def test_deterministic_byte_identical(tmp_path: Path) -> None:
    for out in ("a", "b"):
        write_inventory(generate("rail", 8, 16, 40, 4, ALL_ROCE, spine_planes=4), tmp_path / out)
    for name in ("fabric.yaml", "hosts.yaml", "groups.yaml", "defaults.yaml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_dump_yaml_matches_pyyaml_and_round_trips() -> None:
    for files in (generate("clos", 2, 4, 8, 2, ALL_ROCE), generate("clos", 2, 2, 4, 1, [], transport="infiniband")):
        for data in files.values():
            text = dump_yaml(data)
            assert text == yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=120)
    tricky = {"s": ["yes", "1", "0x8001", "1.5", "a: b", "x:", "it's", "#c", "~", "", "null", "tab\tx", "-"],
              1: {}, "e": [], "f": 2.5, "b": False, "n": None, "l": [{"k": "v", "w": [1, 2]}]}
    assert yaml.safe_load(dump_yaml(tricky)) == tricky


@pytest.mark.parametrize(("args", "kwargs", "where", "message"), [
    (("clos", 2, 4, 8, 2, ["sonic", "junos"]), {}, "--platforms", "unknown platform 'junos'"),
    (("clos", 2, 4, 8, 2, ["linux_mlx5"]), {}, "--platforms", "'linux_mlx5' is not a switch platform on roce"),
    (("clos", 2, 4, 8, 2, ["sonic"]), {"transport": "infiniband"}, "--platforms",
     "not a switch platform on infiniband"),
    (("clos", 2, 4, 8, 2, ["sonic"]), {"spine_planes": 2}, "--kind", "shape rail fabrics only"),
    (("rail", 2, 6, 8, 4, ["sonic"]), {}, "--leaves", "6 leaves do not form pods of 4 rail leaves"),
    (("rail", 2, 8, 100, 4, ["sonic"]), {"servers_per_leaf": 32}, "--servers", "2 pods of 32 servers hold 64"),
    (("rail", 3, 8, 8, 4, ["sonic"]), {"spine_planes": 2}, "--spine-planes", "do not divide 3 spines"),
    (("clos", 0, 4, 8, 2, ["sonic"]), {}, "--spines", "must be at least 1"),
    (("clos", 2, 4, 8, 2, ["sonic"]), {"server_speed_gbps": 300}, "--server-speed", "300 Gb/s is not a port speed"),
    (("mesh", 2, 4, 8, 2, ["sonic"]), {}, "--kind", "unknown kind 'mesh'"),
    (("clos", 2, 2, 200, 2, ["sonic"]), {}, "--leaves", "not enough leaf ports: leaf1 (sonic) needs 202 ports"),
    (("clos", 1, 129, 1, 1, ["eos"]), {}, "--spines", "not enough spine ports: spine1 (eos) needs 129 ports"),
])
def test_bad_shapes_are_problems(args: tuple[Any, ...], kwargs: dict[str, Any], where: str, message: str) -> None:
    with pytest.raises(ShapeError) as raised:
        generate(*args, **kwargs)
    assert any(p.where == where and message in p.message for p in raised.value.problems), raised.value.problems
    assert all(p.fix for p in raised.value.problems)


# --------------------------------------------------------------------------- CLI

GOOD = ["inventory", "generate", "--kind", "rail", "--spines", "4", "--leaves", "8", "--servers", "32",
        "--nics-per-server", "4", "--platforms", "sonic,eos,nvue"]


def test_cli_generates_a_valid_inventory(tmp_path: Path) -> None:
    out = tmp_path / "inv"
    result = runner.invoke(app, [*GOOD, "--name", "pod-a", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "4 spines, 8 leaves, 32 servers" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["defaults.yaml", "fabric.yaml", "groups.yaml", "hosts.yaml"]
    assert yaml.safe_load((out / "fabric.yaml").read_text())["name"] == "pod-a"
    assert runner.invoke(app, ["validate", str(out)]).exit_code == 0


def test_cli_infiniband_needs_no_platforms(tmp_path: Path) -> None:
    args = ["inventory", "generate", "--kind", "clos", "--spines", "2", "--leaves", "4", "--servers", "8",
            "--nics-per-server", "1", "--transport", "infiniband", "-o", str(tmp_path / "ib")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["validate", str(tmp_path / "ib")]).exit_code == 0


def test_cli_same_arguments_same_bytes(tmp_path: Path) -> None:
    for out in ("a", "b"):
        assert runner.invoke(app, [*GOOD, "-o", str(tmp_path / out)]).exit_code == 0
    assert (tmp_path / "a" / "hosts.yaml").read_bytes() == (tmp_path / "b" / "hosts.yaml").read_bytes()


def _one_line_error(result: Any) -> str:
    assert result.exit_code == 5, result.output
    assert isinstance(result.exception, SystemExit)  # typer.Exit, not a crash
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


@pytest.mark.parametrize(("change", "expected"), [
    (("--platforms", "sonic,junos"), "unknown platform 'junos'; fix: valid roce switch platforms: comware, eos, "
                                     "huawei_ce, nvue, nxos, sonic"),
    (("--leaves", "6"), "--leaves: 6 leaves do not form pods of 4 rail leaves"),
    (("--servers", "1000"), "--leaves: not enough leaf ports"),
    (("--kind", "mesh"), "--kind: unknown kind 'mesh'"),
    (("--transport", "ethernet"), "--transport: unknown transport 'ethernet'"),
])
def test_cli_bad_arguments_exit_5_with_one_line(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    args = [*GOOD, "--transport", "roce"]
    args[args.index(change[0]) + 1] = change[1]
    line = _one_line_error(runner.invoke(app, [*args, "-o", str(tmp_path / "inv")]))
    assert expected in line
    assert not (tmp_path / "inv").exists()


def test_cli_refuses_a_non_empty_folder_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "inv"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    line = _one_line_error(runner.invoke(app, [*GOOD, "-o", str(out)]))
    assert "folder is not empty; fix: pass --force" in line
    assert not (out / "hosts.yaml").exists()
    result = runner.invoke(app, [*GOOD, "-o", str(out), "--force"])
    assert result.exit_code == 0, result.output
    assert (out / "hosts.yaml").exists() and (out / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(("args", "where"), [
    (("clos", 5000, 5000, 2, 1, ["sonic", "eos"]), "--spines"),
    (("clos", 2, 4, 10**20, 1, ["sonic"]), "--servers"),
])
def test_shapes_too_big_to_wire_are_refused_from_their_counts(args: tuple[Any, ...], where: str) -> None:
    """25 M links (or 1e20 servers) used to be wired before the port check ran: minutes, or no end."""
    with pytest.raises(ShapeError) as raised:
        generate(*args)
    assert any(p.where == where for p in raised.value.problems), raised.value.problems
