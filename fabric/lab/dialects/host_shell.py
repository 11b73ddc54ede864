"""A small bash for lab hosts: quoting, $VAR, globs, pipes, redirections, ``&&``/``||``/``;`` and scripts.

What it deliberately lacks is refused with a message, never run wrongly: command substitution, here-documents,
variable assignment, control flow. Error texts follow bash's: ``-bash: X: command not found`` in a login shell,
``bash: line N: X: command not found`` in ``bash -c``/``ssh host CMD`` scripts, ``-bash: P: Permission denied``
for a redirection that cannot be opened, ``-bash: echo: write error: Invalid argument`` for a sysfs store that
refuses the value. ``set -e``/``-u``/``-o pipefail`` are honoured in scripts; an interactive shell records them
but does not exit on a failing command (real bash would), so a netmiko session survives a refused line.
"""

from __future__ import annotations

import fnmatch
import glob
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from fabric.lab.device import LabDevice
from fabric.lab.dialects.host_fs import FsError, HostFs
from fabric.lab.dialects.host_state import HostState
from fabric.lab.dialects.host_syntax import VAR, Command, Segment, Unsupported, parse, tokenize

BIN_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


@dataclass
class Result:
    """What a command did: its output, error text, exit status, and any change of shell level."""

    out: str = ""
    err: str = ""
    status: int = 0
    push: Ctx | None = None
    exit_shell: bool = False
    err_first: bool = False  # the program wrote its errors before its output
    stream: list[tuple[int, str]] | None = None  # (fd, text) in the order written, for compound commands

    def chunks(self) -> list[tuple[int, str]]:
        if self.stream is not None:
            return self.stream
        pair = [(2, self.err), (1, self.out)] if self.err_first else [(1, self.out), (2, self.err)]
        return [chunk for chunk in pair if chunk[1]]

    @property
    def text(self) -> str:
        """Output and errors as a terminal shows them."""
        return "".join(text for _, text in self.chunks())


def streamed(chunks: list[tuple[int, str]], status: int, push: Ctx | None = None, exit_shell: bool = False) -> Result:
    out = "".join(text for fd, text in chunks if fd == 1)
    err = "".join(text for fd, text in chunks if fd == 2)
    return Result(out, err, status, push, exit_shell, stream=chunks)


@dataclass
class Ctx:
    """One shell: who runs it, where, with which options; ``prefix`` starts its error messages."""

    host: Host
    user: str
    root: bool
    cwd: str
    home: str
    prefix: str = "-bash"
    interactive: bool = True
    line_no: int = 0
    options: set[str] = field(default_factory=set)
    status: int = 0

    def error(self, text: str) -> str:
        where = f"{self.prefix}: line {self.line_no}" if not self.interactive else self.prefix
        return f"{where}: {text}\n"

    def path(self, name: str) -> str:
        """``name`` made absolute against the working directory, with ``.``/``..``/``~`` resolved."""
        if name == "~" or name.startswith("~/"):
            name = self.home + name[1:]
        parts: list[str] = [] if name.startswith("/") else [p for p in self.cwd.split("/") if p]
        for part in name.split("/"):
            if part == "..":
                parts = parts[:-1]
            elif part and part != ".":
                parts.append(part)
        return "/" + "/".join(parts)

    def env(self, name: str) -> str | None:
        values = {"?": str(self.status), "HOME": self.home, "USER": self.user, "LOGNAME": self.user,
                  "PWD": self.cwd, "HOSTNAME": self.host.state.hostname, "SHELL": "/bin/bash",
                  "PATH": ":".join(BIN_DIRS)}
        return values.get(name)

    def child(self, **changes: object) -> Ctx:
        changes.setdefault("options", set(self.options))
        return replace(self, **changes)  # type: ignore[arg-type]


Program = Callable[[Ctx, list[str], str | None], Result]  # stdin None: the terminal


