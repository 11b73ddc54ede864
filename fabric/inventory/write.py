"""Write inventory files: block YAML for people, or YAML's JSON subset for very large generated files.

Both are YAML; the JSON-subset form (one host per line) loads at C speed through the json module
(see yamlfile.read_yaml), which matters for fabrics of thousands of devices.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml

Style = Literal["auto", "block", "json"]
AUTO_JSON_HOSTS = 1000  # above this many hosts, "auto" writes hosts.yaml in the JSON-subset form


PLAIN = re.compile(r"^[A-Za-z0-9_$][A-Za-z0-9_.,:/${}+-]*$")  # no YAML indicator, no space
RESOLVER = yaml.resolver.Resolver()
STR_TAG = "tag:yaml.org,2002:str"


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if PLAIN.match(text) and not text.endswith(":") and _reads_as_str(text):
        return text
    if text.isprintable():
        return "'" + text.replace("'", "''") + "'"
    return json.dumps(text)  # a JSON string is a valid double-quoted YAML scalar


def _reads_as_str(text: str) -> bool:
    """Whether a plain scalar reads back as this string (not bool, int, float or null)."""
    tag = RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return bool(tag == STR_TAG)


def _inline(value: Any) -> str | None:
    """The one-line form of a scalar or an empty collection; None for a non-empty collection."""
    if isinstance(value, dict | list):
        return None if value else "{}" if isinstance(value, dict) else "[]"
    return _scalar(value)


def _emit(value: dict[Any, Any] | list[Any], indent: str, out: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            inline = _inline(item)
            if inline is not None:
                out.append(f"{indent}{_scalar(key)}: {inline}")
                continue
            out.append(f"{indent}{_scalar(key)}:")
            _emit(item, indent + "  " if isinstance(item, dict) else indent, out)  # PyYAML's indentless lists
        return
    for item in value:
        inline = _inline(item)
        if inline is not None:
            out.append(f"{indent}- {inline}")
            continue
        if not isinstance(item, dict):
            raise TypeError("nested lists are not supported")
        lines: list[str] = []
        _emit(item, indent + "  ", lines)
        out.append(f"{indent}- {lines[0][len(indent) + 2:]}")
        out.extend(lines[1:])


def dump_yaml(data: dict[str, Any]) -> str:
    """Block-style YAML in insertion order, as PyYAML writes it, at the speed of string joins.

    Generated inventories reach tens of MB; PyYAML's emitter (even libyaml's) takes 20 s there.
    Only what ``generate`` produces is supported: mappings, lists, str, int, float, bool, None.
    """
    out: list[str] = []
    _emit(data, "", out)
    return "\n".join(out) + "\n"


def dump_json_subset(data: dict[str, Any]) -> str:
    """A mapping as JSON with one top-level entry per line: valid YAML (flow style) and valid JSON."""
    lines = [f"{json.dumps(str(key))}: {json.dumps(value, separators=(',', ':'))}" for key, value in data.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write_inventory(files: dict[str, Any], folder: str | Path, style: Style = "auto") -> list[Path]:
    """Write each file of ``generate``'s result into ``folder`` (created if missing); returns the paths.

    ``auto`` writes hosts.yaml in the JSON-subset form above AUTO_JSON_HOSTS hosts, block YAML otherwise.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, data in files.items():
        path = folder / file_name
        big = file_name == "hosts.yaml" and len(data) > AUTO_JSON_HOSTS
        as_json = style == "json" or (style == "auto" and big)
        path.write_text(dump_json_subset(data) if as_json else dump_yaml(data), encoding="utf-8")
        written.append(path)
    return written
