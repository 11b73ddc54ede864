"""The CLI parsers on fixture folders, napalm style: each ``<name>.expected.json`` names the command (looked up
in the collector's own table, so the wiring is tested too), the port for per-port commands, and the samples the
output must give, typed by hand from the text. ``*.real-*`` outputs come from real devices as published (vendor
manuals, the vendors' own test suites, write-ups of real switches); their ``source`` names where. ``*.variant.*``
outputs are real-device layouts the twin does not print (other column widths, ``1,234`` numbers, abbreviated and
sub-interface names, drop-time stamps with a space, CONTROL QoS boxes, inbound blocks, drop precedences)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fabric.collect.alerts import AlertThresholds, evaluate
from fabric.collect.cli_parsers import ParseError, number, sonic_pfc_counters, sonic_queue_counters
from fabric.collect.cli_source import CLI_COMMANDS, LOSSLESS_PRIORITY, Parse, whole
from fabric.collect.process import RateState
from fabric.collect.switch_parsers import WIDTHS, eos_ecn, eos_pfc, eos_queues, expand, nxos_pfc, nxos_queuing
from fabric.core.sample import FieldValue, Sample

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED = sorted(FIXTURES.glob("*/*.expected.json"))
# parsers of commands the collector's table does not run (SONiC's SNMP agent already serves these counters; EOS's
# port totals come with the per-priority ``detail`` form the collector runs)
UNWIRED: dict[str, dict[str, Parse]] = {
    "sonic": {"show pfc counters": whole(sonic_pfc_counters), "show queue counters": whole(sonic_queue_counters)},
    "eos": {"show priority-flow-control counters": whole(eos_pfc)}}


def rows(samples: list[Sample]) -> list[tuple[str, dict[str, str], dict[str, FieldValue]]]:
    return [(s.measurement, s.tags, s.fields) for s in samples]


@pytest.mark.parametrize("line_end", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("expected", EXPECTED, ids=lambda p: f"{p.parent.name}/{p.name.split('.expected')[0]}")
def test_fixture_gives_the_expected_samples(expected: Path, line_end: str) -> None:
    """Each output as stored, and with the CRLF line ends a network OS may send over SSH."""
    spec = json.loads(expected.read_text())
    stem = expected.name.removesuffix(".expected.json")
    [output] = [p for p in (expected.parent / f"{stem}.txt", expected.parent / f"{stem}.json") if p.exists()]
    parse = {**dict(CLI_COMMANDS[expected.parent.name]), **UNWIRED.get(expected.parent.name, {})}[spec["command"]]
    got = parse(output.read_text().replace("\n", line_end), "dev", spec["port"], 5, LOSSLESS_PRIORITY)
    assert rows(got) == [(s["measurement"], s["tags"], s["fields"]) for s in spec["samples"]]
    assert all(s.ts_ns == 5 for s in got)


def test_every_platform_has_expected_samples_and_real_outputs_name_their_source() -> None:
    assert {p.parent.name for p in EXPECTED} == set(CLI_COMMANDS)
    real = [p for p in EXPECTED if ".real-" in p.name]
    for path in real:
        source = json.loads(path.read_text())["source"]
        assert source.get("url") or (source.get("repo") and source.get("path")), path.name
        assert source.get("what"), path.name
    assert {p.parent.name for p in real} == set(CLI_COMMANDS)
    assert len(real) >= 16


def test_eos_eapi_results_from_the_twin() -> None:
    pfc = {(s.tags["interface"], s.tags["priority"]): s.fields
           for s in eos_pfc((FIXTURES / "eos/show_priority-flow-control_counters_detail.json").read_text(), "d", 5)}
    assert len(pfc) == 10 * 8 and pfc[("Ethernet2/1", "3")] == {"rx_pfc_frames": 31337, "tx_pfc_frames": 7}
    queues = {(s.tags["interface"], s.tags["queue"]): s.fields
              for s in eos_queues((FIXTURES / "eos/show_interfaces_counters_queue.json").read_text(), "d", 5)}
    assert len(queues) == 80 and queues[("Ethernet2/1", "3")] == {
        "tx_pkts": 516571574, "tx_bytes": 2115877534991, "drop_pkts": 9, "drop_bytes": 9000}
    ecn = {(s.tags["interface"], s.tags["queue"]): s.fields["ecn_marked_pkts"]
           for s in eos_ecn((FIXTURES / "eos/show_qos_interfaces_ecn_counters_queue.json").read_text(), "d", 5)}
    assert ecn[("Ethernet2/1", "3")] == 4444 and sum(int(v) for v in ecn.values()) == 4444
    totals = eos_pfc(json.dumps({"interfaceCounters": {"Ethernet1/1": {"rxFrames": 3, "txFrames": 4}}}), "d", 5)
    assert rows(totals) == [("interface", {"device": "d", "interface": "Ethernet1/1"},
                             {"rx_pfc_frames": 3, "tx_pfc_frames": 4})]


def test_nxos_queuing_from_the_twin() -> None:
    text = (FIXTURES / "nxos/show_queuing_interface_Ethernet1_2.txt").read_text()
    got = {(s.measurement, s.tags.get("queue", s.tags.get("priority"))): s.fields
           for s in nxos_queuing(text, "spine1", "Ethernet1/2", 5)}
    assert len(got) == 16
    assert got[("queue", "3")] == {"tx_pkts": 516571574, "tx_bytes": 2115877534991, "drop_pkts": 12, "drop_bytes": 0,
                                   "depth_bytes": 65536, "ecn_marked_pkts": 777}
    assert got[("pfc", "3")] == {"rx_pfc_frames": 9876, "tx_pfc_frames": 54321}
    totals = nxos_pfc((FIXTURES / "nxos/show_interface_priority-flow-control.txt").read_text(), "spine1", 5)
    assert [s.fields for s in totals if s.tags["interface"] == "Ethernet1/2"] == [
        {"rx_pfc_frames": 9876, "tx_pfc_frames": 54321}]


def test_numbers_and_names() -> None:
    assert [number(t) for t in ("1,234", "0", "--", "-", "12%", "N/A")] == [1234, 0, None, None, None, None]
    assert expand("HGE1/0/1", {"HGE": "HundredGigE"}) == "HundredGigE1/0/1"
    assert expand("HundredGigE1/0/1", {"HGE": "HundredGigE"}) == "HundredGigE1/0/1"
    assert expand("Eth1/2", {"Eth": "Ethernet"}) == "Ethernet1/2" and expand("mgmt0", {"Eth": "Ethernet"}) == "mgmt0"


def test_blank_output_gives_nothing_and_garbage_one_error_line_naming_device_and_command() -> None:
    for platform, commands in CLI_COMMANDS.items():
        for command, parse in commands:
            assert parse("", "leaf9", "p1", 5, 3) == [] and parse(" \n", "leaf9", "p1", 5, 3) == []
            with pytest.raises(ParseError) as caught:
                parse("% Invalid input detected at '^' marker.\n", "leaf9", "p1", 5, 3)
            message = str(caught.value)
            assert message.startswith(f"leaf9: cannot parse `{command.format(port='p1')}`: "), (platform, message)
            assert "\n" not in message and "Invalid input" in message


def test_eos_cli_alone_feeds_the_ecn_before_pfc_alert() -> None:
    """EOS's eAPI gives pauses per priority and ECN marks per queue: enough for ``ecn_absent`` without SNMP."""
    def cycle(second: int, sent: int, marked: int) -> list[Sample]:
        pfc = {"interfaces": {"Ethernet1/1": {"priorities": {"3": {"rxFrames": 0, "txFrames": sent}}}}}
        ecn = {"intfQueueCounters": {"Ethernet1/1": {"queueCounters": {"3": marked}}}}
        ts = second * 1_000_000_000
        return eos_pfc(json.dumps(pfc), "leaf3", ts) + eos_ecn(json.dumps(ecn), "leaf3", ts)

    state, thresholds = RateState(dict(WIDTHS)), AlertThresholds(ecn_absent_pause_frames_per_s=100)
    rules = [[(a.tags["rule"], a.tags["interface"]) for a in evaluate(state.apply(samples), thresholds)]
             for samples in (cycle(0, 0, 0), cycle(1, 5000, 0), cycle(2, 10000, 40))]
    assert rules == [[], [("ecn_absent", "Ethernet1/1")], []]


