"""Property: whatever text a device returns, every CLI parser gives samples or raises the one documented
``ParseError`` (a single line naming the device and the command), never another exception. Inputs are arbitrary
text and mutations of the fixture outputs (real devices and the twin): lines dropped, repeated, cut or replaced,
digits turned into letters, JSON truncated."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabric.collect.cli_parsers import ParseError
from fabric.collect.cli_source import CLI_COMMANDS, Parse
from fabric.core.sample import Sample
from tests.collect.test_switch_parsers import UNWIRED

FIXTURES = Path(__file__).parent / "fixtures"
PARSERS = [(platform, command, parse) for platform, commands in CLI_COMMANDS.items()
           for command, parse in [*commands, *UNWIRED.get(platform, {}).items()]]
OUTPUTS = {platform: sorted(p.read_text() for p in (FIXTURES / platform).iterdir()
                            if p.suffix in (".txt", ".json") and not p.name.endswith(".expected.json"))
           for platform in CLI_COMMANDS}


@st.composite
def mutated(draw: st.DrawFn, base: str) -> str:
    lines = base.splitlines()
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, max(len(lines) - 1, 0)))
        action = draw(st.sampled_from(["drop", "repeat", "cut", "replace", "letters", "truncate"]))
        if not lines:
            lines = [draw(st.text(max_size=40))]
        elif action == "drop":
            del lines[at]
        elif action == "repeat":
            lines.insert(at, lines[at])
        elif action == "cut":
            lines[at] = lines[at][:draw(st.integers(0, len(lines[at])))]
        elif action == "replace":
            lines[at] = draw(st.text(max_size=60))
        elif action == "letters":
            lines[at] = lines[at].translate(str.maketrans("0123456789", "OlZEhSbTBq"))
        else:
            lines = lines[:at]
    return "\n".join(lines)


@pytest.mark.parametrize(("platform", "command", "parse"), PARSERS, ids=[f"{p}:{c}" for p, c, _ in PARSERS])
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_parsers_give_samples_or_one_parse_error_line(platform: str, command: str, parse: Parse,
                                                      data: st.DataObject) -> None:
    base = data.draw(st.sampled_from(["", *OUTPUTS[platform]]), label="fixture")
    text = data.draw(st.one_of(st.text(max_size=300), mutated(base)), label="output")
    try:
        samples = parse(text, "leaf9", "p1", 5, 3)
    except ParseError as exc:
        message = str(exc)
        assert message.startswith("leaf9: cannot parse `") and "\n" not in message
    else:
        for sample in samples:
            assert isinstance(sample, Sample) and sample.tags["device"] == "leaf9" and sample.fields
            assert all(isinstance(v, str) for v in sample.tags.values())
            assert all(isinstance(v, int | float | str | bool) for v in sample.fields.values())
