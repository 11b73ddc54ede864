"""YAML reading that remembers where every key came from and refuses duplicate keys."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fabric.core.gcpause import paused_gc


class LineDict(dict[Any, Any]):
    """A dict that knows the source line of each of its keys."""

    lines: dict[Any, int]


@dataclass
class YamlDoc:
    """One parsed file: its data, duplicate keys found, or a syntax error."""

    path: Path
    data: Any = None
    duplicates: list[tuple[str, int]] = field(default_factory=list)
    error: str | None = None
    error_line: int | None = None


# libyaml's parser when present; the constructor below is ours either way (lines, duplicates).
_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _loader_for(doc: YamlDoc) -> type[yaml.SafeLoader]:
    class Loader(_BASE):  # type: ignore[valid-type,misc]
        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:
            result = LineDict()
            result.lines = {}
            for key_node, value_node in node.value:
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                if key in result:
                    doc.duplicates.append((str(key), line))
                result[key] = self.construct_object(value_node, deep=True)
                result.lines[key] = line
            return result

    Loader.add_constructor(
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, Loader.construct_mapping
    )
    return Loader


def _read_json_subset(text: str, doc: YamlDoc) -> bool:
    """Parse YAML's JSON subset at C speed; False when the text is not JSON (the YAML parser takes over).

    JSON carries no line numbers here: problems in such a file name the key without a line.
    """
    if not text.lstrip().startswith("{"):
        return False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(items)
        if len(result) != len(items):
            seen: set[str] = set()
            for key, _ in items:
                if key in seen:
                    doc.duplicates.append((key, 0))  # line 0: unknown in the JSON form
                seen.add(key)
        return result

    try:
        doc.data = json.loads(text, object_pairs_hook=pairs)
    except ValueError:
        doc.duplicates.clear()
        return False
    return True


def read_yaml(path: Path) -> YamlDoc:
    """Parse ``path``; never raises for bad YAML (the error lands in ``YamlDoc.error``)."""
    doc = YamlDoc(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        doc.error = f"cannot read: {exc.strerror or exc}"
        return doc
    except UnicodeDecodeError as exc:  # YAML is UTF-8: a Latin-1 editor or a binary file
        raw = path.read_bytes()[:exc.start]
        doc.error = f"not UTF-8 text: byte 0x{exc.object[exc.start]:02x} cannot be decoded; save the file as UTF-8"
        doc.error_line = raw.count(b"\n") + 1
        return doc
    if _read_json_subset(text, doc):
        return doc
    try:
        with paused_gc():  # a large file builds millions of live objects; collecting meanwhile only walks them
            doc.data = yaml.load(text, Loader=_loader_for(doc))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        doc.error = f"YAML syntax error: {exc.problem or exc.context}"
        doc.error_line = mark.line + 1 if mark else None
    except yaml.YAMLError as exc:
        doc.error = f"YAML error: {exc}"
    return doc


def line_of(data: Any, path: tuple[Any, ...]) -> int | None:
    """The source line of the key at ``path`` (or of its nearest ancestor that has one)."""
    line = None
    node = data
    for key in path:
        if isinstance(node, LineDict) and key in node:
            line = node.lines.get(key, line)
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
            if isinstance(node, LineDict) and node.lines:  # a list item: the line of its first key
                line = min(node.lines.values())
        else:
            break
    return line
