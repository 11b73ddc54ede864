"""Load an inventory folder: hosts.yaml, groups.yaml, defaults.yaml (Nornir layout) and fabric.yaml.

Inheritance is Nornir's: an attribute or ``data`` key is taken from the host, else from its groups
in order (each group before its own parent groups), else from defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from fabric.core.gcpause import paused_gc
from fabric.core.problems import ValidationReport
from fabric.inventory.errors import problems_from
from fabric.inventory.models import (
    DefaultsEntry,
    Device,
    Fabric,
    FabricSpec,
    GroupEntry,
    HostEntry,
)
from fabric.inventory.yamlfile import YamlDoc, line_of, read_yaml

FILES = ("fabric.yaml", "hosts.yaml", "groups.yaml", "defaults.yaml")
M = TypeVar("M", bound=BaseModel)


@dataclass
class LoadResult:
    """The loaded fabric (None when a file could not be parsed at all) and every problem found."""

    fabric: Fabric | None
    report: ValidationReport = field(default_factory=ValidationReport)


def _read(folder: Path, name: str, report: ValidationReport, required: bool) -> YamlDoc | None:
    path = folder / name
    if not path.exists():
        other = path.with_suffix(".yml")
        if other.exists():  # read nothing from it: an optional file would be silently ignored
            report.add(other.name, f"fabric reads {name}, not {other.name}", f"rename {other} to {name}")
        elif required:
            report.add(name, "file is missing", f"create {path}")
        return None
    doc = read_yaml(path)
    if doc.error:
        report.add(name, doc.error, doc.error_fix, line=doc.error_line)
        return None
    for key, line in doc.duplicates:
        report.add(f"{name}:{key}", "duplicate key", "keep one definition (names must be unique)",
                   line=line or None)
    return doc


def _validate(model: type[M], raw: Any, file: str, prefix: tuple[Any, ...],
              report: ValidationReport, where_raw: Any) -> M | None:
    try:
        return model.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        report.extend(problems_from(exc, file, model, where_raw, prefix))
        return None


def _entries(doc: YamlDoc | None, model: type[M], file: str, report: ValidationReport) -> dict[str, M]:
    if doc is None or doc.data is None:
        return {}
    if not isinstance(doc.data, dict):
        report.add(file, "expected a mapping of names to entries", "see the README's inventory example")
        return {}
    entries: dict[str, M] = {}
    texts: dict[Any, str] = getattr(doc.data, "texts", {})
    for name, raw in doc.data.items():
        written = texts.get(name)
        if written is not None and written != str(name):
            report.add(f"{file}:{written}", f"YAML reads the unquoted name '{written}' as {name!r}, not as text",
                       f"quote it: '{written}':", line=line_of(doc.data, (name,)))
            continue
        sub = doc.data[name]
        entry = _validate(model, raw, file, (name,), report, sub)
        if entry is not None:
            entries[str(name)] = entry
    return entries


def _group_chain(names: list[str], groups: dict[str, GroupEntry], seen: set[str] | None = None) -> list[str]:
    """Groups in Nornir's lookup order: each group, then its parents, depth first, no repeats."""
    seen = set() if seen is None else seen
    order: list[str] = []
    for name in names:
        if name in seen or name not in groups:
            continue
        seen.add(name)
        order.append(name)
        order.extend(_group_chain(groups[name].groups, groups, seen))
    return order


def _resolve(name: str, host: HostEntry, chain: list[Any]) -> dict[str, Any]:
    """Merge host -> groups -> defaults into the keyword arguments of ``Device``."""
    layers = [host, *chain]
    resolved: dict[str, Any] = {"name": name, "groups": tuple(host.groups)}
    for attr in ("hostname", "port", "username", "password", "platform"):
        resolved[attr] = next((getattr(e, attr) for e in layers if getattr(e, attr) is not None), None)
    for layer in reversed(layers):  # defaults first: each nearer layer overwrites what it sets
        if layer.data is not None:
            for key in layer.data.model_fields_set:  # unset DataEntry fields are None: nothing to inherit
                value = getattr(layer.data, key)
                if value is not None:
                    resolved[key] = value
    return resolved


