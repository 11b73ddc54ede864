"""The run directory: what a deploy leaves behind, so any run can be audited and rolled back.

    RUNS_DIR/<run id>/backups/<device>.<cfg|json|yaml>   running config before the push
    RUNS_DIR/<run id>/diffs/<device>.diff                the semantic diff
    RUNS_DIR/<run id>/result.json                        per-device result (status, reason, paths)
    RUNS_DIR/<run id>/run.log                            one line per device event

Nothing here holds a secret: backups are what the device itself shows.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_RUNS_DIR = Path(os.environ.get("FABRIC_RUNS_DIR", ".fabric/runs"))


def new_run_id() -> str:
    """Sortable and unique: UTC time plus a short random suffix (``20261203T011502Z-3f9a``)."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(2)


@dataclass(frozen=True)
class RunStore:
    """One run's folder."""

    path: Path

    @classmethod
    def create(cls, runs_dir: Path) -> RunStore:
        store = cls(runs_dir / new_run_id())
        (store.path / "backups").mkdir(parents=True)
        (store.path / "diffs").mkdir()
        return store

    @property
    def run_id(self) -> str:
        return self.path.name

    def save_backup(self, device: str, text: str, suffix: str) -> Path:
        path = self.path / "backups" / f"{device}{suffix}"
        path.write_text(text, encoding="utf-8")
        return path

    def save_diff(self, device: str, lines: list[str]) -> Path:
        path = self.path / "diffs" / f"{device}.diff"
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return path

    def log(self, line: str) -> None:
        with (self.path / "run.log").open("a", encoding="utf-8") as log:
            log.write(time.strftime("%H:%M:%S ") + line + "\n")

    def save_result(self, document: dict[str, Any]) -> None:
        (self.path / "result.json").write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")

    def load_result(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads((self.path / "result.json").read_text())
        return document