def test_eos_ecn_queue_without_ecn_gives_nothing() -> None:
    """EOS prints ``"-"`` for a queue ECN is not configured on (ANTA's VerifyInterfacesECNCounters skips it)."""
    doc = {"intfQueueCounters": {"Ethernet1/1": {"queueCounters": {"0": "-", "3": "1234", "4": 7}}}}
    got = {s.tags["queue"]: s.fields for s in eos_ecn(json.dumps(doc), "d", 5)}
    assert got == {"3": {"ecn_marked_pkts": 1234}, "4": {"ecn_marked_pkts": 7}}


def test_nxos_pfc_table_with_a_pg_column_is_read_from_the_row_end() -> None:
    """Newer NX-OS heads the table ``COS QOS Group PG TxPause TxCount RxPause RxCount`` (layout as in the
    OpenTelemetry collector's Cisco receiver tests); the counts are the last cells, whatever precedes them."""
    rule = "-" * 60
    text = (f"PFC Statistics\n{rule}\nTxPPP:                    11, RxPPP:                    12\n{rule}"
            "\nCOS QOS Group        PG   TxPause   TxCount         RxPause         RxCount\n"
            "   0         -         -  Inactive         0        Inactive               0\n"
            f"   3         3         3  Active       1,007        Active                 8\n{rule}\n")
    assert rows(nxos_queuing(text, "d", "Ethernet2/1", 5)) == [
        ("pfc", {"device": "d", "interface": "Ethernet2/1", "priority": "0"}, {"rx_pfc_frames": 0, "tx_pfc_frames": 0}),
        ("pfc", {"device": "d", "interface": "Ethernet2/1", "priority": "3"},
         {"rx_pfc_frames": 8, "tx_pfc_frames": 1007})]


