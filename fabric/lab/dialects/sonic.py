"""sonic: a SONiC switch's login shell (``admin@leaf1:~$``) with sonic-utilities' ``config``/``show`` and sonic-cfggen.

The running state is CONFIG_DB (fabric.lab.dialects.sonic_db). How a deploy pushes a config_db fragment, with
every line short enough for a terminal (a pty line holds 4095 characters, the lab's line editor fewer):

    rm -f /tmp/fabric.b64
    printf '%s' '<up to ~900 base64 characters>' >> /tmp/fabric.b64      (repeated)
    base64 -d /tmp/fabric.b64 > /tmp/fabric.json
    sudo config load /tmp/fabric.json -y          (merge; or ``sudo config apply-patch /tmp/patch.json``)
    sudo config save -y

``config load`` here validates the target config with the YANG checks of sonic_db before writing (as ``config
reload FILE`` does on current SONiC, and as sonic-utilities PR 4534 adds to ``load``), so a refused file changes
nothing. Output wording follows sonic-utilities config/main.py, pfc/main.py and click 7's usage errors.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from fabric.lab.device import LabDevice
from fabric.lab.dialects import sonic_show as shows
from fabric.lab.dialects.sonic_db import (
    SAVED,
    PatchError,
    SonicState,
    YangError,
    apply_patch,
    dump,
    initial_state,
    merge,
    missing_tables,
    validate,
)
from fabric.lab.dialects.unix_shell import Program, Result, UnixShellDialect

CFGGEN = "/usr/local/bin/sonic-cfggen"
ROOT_REQUIRED = Result(err="Root privileges are required for this operation\n", rc=1)
LOCKED = Result(err="Failed to acquire lock on /etc/sonic/reload.lock\n", rc=1)


def usage_error(prog: str, usage: str, message: str) -> Result:
    """click 7's UsageError: exit status 2."""
    return Result(err=f'Usage: {prog} {usage}\nTry "{prog} -h" for help.\n\nError: {message}\n', rc=2)


def no_such_command(prog: str, name: str) -> Result:
    return usage_error(prog, "[OPTIONS] COMMAND [ARGS]...", f'No such command "{name}".')


