"""JSON Schema for the inventory files, for editors."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from fabric.inventory.models import DefaultsEntry, FabricSpec, GroupEntry, HostEntry


def inventory_schema() -> dict[str, Any]:
    """One document with a schema per file: fabric.yaml, hosts.yaml, groups.yaml, defaults.yaml."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "fabric inventory",
        "files": {
            "fabric.yaml": FabricSpec.model_json_schema(),
            "hosts.yaml": TypeAdapter(dict[str, HostEntry]).json_schema(),
            "groups.yaml": TypeAdapter(dict[str, GroupEntry]).json_schema(),
            "defaults.yaml": DefaultsEntry.model_json_schema(),
        },
    }
