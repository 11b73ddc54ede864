"""Bad workload files give one-line errors naming the file and the key; bad fits to an inventory too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from fabric.core.units import Bytes as InventoryBytes
from fabric.core.units import Millis as InventoryMillis
from fabric.lab.workload import Host, WorkloadError, load_workload
from fabric.lab.workload.schema import Bytes as WorkloadBytes
from fabric.lab.workload.schema import Seconds

GOOD_INCAST = """\
name: t
duration_s: 1
phases:
  - kind: incast
    fan_in: 4
    size_bytes: 64KB
    period_s: 1ms
"""

BAD = [
    # (file text, expected prefix of the error after the path, words the message must hold)
    (GOOD_INCAST.replace("fan_in: 4", "fan_in: 1"), "phases[0].fan_in:", "greater than or equal to 2"),
    (GOOD_INCAST.replace("fan_in: 4", "fanin: 4"), "phases[0].fanin:", "unknown key"),
    (GOOD_INCAST.replace("kind: incast", "kind: incastt"), "phases[0].kind:", "set kind to one of"),
    (GOOD_INCAST.replace("duration_s: 1\n", ""), "duration_s:", "required key is missing"),
    (GOOD_INCAST.replace("period_s: 1ms", "period_s: 1 fortnight"), "phases[0].period_s:", "time in seconds"),
    (GOOD_INCAST.replace("size_bytes: 64KB", "size_bytes: 64 parsecs"), "phases[0].size_bytes:", "unit"),
    (GOOD_INCAST + "    start_s: 0.5\n    stop_s: 0.2\n", "phases[0].stop_s:", "after start_s"),
    (GOOD_INCAST + "    cycle: {period_s: 1, on_s: 2}\n", "phases[0].cycle.on_s:", "<= cycle.period_s"),
    (GOOD_INCAST + GOOD_INCAST.split("phases:\n")[1], "phases[1].name:", "used twice"),
    ("name: t\nduration_s: 1\nphases:\n  - kind: websearch\n    load: 0.4\n    cdf: websearch2\n",
     "phases[0].cdf:", "did you mean 'websearch'"),
    ("name: t\nduration_s: 1\nphases:\n  - kind: hadoop\n    load: 0.4\n    cdf: [[0, 0], [100, 50], [90, 100]]\n",
     "phases[0].cdf:", "increase strictly"),
    ("name: t\nduration_s: 1\nphases:\n  - kind: hadoop\n    load: 1.5\n", "phases[0].load:",
     "less than or equal to 1"),
    ("name: t\nduration_s: 1\nphases: []\n", "phases:", "at least 1"),
    ("name: t\nduration_s: [1\n", "", "YAML syntax error"),
]

GOOD_LLM = """\
name: t
duration_s: 1
phases:
  - kind: llm_training
    tp: 8
    pp: 2
    dp: 1
    parameters: 1B
    hidden_size: 2048
    stage_compute_s: 1ms
    iteration_s: 0.5