class SonicDialect(UnixShellDialect):
    """SONiC 202405-style CLI on Debian bash."""

    @classmethod
    def initial_config(cls, device: LabDevice) -> SonicState:
        return initial_state(device)

    @property
    def state(self) -> SonicState:
        state: SonicState = self.device.config
        return state

    @property
    def files(self) -> dict[str, str]:
        return self.state.files

    def config_digest_text(self) -> str:
        return dump(self.state.db)

    def program(self, name: str, root: bool) -> Program | None:
        programs: dict[str, Callable[[list[str], str, bool], Result]] = {
            "config": self._config, "show": self._show, "sonic-cfggen": self._cfggen,
            "pfcstat": lambda a, s, r: Result(shows.pfc_counters(self.device) + "\n")}
        found = programs.get(name)
        return None if found is None else (lambda args, stdin: found(args, stdin, root))

    # -- config ---------------------------------------------------------------------------------------------

    def _config(self, args: list[str], stdin: str, root: bool) -> Result:
        if not root:
            return ROOT_REQUIRED
        if not args:
            return Result("Usage: config [OPTIONS] COMMAND [ARGS]...\n\n  SONiC command line - 'config' command\n")
        commands: dict[str, Callable[[list[str], str], Result]] = {
            "load": self._load, "reload": self._reload, "save": self._save, "apply-patch": self._apply_patch,
            "interface": self._interface}
        command = commands.get(args[0])
        if command is None:
            return no_such_command("config", args[0])
        if self.device.faults.active("reject-config"):
            return LOCKED
        return command(args[1:], stdin)

    def _confirmed(self, args: list[str], question: str, action: Callable[[], Result]) -> Result:
        if "-y" in args or "--yes" in args:
            return action()
        return self.ask(f"{question} [y/N]: ",
                        lambda answer: action() if answer.lower() in ("y", "yes") else Result(err="Aborted!\n", rc=1))

    def _load(self, args: list[str], stdin: str) -> Result:
        names = [a for a in args if not a.startswith("-")]
        name = names[0] if names else SAVED
        question = (f"Load config from the file(s) {name} ?" if names
                    else "Load config from the default config file(s) ?")
        return self._confirmed(args, question, lambda: self._write_file_to_db(name, stdin, replace=False))

    def _reload(self, args: list[str], stdin: str) -> Result:
        names = [a for a in args if not a.startswith("-")]
        name = names[0] if names else SAVED
        question = f"Clear current config and reload config in config_db format from the file(s) {name} ?"
        return self._confirmed(args, question, lambda: self._write_file_to_db(name, stdin, replace=True))

    def _write_file_to_db(self, name: str, stdin: str, replace: bool) -> Result:
        text = self.read_file(name, stdin)
        if text is None:
            return Result(f"The config_db file {name} doesn't exist\n")
        running = f"Running command: {CFGGEN} -j {name} --write-to-db\n"
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return Result(running, _traceback(exc), 1)
        missing = missing_tables(data) if isinstance(data, dict) else []
        if missing:
            return Result(f"Config tables are missing yang models: dict_keys({missing!r})\n", "Aborted!\n", 1)
        try:
            target = merge({} if replace else self.state.db, data)
            validate(target)
        except YangError as exc:
            return Result(f"{name} fails YANG validation! Error: {exc}\n", "Aborted!\n", 1)
        self.state.db = target
        if not replace:
            return Result(running)
        return Result("Acquired lock on /etc/sonic/reload.lock\nDisabling container monitoring ...\n"
                      f"Stopping SONiC target ...\n{running}Running command: /usr/local/bin/db_migrator.py -o migrate\n"
                      "Restarting SONiC target ...\nEnabling container monitoring ...\n"
                      "Reloading Monit configuration ...\nReinitializing monit daemon\n"
                      "Released lock on /etc/sonic/reload.lock\n")

    def _save(self, args: list[str], stdin: str) -> Result:
        names = [a for a in args if not a.startswith("-")]
        name = names[0] if names else SAVED

        def save() -> Result:
            error = self.write_file(name, dump(self.state.db) + "\n", root=True)
            return Result(f"Running command: {CFGGEN} -d --print-data > {name}\n", error.replace("-bash", "/bin/sh"),
                          1 if error else 0)

        return self._confirmed(args, "Existing files will be overwritten, continue?", save)

    def _apply_patch(self, args: list[str], stdin: str) -> Result:
        names = [a for a in args if not a.startswith("-")]
        if not names:
            return usage_error("config apply-patch", "[OPTIONS] PATCH_FILE_PATH", 'Missing argument "PATCH_FILE_PATH".')
        dry_run = "-d" in args or "--dry-run" in args
        banner = "** DRY RUN EXECUTION **\n" if dry_run else ""
        try:
            text = self.read_file(names[0], stdin)
            if text is None:
                raise PatchError(f"[Errno 2] No such file or directory: '{names[0]}'")
            ops = json.loads(text)
            target = apply_patch(self.state.db, ops)
            missing = missing_tables(target)
            if missing:
                raise PatchError(f"Given patch is not valid because it has changes to tables without YANG models: "
                                 f"{missing}")
            validate(target)
        except (PatchError, YangError, json.JSONDecodeError) as exc:
            message = f"Given patch will produce invalid config. Error: {exc}" if isinstance(exc, YangError) else exc
            fail = usage_error("config apply-patch", "[OPTIONS] PATCH_FILE_PATH", str(message))
            return Result(banner, f"Failed to apply patch due to: {message}\n{fail.err}", 2)
        if not dry_run:
            self.state.db = target
        return Result(f"{banner}Patch Applier: localhost: Patch application starting.\n"
                      f"Patch Applier: localhost: Patch: {json.dumps(ops)}\n"
                      "Patch Applier: localhost patch application completed.\nPatch applied successfully.\n")

    def _interface(self, args: list[str], stdin: str) -> Result:
        if args[:2] != ["pfc", "priority"]:
            return no_such_command("config interface", args[0] if args else "")
        usage = "[OPTIONS] <interface_name> [0|1|2|3|4|5|6|7] [on|off]"
        prog = "config interface pfc priority"
        rest = args[2:]
        if len(rest) != 3:
            return usage_error(prog, usage, "Missing argument \"<interface_name>\"." if not rest
                               else f"Missing argument \"{'[0|1|2|3|4|5|6|7]' if len(rest) == 1 else '[on|off]'}\".")
        port, priority, status = rest
        if priority not in [str(p) for p in range(8)]:
            return usage_error(prog, usage, f'Invalid value for "[0|1|2|3|4|5|6|7]": invalid choice: {priority}. '
                                            "(choose from 0, 1, 2, 3, 4, 5, 6, 7)")
        if status not in ("on", "off"):
            return usage_error(prog, usage, f'Invalid value for "[on|off]": invalid choice: {status}. '
                                            "(choose from on, off)")
        if port not in self.state.db.get("PORT", {}):
            return Result(err="Error: Interface name is invalid. Please enter a valid interface name!!\n", rc=2)
        return self._pfc_priority(port, priority, status)

    def _pfc_priority(self, port: str, priority: str, status: str) -> Result:
        """pfc/main.py configPfcPrio: edits PORT_QOS_MAP|port.pfc_enable."""
        entry = self.state.db.get("PORT_QOS_MAP", {}).get(port)
        if entry is None:
            return Result(f"Cannot find interface {port}\n")
        enabled = [p.strip() for p in entry.get("pfc_enable", "").split(",") if p.strip()]
        if status == "on" and priority in enabled:
            return Result(f"Priority {priority} has already been enabled on {port}\n")
        if status == "off" and priority not in enabled:
            return Result(f"Priority {priority} is not enabled on {port}\n")
        enabled = sorted([*enabled, priority] if status == "on" else [p for p in enabled if p != priority])
        self.state.db = merge(self.state.db, {"PORT_QOS_MAP": {port: {"pfc_enable": ",".join(enabled)}}})
        return Result()

    # -- show and sonic-cfggen ------------------------------------------------------------------------------

    def _show(self, args: list[str], stdin: str, root: bool) -> Result:
        db, device = self.state.db, self.device
        as_json = bool({"-j", "--json"} & set(args))
        words = [a for a in args if not a.startswith("-")]
        port = words[2] if len(words) > 2 else None
        table: dict[tuple[str, ...], Callable[[], Result]] = {
            ("runningconfiguration", "all"): lambda: Result(dump(db) + "\n"),
            ("pfc", "counters"): lambda: Result(shows.pfc_counters(device) + "\n"),
            ("pfc", "priority"): lambda: Result(shows.pfc_priority(db, port) + "\n"),
            ("queue", "counters"): lambda: Result(*_text(shows.queue_counters(device, port, as_json))),
            ("queue", "wredcounters"): lambda: Result(*_text(shows.wred_counters(device, port))),
            ("queue", "watermark", "unicast"): lambda: Result(shows.queue_watermark(device) + "\n"),
            ("pfcwd", "config"): lambda: Result(shows.pfcwd_config(db, device) + "\n"),
            ("buffer", "configuration"): lambda: Result(shows.buffer_configuration(db) + "\n"),
        }
        for key, action in table.items():
            if tuple(words[:len(key)]) == key and (len(words) == len(key) or port is not None):
                return action()
        if not words:
            return Result("Usage: show [OPTIONS] COMMAND [ARGS]...\n\n  SONiC command line - 'show' command\n")
        groups = {k[0] for k in table}
        if words[0] not in groups:
            return no_such_command("show", words[0])
        sub = words[1] if len(words) > 1 else ""
        return no_such_command(f"show {words[0]}", sub) if sub else Result(f"Usage: show {words[0]} [OPTIONS] "
                                                                           "COMMAND [ARGS]...\n")

    def _cfggen(self, args: list[str], stdin: str, root: bool) -> Result:
        db = self.state.db
        if "-d" in args and "--print-data" in args:
            return Result(dump(db) + "\n")
        if "-d" in args and "--var-json" in args:
            table = args[args.index("--var-json") + 1] if args.index("--var-json") + 1 < len(args) else ""
            return Result(json.dumps(db.get(table, {}), indent=4) + "\n" if table in db else "")
        if "-j" in args and "--write-to-db" in args:
            return self._cfggen_write(args[args.index("-j") + 1] if args.index("-j") + 1 < len(args) else "", stdin,
                                      root)
        return Result(err="usage: sonic-cfggen [-h] [-m [MINIGRAPH] | -Y [YANG] | -M DEVICE_DESCRIPTION | -k HWSKU]\n"
                          "sonic-cfggen: error: the lab's sonic-cfggen reads (-d) and writes (-j F --write-to-db) "
                          "CONFIG_DB only\n", rc=2)

    def _cfggen_write(self, name: str, stdin: str, root: bool) -> Result:
        """The raw write ``config load`` wraps: no YANG check, as the real tool."""
        if not root:
            return Result(err=_traceback_text("PermissionError: [Errno 13] Permission denied: "
                                              "'/var/run/redis/redis.sock'"), rc=1)
        text = self.read_file(name, stdin)
        if text is None:
            return Result(err=_traceback_text(f"FileNotFoundError: [Errno 2] No such file or directory: '{name}'"),
                          rc=1)
        try:
            self.state.db = merge(self.state.db, json.loads(text))
        except (json.JSONDecodeError, YangError) as exc:
            return Result(err=_traceback(exc), rc=1)
        return Result()


def _text(output: tuple[str, int]) -> tuple[str, str, int]:
    text, rc = output
    return text + "\n", "", rc


def _traceback(exc: Exception) -> str:
    name = f"json.decoder.{type(exc).__name__}" if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
    return _traceback_text(f"{name}: {exc}")


def _traceback_text(last: str) -> str:
    return ("Traceback (most recent call last):\n"
            f'  File "{CFGGEN}", line 487, in <module>\n    main()\n'
            f'  File "{CFGGEN}", line 356, in main\n    _process_json(args, data)\n'
            f"{last}\n")
