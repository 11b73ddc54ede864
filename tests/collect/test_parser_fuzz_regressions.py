"""Parser inputs found by fuzzing: each used to give a silently wrong or empty answer."""

from __future__ import annotations

import json

import pytest

from fabric.collect.cli_parsers import ParseError, ethtool_stats, nvue_roce_counters, sonic_pfc_counters, sonic_tables
from fabric.collect.switch_parsers import comware_queues


def test_sonic_a_blank_line_inside_a_table_keeps_the_rows_after_it() -> None:
    text = ("  Port    UC0\n------  -----\n  Eth0      1\n\n  Eth4      2\n\n"
            "   Port Rx    PFC0\n----------  ------\n Ethernet0       7\n")
    assert [t.rows for t in sonic_tables(text)] == [
        [{"Port": "Eth0", "UC0": "1"}, {"Port": "Eth4", "UC0": "2"}], [{"Port Rx": "Ethernet0", "PFC0": "7"}]]


def test_sonic_pfc_counters_with_blank_lines_between_and_inside_tables() -> None:
    text = ("    Port Rx    PFC3\n-----------  ------\n  Ethernet0       1\n\n  Ethernet4       2\n\n"
            "    Port Tx    PFC3\n-----------  ------\n  Ethernet0       3\n\n  Ethernet4       4\n")
    samples = sonic_pfc_counters(text, "leaf1", 5)
    assert {(s.tags["interface"], s.tags["priority"]): s.fields for s in samples} == {
        ("Ethernet0", "3"): {"rx_pfc_frames": 1, "tx_pfc_frames": 3},
        ("Ethernet4", "3"): {"rx_pfc_frames": 2, "tx_pfc_frames": 4}}


def test_ethtool_negative_counter_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match=r"^gpu01: cannot parse `ethtool -S ens1`: counter rx_pause is negative"):
        ethtool_stats("NIC statistics:\n     rx_pause: -5\n     tx_pause: 3\n", "gpu01", "ens1", 5)


def _nvue(pause: object, usage: object) -> str:
    return json.dumps({"rx-stats": {"rx-pfc-stats": {"pause-duration": pause}},
                       "tx-stats": {"tx-roce-stats": {"tc-max-usage": usage},
                                    "tx-ecn-stats": {"ecn-marked-packets": 4}}})


@pytest.mark.parametrize(("pause", "usage", "pause_us", "usage_bytes"), [
    ("10 us", "1.5 KiB", 10, 1536), ("2 ms", "1 MiB", 2000, 1 << 20), ("1 s", "2 GiB", 1_000_000, 2 << 30),
    ("7", "3 KB", 7, 3072), (880, "16 B", 880, 16)])
def test_nvue_units_become_bytes_and_microseconds(pause: object, usage: object, pause_us: int,
                                                  usage_bytes: int) -> None:
    pfc, queue = nvue_roce_counters(_nvue(pause, usage), "leaf2", "swp1", 3, 3, 5)
    assert pfc.fields == {"rx_pause_duration_us": pause_us}
    assert queue.fields == {"ecn_marked_pkts": 4, "watermark_bytes": usage_bytes}


@pytest.mark.parametrize(("pause", "usage", "bad"), [
    ("10 furlongs", "1 KiB", "rx_pause_duration_us"), ("10 us", "1.5 parsecs", "watermark_bytes"),
    ("10 KiB", "1 KiB", "rx_pause_duration_us"), ("10 us", "10 us", "watermark_bytes"), (-5, "1 KiB", "rx_pause")])
def test_nvue_unknown_unit_or_negative_is_a_parse_error(pause: object, usage: object, bad: str) -> None:
    with pytest.raises(ParseError, match=rf"^leaf2: cannot parse `nv show interface swp1 .*{bad}"):
        nvue_roce_counters(_nvue(pause, usage), "leaf2", "swp1", 3, 3, 5)


def test_comware_unknown_queue_layout_is_a_parse_error_not_nothing() -> None:
    text = ("Interface: HundredGigE1/0/1\n Direction: outbound\n Queue ID: 3\n"
            "  Forwarded: 10 packets, 1000 bytes\n  Dropped: 0 packets, 0 bytes\n")
    with pytest.raises(ParseError, match=r"^sw1: cannot parse `display qos queue-statistics interface outbound`: "
                                         r"unknown queue heading 'Queue ID: 3'"):
        comware_queues(text, "sw1", 5)
    with pytest.raises(ParseError, match=r"unknown counter line 'Forwarded: 10 pkts'"):
        comware_queues("Interface: HGE1/0/1\n Direction: outbound\n Queue 3\n  Forwarded: 10 pkts\n", "sw1", 5)
    with pytest.raises(ParseError, match=r"no 'Queue <n>' block read; unknown line 'QueueID3 10 1000'"):
        comware_queues("Interface: HGE1/0/1\n Direction: outbound\n QueueID3 10 1000\n", "sw1", 5)
    assert comware_queues("Interface: HGE1/0/1\n Direction: outbound\n", "sw1", 5) == []
