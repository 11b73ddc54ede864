"""render_device: DeviceIntent -> {file name: text}, deterministic, StrictUndefined."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from fabric.core.gcpause import paused_gc
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


# One encoder for every entry: json.dumps(..., sort_keys=True) would build a new JSONEncoder per call.
_ENCODE = json.JSONEncoder(sort_keys=True).encode


class _NotStrings(Exception):
    """An entry with a non-string field: encoded without the cache."""


@lru_cache(maxsize=4096)
def _encode_strings(fields: tuple[tuple[str, Any], ...]) -> str:
    if not all(type(value) is str for _, value in fields):
        raise _NotStrings  # never cached: 1, True and 1.0 are equal keys but encode differently
    return _ENCODE(dict(fields))


def _encode_entry(value: Any) -> str:
    """One table entry as compact JSON. Entries of only string fields (CONFIG_DB's own form) are encoded
    once per distinct content: thousands of ports share a handful of PORT_QOS_MAP, QUEUE or PFC_WD entries.
    Only string-valued keys are ever cached, so a hit needs no type check."""
    if isinstance(value, dict):
        try:
            return _encode_strings(tuple(value.items()))
        except (_NotStrings, TypeError):  # TypeError: a nested list or object is not hashable
            pass
    return _ENCODE(value)


def dump_tables(tables: dict[str, Any]) -> str:
    """JSON with one table entry per line, keys sorted: diffable like indented JSON, and written by the C
    encoder (``indent`` would force the pure-Python one, the slowest step of rendering a large fabric)."""
    lines = ["{"]
    for t, (table, entries) in enumerate(sorted(tables.items())):
        if not isinstance(entries, dict) or not entries:
            lines.append(f"  {_ENCODE(table)}: {_ENCODE(entries)}")
        else:
            lines.append(f"  {_ENCODE(table)}: {{")
            lines.append(",\n".join(f"    {_ENCODE(k)}: {_encode_entry(v)}" for k, v in sorted(entries.items())))
            lines.append("  }")
        if t < len(tables) - 1:
            lines[-1] += ","
    lines.append("}")
    return "\n".join(lines) + "\n"


def _blank(text: str) -> bool:
    """Whether a rendered part is empty or whitespace only (without copying it, as strip() would)."""
    return not text or text.isspace()


# The templates of each output file of one platform, in order.
PlatformTemplates = tuple[tuple[Output, tuple[jinja2.Template, ...]], ...]


def platform_templates(env: jinja2.Environment, platform: str) -> PlatformTemplates:
    """Load (compile, or take from the environment's cache) every template a platform's outputs use."""
    spec = get_platform(platform)
    return tuple((o, tuple(env.get_template(f"{spec.name}/{name}") for name in o.templates)) for o in spec.outputs)


def _render_output(output: Output, templates: tuple[jinja2.Template, ...], context: dict[str, Any]) -> str:
    parts = [template.render(context) for template in templates]
    if output.format == "json":
        merged: dict[str, Any] = {}
        for part in parts:
            if not _blank(part):
                _merge(merged, json.loads(part))
        # CONFIG_DB holds entries, never an empty table: SONiC's config apply-patch refuses one ("Table PFC_WD is
        # empty, which is not allowed in ConfigDb"), and a feature that is off (the PFC watchdog) renders none
        return dump_tables({table: entries for table, entries in merged.items() if entries != {}})
    return "".join(p for p in parts if not _blank(p))


def _render(intent: DeviceIntent, templates: PlatformTemplates) -> RenderedConfig:
    context = template_context(intent)
    files = {o.file: _render_output(o, ts, context) for o, ts in templates}
    return RenderedConfig(intent.name, intent.platform, files)


def render_device(intent: DeviceIntent, root: Path = TEMPLATES) -> RenderedConfig:
    """Render every output file of the device's platform."""
    return _render(intent, platform_templates(environment(root), intent.platform))


def render_fabric(intents: dict[str, DeviceIntent], root: Path = TEMPLATES) -> dict[str, RenderedConfig]:
    """Render every device; each platform's templates are looked up once per call, not once per device."""
    env = environment(root)
    templates: dict[str, PlatformTemplates] = {}
    configs: dict[str, RenderedConfig] = {}
    with paused_gc():  # rendering makes only short-lived, acyclic strings; a collection would re-walk every intent
        for name, intent in intents.items():
            if intent.platform not in templates:
                templates[intent.platform] = platform_templates(env, intent.platform)
            configs[name] = _render(intent, templates[intent.platform])
    return configs


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
