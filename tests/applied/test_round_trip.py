"""Applied knobs round trip: fabric's rendered lab-roce configs, pushed through each platform's real CLI client
(netmiko / napalm, as tests/lab drives them), read back by ``fabric.lab.applied`` inside the twin (control op
``knobs``) and compared with the intent they were rendered from. Units that a CLI rounds (NX-OS kbytes, H3C
cells, Huawei kbytes) are allowed one unit of difference; platform timers the intent cannot set are asserted as
the platform's own values, so a change in either direction shows up.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from fabric.core.asic import ASICS
from fabric.intent.models import DeviceIntent
from fabric.lab.control import Lab
from fabric.lab.physics.knobs import WatchdogKnobs
from tests.applied.clients import HOST, PUSH, knobs, rendered
from tests.conftest import INVENTORIES

SWITCHES = {"sonic": "leaf1", "nvue": "leaf2", "eos": "leaf3", "comware": "leaf4", "nxos": "spine1",
            "huawei_ce": "spine2"}


@dataclass(frozen=True)
class Pushed:
    lab: Lab
    intents: dict[str, DeviceIntent]


@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pushed]:
    """A twin of this module's own, with the rendered lab-roce config of one device per platform pushed."""
    intents, texts = rendered()
    lab = Lab(tmp_path_factory.mktemp("applied")).up(INVENTORIES / "lab-roce", free_ports=True)
    try:
        with ThreadPoolExecutor(len(PUSH)) as pool:
            futures = {name: pool.submit(push, lab, texts[name]) for name, push in PUSH.items()}
        for name, future in futures.items():
            if isinstance(future.exception(), ValueError):  # netmiko lost a prompt while the twin was busy with
                PUSH[name](lab, texts[name])  # seven sessions on two cores: the push is idempotent, type it again
            else:
                future.result()
        yield Pushed(lab, intents)
    finally:
        lab.down()


# -- what each platform is expected to show ---------------------------------------------------------------------

# (ECN threshold unit, headroom unit) in bytes: what one step of the platform's CLI number is worth.
def units(platform: str, intent: DeviceIntent) -> tuple[int, int]:
    cell = ASICS[intent.buffers.asic].cell_bytes if intent.buffers else 1
    return {"nxos": (1024, 1), "comware": (cell, cell), "huawei_ce": (1, 1024)}.get(platform, (1, 1))


def watchdog(platform: str, intent: DeviceIntent) -> WatchdogKnobs:
    """The intent's timers where the platform's CLI takes them; the platform's own defaults otherwise."""
    assert intent.pfc is not None
    wd = intent.pfc.watchdog
    own = {
        # Cumulus: detection = polling x robustness; it restores after one polling interval
        "nvue": WatchdogKnobs(wd.poll_ms * wd.robustness, wd.poll_ms, "drop"),
        # NX-OS: watch-dog-interval on only; 100 ms poll x shutdown 1 / auto-restore 10 multipliers
        "nxos": WatchdogKnobs(100, 1000, "drop"),
        # H3C: interval/delay not rendered (15 x 100 ms), auto-recover action discard
        "comware": WatchdogKnobs(1500, 1500, "drop"),
    }
    return own.get(platform, WatchdogKnobs(wd.detect_ms, wd.restore_ms, wd.action))


@pytest.mark.parametrize("platform", sorted(SWITCHES))
def test_switch_applies_its_intent(pushed: Pushed, platform: str) -> None:
    name = SWITCHES[platform]
    intent = pushed.intents[name]
    applied = knobs(pushed.lab, name)
    assert intent.qos is not None and intent.pfc is not None and intent.ecn is not None
    ecn_unit, headroom_unit = units(platform, intent)
    assert applied.trust == intent.qos.trust
    for dscp in range(64):
        assert applied.queue_of(dscp) == intent.qos.tc_to_queue[intent.qos.dscp_to_tc[dscp]], dscp
    profiles = {p.name: p for p in intent.ecn.profiles}
    buffers = {b.interface: b for b in intent.buffers.ports} if intent.buffers else {}
    for port in intent.interfaces:
        got = applied.ports[port.name]
        assert (got.mtu, got.speed_gbps) == (port.mtu, port.speed_gbps), port.name
        if not port.lossless:
            continue
        assert got.pfc_priorities == frozenset(intent.pfc.priorities), port.name
        assert got.watchdog == watchdog(platform, intent), port.name
        want = profiles[intent.ecn.ports[port.name]]
        ecn = got.ecn[intent.ecn.queue]
        assert 0 <= ecn.kmin_bytes - want.kmin_bytes < ecn_unit and 0 <= ecn.kmax_bytes - want.kmax_bytes < ecn_unit
        assert ecn.pmax == pytest.approx(want.pmax_percent / 100)
        assert set(got.ecn) == {intent.ecn.queue}, port.name
        if port.name in buffers:
            assert 0 <= got.headroom_bytes - buffers[port.name].xoff_bytes < headroom_unit, port.name


def test_sonic_reads_profiles_and_the_dynamic_pool(pushed: Pushed) -> None:
    intent = pushed.intents["leaf1"]
    applied = knobs(pushed.lab, "leaf1")
    assert intent.buffers is not None
    for port in intent.buffers.ports:
        got = applied.ports[port.interface]
        alpha = 2.0 ** intent.buffers.dynamic_th
        assert (got.xon_bytes, got.xoff_bytes, got.dynamic_alpha) == (port.xon_bytes, None, alpha), port.interface
    assert applied.buffer_bytes == intent.buffers.buffer_bytes - intent.buffers.total_headroom_bytes


def test_host_applies_its_intent(pushed: Pushed) -> None:
    intent = pushed.intents[HOST]
    nic = intent.nic
    applied = knobs(pushed.lab, HOST)
    assert nic is not None and applied.dcqcn is not None
    assert applied.trust == "dscp" and applied.roce_dscp == nic.roce_dscp == nic.roce_tos >> 2
    assert applied.queue_of(nic.roce_dscp) == nic.prio_tc[nic.lossless_priority]
    assert applied.queue_of(nic.cnp_dscp) == nic.prio_tc[nic.cnp_priority]
    for port in nic.ports:
        got = applied.ports[port.interface]
        assert (got.mtu, got.pfc_priorities) == (port.mtu, frozenset([nic.lossless_priority]))
        assert got.xoff_bytes is not None and got.xon_bytes == got.xoff_bytes - port.mtu and got.headroom_bytes > 0
    dcqcn = applied.dcqcn
    assert set(nic.np_enable_priorities) <= dcqcn.np_enabled_priorities  # mlx5 boots with all eight enabled
    assert set(nic.rp_enable_priorities) <= dcqcn.rp_enabled_priorities
    rp, np = nic.rp_params, nic.np_params
    assert (dcqcn.rpg_time_reset_us, dcqcn.rpg_byte_reset, dcqcn.rpg_ai_rate_mbps, dcqcn.rpg_hai_rate_mbps,
            dcqcn.rpg_min_rate_mbps, dcqcn.rpg_min_dec_fac, dcqcn.dce_tcp_g, dcqcn.initial_alpha_value) == (
        rp["rpg_time_reset"], rp["rpg_byte_reset"], rp["rpg_ai_rate"], rp["rpg_hai_rate"], rp["rpg_min_rate"],
        rp["rpg_min_dec_fac"], rp["dce_tcp_g"], rp["initial_alpha_value"])
    assert (dcqcn.min_time_between_cnps_us, dcqcn.cnp_dscp, dcqcn.cnp_priority) == (
        np["min_time_between_cnps"], nic.cnp_dscp, nic.cnp_priority)
