"""Comware and Huawei CloudEngine: view-based CLIs driven over netmiko, diffed as hierarchical config trees.

Both show ``display current-configuration`` with one-space indents and ``#`` separators, enter sub-views by
context and leave them with ``quit``, and negate with ``undo``. Comware applies each line at once (``save force``
keeps it); CloudEngine collects a candidate until ``commit``. Neither netmiko driver notices every error the
devices print, so the output is checked here for the devices' own error lines. The stale lines of fabric's scope
(``fabric.deploy.scope``) are undone in their views before the additions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fabric.deploy.diff import commands, differences, parse_tree, restore_ops
from fabric.deploy.driver import DeployError, Target, check_output, first_problem
from fabric.deploy.scope import plan, shown
from fabric.deploy.ssh import NetmikoSession, send, send_batch

PROMPT = r"(?:[\]>]|\]:)\s*$"  # a view prompt, or a [Y/N]: question
END_OF_CONFIG = r"\nreturn\s+[<\[][^\n]*[>\]]\s*$"  # a displayed configuration ends with "return", then a prompt


@dataclass(frozen=True)
class Dialect:
    """What differs between the two view CLIs."""

    errors: tuple[str, ...]
    commit: str | None  # two-stage: the word that applies the candidate
    save: str
    predefined: tuple[str, ...] = ()  # views the device always has: once entered they show, empty, for good


COMWARE = Dialect(errors=(" % ", "% "), commit=None, save="save force", predefined=("qos map-table ",))
HUAWEI_CE = Dialect(errors=("Error:",), commit="commit", save="save")


class ViewCliDriver(NetmikoSession):
    """comware / huawei_ce over netmiko: diff = the candidate's lines the running tree lacks."""

    backup_suffix = ".cfg"

    def __init__(self, target: Target, dialect: Dialect) -> None:
        super().__init__(target)
        self.dialect = dialect
        self.pending: list[str] = []

    def _send(self, line: str, expect: str = PROMPT) -> str:
        """One command's output without prompt lines (a prompt, or a prompt and the echoed command, shows up
        depending on how the reply was split into reads)."""
        output = send(self.conn, line, self.target.timeout_s, expect)
        prompt = re.compile(r"^[<\[][~*]?" + re.escape(self.conn.base_prompt) + r"[^\]>\n]*[\]>]")
        return "\n".join(row for row in output.splitlines() if not prompt.match(row) and not row.endswith(line))

    def read_running(self) -> str:
        """``display current-configuration``, read up to its closing ``return`` (a prompt pattern alone can
        match the echo's prompt and cut the read short: an empty "running config" would back up nothing)."""
        shown = self._send("display current-configuration", END_OF_CONFIG)
        if not shown.rstrip().endswith("return"):
            raise DeployError("error", "display current-configuration: incomplete output (no closing 'return')")
        return shown

    def diff(self, candidate: str) -> list[str]:
        self.seen = self.read_running()
        removals, additions = plan(self.seen, candidate, self.target.platform)
        self.pending = commands(removals, " ", "quit") + commands(additions, " ", "quit")
        return shown(removals, additions, self.target.platform)

    def push(self) -> None:
        self.seen = None
        self._apply(self.pending, "configuration")

    def _apply(self, lines: list[str], what: str, tolerated: list[str] | None = None) -> None:
        """Type ``tolerated`` (refusals expected: removals) then ``lines`` (no error allowed) in system view,
        commit (two-stage CLIs), leave, save."""
        self._send("system-view")
        try:
            if tolerated:
                self._batch(tolerated, stop_on_error=False)
            if lines:
                check_output(self._batch(lines), self.dialect.errors, what)
            if self.dialect.commit:
                check_output(self._send(self.dialect.commit), (*self.dialect.errors, "Failed"), what)
        finally:
            self._leave()
        answer = self._send(self.dialect.save)
        if answer.rstrip().endswith("]:"):  # "Are you sure to continue?[Y/N]:"
            self._send("y")

    def _batch(self, lines: list[str], stop_on_error: bool = True) -> str:
        """Type ``lines`` one top-level block at a time, its view command first. A refused view command leaves
        the session where it was, so the block's lines landed in system view and its ``quit`` lines climbed out of
        the session: the device's refusal was lost behind "connection dropped". A block that printed an error
        ends the batch (``stop_on_error``; the rest of the block stays untyped), or the session goes back to
        system view and typing goes on (removals, where refusals are expected)."""
        prompt = r"[\[<][~*]?" + re.escape(self.conn.base_prompt) + r"[^\]>\n]*[\]>]"
        outputs: list[str] = []
        for block in top_level_blocks(lines):
            for part in (block[:1], block[1:]):  # the view command alone first: refused, its lines stay untyped
                output = send_batch(self.conn, part, prompt, self.target.timeout_s) if part else ""
                outputs.append(output)
                if any(marker in row for row in output.splitlines() for marker in self.dialect.errors):
                    break
            else:
                continue
            if stop_on_error:
                break
            if re.search(r"<[^\n>]*>\s*$", output):  # quit one view too many: back in the user view
                self._send("system-view")
        return "\n".join(outputs)

    def _leave(self) -> None:
        """Back to the user view; uncommitted candidate lines (after an error) are dropped, not committed."""
        answer = self._send("return")
        if "[Y/N]" in answer or answer.rstrip().endswith(":"):
            self._send("n")

    def verify(self, candidate: str) -> list[str]:
        """Lines still missing, or stale lines still there."""
        return shown(*plan(self.read_running(), candidate, self.target.platform), self.target.platform)

    def restore(self, backup: str) -> None:
        """``undo`` what the backup lacks, re-add what it has; once more if that left a difference: an ``undo``
        can clear more than its own line (``undo priority-flow-control enable`` takes the port's other PFC
        settings on the twin), and the lines it took were still there when the first pass was planned."""
        self.seen = None
        wanted = parse_tree(backup)
        current = parse_tree(self.read_running())
        left: list[str] = []
        for _ in range(2):
            removals, additions = restore_ops(current, wanted, "undo")
            if removals or additions:
                self._apply(commands(additions, " ", "quit"), "restore", commands(removals, " ", "quit"))
            current = parse_tree(self.read_running())
            left = differences(current, wanted, self.dialect.predefined)
            if not left:
                return
        raise DeployError("error", f"rollback incomplete: {first_problem(left)}")


def top_level_blocks(lines: list[str]) -> list[list[str]]:
    """Typed lines cut before each unindented command (a system-view line or a view header), so that every
    block takes the session from system view back to system view."""
    blocks: list[list[str]] = []
    for line in lines:
        if not blocks or (not line.startswith(" ") and line != "quit"):
            blocks.append([])
        blocks[-1].append(line)
    return blocks
