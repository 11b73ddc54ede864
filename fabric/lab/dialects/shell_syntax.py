"""Bash syntax for unix_shell (SONiC, Cumulus): words, quotes, $VAR, pipelines, lists, redirections, printf.

``parse(line, variables)`` gives ``[(connector, pipeline), ...]``: the connector joining a pipeline to the one
before (``;`` for the first, else ``;``, ``&&`` or ``||``); a pipeline is a list of Commands, each with its
expanded words and its redirections ``(op, target)`` (``2>&1`` has the target ``""``; here-documents ``<<``/``<<-``
have the delimiter, quotes removed). ``$?`` becomes LAST_STATUS, which the shell replaces as each command runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

LAST_STATUS = "\x00LAST_STATUS\x00"
REDIRECT_OPS = ("2>&1", "2>>", "2>", "&>", "<<-", "<<", ">>", ">", "<")
LIST_OPS = ("&&", "||", ";", "|", "&")
VAR = re.compile(r"\$(?:\{(\w+|\?)\}|(\w+|\?))")
PRINTF_SPEC = re.compile(r"%([-#0 +]*\d*(?:\.\d+)?)([sdixocb%])")
ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", "r": "\r", "a": "\a", "0": "\0", "e": "\x1b", '"': '"', "'": "'"}


class ShellSyntaxError(Exception):
    """A line bash would refuse; the message follows ``-bash: `` (e.g. ``syntax error near unexpected token``)."""


@dataclass
class Command:
    """One simple command: its words after expansion, and its redirections in order."""

    words: list[str] = field(default_factory=list)
    redirects: list[tuple[str, str]] = field(default_factory=list)


Pipeline = list[Command]


def escapes(text: str) -> str:
    """The backslash escapes of ``echo -e`` and of a printf format."""
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(0)), text)


def printf(fmt: str, args: list[str], bad: list[str] | None = None) -> str:
    """bash's printf: %s %d %i %x %o %c %b %%, the format re-applied while arguments remain.

    Arguments that are not numbers where a number is due print as 0 and are appended to ``bad`` (bash then
    says ``printf: ARG: invalid number`` and exits 1)."""
    fmt, out, bad = escapes(fmt), "", [] if bad is None else bad
    while True:
        text, used = _format_once(fmt, args, bad)
        out += text
        args = args[used:]
        if not args or used == 0:
            return out


def _format_once(fmt: str, args: list[str], bad: list[str]) -> tuple[str, int]:
    used = 0

    def convert(match: re.Match[str]) -> str:
        nonlocal used
        flags, kind = match.groups()
        if kind == "%":
            return "%"
        arg = args[used] if used < len(args) else ""
        used += 1
        if kind in "dixo":
            try:
                number = int(arg or "0", 0)
            except ValueError:
                bad.append(arg)
                number = 0
            return ("%" + flags + kind.replace("i", "d")) % number
        return ("%" + flags + "s") % (escapes(arg) if kind == "b" else arg[:1] if kind == "c" else arg)

    return PRINTF_SPEC.sub(convert, fmt), used


def _expand(text: str, variables: dict[str, str]) -> str:
    return VAR.sub(lambda m: variables.get(m.group(1) or m.group(2), ""), text)


def _tokens(line: str, variables: dict[str, str]) -> list[tuple[str, str]]:
    """(kind, text) tokens: kind "word" or "op"; a ``#`` starting a word comments out the rest."""
    tokens: list[tuple[str, str]] = []
    word, in_word, i = "", False, 0
    while i < len(line):
        char = line[i]
        if char in " \t":
            if in_word:
                tokens.append(("word", word))
            word, in_word, i = "", False, i + 1
            continue
        if char == "#" and not in_word:
            break
        op = next((o for o in (*REDIRECT_OPS, *LIST_OPS) if line.startswith(o, i)
                   and (not o[0].isdigit() or not in_word)), None)
        if op:
            if in_word:
                tokens.append(("word", word))
            tokens.append(("op", op))
            word, in_word, i = "", False, i + len(op)
            continue
        in_word = True
        if char == "'":
            end = line.find("'", i + 1)
            if end < 0:
                raise ShellSyntaxError("unexpected EOF while looking for matching `''")
            word, i = word + line[i + 1:end], end + 1
        elif char == '"':
            end = i + 1
            chunk = ""
            while end < len(line) and line[end] != '"':
                if line[end] == "\\" and end + 1 < len(line) and line[end + 1] in '$`"\\':
                    chunk, end = chunk + line[end + 1], end + 2
                else:
                    chunk, end = chunk + line[end], end + 1
            if end >= len(line):
                raise ShellSyntaxError('unexpected EOF while looking for matching `"\'')
            word, i = word + _expand(chunk, variables), end + 1
        elif char == "\\":
            word, i = word + line[i + 1:i + 2], i + 2
        else:
            end = i
            while end < len(line) and line[end] not in " \t'\"\\#|&;<>":
                end += 1
            end = max(end, i + 1)
            word, i = word + _expand(line[i:end], variables), end
    if in_word:
        tokens.append(("word", word))
    return tokens


def parse(line: str, variables: dict[str, str]) -> list[tuple[str, Pipeline]]:
    """A command line as ``[(connector, pipeline)]``; ShellSyntaxError for what bash would refuse."""
    variables = {**variables, "?": LAST_STATUS}
    result: list[tuple[str, Pipeline]] = []
    connector, pipeline, command = ";", [], Command()
    tokens = _tokens(line, variables)
    while tokens:
        kind, text = tokens.pop(0)
        if kind == "word":
            command.words.append(text)
        elif text == "2>&1":
            command.redirects.append((text, ""))
        elif text in REDIRECT_OPS:
            if not tokens or tokens[0][0] != "word":
                raise ShellSyntaxError(f"syntax error near unexpected token `{tokens[0][1] if tokens else 'newline'}'")
            command.redirects.append((text, tokens.pop(0)[1]))
        else:
            if not command.words:
                raise ShellSyntaxError(f"syntax error near unexpected token `{text}'")
            pipeline.append(command)
            command = Command()
            if text != "|":
                result.append((connector, pipeline))
                connector, pipeline = (";" if text == "&" else text), []
    if command.words:
        pipeline.append(command)
    elif pipeline or connector in ("&&", "||"):
        raise ShellSyntaxError("syntax error: unexpected end of file")
    if pipeline:
        result.append((connector, pipeline))
    return result