def _parent_groups(groups: dict[str, GroupEntry], doc: YamlDoc | None, report: ValidationReport) -> None:
    """A group's own groups exist too (an unknown parent would silently contribute nothing)."""
    for name, group in groups.items():
        for parent in group.groups:
            if parent not in groups:
                report.add(f"groups.yaml:{name}.groups", f"unknown group '{parent}'",
                           f"define it in groups.yaml or remove it; groups: {', '.join(groups)}",
                           line=line_of(doc.data, (name, "groups")) if doc is not None else None)


def _devices(hosts: dict[str, HostEntry], groups: dict[str, GroupEntry], defaults: DefaultsEntry,
             hosts_doc: YamlDoc, report: ValidationReport) -> dict[str, Device]:
    devices: dict[str, Device] = {}
    for name, host in hosts.items():
        for group in host.groups:
            if group not in groups:
                report.add(f"hosts.yaml:{name}.groups", f"unknown group '{group}'",
                           f"define it in groups.yaml or remove it; groups: {', '.join(groups) or 'none'}",
                           line=line_of(hosts_doc.data, (name, "groups")))
        chain = [groups[g] for g in _group_chain(host.groups, groups)] + [defaults]
        resolved = _resolve(name, host, chain)
        missing = [k for k in ("hostname", "platform", "role") if resolved.get(k) is None]
        for key in missing:
            where = f"hosts.yaml:{name}.{'data.' if key == 'role' else ''}{key}"
            report.add(where, "required key is missing", "set it on the host, one of its groups or defaults",
                       line=line_of(hosts_doc.data, (name,)))
        if not missing:
            devices[name] = Device(**resolved)
    return devices


def load_inventory(folder: str | Path) -> LoadResult:
    """Read and type-check every file of the inventory at ``folder``; report all problems at once."""
    with paused_gc():  # every model built here stays alive: collecting meanwhile only re-walks them
        return _load(Path(folder))


def _load(folder: Path) -> LoadResult:
    report = ValidationReport()
    if not folder.is_dir():
        report.add(str(folder), "inventory folder not found", "pass the folder holding hosts.yaml and fabric.yaml")
        return LoadResult(None, report)
    docs = {name: _read(folder, name, report, name in FILES[:2]) for name in FILES}
    spec_doc = docs["fabric.yaml"]
    spec = None
    if spec_doc is not None:
        spec = _validate(FabricSpec, spec_doc.data, "fabric.yaml", (), report, spec_doc.data)
    hosts = _entries(docs["hosts.yaml"], HostEntry, "hosts.yaml", report)
    groups = _entries(docs["groups.yaml"], GroupEntry, "groups.yaml", report)
    _parent_groups(groups, docs["groups.yaml"], report)
    defaults_doc = docs["defaults.yaml"]
    defaults = DefaultsEntry()
    if defaults_doc is not None:
        defaults = _validate(DefaultsEntry, defaults_doc.data, "defaults.yaml", (), report,
                             defaults_doc.data) or DefaultsEntry()
    hosts_doc = docs["hosts.yaml"]
    unparsed = any(((folder / name).exists() or (folder / name).with_suffix(".yml").exists()) and docs[name] is None
                   for name in FILES)
    if spec is None or hosts_doc is None or unparsed:
        return LoadResult(None, report)  # resolving devices now would only repeat the file's error
    devices = _devices(hosts, groups, defaults, hosts_doc, report)
    texts: dict[Any, str] = getattr(hosts_doc.data, "texts", {})
    unresolved = tuple(texts.get(n, str(n)) for n in (hosts_doc.data or {}) if str(n) not in devices)
    return LoadResult(Fabric(spec=spec, devices=devices, path=str(folder), unresolved=unresolved), report)