"""
GOOD_ALLREDUCE = "name: t\nduration_s: 1\nphases:\n  - kind: allreduce\n    size_bytes: 1MB\n"
HADOOP_CDF = "name: t\nduration_s: 1\nphases:\n  - kind: hadoop\n    load: 0.4\n    cdf: {}\n"
FINITE = "finite number"

# Found by fuzzing: each loaded, then crashed (OverflowError, numpy's "Maximum allowed size exceeded",
# MemoryError) or never finished at the first tick; now a one-line error at load time.
NOT_FINITE_OR_TOO_SMALL = [
    (GOOD_INCAST.replace("64KB", ".inf"), "phases[0].size_bytes:", FINITE),
    (GOOD_INCAST.replace("64KB", "1" + "0" * 400), "phases[0].size_bytes:", "too large"),
    (GOOD_INCAST.replace("duration_s: 1", "duration_s: .inf"), "duration_s:", FINITE),
    (GOOD_INCAST.replace("duration_s: 1", "duration_s: 1e400"), "duration_s:", FINITE),
    (GOOD_INCAST.replace("duration_s: 1", "duration_s: 1e-300"), "duration_s:", "greater than or equal to 0.001"),
    (GOOD_INCAST.replace("period_s: 1ms", "period_s: .inf"), "phases[0].period_s:", FINITE),
    (GOOD_INCAST.replace("period_s: 1ms", "period_s: .nan"), "phases[0].period_s:", FINITE),
    (GOOD_INCAST.replace("period_s: 1ms", "period_s: 1e-300"), "phases[0].period_s:",
     "greater than or equal to 0.000001"),
    (GOOD_INCAST + "    cycle: {period_s: .inf, on_s: .inf}\n", "phases[0].cycle.period_s:", FINITE),
    (GOOD_INCAST + "    cycle: {period_s: 1e-12, on_s: 1e-13}\n", "phases[0].cycle.period_s:",
     "greater than or equal to 0.000001"),
    (GOOD_ALLREDUCE + "    period_s: 1e-9\n", "phases[0].period_s:", "greater than or equal to 0.000001"),
    (GOOD_LLM.replace("stage_compute_s: 1ms", "stage_compute_s: .inf"), "phases[0].stage_compute_s:", FINITE),
    (GOOD_LLM.replace("iteration_s: 0.5", "iteration_s: .inf"), "phases[0].iteration_s:", FINITE),
    (GOOD_LLM.replace("iteration_s: 0.5", "iteration_s: 1e-300"), "phases[0].iteration_s:",
     "greater than or equal to 0.000001"),
    (GOOD_LLM.replace("parameters: 1B", "parameters: .inf"), "phases[0].parameters:", FINITE),
    (GOOD_LLM + "    microbatches: 100000\n", "phases[0].microbatches:", "less than or equal to 1024"),
    (HADOOP_CDF.format("[[-1000, 0], [-10, 100]]"), "phases[0].cdf:", "sizes must be >= 0 bytes"),
    (HADOOP_CDF.format("[[0, 0], [.nan, 50], [50, 100]]"), "phases[0].cdf:", "finite numbers"),
    (HADOOP_CDF.format("[[0, 0], [.inf, 100]]"), "phases[0].cdf:", "finite numbers"),
    (HADOOP_CDF.format("[[0, 0], [0.5, 100]]"), "phases[0].cdf:", "mean flow size 0.25 B is below 64 B"),
]
BAD += NOT_FINITE_OR_TOO_SMALL


@pytest.mark.parametrize(("text", "where", "words"), BAD, ids=[b[1] or "syntax" for b in BAD])
def test_bad_file_names_the_key(tmp_path: Path, text: str, where: str, words: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(WorkloadError) as caught:
        load_workload(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{where}"), message
    assert words in message and "\n" not in message
    assert caught.value.problems


def test_every_problem_is_reported_and_lines_are_given(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD_INCAST.replace("fan_in: 4", "fan_in: 1").replace("period_s: 1ms", "period_s: -1"))
    with pytest.raises(WorkloadError) as caught:
        load_workload(path)
    found = {p.where.split(":", 1)[1]: p.line for p in caught.value.problems}
    assert found == {"phases[0].fan_in": 5, "phases[0].period_s": 7}
    assert "(and 1 more)" in str(caught.value)


@pytest.mark.parametrize(("change", "where", "words"), [
    (("fan_in: 4", "fan_in: 40"), "phases[0].fan_in:", "40 sender NICs needed"),
    (("fan_in: 4", "fan_in: 4\n    target: {names: [nosuch*]}"), "phases[0].target:", "selects 0 servers"),
])
def test_fit_to_the_inventory_is_checked(tmp_path: Path, roce_hosts: list[Host], change: tuple[str, str],
                                         where: str, words: str) -> None:
    path = tmp_path / "fit.yaml"
    path.write_text(GOOD_INCAST.replace(*change))
    workload = load_workload(path)
    with pytest.raises(WorkloadError) as caught:
        workload.flows(roce_hosts, 0, 0.01)
    assert str(caught.value).startswith(f"{path}:{where} ") and words in str(caught.value)


def _llm(tp: int = 8, pp: int = 2, dp: int = 1, members: str = "{}") -> str:
    return (f"name: t\nduration_s: 1\nphases:\n  - {{kind: llm_training, tp: {tp}, pp: {pp}, dp: {dp}, members: "
            f"{members}, parameters: 1B, hidden_size: 2048, stage_compute_s: 1ms, iteration_s: 0.5}}\n")


POD12 = "{pods: [1, 2]}"  # gpu09-16: pods of 4 and 4
# lab-roce: 16 servers of 2 NICs in pods of 8, 4 and 4; each key on both sides of its boundary.
# (degrees, key refused or None, words of the error)
LLM_FITS: list[tuple[dict[str, Any], str | None, str]] = [
    ({"tp": 1}, "tp", "tp 1 (GPUs per server) is no multiple of the 2 NICs"),  # a NIC without a GPU
    ({"tp": 2}, None, ""),
    ({"tp": 3}, "tp", "fix: set tp to a multiple of 2, e.g. 2 or 4"),
    ({"tp": 4}, None, ""),
    ({"tp": 7}, "tp", "e.g. 6 or 8"),
    ({"tp": 1, "pp": 1, "members": "{names: [gpu01]}"}, "tp", "no multiple of the 2 NICs"),  # no fabric traffic
    ({"pp": 8}, None, ""),  # the largest pod
    ({"pp": 9}, "pp", "9 stages need 9 servers in one pod; the selected servers form pods of [8, 4, 4]; fix: lower "
                      "pp to at most 8"),
    ({"pp": 4, "dp": 3}, None, ""),  # every pod
    ({"pp": 4, "dp": 4}, "dp", "needs 4 pods of >= 4 servers (pp); the selected servers form pods of [8, 4, 4]; "
                               "fix: lower dp to at most 3"),
    ({"pp": 5, "dp": 1}, None, ""),
    ({"pp": 5, "dp": 2}, "dp", "fix: lower dp to at most 1"),  # one pod of >= 5 servers
    ({"pp": 4, "dp": 2, "members": POD12}, None, ""),
    ({"pp": 5, "members": POD12}, "pp", "pods of [4, 4]; fix: lower pp to at most 4"),
    ({"pp": 4, "dp": 3, "members": POD12}, "dp", "fix: lower dp to at most 2"),
]


@pytest.mark.parametrize(("degrees", "key", "words"), LLM_FITS, ids=[str(d) for d, _, _ in LLM_FITS])
def test_llm_degrees_are_checked_against_the_selected_servers(tmp_path: Path, roce_hosts: list[Host],
                                                              degrees: dict[str, Any], key: str | None,
                                                              words: str) -> None:
    """tp must be a multiple of a server's NIC count (each NIC serves tp/NICs GPUs; the inventory has no GPU
    count), pp at most the largest pod, dp at most the pods of >= pp servers: one line naming the key, with the
    fix. tp used to go unchecked (tp 1 or 3 on two NICs laid out as if each NIC had its share of GPUs) and a pp
    larger than every pod was blamed on dp."""
    path = tmp_path / "llm.yaml"
    path.write_text(_llm(**degrees))
    workload = load_workload(path)
    if key is None:
        workload.flows(roce_hosts, 0, 0.01)
        return
    with pytest.raises(WorkloadError) as caught:
        workload.flows(roce_hosts, 0, 0.01)
    assert str(caught.value).startswith(f"{path}:phases[0].{key}: ") and words in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_key_missing_from_a_phase_points_at_that_phase(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD_INCAST + "  - name: st\n    kind: storage\n    load: 0.1\n")  # no targets; phase on line 8
    with pytest.raises(WorkloadError) as caught:
        load_workload(path)
    [problem] = caught.value.problems
    assert problem.where.endswith("phases[1].targets") and problem.line == 8


@pytest.mark.parametrize(("text", "ok"), [
    (GOOD_INCAST.replace("period_s: 1ms", "period_s: 1us"), True),  # the bounds themselves load
    (GOOD_INCAST.replace("duration_s: 1", "duration_s: 1ms").replace("period_s: 1ms", "period_s: 0.1ms"), True),
    (GOOD_LLM + "    microbatches: 1024\n", True),
    (HADOOP_CDF.format("[[0, 0], [128, 100]]"), True),  # mean 64 B
    (HADOOP_CDF.format("[[0, 0], [127, 100]]"), False),
], ids=["period 1us", "duration 1ms", "microbatches 1024", "cdf mean 64", "cdf mean 63.5"])
def test_the_limits_are_inclusive(tmp_path: Path, text: str, ok: bool) -> None:
    path = tmp_path / "edge.yaml"
    path.write_text(text)
    if ok:
        load_workload(path)
    else:
        with pytest.raises(WorkloadError):
            load_workload(path)


@pytest.mark.parametrize("raw", [float("inf"), float("-inf"), float("nan"), 10**400],
                         ids=["inf", "-inf", "nan", "1e400 int"])
def test_unit_parsers_refuse_what_is_not_a_finite_number(raw: float) -> None:
    """fabric.core.units is shared with the inventory: inf/nan (and ints past a float) are a ValidationError
    there too, never an OverflowError; finite values keep their meaning."""
    from pydantic import BaseModel, ValidationError

    from fabric.core.units import Bytes, Millis

    class Sample(BaseModel):
        size: Bytes = 0
        time: Millis = 0

    for field in ("size", "time"):
        with pytest.raises(ValidationError):
            Sample(**{field: raw})
    assert Sample(size="1.5KB", time="0.2s") == Sample(size=1500, time=200)


def test_check_cli_refuses_an_infinite_size_in_one_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from fabric.cli.main import app

    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD_INCAST.replace("64KB", ".inf"))
    result = CliRunner().invoke(app, ["workload", "check", str(bad)])
    assert result.exit_code == 5, result.output
    assert result.output.strip().splitlines() == [result.output.strip()]
    assert result.output.startswith(f"error: {bad}:phases[0].size_bytes: ") and "Traceback" not in result.output


# Found by fuzzing hand-written workloads (each failed before its fix).
@pytest.mark.parametrize(("size", "expected"), [("1e6", 1_000_000), ("1.5e9", 1_500_000_000), ("2e3KB", 2_000_000),
                                                ("1.5e+9", 1_500_000_000), ("64KB", 64_000), ("1MiB", 1_048_576),
                                                ("0.5", 1)])
def test_sizes_take_exponents_as_times_and_counts_do(tmp_path: Path, size: str, expected: int) -> None:
    """YAML reads ``1e6`` and ``1.5e9`` as strings; ``size_bytes`` refused them while ``duration_s: 1e6`` loaded."""
    path = tmp_path / "size.yaml"
    path.write_text(GOOD_INCAST.replace("64KB", size))
    assert load_workload(path).spec.phases[0].size_bytes == expected  # type: ignore[union-attr]


@pytest.mark.parametrize(("cdf", "where", "words"), [
    ("{a: 1}", "phases[0].cdf:", "valid string or a valid list"),
    ("[['1KB', 0], [2000, 100]]", "phases[0].cdf[0][0]:", "valid number"),
    ("[[0, 0, 1], [2000, 100, 2]]", "phases[0].cdf[0]:", "at most 2 items"),
])
def test_a_bad_cdf_names_the_key_it_is_at_not_a_union_member(tmp_path: Path, cdf: str, where: str,
                                                              words: str) -> None:
    """pydantic locates a union's errors under its members' names (``cdf.str``, ``cdf.list[tuple[float, float]]``):
    keys nobody wrote, two errors for one value."""
    path = tmp_path / "cdf.yaml"
    path.write_text(HADOOP_CDF.format(cdf))
    with pytest.raises(WorkloadError) as caught:
        load_workload(path)
    wheres = [p.where.split(":", 1)[1] + ":" for p in caught.value.problems]
    assert wheres[0] == where and not any("str" in w or "list[" in w for w in wheres), wheres
    assert words in str(caught.value)


def test_a_unit_error_says_what_it_got_once(tmp_path: Path) -> None:
    path = tmp_path / "unit.yaml"
    path.write_text(GOOD_INCAST.replace("period_s: 1ms", "period_s: 5 parsecs"))
    with pytest.raises(WorkloadError) as caught:
        load_workload(path)
    assert str(caught.value).count("'5 parsecs'") == 1, str(caught.value)


def test_a_duplicate_key_in_a_phase_names_its_whole_key(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text(GOOD_INCAST + "    fan_in: 5\n")
    with pytest.raises(WorkloadError) as caught:
        load_workload(path)
    assert str(caught.value).startswith(f"{path}:phases[0].fan_in: duplicate key (line 8)"), str(caught.value)


def test_a_missing_file_is_not_a_yaml_error(tmp_path: Path) -> None:
    with pytest.raises(WorkloadError) as caught:
        load_workload(tmp_path / "nosuch.yaml")
    assert "fix the YAML" not in str(caught.value) and "readable file" in str(caught.value)


def test_a_cdf_of_sizes_near_a_floats_limit_has_a_finite_mean(tmp_path: Path) -> None:
    """The mean's sum overflowed to inf (a RuntimeWarning, then a rate of 0 flows/s from an 'ok' file)."""
    import warnings

    from fabric.lab.workload.cdf import mean_bytes

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mean_bytes(((0, 0), (1e308, 100))) == pytest.approx(5e307)
        assert mean_bytes(((0, 0), (1e4, 50), (1e308, 100))) == pytest.approx(2.5e307)


