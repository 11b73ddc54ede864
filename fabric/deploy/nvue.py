"""NVUE (Cumulus Linux): ``nv set`` lines into the pending revision, the device's own ``nv config diff``.

``diff`` types the candidate into a pending revision, reads ``nv config diff -o commands`` (the semantic diff,
as NVUE computes it) and detaches, so a dry run leaves nothing pending. ``push`` types only those diff commands
and applies them atomically; ``restore`` replaces the revision with the backup's YAML (``nv config replace``).
fabric's scope is unset in the pending revision before the candidate, so the diff also lists what no longer is set.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from fabric.deploy.driver import DeployError, Target, check_output, last_line
from fabric.deploy.scope import nvue_unset
from fabric.deploy.ssh import NetmikoSession, send_batch, upload

ERRORS = ("Error:", "Invalid config", "command not found")
RESTORE = "/tmp/fabric-restore.yaml"


class NvueDriver(NetmikoSession):
    """nvue: pending revision + ``nv config diff``, ``nv config apply -y``, ``nv config save``."""

    shell = True
    backup_suffix = ".yaml"

    def __init__(self, target: Target) -> None:
        super().__init__(target)
        self.pending: list[str] = []

    def read_running(self) -> str:
        return self._run("nv config show")

    def _device_diff(self, candidate: str) -> list[str]:
        lines = [line.strip() for line in candidate.splitlines() if line.strip().startswith("nv ")]
        lines = nvue_unset(lines) + lines  # fabric's scope cleared first: the diff lists what no longer is set
        try:
            output = send_batch(self.conn, lines, re.escape(self.conn.base_prompt), self.target.timeout_s)
            check_output(output, ERRORS, "nv set")
            return [line for line in self._run("nv config diff -o commands").splitlines() if line.strip()]
        finally:
            self._run("nv config detach")

    def diff(self, candidate: str) -> list[str]:
        self.pending = self._device_diff(candidate)
        return [f"{'-' if line.startswith('nv unset') else '+'} {line}" for line in self.pending]

    def _apply(self, what: str) -> None:
        applied = self._run("nv config apply -y")
        if "applied [rev_id" not in applied:
            self._run("nv config detach")
            raise DeployError("rejected", f"{what} refused: {last_line(applied)}")
        self._run("nv config save")

    def push(self) -> None:
        if not self.pending:
            return
        output = send_batch(self.conn, self.pending, re.escape(self.conn.base_prompt), self.target.timeout_s)
        check_output(output, ERRORS, "nv set")
        self._apply("nv config apply")

    def verify(self, candidate: str) -> list[str]:
        return self._device_diff(candidate)

    def restore(self, backup: str) -> None:
        upload(self.conn, backup, RESTORE)
        check_output(self._run(f"nv config replace {RESTORE}"), ERRORS, "restore")
        if self._run("nv config diff"):
            self._apply("restore")
        if applied_tree(self.read_running()) != applied_tree(backup):
            raise DeployError("error", "rollback incomplete: the applied revision differs from the backup")


def applied_tree(shown: str) -> Any:
    """The ``set`` tree of an ``nv config show`` YAML (its header names the revision, not the config)."""
    docs = yaml.safe_load(shown) or []
    return next((doc["set"] for doc in docs if isinstance(doc, dict) and "set" in doc), {})
