"""Readers on state objects built by the dialects' own parsers (no sessions): the unit conversions and derivations
a round trip of fabric's configs does not reach, each checked against a hand calculation."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from fabric.core.asic import ASICS
from fabric.intent import build_intent
from fabric.inventory import load_inventory
from fabric.lab.applied import applied_knobs, knobs_from_json, knobs_to_json
from fabric.lab.applied.eos import Settings, _settings, _trusts_dscp
from fabric.lab.applied.linux_mlx5 import headroom
from fabric.lab.applied.nvue import alpha
from fabric.lab.device import LabDevice
from fabric.lab.dialects import DIALECTS
from fabric.lab.dialects.nvue_model import set_path
from fabric.lab.dialects.sonic_db import merge, validate
from fabric.lab.eos_state import EosState, load
from fabric.lab.physics.knobs import DeviceKnobs, EcnKnobs, WatchdogKnobs
from fabric.lab.serve import build_devices
from fabric.render import render_device
from tests.conftest import INVENTORIES, copy_inventory, edit_yaml


@pytest.fixture(scope="module")
def devices() -> dict[str, LabDevice]:
    return build_devices(str(INVENTORIES / "lab-roce"))


def fresh(devices: dict[str, LabDevice], name: str) -> LabDevice:
    """A copy of the booted device (the module's devices stay factory-fresh)."""
    device = devices[name]
    copy = dataclasses.replace(device)
    copy.config = EosState(name, device.inventory.interfaces) if device.platform == "eos" else \
        DIALECTS[device.platform].initial_config(copy)
    return copy


def test_mlx5_headroom_is_port_buffer_c_by_hand(devices: dict[str, LabDevice]) -> None:
    nic = devices["gpu01"].config.netdevs["ens1np0"]
    nic = dataclasses.replace(nic, mtu=9000)
    # (301 + 2.16 x 7 m) x 200 Gb/s + 2.72 x 9000 B, in kernel integer steps
    assert headroom(nic) == (301 + 15) * 200 + 24480 == 87680
    slow = dataclasses.replace(nic, speed_gbps=25)  # below 40G the driver uses 40G
    assert headroom(slow) == (301 + 15) * 40 + 24480


def test_sonic_null_profile_gets_buffermgrd_headroom(devices: dict[str, LabDevice]) -> None:
    device = fresh(devices, "leaf1")
    device.config.db = merge(device.config.db, {
        "DEVICE_METADATA": {"localhost": {"buffer_model": "dynamic"}},
        "PORT": {"Ethernet16": {"mtu": "9100"}},
        "CABLE_LENGTH": {"AZURE": {"Ethernet16": "5m"}},
        "PORT_QOS_MAP": {"Ethernet16": {"pfc_enable": "3"}},
        "BUFFER_PG": {"Ethernet16|3": {"profile": "NULL"}}})
    port = applied_knobs(device).ports["Ethernet16"]
    # Spectrum-3, 200G (4 lanes), 5 m, MTU 9100, lossless MTU 1024, 50 % small packets (reference §1.3):
    # cell 144 > 128 -> worst_case_factor ceil(144/64) = 3; small_pkt_pct_by_byte = 6400/((50*64+50*1024)/100)
    # = 11.765; occupancy = (100 - 11.765 + 3 * 11.765)/100 = 1.2353; cable 2*5*200e9/1.98e8/8000 = 1262.6;
    # peer response 453 quanta * 64 B = 28992; delay = 9100 + 1262.6 + 819.2 (mac/phy) + 28992 = 40173.8;
    # xoff = ceil_1024(1024 + 40173.8 * 1.2353) = 51200, + 2048 (the all-small-packet case, 121856, is larger)
    # = 53248; xon = ceil_1024(19 KiB pipeline) = 19456
    assert (port.headroom_bytes, port.xon_bytes, port.dynamic_alpha) == (53248, 19456, 1.0)


def test_nvue_roce_mode_expands_as_cumulus_documents(devices: dict[str, LabDevice]) -> None:
    device = fresh(devices, "leaf2")
    assert isinstance(device.config.applied, dict)
    device.config.applied = set_path(device.config.applied, ["qos", "roce", "mode", "lossless"])
    knobs = applied_knobs(device)
    port = knobs.ports["swp3"]
    assert knobs.trust == "dscp" and knobs.queue_of(26) == 3 and knobs.queue_of(48) == 6
    assert port.pfc_priorities == frozenset({3}) and port.ecn == {3: EcnKnobs(150_000, 1_500_000, 1.0)}
    assert port.headroom_bytes > 0  # from cable-length 100 on Spectrum-4
    assert [alpha(n) for n in ("alpha_1_8", "alpha_2", "alpha_infinity", "beta")] == [0.125, 2.0, float("inf"), None]
    lossy = fresh(devices, "leaf2")
    lossy.config.applied = set_path(lossy.config.applied, ["qos", "roce", "mode", "lossy"])
    assert applied_knobs(lossy).ports["swp3"].pfc_priorities == frozenset()
    assert applied_knobs(lossy).ports["swp3"].ecn[3].kmin_bytes == 150_000


def test_eos_ecn_units_and_watchdog_timers(devices: dict[str, LabDevice]) -> None:
    device = fresh(devices, "leaf3")
    load(device.config.running, [
        "priority-flow-control pause watchdog default timeout 0.3", "priority-flow-control pause watchdog action drop",
        "qos profile WD1", "priority-flow-control on", "priority-flow-control priority 3 no-drop",
        "priority-flow-control pause watchdog",
        "priority-flow-control pause watchdog port timer timeout 0.05 polling-interval auto recovery-time 1.5",
        "priority-flow-control pause watchdog port action notify-only",
        "uc-tx-queue 3", "random-detect ecn minimum-threshold 2000 segments maximum-threshold 1 milliseconds", "exit",
        "qos profile WD2", "priority-flow-control on", "priority-flow-control priority 3 no-drop",
        "priority-flow-control pause watchdog",
        "interface Ethernet3/1", "service-profile WD1", "interface Ethernet4/1", "service-profile WD2",
        "interface Ethernet5/1", "no switchport", "interface Ethernet6/1", "no switchport", "no qos trust", "end"])
    knobs = applied_knobs(device)
    first, second = knobs.ports["Ethernet3/1"], knobs.ports["Ethernet4/1"]
    cell = ASICS["tomahawk4"].cell_bytes
    speed = devices["leaf3"].inventory.interfaces["Ethernet3/1"].speed_gbps
    assert first.ecn[3] == EcnKnobs(2000 * cell, round(speed * 1e9 / 8 / 1000), 1.0)  # no probability: 100 %
    assert first.watchdog == WatchdogKnobs(50, 1500, "alert")
    assert second.watchdog == WatchdogKnobs(300, 200, "drop")  # the global default timeout, default recovery
    assert knobs.ports["Ethernet1/1"].watchdog is None
    assert knobs.trust == "pcp"  # most ports are switched: CoS
    interfaces = {c.header: c for c in device.config.running.children.values()}
    routed, untrusted = (_settings(interfaces[f"interface Ethernet{n}/1"]) for n in (5, 6))
    assert _trusts_dscp(routed, routed) and not _trusts_dscp(untrusted, untrusted)
    assert not _trusts_dscp(Settings(), Settings())


def test_json_codec_round_trips_and_unknown_platforms_default(devices: dict[str, LabDevice]) -> None:
    for name in ("leaf1", "gpu01"):
        knobs = applied_knobs(devices[name])
        assert knobs_from_json(knobs_to_json(knobs)) == knobs
    leaf = devices["leaf1"]
    onyx = dataclasses.replace(leaf, inventory=leaf.inventory.model_copy(update={"platform": "onyx"}))
    assert applied_knobs(onyx) == DeviceKnobs(device="leaf1")


def test_cache_follows_a_replaced_state_and_not_a_stale_one(devices: dict[str, LabDevice]) -> None:
    device = fresh(devices, "leaf1")
    first = applied_knobs(device)
    assert applied_knobs(device) is first  # unchanged CONFIG_DB: the cached knobs
    device.config.db = merge(device.config.db, {"PORT": {"Ethernet0": {"mtu": "9000"}}})
    assert applied_knobs(device).ports["Ethernet0"].mtu == 9000


def test_sonic_ecn_needs_wred_enabled_for_green(devices: dict[str, LabDevice]) -> None:
    device = fresh(devices, "leaf1")
    profile = {"ecn": "ecn_all", "green_min_threshold": "150000", "green_max_threshold": "1500000",
               "green_drop_probability": "5"}
    device.config.db = merge(device.config.db, {"WRED_PROFILE": {"P": profile}, "QUEUE": {"Ethernet0|3-4": {
        "wred_profile": "P"}}})
    assert applied_knobs(device).ports["Ethernet0"].ecn == {}  # what ecnconfig alone leaves (reference §9.3)
    device.config.db = merge(device.config.db, {"WRED_PROFILE": {"P": {"wred_green_enable": "true"}}})
    assert applied_knobs(device).ports["Ethernet0"].ecn == dict.fromkeys((3, 4), EcnKnobs(150_000, 1_500_000, 0.05))


def typed(device: LabDevice, lines: list[str]) -> list[str]:
    """Lines typed into one session of the device's own CLI dialect (in process: the parser, not a transport)."""
    session = DIALECTS[device.platform](device, "admin")
    return [session.handle(line) for line in lines]


def test_view_cli_static_thresholds_in_cells(devices: dict[str, LabDevice]) -> None:
    comware, huawei = fresh(devices, "leaf4"), fresh(devices, "spine2")
    port = "HundredGigE1/0/1"
    typed(comware, ["system-view", "priority-flow-control deadlock precision high",
                    "priority-flow-control deadlock cos 3 interval 20", f"interface {port}",
                    "priority-flow-control enable", "priority-flow-control no-drop dot1p 3",
                    "priority-flow-control dot1p 3 ingress-buffer static 400",
                    "priority-flow-control dot1p 3 ingress-threshold-offset 40",
                    "priority-flow-control deadlock enable"])
    got = applied_knobs(comware).ports[port]
    cell = ASICS["trident3"].cell_bytes
    assert (got.xoff_bytes, got.xon_bytes, got.pfc_priorities) == (400 * cell, 360 * cell, frozenset({3}))
    assert got.watchdog == WatchdogKnobs(20 * 10, 1500, "forward")  # high precision: 10 ms units
    typed(huawei, ["system-view", "dcb pfc", "priority 3 4", "quit", "interface 100GE1/0/4",
                   "dcb pfc enable mode manual",
                   "dcb pfc buffer 3 xoff static 1500 cells", "dcb pfc buffer 3 xon-offset 200 cells",
                   "dcb pfc buffer 3 xon 100 cells", "quit", "dcb pfc deadlock-detect timer 150", "commit"])
    got = applied_knobs(huawei).ports["100GE1/0/4"]
    cell = ASICS["tomahawk3"].cell_bytes
    # the effective XON is max(xon, xoff - xon-offset) (display dcb pfc buffer)
    assert (got.xoff_bytes, got.xon_bytes, got.pfc_priorities) == (1500 * cell, 1300 * cell, frozenset({3, 4}))
    assert got.watchdog == WatchdogKnobs(150, 200, "drop")  # recovery timer unset: the knobs default


def test_nvue_explicit_pfc_buffer(devices: dict[str, LabDevice]) -> None:
    device = fresh(devices, "leaf2")
    tree = device.config.applied
    for words in (["qos", "pfc", "P", "switch-priority", "3"], ["qos", "pfc", "P", "port-buffer", "25000"],
                  ["qos", "pfc", "P", "xoff-threshold", "10000"], ["qos", "pfc", "P", "xon-threshold", "2000"],
                  ["interface", "swp3", "qos", "pfc", "profile", "P"]):
        tree = set_path(tree, words)
    device.config.applied = tree
    got = applied_knobs(device).ports["swp3"]
    # Cumulus qos_features.conf: XOFF at xoff_size of the port buffer, XON xon_delta below, the rest headroom
    assert (got.xoff_bytes, got.xon_bytes, got.headroom_bytes) == (10_000, 8_000, 15_000)


@pytest.mark.parametrize("trust", ["dscp", "pcp"])
def test_sonic_reads_the_trust_fabric_renders(devices: dict[str, LabDevice], tmp_path: Path, trust: str) -> None:
    """leaf1's rendered config_db.json, loaded as ``config load`` would: DSCP_TO_TC_MAP bound is DSCP trust,
    DOT1P_TO_TC_MAP bound (no DSCP map) is PCP trust."""
    inventory = copy_inventory("lab-roce", tmp_path)
    edit_yaml(inventory / "fabric.yaml", lambda f: f["qos"].update(trust=trust))
    fabric = load_inventory(inventory).fabric
    assert fabric is not None
    rendered = render_device(build_intent(fabric)["leaf1"]).files["config_db.json"]
    device = fresh(devices, "leaf1")
    device.config.db = merge(device.config.db, json.loads(rendered))
    validate(device.config.db)
    knobs = applied_knobs(device)
    assert knobs.trust == trust
    if trust == "pcp":
        assert {knobs.queue_of(dscp) for dscp in range(64)} == {0}  # nothing classified by DSCP
    else:
        assert knobs.queue_of(26) == 3 and knobs.queue_of(48) == 6
