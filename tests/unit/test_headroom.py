"""SONiC dynamic headroom: checked against a hand calculation of buffer_headroom_mellanox.lua."""

import math

import pytest

from fabric.core.asic import ASICS
from fabric.core.headroom import cable_text, is_8lane, pause_threshold, sonic_headroom, sonic_profile_name


def hand_xoff(cell, speed_mbps, cable_m, port_mtu, lossless_mtu, spp, mac_phy=0.8 * 1024, quanta=None):
    """The Lua steps written out once more, independently, for the test."""
    wcf = math.ceil(cell / 64) if cell > 128 else math.ceil(2 * cell / (1 + cell))
    by_byte = 100 * 64 / ((spp * 64 + (100 - spp) * lossless_mtu) / 100)
    occupancy = (100 - by_byte + by_byte * wcf) / 100
    cable = 2 * cable_m * speed_mbps * 1e9 / 198e6 / 8000
    delay = port_mtu + cable + mac_phy + quanta * 64
    return math.ceil((lossless_mtu + delay * occupancy) / 1024) * 1024, delay


def test_spectrum2_100g_5m_matches_hand_calculation():
    # cell 144 -> worst-case factor ceil(2.25) = 3; 50 % small packets of 64 B vs 1024 B MTU
    # -> 11.76 % by bytes -> occupancy 1.2353; cable 631.3 B; peer response 394 quanta * 64 = 25216 B;
    # delay = 9100 + 631.3 + 819.2 + 25216 = 35766.5 B; xoff = ceil_1024(1024 + 44182) = 46080;
    # all-small-packet worst case (occupancy 3) is far above, so SONiC adds 2 KiB -> 48128.
    xoff, delay = hand_xoff(144, 100_000, 5, 9100, 1024, 50, quanta=394)
    assert delay == pytest.approx(35766.5, abs=0.1)
    assert xoff == 46080
    got = sonic_headroom(ASICS["spectrum2"], 100, 5, 9100, 1024, 50)
    assert got.xoff == xoff + 2048
    assert got.xon == 19456  # ceil_1024(19 KiB pipeline latency)
    assert got.size == got.xoff + got.xon


def test_longer_cable_needs_more_headroom():
    asic = ASICS["spectrum3"]
    sizes = [sonic_headroom(asic, 100, m, 9216, 1024, 50).xoff for m in (1, 5, 40, 100, 300)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]


def test_all_small_packets_is_worst_case():
    asic = ASICS["spectrum2"]
    assert sonic_headroom(asic, 100, 40, 9100, 1024, 100).xoff > sonic_headroom(asic, 100, 40, 9100, 1024, 50).xoff


def test_8lane_port_doubles_pipeline_and_adds_mtu():
    asic = ASICS["spectrum3"]  # 50G lanes: 400G uses 8 lanes
    assert is_8lane(asic, 400) and not is_8lane(ASICS["spectrum4"], 400)
    got = sonic_headroom(asic, 400, 5, 9216, 1024, 50)
    assert got.xon == 38912
    assert got.size == math.ceil((got.xoff + got.xon + 9216) / 1024) * 1024


def test_shared_headroom_pool_size_is_xon_only():
    got = sonic_headroom(ASICS["spectrum2"], 100, 5, 9100, 1024, 50, shared_headroom_pool=True)
    assert got.size == got.xon


def test_spectrum6_adds_18k_to_xoff():
    base = sonic_headroom(ASICS["spectrum4"], 200, 5, 9216, 1024, 100)
    s6 = sonic_headroom(ASICS["spectrum6"], 200, 5, 9216, 1024, 100)
    assert s6.xoff - 18 * 1024 >= 0 and s6.xoff > base.xoff


def test_profile_names_follow_buffermgrd():
    assert sonic_profile_name(100, 5, 9100, 0) == "pg_lossless_100000_5m_profile"
    assert sonic_profile_name(400, 40, 9216, 0) == "pg_lossless_400000_40m_mtu9216_profile"
    assert sonic_profile_name(200, 3, 9100, -1) == "pg_lossless_200000_3m_th-1_profile"
    assert cable_text(2.5) == "3m"


def test_pause_threshold_shrinks_with_alpha_and_congestion():
    assert pause_threshold(1000, 0, 0, 1) == 500
    assert pause_threshold(1000, 0, -1, 1) == 333
    assert pause_threshold(1000, 0, 0, 3) == 250
    assert pause_threshold(1000, 2000, 0, 1) == 0
