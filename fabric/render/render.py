"""render_device: DeviceIntent -> {file name: text}, deterministic, StrictUndefined."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from fabric.core.platform import Output, get_platform
from fabric.intent.models import DeviceIntent
from fabric.render.filters import FILTERS

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@dataclass(frozen=True)
class RenderedConfig:
    """The files of one device, in the platform's output order."""

    device: str
    platform: str
    files: dict[str, str] = field(default_factory=dict)

    @property
    def lines(self) -> int:
        return sum(text.count("\n") for text in self.files.values())


@lru_cache(maxsize=4)
def environment(root: Path = TEMPLATES) -> jinja2.Environment:
    """One Jinja2 environment for every platform: StrictUndefined, no autoescape, stable whitespace."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)), undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False,
    )
    env.filters.update(FILTERS)
    env.filters["tojson"] = lambda value, indent=None: json.dumps(value, sort_keys=True, indent=indent)
    return env


def template_context(intent: DeviceIntent) -> dict[str, Any]:
    """What every template sees: the intent's features as plain data, plus the device itself."""
    data = intent.model_dump(mode="python")
    return {**data, "device": data}


def _merge(into: dict[str, Any], other: dict[str, Any]) -> None:
    for key, value in other.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _render_output(env: jinja2.Environment, platform: str, output: Output, context: dict[str, Any]) -> str:
    parts = [env.get_template(f"{platform}/{name}").render(context) for name in output.templates]
    if output.format == "json":
        merged: dict[str, Any] = {}
        for part in parts:
            if part.strip():
                _merge(merged, json.loads(part))
        return json.dumps(merged, indent=2, sort_keys=True) + "\n"
    return "".join(p for p in parts if p.strip())


def render_device(intent: DeviceIntent, root: Path = TEMPLATES) -> RenderedConfig:
    """Render every output file of the device's platform."""
    spec = get_platform(intent.platform)
    env = environment(root)
    context = template_context(intent)
    files = {o.file: _render_output(env, spec.name, o, context) for o in spec.outputs}
    return RenderedConfig(intent.name, intent.platform, files)


def render_fabric(intents: dict[str, DeviceIntent], root: Path = TEMPLATES) -> dict[str, RenderedConfig]:
    """Render every device."""
    return {name: render_device(intent, root) for name, intent in intents.items()}


def write_rendered(configs: dict[str, RenderedConfig], out: Path) -> list[Path]:
    """Write DIR/<device>/<file>; returns the paths written."""
    written = []
    for config in configs.values():
        folder = out / config.device
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in config.files.items():
            path = folder / name
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written