class _InventoryUnits(BaseModel):
    size: InventoryBytes = 0
    time: InventoryMillis = 0


class _WorkloadUnits(BaseModel):
    size: WorkloadBytes = 1
    time: Seconds = 0


# The spellings fabric.core.units (the inventory's sizes and times) accepts: every byte unit, cases, spaces, decimals.
INVENTORY_SIZES = [150000, 1.5, "150000", "0.5", "150KB", "150kb", "150 KB", " 150KB ", "150KiB", "1.5MB", "1.5mib",
                   "2GB", "2GiB", "2000 B", "2000b", "3k", "3M", "12.25kB", "7 gib"]
INVENTORY_TIMES = ["200ms", "200 MS", "0.2s", "2 S", "3s", "10 ms", "250 ms"]  # whole ms: the inventory rounds to ms


@pytest.mark.parametrize("raw", INVENTORY_SIZES, ids=repr)
def test_an_inventory_size_is_the_same_size_in_a_workload(raw: object) -> None:
    """Two unit parsers, on purpose: a workload's (fabric.lab.workload.schema) takes all the inventory's
    (fabric.core.units) does, with the same meaning, and more (next test); sharing one parser would widen the
    inventory's grammar or reword its errors."""
    assert _WorkloadUnits(size=raw).size == _InventoryUnits(size=raw).size


