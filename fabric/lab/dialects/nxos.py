"""nxos: a Cisco Nexus 9000 (NX-OS 10.3) CLI, as netmiko ``cisco_nxos`` and napalm ``nxos_ssh`` drive it.

Exec prompt ``spine1# ``; ``configure terminal`` enters ``spine1(config)# `` and sub-modes follow the block
being configured (``(config-if)``, ``(config-pmap-que)``, ``(config-pmap-c-que)``, ...). What napalm
nxos_ssh sends is all here (napalm 5.2 source): ``terminal width 511``/``terminal length 0`` at login,
``show running-config all`` for a merge diff, ``terminal dont-ask`` + ``checkpoint file rollback_config.txt``
before a commit, the merge lines in config mode, ``copy running-config startup-config`` (answers "Copy
complete."), ``dir FILE`` + ``rollback running-config file FILE`` (answers "Rollback completed
successfully.") for rollback, and ``show diff rollback-patch file A file B`` for a replace diff.

While the ``reject-config`` fault is active, entering configuration mode and every configuration line is
refused with NX-OS's role-permission error, and nothing changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from fabric.lab.device import LabDevice
from fabric.lab.dialects import nxos_show
from fabric.lab.dialects.base import Dialect, EndSession
from fabric.lab.dialects.nxos_config import ConfigNode, hostname, rollback_patch, running_lines
from fabric.lab.dialects.nxos_grammar import EXEC_IN_CONFIG, EXEC_RULES, Failure, Match, Rule, match, tokenize
from fabric.lab.dialects.nxos_session import Path, apply, best_failure, is_change, locate, replay

DENIED = "% Permission denied for the role"
_COPY_DONE = ("[########################################] 100%\n"
              "Copy complete, now saving to disk (please wait)...\nCopy complete.")
_ROLLBACK_HEAD = ("Note: Applying config parallelly may fail Rollback verification\n"
                  "Collecting Running-Config\n#Generating Rollback Patch\nExecuting Rollback Patch")


def _stamp(when: datetime) -> str:
    return f"{when:%a %b} {when.day:>2} {when:%H:%M:%S %Y}"


@dataclass
class BootflashFile:
    text: str
    mtime: datetime


@dataclass
class NxosState:
    """One switch's configuration state, shared by its sessions: running tree, startup, bootflash files."""

    running: ConfigNode
    startup: list[str]
    files: dict[str, BootflashFile] = field(default_factory=dict)
    changed_at: datetime = field(default_factory=datetime.now)
    saved_at: datetime = field(default_factory=datetime.now)

    def body(self) -> list[str]:
        return running_lines(self.running)

    def __str__(self) -> str:
        return "\n".join(self.body())


