"""Properties: the validator never crashes on mutated input, and render never hits an undefined variable."""

from __future__ import annotations

import copy
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabric.intent.check import validate_inventory
from fabric.render import render_fabric
from tests.conftest import INVENTORIES

FILES = ("fabric.yaml", "hosts.yaml", "groups.yaml", "defaults.yaml")
BASES = {name: {f: yaml.safe_load((INVENTORIES / name / f).read_text()) for f in FILES}
         for name in ("lab-roce", "lab-ib")}

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**7), st.floats(allow_nan=False, width=32),
                    st.text(max_size=12), st.sampled_from(["40m", "1.5MB", "${X}", "leaf1:Ethernet0", "400G", "-1"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=8), inner, max_size=3), max_leaves=6)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_paths(value, (*prefix, index)))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    base = draw(st.sampled_from(sorted(BASES)))
    files = copy.deepcopy(BASES[base])
    for _ in range(draw(st.integers(1, 4))):
        file = draw(st.sampled_from(FILES))
        paths = _paths(files[file])
        if not paths:
            continue
        path = draw(st.sampled_from(paths))
        parent = files[file]
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["set", "delete", "rename"]))
        if action == "set":
            parent[path[-1]] = draw(values)
        elif action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=10))] = parent.pop(path[-1])
    return base, files


def _write(files: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_text(yaml.safe_dump(data, sort_keys=False))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated())
def test_validator_never_crashes_on_mutations(case: tuple[str, dict[str, Any]]) -> None:
    _, files = case
    folder = Path(tempfile.mkdtemp(prefix="fabric-prop-"))
    try:
        _write(files, folder)
        result = validate_inventory(str(folder))
        for problem in result.report:
            assert "\n" not in str(problem)
        if result.report.ok and result.intents:
            render_fabric(result.intents)  # StrictUndefined: any missing variable raises
    finally:
        shutil.rmtree(folder)


fabric_settings = st.fixed_dictionaries({
    "qos": st.fixed_dictionaries({
        "roce_dscp": st.lists(st.integers(0, 40), min_size=1, max_size=3, unique=True),
        "lossless_priority": st.sampled_from([2, 3, 4, 5]),
        "lossless_bandwidth_percent": st.integers(1, 99),
        "trust": st.sampled_from(["dscp", "pcp"]),
    }),
    "buffers": st.fixed_dictionaries({
        "dynamic_th": st.integers(-2, 4), "small_packet_percentage": st.integers(0, 100),
        "lossless_mtu": st.sampled_from([1024, 4096, 9216]), "default_cable_length_m": st.integers(1, 300),
    }),
    "watchdog": st.fixed_dictionaries({"detect_ms": st.integers(100, 750), "action": st.sampled_from(
        ["drop", "alert"]), "enabled": st.booleans()}),
    "ecn": st.one_of(st.just({"mode": "auto"}), st.builds(
        lambda kmin, span, pmax: {"mode": "explicit", "default_profile": "p", "profiles": {
            "p": {"kmin_bytes": kmin, "kmax_bytes": kmin + span, "pmax_percent": pmax}}},
        st.integers(10_000, 1_500_000), st.integers(1, 2_500_000), st.floats(0.5, 100))),  # H3C: <= 16000 cells
})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(choice=fabric_settings)
def test_valid_settings_always_render(choice: dict[str, Any]) -> None:
    files = copy.deepcopy(BASES["lab-roce"])
    spec = files["fabric.yaml"]
    spec["qos"].update(choice["qos"])
    spec["pfc"]["priorities"] = [choice["qos"]["lossless_priority"]]
    spec["buffers"].update(choice["buffers"])
    watchdog = choice["watchdog"]
    spec["pfc"]["watchdog"].update({**watchdog, "restore_ms": watchdog["detect_ms"] * 2, "poll_ms": 100})
    spec["ecn"] = choice["ecn"]
    folder = Path(tempfile.mkdtemp(prefix="fabric-prop-"))
    try:
        _write(files, folder)
        result = validate_inventory(str(folder))
        assert result.report.ok, [str(p) for p in result.report.errors]
        configs = render_fabric(result.intents)
        assert all(c.files for c in configs.values())
    finally:
        shutil.rmtree(folder)