class Host:
    """A host as its sessions see it: state, files, the lab device (counters, faults) and its programs."""

    def __init__(self, state: HostState, device: LabDevice, programs: dict[str, Program]) -> None:
        self.state = state
        self.device = device
        self.fs = HostFs(state, device)
        self.programs = programs

    @property
    def rejecting(self) -> bool:
        return self.device.faults.active("reject-config")


def expand(ctx: Ctx, word: list[Segment]) -> list[str]:
    """$VAR expansion, then pathname expansion of unquoted glob characters (no match: the word stays)."""
    text, pattern, magic = "", "", False
    for chunk, kind in _merge(word):
        if kind != "lit":
            chunk = VAR.sub(lambda m: _var(ctx, m.group(1) or m.group(2)), chunk)
        text += chunk
        if kind == "plain" and any(c in chunk for c in "*?["):
            magic, pattern = True, pattern + chunk
        else:
            pattern += glob.escape(chunk)
    if magic:
        matches = _glob(ctx, pattern)
        if matches:
            return matches
    return [text]


def _merge(word: list[Segment]) -> list[Segment]:
    merged: list[Segment] = []
    for text, kind in word:
        if merged and merged[-1][1] == kind:
            merged[-1] = (merged[-1][0] + text, kind)
        else:
            merged.append((text, kind))
    return merged


def _var(ctx: Ctx, name: str) -> str:
    value = ctx.env(name)
    if value is None and "nounset" in ctx.options:
        raise Unsupported(f"{name}: unbound variable")
    return value or ""


def _glob(ctx: Ctx, pattern: str) -> list[str]:
    absolute = pattern.startswith("/")
    found = [ctx.path("/") if absolute else ctx.cwd]
    for part in [p for p in pattern.split("/") if p]:
        if not glob.has_magic(part):
            found = [f"{d.rstrip('/')}/{part}" for d in found]
            continue
        found = [f"{d.rstrip('/')}/{name}" for d in found if ctx.host.fs.is_dir(d)
                 for name in ctx.host.fs.listdir(d) if fnmatch.fnmatchcase(name, part)]
    existing = [p for p in found if ctx.host.fs.is_dir(p) or _exists(ctx, p)]
    if absolute:
        return sorted(existing)
    prefix = ctx.cwd.rstrip("/") + "/"
    return sorted(p[len(prefix):] for p in existing)


def _exists(ctx: Ctx, path: str) -> bool:
    try:
        ctx.host.fs.read(path)
    except FsError:
        return False
    return True


# -- execution -----------------------------------------------------------------------------------------

def run_line(ctx: Ctx, line: str) -> Result:
    """Run one command line; ``ctx.status`` becomes its exit status. Script mode honours ``set -e``."""
    try:
        pipelines = parse(tokenize(line))
    except Unsupported as exc:
        ctx.status = 2
        return Result(err=ctx.error(str(exc)), status=2)
    chunks: list[tuple[int, str]] = []
    result = Result(status=ctx.status)
    for joiner, pipeline in pipelines:
        if (joiner == "&&" and ctx.status != 0) or (joiner == "||" and ctx.status == 0):
            continue
        result = run_pipeline(ctx, pipeline)
        ctx.status = result.status
        chunks += result.chunks()
        if result.push or result.exit_shell or (_errexit(ctx) and result.status != 0):
            break
    return streamed(chunks, ctx.status, result.push, result.exit_shell)


def _errexit(ctx: Ctx) -> bool:
    return not ctx.interactive and "errexit" in ctx.options


def run_script(ctx: Ctx, text: str) -> Result:
    """Run a script line by line (``bash -c``, ``bash FILE``, ``ssh host CMD``): stops at ``exit`` or set -e."""
    chunks: list[tuple[int, str]] = []
    status = 0
    for number, line in enumerate(text.splitlines(), start=1):
        ctx.line_no = number
        result = run_line(ctx, line)
        chunks += result.chunks()
        status = result.status
        if result.exit_shell or (_errexit(ctx) and result.status != 0):
            break
    return streamed(chunks, status)


