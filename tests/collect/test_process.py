"""Rates across 32/64-bit wraps, reboots and counter resets: never a negative or absurd rate."""

from __future__ import annotations

from fabric.collect.alerts import AlertThresholds, evaluate
from fabric.collect.process import RateState, counter_delta
from fabric.core.sample import Sample

S = 1_000_000_000
WIDTHS = {("interface", "rx_errors"): 32, ("interface", "rx_octets"): 64, ("pfc", "rx_pfc_frames"): 64,
          ("queue", "drop_pkts"): 64}


def port(ts_s: float, uptime: int, **fields: int) -> list[Sample]:
    ts = int(ts_s * S)
    return [Sample("device", {"device": "d1"}, {"uptime_ticks": uptime}, ts),
            Sample("interface", {"device": "d1", "interface": "e1"}, dict(fields), ts)]


def test_counter_delta_wraps_and_discontinuities() -> None:
    assert counter_delta(10, 25, 32) == 15
    assert counter_delta(2**32 - 100, 50, 32) == 150
    assert counter_delta(2**64 - 1, 4, 64) == 5
    assert counter_delta(5_000_000, 10, 32) is None  # fell by far more than a wrap could explain
    assert counter_delta(5_000_000, 10, 64) is None  # a 64-bit counter that fell: a reset
    assert counter_delta(10, 2**32 - 1000, 32) is None  # a jump of more than half the range


def test_rates_are_kept_next_to_raw_counters() -> None:
    state = RateState(WIDTHS)
    first = state.apply(port(0, 100, rx_errors=10, rx_octets=1000))
    assert "rx_octets_per_s" not in first[1].fields
    second = state.apply(port(2, 300, rx_errors=30, rx_octets=5000))
    assert second[1].fields == {"rx_errors": 30, "rx_octets": 5000, "rx_errors_per_s": 10.0,
                                "rx_octets_per_s": 2000.0}


def test_32_bit_wrap_gives_the_true_rate() -> None:
    state = RateState(WIDTHS)
    state.apply(port(0, 100, rx_errors=2**32 - 500, rx_octets=0))
    fields = state.apply(port(1, 200, rx_errors=500, rx_octets=0))[1].fields
    assert fields["rx_errors_per_s"] == 1000.0 and "discontinuity" not in fields


def test_reboot_is_a_discontinuity_not_a_rate() -> None:
    state = RateState(WIDTHS)
    state.apply(port(0, 100_000, rx_errors=10, rx_octets=10**12))
    rebooted = state.apply(port(1, 50, rx_errors=12, rx_octets=10**12 + 5))[1].fields
    assert rebooted["discontinuity"] is True and not any(k.endswith("_per_s") for k in rebooted)
    after = state.apply(port(2, 150, rx_errors=14, rx_octets=10**12 + 10))[1].fields
    assert after["rx_errors_per_s"] == 2.0 and after["rx_octets_per_s"] == 5.0
    assert state.discontinuities == 1


def test_a_decreasing_64_bit_counter_without_reboot_is_a_discontinuity() -> None:
    state = RateState(WIDTHS)
    state.apply(port(0, 100, rx_errors=10, rx_octets=10**9))
    fields = state.apply(port(1, 200, rx_errors=11, rx_octets=5))[1].fields
    assert fields["discontinuity"] is True and "rx_octets_per_s" not in fields


def test_missing_cycles_make_a_longer_interval() -> None:
    state = RateState(WIDTHS)
    state.apply(port(0, 100, rx_errors=0, rx_octets=0))
    assert state.apply(port(10, 1100, rx_errors=100, rx_octets=0))[1].fields["rx_errors_per_s"] == 10.0


def test_alerts_pfc_storm_and_lossless_drop_only_on_lossless_queues() -> None:
    thresholds = AlertThresholds(pfc_storm_frames_per_s=100, lossless_drop_pkts_per_s=0, lossless_queues=(3,))
    samples = [Sample("pfc", {"device": "d", "interface": "e1", "priority": "3"}, {"rx_pfc_frames_per_s": 500.0}),
               Sample("pfc", {"device": "d", "interface": "e2", "priority": "3"}, {"rx_pfc_frames_per_s": 50.0}),
               Sample("queue", {"device": "d", "interface": "e1", "queue": "3"}, {"drop_pkts_per_s": 1.0}),
               Sample("queue", {"device": "d", "interface": "e1", "queue": "0"}, {"drop_pkts_per_s": 9.0})]
    alerts = evaluate(samples, thresholds)
    assert [(a.tags["rule"], a.tags["interface"]) for a in alerts] == [("pfc_storm", "e1"), ("lossless_drop", "e1")]
    assert alerts[1].tags["queue"] == "3" and "lossless_drop" in str(alerts[1].fields["message"])


