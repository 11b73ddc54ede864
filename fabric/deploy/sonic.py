"""SONiC: CONFIG_DB as JSON over the Linux shell (netmiko ``linux``), changed fields pushed as a JSON patch.

The diff is field by field against ``show runningconfiguration all``; ``push`` uploads only those fields as an
RFC 6902 patch (``sudo config apply-patch``, YANG-checked, all or nothing) and saves; ``restore`` patches the
running CONFIG_DB back to the backup, removals included. The patch also removes fabric's stale fields and entries
(``fabric.deploy.scope.sonic_stale``).
"""

from __future__ import annotations

import json
from typing import Any

from fabric.deploy.diff import describe_patch, json_patch, json_restore
from fabric.deploy.driver import DeployError, Target, last_line
from fabric.deploy.scope import sonic_stale
from fabric.deploy.ssh import NetmikoSession, upload

PATCH = "/tmp/fabric-patch.json"


class SonicDriver(NetmikoSession):
    """sonic: JSON diff of CONFIG_DB tables, ``config apply-patch``, ``config save``."""

    shell = True
    backup_suffix = ".json"

    def __init__(self, target: Target) -> None:
        super().__init__(target)
        self.pending: list[dict[str, Any]] = []

    def _db(self) -> dict[str, Any]:
        text = self._run("show runningconfiguration all")
        try:
            db: dict[str, Any] = json.loads(text)
        except ValueError:
            raise DeployError("error", f"show runningconfiguration all: not JSON ({text[:80]!r})") from None
        return db

    def read_running(self) -> str:
        return json.dumps(self._db(), indent=1, sort_keys=True) + "\n"

    def diff(self, candidate: str) -> list[str]:
        self.seen = self.read_running()
        self.pending = converge(json.loads(candidate), json.loads(self.seen))
        return describe_patch(self.pending)

    def _patch(self, ops: list[dict[str, Any]], what: str) -> None:
        upload(self.conn, json.dumps(ops), PATCH)
        output = self._run(f"sudo config apply-patch {PATCH}").strip()
        if not output.endswith("Patch applied successfully."):
            raise DeployError("rejected", f"{what} refused: {last_line(output)}")
        saved = self._run("sudo config save -y")
        if "config_db.json" not in saved:
            raise DeployError("rejected", f"config save failed: {saved.strip()[:160]}")

    def push(self) -> None:
        self.seen = None
        if self.pending:
            self._patch(self.pending, "config apply-patch")

    def verify(self, candidate: str) -> list[str]:
        return describe_patch(converge(json.loads(candidate), self._db()))

    def restore(self, backup: str) -> None:
        self.seen = None
        wanted = json.loads(backup)
        ops = json_restore(self._db(), wanted)
        if ops:
            self._patch(ops, "restore")
        left = json_restore(self._db(), wanted)
        if left:
            raise DeployError("error", f"rollback incomplete: {describe_patch(left)[0]}")


def converge(want: dict[str, Any], have: dict[str, Any]) -> list[dict[str, Any]]:
    """One patch: fabric's stale fields/entries removed, then the rendered fields ``have`` lacks added."""
    return sonic_stale(want, have) + json_patch(want, have)
