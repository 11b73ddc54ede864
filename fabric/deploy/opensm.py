"""The OpenSM host: the rendered /etc/opensm files over SSH (netmiko ``linux``), then ``systemctl restart opensm``.

The candidate is a JSON object {file name: text} (the platform renders several files). The diff is per file,
line by line, comments and blank lines aside; ``push`` writes only the files that differ, as root, in base64
chunks (no here-documents through a terminal), restarts the service once and checks it came back active.
"""

from __future__ import annotations

import base64
import difflib
import json

from fabric.deploy.driver import DeployError, Target, check_output
from fabric.deploy.ssh import NetmikoSession, send_batch

FOLDER = "/etc/opensm"
CHUNK = 400  # base64 characters per line, a multiple of 4: each chunk decodes alone
ROOT_PROMPT = r"@[\w.-]+:[^\n#$]*#"
ERRORS = ("rror", "denied", "No such", "not permitted", "Failed")
MISSING = "\0missing"  # a file the host does not have


def _meaningful(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _same(text: str, other: str) -> bool:
    """Equal as OpenSM reads them: the same setting lines (a missing file sets nothing, like an empty one)."""
    return _meaningful("" if text == MISSING else text) == _meaningful("" if other == MISSING else other)


def write_lines(path: str, text: str) -> list[str]:
    encoded = base64.b64encode(text.encode()).decode()
    chunks = [encoded[i:i + CHUNK] for i in range(0, len(encoded), CHUNK)] or [""]
    return [f"printf '%s' '{part}' | base64 -d {'>' if n == 0 else '>>'} {path}" for n, part in enumerate(chunks)]


class OpensmDriver(NetmikoSession):
    """opensm: per-file line diff, files written as root, one restart, the service checked active."""

    shell = True
    backup_suffix = ".json"

    def __init__(self, target: Target) -> None:
        super().__init__(target)
        self.names: list[str] = []
        self.pending: dict[str, str] = {}

    def _files(self) -> dict[str, str]:
        found = {}
        for name in self.names:
            text = self._run(f"cat {FOLDER}/{name}")
            found[name] = MISSING if text.startswith(f"cat: {FOLDER}/{name}: No such file") else text + "\n"
        return found

    def read_running(self) -> str:
        return json.dumps(self._files(), indent=1, sort_keys=True) + "\n"

    def diff(self, candidate: str) -> list[str]:
        wanted: dict[str, str] = json.loads(candidate)
        self.names = sorted(wanted)
        have = self._files()
        self.seen = json.dumps(have, indent=1, sort_keys=True) + "\n"
        self.pending = {n: text for n, text in wanted.items() if not _same(have[n], text) or have[n] == MISSING}
        lines: list[str] = []
        for name, text in sorted(self.pending.items()):
            old = [] if have[name] == MISSING else _meaningful(have[name])
            lines += [f"{FOLDER}/{name}: {line}" for line in difflib.unified_diff(old, _meaningful(text), n=0,
                                                                                   lineterm="")
                      if line[:1] in "+-" and not line.startswith(("+++", "---"))]
        return lines

    def _write(self, files: dict[str, str], what: str) -> None:
        lines: list[str] = []
        for name, text in sorted(files.items()):
            # a file that was missing comes back empty: no setting in it, as when it was absent (the lab's host
            # shell has no rm)
            lines += [f"printf '' > {FOLDER}/{name}"] if text == MISSING else write_lines(f"{FOLDER}/{name}", text)
        try:
            self.conn.config_mode()  # sudo -s: /etc/opensm and the service want root
            check_output(send_batch(self.conn, [*lines, "systemctl restart opensm"], ROOT_PROMPT,
                                    self.target.timeout_s), ERRORS, what)
        finally:
            self.conn.exit_config_mode()
        state = self._run("systemctl is-active opensm").strip()
        if state != "active":
            raise DeployError("verify", f"opensm is {state or 'not running'} after the restart")

    def push(self) -> None:
        self.seen = None
        if self.pending:
            self._write(self.pending, "opensm files")

    def verify(self, candidate: str) -> list[str]:
        wanted: dict[str, str] = json.loads(candidate)
        have = self._files()
        return [f"{FOLDER}/{n} differs" for n, text in wanted.items() if not _same(have[n], text)]

    def restore(self, backup: str) -> None:
        self.seen = None
        saved: dict[str, str] = json.loads(backup)
        self.names = sorted(saved)
        changed = {n: text for n, text in saved.items() if not _same(self._files()[n], text)}
        if changed:
            self._write(changed, "restore")
        left = [n for n, text in self._files().items() if not _same(text, saved[n])]
        if left:
            raise DeployError("error", f"rollback incomplete: {FOLDER}/{left[0]} differs from the backup")
