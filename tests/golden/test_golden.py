"""Golden files at two levels, AVD style: intent YAML and rendered config, for both shipped inventories.

Refresh only on purpose: `pytest tests/golden --update-golden`, then read the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fabric.intent import build_intent
from fabric.inventory import load_inventory
from fabric.render import render_fabric
from tests.conftest import INVENTORIES

GOLDEN = Path(__file__).resolve().parent
SHIPPED = ("lab-roce", "lab-ib")


def intent_yaml(intent) -> str:
    return yaml.safe_dump(intent.model_dump(mode="json"), sort_keys=False, width=120)


def expected_files(inventory: str) -> dict[Path, str]:
    fabric = load_inventory(INVENTORIES / inventory).fabric
    assert fabric is not None
    intents = build_intent(fabric)
    files = {GOLDEN / inventory / "intent" / f"{name}.yaml": intent_yaml(i) for name, i in intents.items()}
    for config in render_fabric(intents).values():
        for file, text in config.files.items():
            files[GOLDEN / inventory / "config" / config.device / file] = text
    return files


@pytest.mark.parametrize("inventory", SHIPPED)
def test_golden(inventory: str, update_golden: bool) -> None:
    files = expected_files(inventory)
    if update_golden:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    on_disk = {p for p in (GOLDEN / inventory).rglob("*") if p.is_file()}
    stale = sorted(str(p.relative_to(GOLDEN)) for p in on_disk - set(files))
    if update_golden:
        for path in stale:
            (GOLDEN / path).unlink()
        return
    missing = sorted(str(p.relative_to(GOLDEN)) for p in set(files) - on_disk)
    assert not missing, f"golden files missing (run pytest tests/golden --update-golden): {missing[:5]}"
    assert not stale, f"golden files no longer produced: {stale[:5]}"
    changed = [str(p.relative_to(GOLDEN)) for p, text in files.items() if p.read_text(encoding="utf-8") != text]
    assert not changed, f"output differs from golden files (review, then --update-golden): {changed[:10]}"


def test_golden_covers_every_rendering_platform() -> None:
    from fabric.core.platform import PLATFORMS

    platforms = {
        yaml.safe_load((GOLDEN / inv / "intent" / f"{config.parent.name}.yaml").read_text())["platform"]
        for inv in SHIPPED for config in (GOLDEN / inv / "config").glob("*/*")
    }
    assert platforms == {name for name, spec in PLATFORMS.items() if spec.outputs}