class NxosDialect(Dialect):
    """One NX-OS CLI session: exec mode, or a path of configuration sub-modes."""

    banner = "Cisco Nexus Operating System (NX-OS) Software\nTAC support: http://www.cisco.com/tac\n"

    def __init__(self, device: LabDevice, username: str) -> None:
        super().__init__(device, username)
        self.path: Path | None = None  # None: exec mode; [] is (config)
        self.dont_ask = False
        self.terminal = {"length": 24, "width": 80}
        self.ports = frozenset(device.inventory.interfaces)

    @classmethod
    def initial_config(cls, device: LabDevice) -> NxosState:
        root = ConfigNode("")
        root.set(f"hostname {device.name}", 1)
        for port in device.inventory.interfaces:
            root.enter(f"interface {port}")
        return NxosState(root, running_lines(root))

    @property
    def state(self) -> NxosState:
        state: NxosState = self.device.config
        return state

    def prompt(self) -> str:
        mode = f"({self.path[-1][0] if self.path else 'config'})" if self.path is not None else ""
        return f"{hostname(self.state.running)}{mode}# "

    def config_digest_text(self) -> str:
        return str(self.state)

    def handle(self, line: str) -> str:
        if not line.strip() or line.lstrip().startswith("!"):
            return ""
        prompt = self.prompt()
        result = self._exec(line, EXEC_RULES) if self.path is None else self._config(line)
        return result.text(prompt) if isinstance(result, Failure) else result

    # -- configuration mode -------------------------------------------------------------------------

    def _config(self, line: str) -> str | Failure:
        assert self.path is not None
        located = locate(self.path, line, self.ports)
        if not isinstance(located, list):
            if is_change(located) and self.device.faults.active("reject-config"):
                return DENIED
            self.path = apply(self.state.running, self.path, located)
            if is_change(located):
                self.state.changed_at = datetime.now()
            return ""
        tokens = tokenize(line)
        if tokens and tokens[0].text == "do":  # blank "do" out so carets keep their columns
            line = " " * (tokens[0].column + 2) + line[tokens[0].column + 2:]
        result = self._exec(line, EXEC_IN_CONFIG)
        return best_failure([*located, result]) if isinstance(result, Failure) else result

    # -- exec commands ------------------------------------------------------------------------------

    def _exec(self, line: str, rules: list[Rule]) -> str | Failure:
        command, bar, pipe = line.partition("|")
        result = match(rules, tokenize(command), self.ports, command)
        if isinstance(result, Failure):
            return result
        if bar and not result.rule.action.startswith(("show", "dir")):
            return Failure("Invalid command", len(command))
        output = self._run(result)
        return _filter(output, pipe, len(command) + 1) if bar else output

    def _run(self, m: Match) -> str:
        handler: Callable[[Match], str] = getattr(self, "_do_" + m.rule.action.replace("-", "_"))
        return handler(m)

    def _do_configure(self, m: Match) -> str:
        if self.device.faults.active("reject-config"):
            return DENIED
        self.path = []
        return "Enter configuration commands, one per line. End with CNTL/Z."

    def _do_exit(self, m: Match) -> str:
        raise EndSession

    def _do_terminal_length(self, m: Match) -> str:
        self.terminal["length"] = int(m.words[-1])
        return ""

    def _do_terminal_width(self, m: Match) -> str:
        self.terminal["width"] = int(m.words[-1])
        return ""

    def _do_dont_ask(self, m: Match) -> str:
        self.dont_ask = True
        return ""

    def _do_no_dont_ask(self, m: Match) -> str:
        self.dont_ask = False
        return ""

    def _do_show_running(self, m: Match, defaults: bool = False) -> str:
        now = datetime.now()
        header = [f"!Command: {m.line}", f"!Running configuration last done at: {_stamp(self.state.changed_at)}",
                  f"!Time: {_stamp(now)}", ""]
        return "\n".join([*header, *running_lines(self.state.running, defaults)])

    def _do_show_running_all(self, m: Match) -> str:
        return self._do_show_running(m, defaults=True)

    def _do_show_startup(self, m: Match) -> str:
        header = [f"!Command: {m.line}", f"!Time: {_stamp(datetime.now())}",
                  f"!Startup config saved at: {_stamp(self.state.saved_at)}", ""]
        return "\n".join([*header, *self.state.startup])

    def _do_show_version(self, m: Match) -> str:
        return nxos_show.version(self.device, self.state.running)

    def _do_show_hostname(self, m: Match) -> str:
        return hostname(self.state.running)

    def _do_show_pfc(self, m: Match) -> str:
        return nxos_show.pfc_table(self.device, self.state.running)

    def _do_show_queuing(self, m: Match) -> str:
        return nxos_show.queuing_interface(self.device, self.state.running, m.words[-1])

    def _do_copy_run_start(self, m: Match) -> str:
        self.state.startup = self.state.body()
        self.state.saved_at = datetime.now()
        return _COPY_DONE

    def _do_checkpoint(self, m: Match) -> str:
        now = datetime.now()
        lines = ["!Command: Checkpoint cmd vdc 1", f"!Time: {_stamp(now)}", "", *self.state.body()]
        self.state.files[m.words[-1]] = BootflashFile("\n".join(lines) + "\n", now)
        return "Done"

    def _do_dir(self, m: Match) -> str:
        files = {name: (len(f.text), f.mtime) for name, f in self.state.files.items()}
        return nxos_show.dir_listing(files, m.words[-1] if len(m.words) > 1 else None)

    def _do_delete(self, m: Match) -> str:
        return "" if self.state.files.pop(m.words[-1], None) else "No such file or directory"

    def _do_show_diff(self, m: Match) -> str:
        source, target = (self.state.files.get(m.words[3]), self.state.files.get(m.words[5]))
        if source is None or target is None:
            return "No such file or directory"
        patch = rollback_patch(replay(source.text, self.ports).root, replay(target.text, self.ports).root)
        body = "!!\n" + "\n".join(patch) if patch else "Rollback Patch is Empty"
        return f"Collecting Running-Config\n#Generating Rollback Patch\n{body}"

    def _do_rollback(self, m: Match) -> str:
        saved = self.state.files.get(m.words[3])
        if saved is None:
            return "No such file or directory"
        if self.device.faults.active("reject-config"):
            return DENIED
        result = replay(saved.text, self.ports)
        if result.error is not None:  # atomic: nothing of the file is applied
            return f"{_ROLLBACK_HEAD}\n{result.error}\nRollback failed."
        self.state.running = result.root
        self.state.changed_at = datetime.now()
        if self.path:
            self.path = []
        return (f"{_ROLLBACK_HEAD}\nGenerating Running-config for verification\n"
                "Generating Patch for verification\nVerification is Successful.\n\nRollback completed successfully.")


def _filter(output: str, pipe: str, column: int) -> str | Failure:
    """``| include RE``, ``| exclude RE``, ``| begin RE`` (keywords abbreviable)."""
    verb, _, pattern = pipe.strip().partition(" ")
    names = [n for n in ("include", "exclude", "begin") if verb and n.startswith(verb.lower())]
    if len(names) != 1 or not pattern.strip():
        return Failure("Invalid command", column + len(pipe) - len(pipe.lstrip()))
    try:
        regex = re.compile(pattern.strip())
    except re.error:
        regex = re.compile(re.escape(pattern.strip()))
    lines = output.split("\n")
    if names[0] == "begin":
        start = next((i for i, text in enumerate(lines) if regex.search(text)), len(lines))
        return "\n".join(lines[start:])
    keep = names[0] == "include"
    return "\n".join(text for text in lines if bool(regex.search(text)) == keep)