def run_pipeline(ctx: Ctx, pipeline: list[Command]) -> Result:
    """Each command's stdout feeds the next; the terminal gets every stderr and the last stdout."""
    stdin: str | None = None if ctx.interactive else ""
    chunks: list[tuple[int, str]] = []
    statuses = []
    for index, command in enumerate(pipeline):
        try:
            result = run_command(ctx, command, stdin, piped=index < len(pipeline) - 1)
        except Unsupported as exc:
            result = Result(err=ctx.error(str(exc)), status=1)
        statuses.append(result.status)
        last = index == len(pipeline) - 1
        chunks += [chunk for chunk in result.chunks() if last or chunk[0] == 2]
        stdin = result.out
    status = statuses[-1]
    if "pipefail" in ctx.options:
        status = next((s for s in reversed(statuses) if s), 0)
    return streamed(chunks, status, result.push, result.exit_shell)


def run_command(ctx: Ctx, command: Command, stdin: str | None, piped: bool) -> Result:
    """Expand, open redirections (bash refuses the command if one fails), run, then route the output."""
    argv = [arg for word in command.words for arg in expand(ctx, word)]
    targets: dict[int, tuple[str, bool] | str] = {1: "pipe" if piped else "tty", 2: "tty"}
    for op, word in command.redirects:
        if op == "2>&1":
            targets[2] = targets[1]
            continue
        name = " ".join(expand(ctx, word or []))
        path = ctx.path(name)
        if op == "<":
            try:
                stdin = "" if path == "/dev/null" else ctx.host.fs.read(path)
            except FsError as exc:
                return Result(err=ctx.error(f"{name}: {exc.message}"), status=1)
            continue
        target: tuple[str, bool] | str = "null" if path == "/dev/null" else (path, op.endswith(">>"))
        if isinstance(target, tuple):
            try:
                ctx.host.fs.open_write(path, ctx.root, append=target[1])
            except FsError as exc:
                return Result(err=ctx.error(f"{name}: {exc.message}"), status=1)
        for fd in ((1, 2) if op == "&>" else (2,) if op.startswith("2") else (1,)):
            targets[fd] = target
    if not argv:
        return Result()
    result = execute(ctx, argv, stdin)
    return _route(ctx, argv[0], result, targets)


def _route(ctx: Ctx, name: str, result: Result, targets: dict[int, tuple[str, bool] | str]) -> Result:
    """Send stdout and stderr where the redirections point: the pipe/terminal, /dev/null or a file."""
    chunks: list[tuple[int, str]] = []
    status = result.status
    for fd, text in result.chunks():
        target = targets[fd]
        if target in ("pipe", "tty"):
            chunks.append((1 if target == "pipe" else fd, text))
        elif isinstance(target, tuple):
            try:
                ctx.host.fs.open_write(target[0], ctx.root, append=True)(text)
            except FsError as exc:
                message = f"{name}: write error: {exc.message}"
                chunks.append((2, ctx.error(message) if name in BUILTIN_WRITERS else message + "\n"))
                status = 1
    return streamed(chunks, status, result.push, result.exit_shell)


BUILTIN_WRITERS = ("echo", "printf", "pwd", "set")


def execute(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
    """Find ``argv[0]`` (a builtin, or a program by name or by its path in a bin directory) and run it."""
    name = argv[0]
    if "/" in name:
        folder, _, base = ctx.path(name).rpartition("/")
        if folder not in BIN_DIRS or base not in ctx.host.programs:
            return Result(err=ctx.error(f"{name}: No such file or directory"), status=127)
        name = base
    program = ctx.host.programs.get(name)
    if program is None:
        return Result(err=ctx.error(f"{name}: command not found"), status=127)
    return program(ctx, [name, *argv[1:]], stdin)