def test_header_only_outputs_give_no_samples() -> None:
    """A switch with no PFC port or no queue yet prints the header alone: no samples, not an error."""
    pfc_header = "=" * 60 + "\nPort               Mode Oper(VL bmap)  RxPPP      TxPPP\n" + "=" * 60 + "\n\n"
    wred_header = ("     Port    TxQ    WredDrp/pkts    WredDrp/bytes    EcnMarked/pkts    EcnMarked/bytes\n"
                   "---------  -----  --------------  ---------------  ----------------  -----------------\n")
    comware = "Interface     AdminMode OperMode Dot1pList     Prio Recv         Send         Inpps      Outpps\n"
    assert nxos_pfc(pfc_header, "d", 5) == []
    assert dict(CLI_COMMANDS["sonic"])["show queue wredcounters"](wred_header, "d", "", 5, 3) == []
    assert dict(CLI_COMMANDS["comware"])["display priority-flow-control interface"](comware, "d", "", 5, 3) == []
    assert eos_pfc(json.dumps({"interfaceCounters": {}}), "d", 5) == []


def test_nvue_json_with_humanised_sizes() -> None:
    doc = {"tx-stats": {"tx-roce-stats": {"tc-max-usage": "1.5 KB"}, "tx-ecn-stats": {"ecn-marked-packets": "12"}}}
    [queue] = dict(CLI_COMMANDS["nvue"])["nv show interface {port} qos roce counters -o json"](
        json.dumps(doc), "d", "swp1", 5, 3)
    assert queue.tags["queue"] == "3" and queue.fields == {"ecn_marked_pkts": 12, "watermark_bytes": 1536}


def test_comware_priority_column_headed_p() -> None:
    """H3C's 2023 PFC command reference opens the output with the legend ``Conf -- Configured mode Ne -- Negotiated
    mode P -- Priority`` (https://h3c.com/en/d_202303/1790563_294551_0.htm; the stored page stops before the table):
    the priority column is then headed ``P``. The table below is laid out from that legend, not copied."""
    text = ("Conf -- Configured mode   Ne -- Negotiated mode   P -- Priority\n"
            "Interface     Conf     Ne       Dot1pList   P  Recv       Send       Inpps      Outpps\n"
            "HGE1/0/1      Enabled  Enabled  3           3  1,234      56         0          0\n")
    assert rows(dict(CLI_COMMANDS["comware"])["display priority-flow-control interface"](text, "d", "", 5, 3)) == [
        ("pfc", {"device": "d", "interface": "HundredGigE1/0/1", "priority": "3"},
         {"rx_pfc_frames": 1234, "tx_pfc_frames": 56})]


def test_nxos_pfc_counters_found_by_header_position() -> None:
    """Counters are located from the row's end by the header, so a trailing single-word column is not misread."""
    text = ("Port               Mode Oper(VL bmap)  RxPPP      TxPPP     Status\n"
            "Ethernet1/1        Auto On  (8)        1,204      88        ok\n")
    assert [s.fields for s in nxos_pfc(text, "d", 5)] == [{"rx_pfc_frames": 1204, "tx_pfc_frames": 88}]
