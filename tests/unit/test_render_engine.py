"""render_fabric looks each platform's templates up once per call: same files as rendering device by device."""

from __future__ import annotations

import os
from pathlib import Path

from fabric.intent import build_intent
from fabric.inventory import load_inventory
from fabric.render import render_device, render_fabric
from tests.conftest import INVENTORIES


def test_fabric_render_equals_device_render():
    fabric = load_inventory(INVENTORIES / "lab-roce").fabric
    assert fabric is not None
    intents = build_intent(fabric)
    configs = render_fabric(intents)
    assert list(configs) == list(intents)
    assert len({i.platform for i in intents.values()}) >= 5
    for name, intent in intents.items():
        assert configs[name].files == render_device(intent).files, name


def test_templates_edited_between_calls_are_picked_up(tmp_path: Path):
    """Templates are held per call, not per process: a later render sees a changed template."""
    import shutil

    from fabric.render.render import TEMPLATES

    root = tmp_path / "templates"
    shutil.copytree(TEMPLATES, root)
    fabric = load_inventory(INVENTORIES / "lab-roce").fabric
    assert fabric is not None
    intents = {n: i for n, i in build_intent(fabric).items() if i.platform == "eos"}
    before = render_fabric(intents, root)
    header = root / "eos" / "interfaces.j2"
    header.write_text("! edited\n" + header.read_text(), encoding="utf-8")
    later = header.stat().st_mtime + 10  # a new mtime even on file systems with coarse timestamps
    os.utime(header, (later, later))
    after = render_fabric(intents, root)
    name = next(iter(intents))
    assert after[name].files["eos.cfg"] == "! edited\n" + before[name].files["eos.cfg"]