@pytest.mark.parametrize("raw", INVENTORY_TIMES)
def test_an_inventory_time_with_a_unit_is_the_same_time_in_a_workload(raw: str) -> None:
    assert _WorkloadUnits(time=raw).time * 1000 == pytest.approx(_InventoryUnits(time=raw).time)


@pytest.mark.parametrize(("field", "raw", "value"), [
    ("size", "1e6", 1_000_000), ("size", "1.5e+9", 1_500_000_000), ("size", "2e3KB", 2_000_000), ("size", ".5KB", 500),
    ("size", "2TB", 2 * 10**12), ("size", "1TiB", 1024**4), ("size", "1G", 10**9), ("size", "1T", 10**12),
    ("time", "5us", 5e-6), ("time", "1min", 60.0), ("time", "1e-3s", 1e-3), ("time", ".5s", 0.5),
])
def test_what_only_a_workload_accepts(field: str, raw: str, value: float) -> None:
    assert getattr(_WorkloadUnits(**{field: raw}), field) == pytest.approx(value)
    with pytest.raises(ValidationError):
        _InventoryUnits(**{field: raw})


def test_the_two_unit_parsers_word_their_errors_as_before() -> None:
    """Golden: the inventory names the unit it refuses, a workload says what it got (its loader then adds nothing)."""
    with pytest.raises(ValidationError) as inventory:
        _InventoryUnits(size="64 parsecs")
    with pytest.raises(ValidationError) as workload:
        _WorkloadUnits(size="64 parsecs")
    assert inventory.value.errors()[0]["msg"] == (
        "Value error, unit 'parsecs' is not valid here; expected a size in bytes such as 150000 or '150KB' (units: b, "
        "kb, mb, gb, kib, mib, gib, k, m)")
    assert workload.value.errors()[0]["msg"] == (
        "Value error, expected a size in bytes such as 150000, 1e6 or '150KB' (units: B, KB, MB, GB, TB, KiB, MiB, "
        "GiB, TiB), got '64 parsecs'")
