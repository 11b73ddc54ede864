"""The pure CLI parsers on the twin's outputs (the real-device outputs are in test_switch_parsers' fixture suite)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fabric.collect.cli_parsers import (
    ParseError,
    Table,
    ethtool_stats,
    nvue_roce_counters,
    rdma_hw_counters,
    sonic_tables,
    sonic_watermark,
    sonic_wredcounters,
)

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(platform: str, name: str) -> str:
    return (FIXTURES / platform / name).read_text()


def test_sonic_wredcounters_every_port_and_queue() -> None:
    samples = sonic_wredcounters(fixture("sonic", "show_queue_wredcounters.txt"), "leaf1", 5)
    assert len(samples) == 10 * 8 and {s.measurement for s in samples} == {"queue"}
    by_key = {(s.tags["interface"], s.tags["queue"]): s.fields for s in samples}
    assert by_key[("Ethernet0", "3")] == {"wred_drop_pkts": 7, "wred_drop_bytes": 0, "ecn_marked_pkts": 1234,
                                          "ecn_marked_bytes": 5054464}
    assert by_key[("Ethernet8", "0")]["wred_drop_pkts"] == 3
    assert sum(int(f["ecn_marked_pkts"]) for f in by_key.values()) == 1234


def test_sonic_watermark_is_a_gauge_per_queue() -> None:
    samples = sonic_watermark(fixture("sonic", "show_queue_watermark_unicast.txt"), "leaf1", 5)
    assert len(samples) == 80
    marks = {(s.tags["interface"], s.tags["queue"]): s.fields["watermark_bytes"] for s in samples}
    assert marks[("Ethernet0", "3")] == 262144 and sum(int(v) for v in marks.values()) == 262144


def test_sonic_tables_keep_spaced_headers_and_comma_numbers() -> None:
    text = "   Port Rx    PFC0\n----------  ------\n Ethernet0   1,234\n\n"
    assert sonic_tables(text) == [Table(["Port Rx", "PFC0"], [{"Port Rx": "Ethernet0", "PFC0": "1,234"}])]


def test_sonic_tables_end_at_the_next_title_and_header() -> None:
    text = ("Title: (Namespace asic0)\n  Port    UC0\n------  -----\n  Eth0      1\nTitle: (Namespace asic1)\n"
            "   Port    UC0\n-------  -----\n  Eth-1      2\n")
    assert [t.rows for t in sonic_tables(text)] == [[{"Port": "Eth0", "UC0": "1"}], [{"Port": "Eth-1", "UC0": "2"}]]


def test_nvue_roce_counters() -> None:
    samples = nvue_roce_counters(fixture("nvue", "nv_show_interface_swp1_qos_roce_counters.json"), "leaf2", "swp1",
                                 3, 3, 5)
    assert [(s.measurement, s.tags, s.fields) for s in samples] == [
        ("pfc", {"device": "leaf2", "interface": "swp1", "priority": "3"},
         {"rx_pause_duration_us": 880, "tx_pause_duration_us": 120}),
        ("queue", {"device": "leaf2", "interface": "swp1", "queue": "3"},
         {"ecn_marked_pkts": 321, "watermark_bytes": 131072})]


def test_ethtool_stats_keep_driver_names() -> None:
    [sample] = ethtool_stats(fixture("linux_mlx5", "ethtool_-S_ens1np0.txt"), "gpu01", "ens1np0", 5)
    assert sample.measurement == "nic_rdma" and sample.tags == {"device": "gpu01", "interface": "ens1np0"}
    assert sample.fields["rx_pause_ctrl_phy"] == 11 and sample.fields["tx_pause_ctrl_phy"] == 22
    assert int(sample.fields["tx_prio3_packets"]) > 0 and "rx_prio3_discards" in sample.fields
    assert ethtool_stats("NIC statistics:\n", "gpu01", "x", 5) == []
    with pytest.raises(ParseError, match=r"^gpu01: cannot parse `ethtool -S x`: no 'NIC statistics:' counters"):
        ethtool_stats("no stats available\n", "gpu01", "x", 5)


def test_rdma_hw_counters_one_sample_per_rdma_port() -> None:
    samples = rdma_hw_counters(fixture("linux_mlx5", "grep_hw_counters.txt"), "gpu01", 5)
    assert [(s.tags["rdma_device"], s.tags["port"]) for s in samples] == [("mlx5_0", "1"), ("mlx5_1", "1")]
    first = samples[0].fields
    assert first["np_cnp_sent"] == 42 and first["np_ecn_marked_roce_packets"] == 99
    assert len(first) == 27 and all(isinstance(v, int) for v in first.values())
