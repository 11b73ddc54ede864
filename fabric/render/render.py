"""render_device: DeviceIntent -> {file name: text}, deterministic, StrictUndefined."""

from __future__ import annotations

import gc
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
    """What every template sees: the intent's features by name, plus the device itself.

    The models are passed as they are (Jinja reads attributes and dict keys alike), so rendering
    costs no copy of the intent.
    """
    context: dict[str, Any] = {name: getattr(intent, name) for name in type(intent).model_fields}
    context["device"] = intent
    return context


def _merge(into: dict[str, Any], other: dict[str, Any]) -> None:
    for key, value in other.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def dump_tables(tables: dict[str, Any]) -> str:
    """JSON with one table entry per line, keys sorted: diffable like indented JSON, and written by the C
    encoder (``indent`` would force the pure-Python one, the slowest step of rendering a large fabric)."""
    lines = ["{"]
    for t, (table, entries) in enumerate(sorted(tables.items())):
        if not isinstance(entries, dict) or not entries:
            lines.append(f"  {json.dumps(table)}: {json.dumps(entries, sort_keys=True)}")
        else:
            lines.append(f"  {json.dumps(table)}: {{")
            items = sorted(entries.items())
            lines.extend(f"    {json.dumps(k)}: {json.dumps(v, sort_keys=True)}{',' if i < len(items) - 1 else ''}"
                         for i, (k, v) in enumerate(items))
            lines.append("  }")
        if t < len(tables) - 1:
            lines[-1] += ","
    lines.append("}")
    return "\n".join(lines) + "\n"


def _render_output(env: jinja2.Environment, platform: str, output: Output, context: dict[str, Any]) -> str:
    parts = [env.get_template(f"{platform}/{name}").render(context) for name in output.templates]
    if output.format == "json":
        merged: dict[str, Any] = {}
        for part in parts:
            if part.strip():
                _merge(merged, json.loads(part))
        return dump_tables(merged)
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
    gc_was_enabled = gc.isenabled()
    gc.disable()  # rendering makes only short-lived, acyclic strings; a collection would re-walk every intent
    try:
        return {name: render_device(intent, root) for name, intent in intents.items()}
    finally:
        if gc_was_enabled:
            gc.enable()


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
