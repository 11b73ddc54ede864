"""Everyday commands of a lab host shell: echo, printf, cat, base64, tee, grep, head, tail, wc, ls, cd, set, sudo, bash.

Privilege works as on a provisioned server: the inventory user has passwordless sudo; ``sudo -s``/``sudo -i``/
``sudo su [-]`` open a root shell (prompt ``#``, what netmiko's linux driver uses as config mode), ``exit`` leaves
it. ``bash -c``/``bash FILE``/``... | bash -s`` run scripts with ``set -e`` honoured.
"""

from __future__ import annotations

import base64
import binascii
import re

from fabric.lab.dialects.host_fs import FsError
from fabric.lab.dialects.host_shell import Ctx, Program, Result, execute, run_script
from fabric.lab.dialects.shell_syntax import escapes as unescape
from fabric.lab.dialects.shell_syntax import printf as format_printf

SET_FLAGS = {"e": "errexit", "u": "nounset", "x": "xtrace", "v": "verbose", "f": "noglob"}
SET_OPTIONS = ("errexit", "nounset", "pipefail", "xtrace", "verbose", "noglob", "noclobber")
SET_USAGE = "set: usage: set [-abefhkmnptuvxBCEHPT] [-o option-name] [--] [-] [arg ...]\n"
SUDO_USAGE = ("usage: sudo -h | -K | -k | -V\nusage: sudo -v [-ABkNnS] [-g group] [-h host] [-p prompt] [-u user]\n"
              "usage: sudo -l [-ABkNnS] [-g group] [-h host] [-p prompt] [-U user] [-u user] [command [arg ...]]\n"
              "usage: sudo [-ABbEHkNnPS] [-C num] [-D directory] [-g group] [-h host] [-p prompt] [-R directory] "
              "[-T timeout] [-u user] [VAR=value] [-i | -s] [command [arg ...]]\n")


