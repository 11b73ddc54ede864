"""Shell syntax of the linux_mlx5/opensm hosts' bash (host_shell): quoted words, operators, pipelines, lists.

A word is a list of segments that remember how they were quoted, because expansion depends on it: single
quotes and backslashes make text literal, double quotes allow $VAR but no globbing, bare text allows both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

REDIRECTS = ("2>&1", "2>>", "2>", "&>", ">>", ">", "<")
OPERATORS = ("&&", "||", "<<", *REDIRECTS, "|", ";", "&")
VAR = re.compile(r"\$(?:\{(\w+|\?)\}|(\w+|\?))")


class Unsupported(Exception):
    """A construct this shell does not implement; the message says what to use instead."""


Segment = tuple[str, str]  # (text, kind): kind "lit" (quoted/escaped), "dq" (double quotes) or "plain"


def tokenize(line: str) -> list[list[Segment] | str]:
    """Words (lists of segments) and operator strings; a ``#`` starting a word comments out the rest."""
    tokens: list[list[Segment] | str] = []
    word: list[Segment] = []
    i = 0
    while i < len(line):
        char = line[i]
        if char in " \t\n":
            i, word = i + 1, _flush(tokens, word)
            continue
        if char == "#" and not word:
            break
        op = next((o for o in OPERATORS if line.startswith(o, i) and (not o[0].isdigit() or not word)), None)
        if op:
            word = _flush(tokens, word)
            tokens.append(op)
            i += len(op)
        elif char == "'":
            end = line.find("'", i + 1)
            if end < 0:
                raise Unsupported("unexpected EOF while looking for matching `''")
            word.append((line[i + 1:end], "lit"))
            i = end + 1
        elif char == '"':
            i = _double_quoted(line, i + 1, word)
        elif char == "\\":
            word.append((line[i + 1:i + 2], "lit"))
            i += 2
        elif char == "`" or line.startswith("$(", i):
            raise Unsupported("command substitution is not available in the lab shell")
        else:
            word.append((char, "plain"))
            i += 1
    _flush(tokens, word)
    return tokens


def _flush(tokens: list[list[Segment] | str], word: list[Segment]) -> list[Segment]:
    if word:
        tokens.append(word)
    return []


def _double_quoted(line: str, i: int, word: list[Segment]) -> int:
    while i < len(line) and line[i] != '"':
        if line[i] == "\\" and i + 1 < len(line) and line[i + 1] in '$`"\\':
            word.append((line[i + 1], "lit"))
            i += 2
        elif line[i] == "`" or line.startswith("$(", i):
            raise Unsupported("command substitution is not available in the lab shell")
        else:
            word.append((line[i], "dq"))
            i += 1
    if i >= len(line):
        raise Unsupported('unexpected EOF while looking for matching `"\'')
    word.append(("", "dq"))  # "" is an (empty) word
    return i + 1


@dataclass
class Command:
    words: list[list[Segment]] = field(default_factory=list)
    redirects: list[tuple[str, list[Segment] | None]] = field(default_factory=list)


def parse(tokens: list[list[Segment] | str]) -> list[tuple[str, list[Command]]]:
    """Pipelines, each with the operator that joins it to the previous one (``;``, ``&&``, ``||``)."""
    pipelines: list[tuple[str, list[Command]]] = []
    joiner, pipeline, command = ";", [], Command()
    tokens = list(tokens)
    while tokens:
        token = tokens.pop(0)
        if isinstance(token, list):
            command.words.append(token)
        elif token == "<<":
            raise Unsupported("here-documents are not available in the lab shell; write files with "
                              "printf '%s' BASE64 | base64 -d > FILE")
        elif token == "2>&1":
            command.redirects.append((token, None))
        elif token in REDIRECTS:
            if not tokens or not isinstance(tokens[0], list):
                raise Unsupported(f"syntax error near unexpected token `{_text(tokens)}'")
            command.redirects.append((token, tokens.pop(0)))  # type: ignore[arg-type]
        else:
            if not command.words and not command.redirects:
                raise Unsupported(f"syntax error near unexpected token `{token}'")
            pipeline.append(command)
            command = Command()
            if token != "|":
                pipelines.append((joiner, pipeline))
                joiner, pipeline = (";" if token == "&" else token), []
    if command.words or command.redirects:
        pipeline.append(command)
    elif pipeline or joiner in ("&&", "||"):
        raise Unsupported("syntax error: unexpected end of file")
    if pipeline:
        pipelines.append((joiner, pipeline))
    return pipelines


def _text(tokens: list[list[Segment] | str]) -> str:
    if not tokens:
        return "newline"
    token = tokens[0]
    return token if isinstance(token, str) else "".join(t for t, _ in token)
