"""YAML reading that remembers where every key came from and refuses duplicate keys."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fabric.core.gcpause import paused_gc


class LineDict(dict[Any, Any]):
    """A dict that knows the source line of each of its keys, and the written text of keys YAML read as a
    value other than text (``on`` -> True, ``010`` -> 8, ``null`` -> None)."""

    lines: dict[Any, int]
    texts: dict[Any, str]


@dataclass
class YamlDoc:
    """One parsed file: its data, duplicate keys found, or a syntax error."""

    path: Path
    data: Any = None
    duplicates: list[tuple[str, int]] = field(default_factory=list)
    error: str | None = None
    error_line: int | None = None
    error_fix: str = "correct the YAML at that line"


TOO_DEEP = "nested too deeply to read"
TOO_DEEP_FIX = "look for unbalanced brackets or an alias that includes itself; inventories nest a few levels"

# libyaml's parser when present; the constructor below is ours either way (lines, duplicates).
_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _merged_last(pairs: list[tuple[yaml.Node, yaml.Node]]) -> list[tuple[yaml.Node, yaml.Node]]:
    """Merged pairs with each scalar key kept once (its last, winning value): nested ``<<`` merges of the
    same anchor then stay as large as the anchor instead of doubling at every level."""
    last: dict[tuple[str, str], int] = {}
    for index, (key_node, _) in enumerate(pairs):
        if isinstance(key_node, yaml.ScalarNode):
            last[(key_node.tag, key_node.value)] = index
    return [pair for index, pair in enumerate(pairs)
            if not isinstance(pair[0], yaml.ScalarNode) or last[(pair[0].tag, pair[0].value)] == index]


def _loader_for(doc: YamlDoc) -> type[yaml.SafeLoader]:
    class Loader(_BASE):  # type: ignore[valid-type,misc]
        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:
            own = {id(key_node) for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge"}
            self.flatten_mapping(node)  # YAML merge keys (<<: *anchor): merged pairs first, own keys win
            merged = [pair for pair in node.value if id(pair[0]) not in own]
            if merged:
                node.value = _merged_last(merged) + [pair for pair in node.value if id(pair[0]) in own]
            result = LineDict()
            result.lines = {}
            result.texts = {}
            own_seen: set[Any] = set()
            done: set[int] = set()
            for key_node, value_node in node.value:
                if id(key_node) in done:  # a mapping that merges itself lists its own pairs twice
                    continue
                done.add(id(key_node))
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                try:
                    hash(key)
                except TypeError:
                    raise yaml.constructor.ConstructorError(
                        None, None, "a key must be a plain value, not a list or mapping",
                        key_node.start_mark) from None
                if id(key_node) in own:
                    if key in own_seen:
                        doc.duplicates.append((str(key), line))
                    own_seen.add(key)
                result[key] = self.construct_object(value_node, deep=True)
                result.lines[key] = line
                if not isinstance(key, str) and isinstance(key_node, yaml.ScalarNode):
                    result.texts[key] = key_node.value
            return result

        def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
            try:
                return int(super().construct_yaml_int(node))
            except ValueError:  # Python refuses to convert integers of more than 4300 digits
                raise yaml.constructor.ConstructorError(
                    None, None, f"integer of {len(str(node.value))} characters is too large", node.start_mark) from None

    Loader.add_constructor(
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, Loader.construct_mapping
    )
    Loader.add_constructor("tag:yaml.org,2002:int", Loader.construct_yaml_int)
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
    except RecursionError:
        doc.duplicates.clear()
        doc.error, doc.error_fix = TOO_DEEP, TOO_DEEP_FIX
        return True
    except ValueError:  # not JSON, or an integer Python refuses to convert: the YAML reader reports it
        doc.duplicates.clear()
        return False
    return True


def read_yaml(path: Path) -> YamlDoc:
    """Parse ``path``; never raises for bad YAML (the error lands in ``YamlDoc.error``)."""
    doc = YamlDoc(path)
    try:
        text = path.read_text(encoding="utf-8")
    except IsADirectoryError:
        doc.error = "is a directory, not a file"
        doc.error_fix = f"replace the directory {path} with the YAML file {path.name}"
        return doc
    except OSError as exc:
        doc.error = f"cannot read: {exc.strerror or exc}"
        doc.error_fix = f"make {path} a readable file"
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
    except RecursionError:
        doc.data = None
        doc.error, doc.error_fix = TOO_DEEP, TOO_DEEP_FIX
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