def echo(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
    args, newline, escapes = argv[1:], True, False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        newline = newline and "n" not in args[0]
        escapes = "e" in args[0] or (escapes and "E" not in args[0])
        args = args[1:]
    text = " ".join(args)
    return Result(out=(unescape(text) if escapes else text) + ("\n" if newline else ""))


def printf(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
    """printf FORMAT [ARG...]: %s %d %i %x %o %c %b %%, re-applying the format while arguments remain."""
    if len(argv) < 2:
        return Result(err=ctx.error("printf: usage: printf [-v var] format [arguments]"), status=2)
    bad: list[str] = []
    out = format_printf(argv[1], argv[2:], bad)
    return Result(out, "".join(ctx.error(f"printf: {arg}: invalid number") for arg in bad), 1 if bad else 0)


def cat(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
    out, err, status = "", "", 0
    for name in argv[1:] or ["-"]:
        if name.startswith("-") and name != "-":
            return Result(err=f"cat: invalid option -- '{name[1:2]}'\nTry 'cat --help' for more information.\n",
                          status=1)
        if name == "-":
            out += stdin or ""
            continue
        try:
            out += ctx.host.fs.read(ctx.path(name))
        except FsError as exc:
            err, status = err + f"cat: {name}: {exc.message}\n", 1
    return Result(out, err, status)


def base64_(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
    args = argv[1:]
    decode = any(a in ("-d", "--decode") for a in args)
    files = [a for a in args if not a.startswith("-")]
    try:
        data = ctx.host.fs.read(ctx.path(files[0])) if files else (stdin or "")
    except FsError as exc:
        return Result(err=f"base64: {files[0]}: {exc.message}\n", status=1)
    if not decode:
        encoded = base64.b64encode(data.encode()).decode()
        wrap = 0 if "-w0" in args or "--wrap=0" in args else 76
        lines = [encoded[i:i + wrap] for i in range(0, len(encoded), wrap)] if wrap else [encoded]
        return Result(out="\n".join(lines) + "\n")
    try:
        return Result(out=base64.b64decode("".join(data.split()), validate=True).decode("utf-8", "replace"))
    except (binascii.Error, ValueError):
        return Result(err="base64: invalid input\n", status=1)


def tee(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
    append = "-a" in argv[1:] or "--append" in argv[1:]
    err, status = "", 0
    for name in [a for a in argv[1:] if not a.startswith("-")]:
        try:
            ctx.host.fs.open_write(ctx.path(name), ctx.root, append)(stdin or "")
        except FsError as exc:
            err, status = err + f"tee: {name}: {exc.message}\n", 1
    return Result(stdin or "", err, status)


GREP_OPTIONS = re.compile(r"-[EFivwxcqsHhrR]+")
GREP_USAGE = "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n"


def grep(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
    """grep [-EFivwxcqsHhrR] PATTERN [FILE...] as GNU grep 3.8: exit 0 on a match, 1 on none, 2 on any error
    (``-q`` with a match: 0).

    ``FILE:`` labels lines with several operands or ``-H``, never with ``-h`` (the later of the two wins), and
    with ``-r`` on one operand only the files found inside a directory; stdin is ``(standard input)``.
    """
    flags = "".join(a[1:] for a in argv[1:] if GREP_OPTIONS.fullmatch(a))
    rest = [a for a in argv[1:] if not GREP_OPTIONS.fullmatch(a)]
    if not rest:
        return Result(err=GREP_USAGE, status=2)
    regex = _grep_regex(rest[0], flags)
    sources, err = _grep_sources(ctx, rest[1:], stdin, recursive=bool(set(flags) & set("rR")))
    named = [f for f in flags if f in "Hh"]
    label_all = named[-1] == "H" if named else len(rest) > 2
    out, found = "", False
    for name, text, inside in sources:
        hits = [line for line in text.splitlines() if bool(regex.search(line)) != ("v" in flags)]
        found = found or bool(hits)
        label = f"{name}:" if label_all or (inside and not named) else ""
        out += f"{label}{len(hits)}\n" if "c" in flags else "".join(f"{label}{h}\n" for h in hits)
    status = 0 if found and "q" in flags else 2 if err else 0 if found else 1
    return Result("" if "q" in flags else out, "" if "s" in flags else err, status)


def _grep_regex(pattern: str, flags: str) -> re.Pattern[str]:
    pattern = re.escape(pattern) if "F" in flags else pattern if "E" in flags else _bre(pattern)
    pattern = rf"\b(?:{pattern})\b" if "w" in flags else rf"^(?:{pattern})$" if "x" in flags else pattern
    return re.compile(pattern, re.IGNORECASE if "i" in flags else 0)


def _grep_sources(ctx: Ctx, names: list[str], stdin: str | None,
                  recursive: bool) -> tuple[list[tuple[str, str, bool]], str]:
    """(label, text, found inside a directory operand) per file grep reads, and its error lines. ``-r`` without
    operands searches the working directory, naming files without a ``./`` prefix."""
    todo = [(name, name, False) for name in names] or [(".", "", False) if recursive else ("-", "-", False)]
    sources, err = [], ""
    while todo:
        name, label, inside = todo.pop(0)
        path = ctx.path(name)
        if recursive and name != "-" and ctx.host.fs.is_dir(path):
            prefix = label if not label or label.endswith("/") else label + "/"
            todo[:0] = [(f"{path.rstrip('/')}/{entry}", prefix + entry, True)
                        for entry in ctx.host.fs.listdir(path)]
            continue
        try:
            text = (stdin or "") if name == "-" else ctx.host.fs.read(path)
        except FsError as exc:
            err += f"grep: {label}: {exc.message}\n"
            continue
        sources.append(("(standard input)" if name == "-" else label, text, inside))
    return sources, err


def _bre(pattern: str) -> str:
    """POSIX basic regex to Python: ``\\| \\+ \\? \\( \\) \\{ \\}`` are the operators, the bare ones literal."""
    out, i = "", 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out += nxt if nxt in "|+?(){}" else "\\" + nxt
            i += 2
            continue
        out += "\\" + char if char in "|+?(){}" else char
        i += 1
    return out


def head_tail(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
    """head/tail [-n N | -N] [FILE]: the first or last N lines (10 by default)."""
    count, names, args = 10, [], argv[1:]
    while args:
        arg = args.pop(0)
        if arg == "-n" and args and args[0].lstrip("+").isdigit():
            count = int(args.pop(0).lstrip("+"))
        elif re.fullmatch(r"-n?\d+", arg):
            count = int(arg.lstrip("-n"))
        else:
            names.append(arg)
    try:
        text = ctx.host.fs.read(ctx.path(names[0])) if names else stdin or ""
    except FsError as exc:
        return Result(err=f"{argv[0]}: cannot open '{names[0]}' for reading: {exc.message}\n", status=1)
    lines = text.splitlines(keepends=True)
    return Result(out="".join(lines[:count] if argv[0] == "head" else lines[max(len(lines) - count, 0):]))


def wc(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
    text = stdin or ""
    if "-l" in argv[1:]:
        return Result(out=f"{text.count(chr(10))}\n")
    return Result(out=f"{text.count(chr(10)):7d} {len(text.split()):7d} {len(text.encode()):7d}\n")


def ls(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
    out, err, status = "", "", 0
    for name in [a for a in argv[1:] if not a.startswith("-")] or ["."]:
        path = ctx.path(name)
        if ctx.host.fs.is_dir(path):
            out += "".join(entry + "\n" for entry in ctx.host.fs.listdir(path))
            continue
        try:
            ctx.host.fs.read(path)
            out += name + "\n"
        except FsError:
            err, status = err + f"ls: cannot access '{name}': No such file or directory\n", 2
    return Result(out, err, status)


def cd(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
    target = argv[1] if len(argv) > 1 else ctx.home
    path = ctx.path(target)
    if not ctx.host.fs.is_dir(path):
        return Result(err=ctx.error(f"cd: {target}: No such file or directory"), status=1)
    ctx.cwd = path
    return Result()


def set_(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
    """set -e/-u/-x/-o NAME (and +): shell options; a script honours errexit, nounset and pipefail."""
    if len(argv) == 1:
        names = ("HOME", "HOSTNAME", "LOGNAME", "PATH", "PWD", "SHELL", "USER")
        return Result(out="".join(f"{n}={ctx.env(n)}\n" for n in names))
    args = argv[1:]
    while args:
        arg = args.pop(0)
        on = arg.startswith("-")
        letters = arg[1:]
        if arg in ("-o", "+o"):
            if not args or args[0] not in SET_OPTIONS:
                bad = args[0] if args else ""
                return Result(err=ctx.error(f"set: {bad}: invalid option name"), status=2)
            letters = ""
            _set_option(ctx, args.pop(0), on)
        for letter in letters:
            if letter == "o":
                if not args or args[0] not in SET_OPTIONS:
                    return Result(err=ctx.error(f"set: {args[0] if args else ''}: invalid option name"), status=2)
                _set_option(ctx, args.pop(0), on)
            elif letter in SET_FLAGS:
                _set_option(ctx, SET_FLAGS[letter], on)
            else:
                return Result(err=ctx.error(f"set: {arg[0]}{letter}: invalid option") + SET_USAGE, status=2)
    return Result()


def _set_option(ctx: Ctx, name: str, on: bool) -> None:
    if on:
        ctx.options.add(name)
    else:
        ctx.options.discard(name)


def exit_(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
    try:
        status = int(argv[1]) & 0xFF if len(argv) > 1 else ctx.status
    except ValueError:
        return Result(err=ctx.error(f"exit: {argv[1]}: numeric argument required"), status=2, exit_shell=True)
    word = "logout" if argv[0] == "logout" or ctx.prefix == "-bash" else "exit"
    return Result(err=word + "\n" if ctx.interactive else "", status=status, exit_shell=True)


def sudo(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
    """sudo [-n] [-E] [-H] [-u root] [-s|-i] [COMMAND...]: passwordless, as for the fabric automation user."""
    args, shell = argv[1:], ""
    while args and args[0].startswith("-") and args[0] != "--":
        option = args.pop(0)
        if option == "-u":
            user = args.pop(0) if args else ""
            if user not in ("root", "0", "#0"):
                return Result(err=f"sudo: unknown user {user}\nsudo: error initializing audit plugin sudoers_audit\n",
                              status=1)
        elif option in ("-s", "-i"):
            shell = option
        elif option not in ("-n", "-E", "-H", "-S"):
            return Result(err=f"sudo: invalid option -- '{option.lstrip('-')[:1]}'\n" + SUDO_USAGE, status=1)
    args = args[1:] if args[:1] == ["--"] else args
    root = ctx.child(user="root", root=True, home="/root", cwd="/root" if shell == "-i" else ctx.cwd)
    if not args:
        if not shell:
            return Result(err=SUDO_USAGE, status=1)
        return _shell(ctx, root, login=shell == "-i", stdin=stdin)
    if args[0] == "su" and set(args[1:]) <= {"-", "-l", "--login", "root"}:
        login = bool(set(args[1:]) & {"-", "-l", "--login"})
        return _shell(ctx, root.child(cwd="/root" if login else ctx.cwd), login=login, stdin=stdin)
    if args[0].split("/")[-1] not in ctx.host.programs:
        return Result(err=f"sudo: {args[0]}: command not found\n", status=1)
    return execute(root, args, stdin)


def _shell(ctx: Ctx, new: Ctx, login: bool, stdin: str | None) -> Result:
    """An interactive shell on the terminal, or, with piped input, a script read from it."""
    if stdin is not None:
        return run_script(new.child(interactive=False, prefix="bash", options=set()), stdin)
    return Result(push=new.child(interactive=True, prefix="-bash" if login else "bash", options=set()))


def bash(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
    """bash [-l] [-s] [-c SCRIPT | FILE]: a script, or a nested interactive shell on the terminal."""
    args = argv[1:]
    login = any(a in ("-l", "--login") for a in args)
    if "-c" in args:
        index = args.index("-c")
        if index + 1 >= len(args):
            return Result(err=f"{argv[0]}: -c: option requires an argument\n", status=2)
        return run_script(ctx.child(interactive=False, prefix=argv[0], options=set()), args[index + 1])
    files = [a for a in args if not a.startswith("-")]
    if files:
        try:
            text = ctx.host.fs.read(ctx.path(files[0]))
        except FsError as exc:
            return Result(err=f"{argv[0]}: {files[0]}: {exc.message}\n", status=127)
        return run_script(ctx.child(interactive=False, prefix=files[0], options=set()), text)
    return _shell(ctx, ctx, login, stdin if not ctx.interactive or stdin is not None else None)


def simple(text: str, status: int = 0) -> Program:
    """A command that always prints ``text`` (after formatting with the session) and exits with ``status``."""
    def run(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
        return Result(out=text.format(ctx=ctx, host=ctx.host.state.hostname), status=status)
    return run


def id_(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
    if ctx.root:
        return Result(out="uid=0(root) gid=0(root) groups=0(root)\n")
    return Result(out=f"uid=1000({ctx.user}) gid=1000({ctx.user}) groups=1000({ctx.user}),27(sudo)\n")


COMMANDS: dict[str, Program] = {
    "echo": echo, "printf": printf, "cat": cat, "base64": base64_, "tee": tee, "grep": grep, "ls": ls,
    "cd": cd, "set": set_, "exit": exit_, "logout": exit_, "sudo": sudo, "bash": bash, "sh": bash, "id": id_,
    "true": simple(""), "false": simple("", 1), "pwd": simple("{ctx.cwd}\n"), "whoami": simple("{ctx.user}\n"),
    "hostname": simple("{host}\n"), "head": head_tail, "tail": head_tail, "wc": wc,
}