def test_line_protocol_escapes_and_types() -> None:
    sample = Sample("alert", {"device": "d 1", "rule": "a,b"}, {"value": 1.5, "n": 3, "message": 'say "x"',
                                                               "flag": True}, 7)
    assert sample.line() == 'alert,device=d\\ 1,rule=a\\,b value=1.5,n=3i,message="say \\"x\\"",flag=true 7'
    assert Sample.from_dict(sample.as_dict()) == sample


def test_cnp_surge_on_a_host_rdma_port() -> None:
    samples = [Sample("nic_rdma", {"device": "gpu1", "rdma_device": "mlx5_0", "port": "1"},
                      {"np_cnp_sent_per_s": 9e4}),
               Sample("nic_rdma", {"device": "gpu2", "rdma_device": "mlx5_0", "port": "1"},
                      {"np_cnp_sent_per_s": 10.0})]
    [alert] = evaluate(samples, AlertThresholds(cnp_surge_per_s=50_000))
    assert alert.tags == {"rule": "cnp_surge", "device": "gpu1", "rdma_device": "mlx5_0", "port": "1"}


def test_alerts_judge_eos_traffic_class_ranges_without_failing() -> None:
    """EOS keys traffic classes sharing a queue as one range (``TC0-2``, ANTA's eAPI data): the ``queue`` tag
    ``0-2`` used to raise ValueError in the alert rules, ending ``fabric collect`` with a traceback. A range is
    lossless only when every class in it is."""
    thresholds = AlertThresholds(lossless_drop_pkts_per_s=0, lossless_queues=(3, 4),
                                 ecn_absent_pause_frames_per_s=100)
    samples = [Sample("queue", {"device": "d", "interface": "e1", "queue": q}, {"drop_pkts_per_s": 5.0})
               for q in ("0-2", "3-4", "2-3", "TC5", "7")]
    samples.append(Sample("pfc", {"device": "d", "interface": "e1", "priority": "3-4"},
                          {"tx_pfc_frames_per_s": 500.0}))
    samples.append(Sample("queue", {"device": "d", "interface": "e1", "queue": "3-4"},
                          {"ecn_marked_pkts_per_s": 0.0}))
    alerts = evaluate(samples, thresholds)
    assert [(a.tags["rule"], a.tags.get("queue", a.tags.get("priority"))) for a in alerts] == [
        ("lossless_drop", "3-4"), ("ecn_absent", "3-4")]


def test_sysuptime_wrapping_after_497_days_is_no_reboot() -> None:
    """sysUpTime is 32-bit TimeTicks: after 2**32 hundredths of a second it starts again from 0. That was taken
    for a reboot: every sample of the switch lost its rates for a cycle and counted a discontinuity."""
    state = RateState(WIDTHS)
    state.apply(port(0, 2**32 - 500, rx_errors=0, rx_octets=0))  # 5 s before the wrap
    after = state.apply(port(10, 500, rx_errors=100, rx_octets=1000))  # 10 s later: 5 s after it
    assert after[1].fields["rx_errors_per_s"] == 10.0 and state.discontinuities == 0
    rebooted = state.apply(port(20, 300, rx_errors=150, rx_octets=1500))  # fell again, 10 s on: a real restart
    assert rebooted[1].fields.get("discontinuity") is True and "rx_errors_per_s" not in rebooted[1].fields


def test_a_device_with_its_own_lossless_priorities_is_judged_by_them() -> None:
    """hosts.yaml may give a device its own ``pfc.priorities``; the alert rules judged every device by
    fabric.yaml's: drops on that device's lossy queue 3 raised lossless_drop, drops on its lossless queue 4 none."""
    thresholds = AlertThresholds(lossless_drop_pkts_per_s=0, lossless_queues=(3,), lossless_by_device={"leaf9": (4,)})
    samples = [Sample("queue", {"device": d, "interface": "e1", "queue": q}, {"drop_pkts_per_s": 5.0})
               for d, q in (("leaf9", "3"), ("leaf9", "4"), ("leaf1", "3"), ("leaf1", "4"))]
    assert [(a.tags["device"], a.tags["queue"]) for a in evaluate(samples, thresholds)] == [("leaf9", "4"),
                                                                                             ("leaf1", "3")]
