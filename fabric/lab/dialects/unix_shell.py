"""The Debian bash that Linux-based network OSes (SONiC, Cumulus) give a login, as far as deploy and collect use it.

What it does: words and quotes as bash splits them, ``#`` comments, pipelines, ``&&``/``||``/``;``, redirections
(``>``, ``>>``, ``<``, ``2>``, ``2>&1``, ``&>``), here-documents (``<< 'EOF'`` with the ``> `` continuation prompt),
``sudo CMD`` and a root shell by ``sudo -s`` (no password: the NOS images ship NOPASSWD sudo for the admin user,
which is what netmiko's ``linux`` driver needs for ``config_mode``), and the file tools a deploy uses to place a file:
``echo``, ``printf``, ``cat``, ``base64``, ``tee``, ``rm``, ``ls``. Files live in a per-device dict (``/tmp`` and the
home directory are writable by the user, everything else only by root). Platform programs (``config``, ``show``,
``nv``...) come from the subclass through ``program``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from fabric.lab.device import LabDevice
from fabric.lab.dialects.base import Dialect, EndSession
from fabric.lab.dialects.shell_syntax import LAST_STATUS, Command, Pipeline, ShellSyntaxError, escapes, parse, printf


@dataclass
class Result:
    """What one program printed on stdout and stderr, and its exit status."""

    out: str = ""
    err: str = ""
    rc: int = 0


Program = Callable[[list[str], str], Result]
Builtin = Callable[[list[str], str, bool], Result]


@dataclass
class _Heredoc:
    delimiter: str
    strip_tabs: bool
    commands: list[tuple[str, Pipeline]]
    lines: list[str] = field(default_factory=list)


class UnixShellDialect(Dialect):
    """``user@host:~$`` bash for NOS images built on Debian; subclasses add the platform's programs."""

    prompt_suffix: ClassVar[str] = ""  # Cumulus shows the management VRF: ``admin@leaf2:mgmt:~$``

    def __init__(self, device: LabDevice, username: str) -> None:
        super().__init__(device, username)
        self.root_shell = username == "root"
        self.heredoc: _Heredoc | None = None
        self.question: tuple[str, Callable[[str], Result]] | None = None
        self.last_rc = 0

    # -- hooks for the platform ------------------------------------------------------------------------------

    @property
    def files(self) -> dict[str, str]:
        """The device's file system: path -> text (owned by the platform's running state)."""
        raise NotImplementedError

    def program(self, name: str, root: bool) -> Program | None:
        """The platform's program ``name`` run as root or not; None when it is not installed."""
        return None

    def ask(self, question: str, on_answer: Callable[[str], Result]) -> Result:
        """A program's interactive question (click.confirm): the next typed line answers it."""
        self.question = (question, on_answer)
        return Result()

    # -- the Dialect contract --------------------------------------------------------------------------------

    def prompt(self) -> str:
        if self.question is not None:
            return self.question[0]
        if self.heredoc is not None:
            return "> "
        host = f"{self.device.name}{self.prompt_suffix}"
        if self.root_shell:
            where = "~" if self.username == "root" else f"/home/{self.username}"
            return f"root@{host}:{where}# "
        return f"{self.username}@{host}:~$ "

    def handle(self, line: str) -> str:
        if self.question is not None:
            on_answer, self.question = self.question[1], None
            result = on_answer(line.strip())
            self.last_rc = result.rc
            return (result.err + result.out).rstrip("\n")
        if self.heredoc is not None:
            return self._heredoc_line(line)
        try:
            commands = parse(line, self.variables())
        except ShellSyntaxError as exc:
            self.last_rc = 2
            return f"-bash: {exc}"
        heredoc = next(((t, op == "<<-") for _, p in commands for c in p for op, t in c.redirects
                        if op in ("<<", "<<-")), None)
        if heredoc is not None:
            self.heredoc = _Heredoc(heredoc[0], heredoc[1], commands)
            return ""
        return self._run_list(commands, "")

    def variables(self) -> dict[str, str]:
        """What ``$NAME`` expands to (``$?`` is the last exit status)."""
        home = "/root" if self.username == "root" else f"/home/{self.username}"
        return {"?": LAST_STATUS, "HOME": home, "USER": self.username, "HOSTNAME": self.device.name}

    def run_command(self, command: str) -> tuple[str, int]:
        outputs = []
        for line in command.splitlines():
            try:
                outputs.append(self.handle(line))
            except EndSession:
                break
        if self.question is not None:  # stdin ends before the answer: click.confirm aborts
            outputs.append(f"{self.question[0]}\nAborted!")
            self.question, self.last_rc = None, 1
        return "\n".join(o for o in outputs if o), self.last_rc

    # -- execution ------------------------------------------------------------------------------------------

    def _heredoc_line(self, line: str) -> str:
        assert self.heredoc is not None
        text = line.lstrip("\t") if self.heredoc.strip_tabs else line
        if text != self.heredoc.delimiter:
            self.heredoc.lines.append(text)
            return ""
        doc, self.heredoc = self.heredoc, None
        body = "".join(f"{x}\n" for x in doc.lines)
        return self._run_list(doc.commands, body)

    def _run_list(self, commands: list[tuple[str, Pipeline]], heredoc_body: str) -> str:
        shown: list[str] = []
        for connector, pipeline in commands:
            if (connector == "&&" and self.last_rc != 0) or (connector == "||" and self.last_rc == 0):
                continue
            text, self.last_rc = self._run_pipeline(pipeline, heredoc_body)
            shown.append(text)
        return "".join(shown).rstrip("\n")

    def _run_pipeline(self, pipeline: Pipeline, heredoc_body: str) -> tuple[str, int]:
        stdin, terminal = "", []
        for command in pipeline[:-1]:
            result = self._run_command(command, stdin, heredoc_body)
            stdin = result.out
            terminal.append(result.err)
        last = self._run_command(pipeline[-1], stdin, heredoc_body)
        terminal += [last.out, last.err]  # a program prints its output, then its error (click's Abort)
        return "".join(terminal), last.rc

    def _run_command(self, command: Command, stdin: str, heredoc_body: str) -> Result:
        for op, target in command.redirects:
            if op in ("<<", "<<-"):
                stdin = heredoc_body
            elif op == "<":
                text = self.read_file(target, stdin)
                if text is None:
                    return Result(err=f"-bash: {target}: No such file or directory\n", rc=1)
                stdin = text
        result = self.execute(command.words, stdin, self.root_shell)
        return self._redirect(result, command.redirects)

    def _redirect(self, result: Result, redirects: list[tuple[str, str]]) -> Result:
        for op, target in redirects:
            if op == "2>&1":
                result = Result(result.out + result.err, "", result.rc)
            elif op in (">", ">>", "&>", "2>", "2>>"):
                text = result.err if op.startswith("2") else result.out + (result.err if op == "&>" else "")
                error = self.write_file(target, text, append=op.endswith(">>"))
                if error:
                    return Result(err=error, rc=1)
                result = Result("" if op != "2>" and op != "2>>" else result.out,
                                "" if op in ("&>", "2>", "2>>") else result.err, result.rc)
        return result

    def execute(self, words: list[str], stdin: str, root: bool) -> Result:
        """Run one command's words (after redirections are known) as root or not."""
        words = [w.replace(LAST_STATUS, str(self.last_rc)) for w in words]  # bash expands $? as each command runs
        name, args = words[0], words[1:]
        builtin = self._builtins().get(name)
        if builtin is not None:
            return builtin(args, stdin, root)
        if name == "sudo":
            return self._sudo(args, stdin)
        program = self.program(name, root)
        if program is None:
            return Result(err=f"-bash: {name}: command not found\n", rc=127)
        return program(args, stdin)

    def _sudo(self, args: list[str], stdin: str) -> Result:
        shell = False
        while args and args[0].startswith("-"):
            shell = shell or args[0] in ("-s", "-i")
            args = args[1:]
        if not args and not shell:
            return Result(err="usage: sudo -h | -K | -k | -V\nusage: sudo [-AbEHknPS] [command [arg ...]]\n", rc=1)
        if not args or args in (["su"], ["su", "-"], ["bash"], ["-i"]):
            self.root_shell = True  # NOPASSWD: no password prompt, straight to the root prompt
            return Result()
        return self.execute(args, stdin, True)

    # -- files ----------------------------------------------------------------------------------------------

    def _path(self, name: str) -> str:
        home = "/root" if self.username == "root" else f"/home/{self.username}"
        if name == "~" or name.startswith("~/"):
            name = home + name[1:]
        return name if name.startswith("/") else f"{home}/{name}"

    def writable(self, path: str, root: bool) -> bool:
        return root or path.startswith(("/tmp/", "/var/tmp/", f"/home/{self.username}/"))

    def write_file(self, name: str, text: str, append: bool = False, root: bool | None = None) -> str:
        """Write (or append to) a file; '' on success, else bash's error line."""
        if name == "/dev/null":
            return ""
        path = self._path(name)
        if not self.writable(path, self.root_shell if root is None else root):
            return f"-bash: {name}: Permission denied\n"
        self.files[path] = (self.files.get(path, "") if append else "") + text
        return ""

    def read_file(self, name: str, stdin: str) -> str | None:
        """A file's text (``/dev/stdin`` and ``-`` read the pipe); None when it does not exist."""
        if name in ("/dev/stdin", "-"):
            return stdin
        if name == "/dev/null":
            return ""
        return self.files.get(self._path(name))

    # -- builtins and coreutils -----------------------------------------------------------------------------

    def _builtins(self) -> dict[str, Builtin]:
        return {"echo": self._echo, "printf": lambda a, _, r: Result(printf(a[0], a[1:]) if a else ""),
                "cat": self._cat, "base64": self._base64, "tee": self._tee, "rm": self._rm, "ls": self._ls,
                "hostname": lambda a, _, r: Result(f"{self.device.name}\n"), "true": lambda a, _, r: Result(),
                "false": lambda a, _, r: Result(rc=1), "cd": lambda a, _, r: Result(), "exit": self._exit,
                "logout": self._exit, "grep": self._grep, "wc": _wc,
                "head": lambda a, s, r: _lines(a, s, first=True), "tail": lambda a, s, r: _lines(a, s, first=False),
                "whoami": lambda a, _, r: Result("root\n" if r else f"{self.username}\n")}

    def _exit(self, args: list[str], stdin: str, root: bool) -> Result:
        if self.root_shell and self.username != "root":
            self.root_shell = False
            return Result("exit\n")
        raise EndSession

    @staticmethod
    def _echo(args: list[str], stdin: str, root: bool) -> Result:
        newline, interpret = "\n", False
        while args and args[0] in ("-n", "-e", "-ne", "-en", "-E"):
            newline = "" if "n" in args[0] else newline
            interpret = "e" in args[0]
            args = args[1:]
        text = " ".join(args)
        return Result((escapes(text) if interpret else text) + newline)

    def _cat(self, args: list[str], stdin: str, root: bool) -> Result:
        names = [a for a in args if a != "-u"] or ["-"]
        out, err = [], []
        for name in names:
            text = self.read_file(name, stdin)
            if text is None:
                err.append(f"cat: {name}: No such file or directory\n")
            else:
                out.append(text)
        return Result("".join(out), "".join(err), 1 if err else 0)

    def _base64(self, args: list[str], stdin: str, root: bool) -> Result:
        decode = any(a in ("-d", "--decode", "-di", "-id") for a in args)
        names = [a for a in args if not a.startswith("-")]
        text = self.read_file(names[0], stdin) if names else stdin
        if text is None:
            return Result(err=f"base64: {names[0]}: No such file or directory\n", rc=1)
        if not decode:
            return Result(base64.b64encode(text.encode()).decode() + "\n")
        try:
            return Result(base64.b64decode("".join(text.split()), validate=True).decode())
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return Result(err="base64: invalid input\n", rc=1)

    def _tee(self, args: list[str], stdin: str, root: bool) -> Result:
        append = "-a" in args
        errors = [self.write_file(a, stdin, append, root=root) for a in args if not a.startswith("-")]
        error = "".join(e.replace("-bash: ", "tee: ") for e in errors)
        return Result(stdin, error, 1 if error else 0)

    def _grep(self, args: list[str], stdin: str, root: bool) -> Result:
        flags = "".join(a[1:] for a in args if a.startswith("-") and a != "-")
        words = [a for a in args if not a.startswith("-") or a == "-"]
        if not words:
            return Result(err="Usage: grep [OPTION]... PATTERNS [FILE]...\n", rc=2)
        pattern, names = words[0], words[1:] or ["-"]
        try:
            regex = re.compile(pattern if "F" not in flags else re.escape(pattern), re.I if "i" in flags else 0)
        except re.error:
            return Result(err="grep: Unmatched ( or \\(\n", rc=2)
        text = "".join(self.read_file(n, stdin) or "" for n in names)
        hits = [line for line in text.splitlines() if bool(regex.search(line)) != ("v" in flags)]
        out = f"{len(hits)}\n" if "c" in flags else "".join(f"{h}\n" for h in hits)
        return Result("" if "q" in flags else out, rc=0 if hits else 1)

    def _rm(self, args: list[str], stdin: str, root: bool) -> Result:
        force = any(a.startswith("-") and "f" in a for a in args)
        err = []
        for name in (a for a in args if not a.startswith("-")):
            path = self._path(name)
            if path not in self.files:
                if not force:
                    err.append(f"rm: cannot remove '{name}': No such file or directory\n")
            elif not self.writable(path, root):
                err.append(f"rm: cannot remove '{name}': Permission denied\n")
            else:
                del self.files[path]
        return Result(err="".join(err), rc=1 if err else 0)

    def _ls(self, args: list[str], stdin: str, root: bool) -> Result:
        names = [a for a in args if not a.startswith("-")] or ["."]
        out, err = [], []
        for name in names:
            path = self._path(name).rstrip("/").removesuffix("/.")
            if path in self.files:
                out.append(name)
                continue
            inside = sorted(p[len(path) + 1:] for p in self.files if p.startswith(path + "/"))
            if inside or path in ("/tmp", "/var/tmp", self._path("~")):
                out.extend(sorted({p.split("/")[0] for p in inside}))
            else:
                err.append(f"ls: cannot access '{name}': No such file or directory\n")
        return Result("".join(f"{o}\n" for o in out), "".join(err), 2 if err else 0)


def _lines(args: list[str], stdin: str, first: bool) -> Result:
    """``head``/``tail`` [-n N] of the pipe."""
    count = 10
    for i, arg in enumerate(args):
        if arg == "-n" and i + 1 < len(args) and args[i + 1].isdigit():
            count = int(args[i + 1])
        elif re.fullmatch(r"-n?\d+", arg):
            count = int(arg.lstrip("-n"))
    lines = stdin.splitlines(keepends=True)
    return Result("".join(lines[:count] if first else lines[len(lines) - count:]))


def _wc(args: list[str], stdin: str, root: bool) -> Result:
    if "-l" in args:
        return Result(f"{stdin.count(chr(10))}\n")
    return Result(f"{stdin.count(chr(10))} {len(stdin.split())} {len(stdin.encode())}\n")
