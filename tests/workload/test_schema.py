"""Bad workload files give one-line errors naming the file and the key; bad fits to an inventory too."""

from __future__ import annotations

from pathlib import Path

import pytest

from fabric.lab.workload import Host, WorkloadError, load_workload

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


def test_llm_layout_that_does_not_fit_names_dp(tmp_path: Path, roce_hosts: list[Host]) -> None:
    path = tmp_path / "llm.yaml"
    path.write_text("name: t\nduration_s: 1\nphases:\n  - kind: llm_training\n    tp: 8\n    pp: 4\n    dp: 4\n"
                    "    parameters: 1B\n    hidden_size: 2048\n    stage_compute_s: 1ms\n    iteration_s: 0.5\n")
    with pytest.raises(WorkloadError, match=r"phases\[0\]\.dp: needs 4 pods of >= 4 servers .*\[8, 4, 4\]"):
        load_workload(path).flows(roce_hosts, 0, 0.1)


def test_a_key_missing_from_a_phase_points_at_that_phase(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD_INCAST + "  - name: st\n    kind: storage\n    load: 0.1\n")  # no targets; phase on line 8
    with pytest.raises(WorkloadError) as caught:
        load_workload(path)
    [problem] = caught.value.problems
    assert problem.where.endswith("phases[1].targets") and problem.line == 8
