"""Semantic configuration diffs: a hierarchical CLI diff (indentation is context, sibling order does not
matter, a block typed twice is one block) and a CONFIG_DB JSON diff for SONiC.

A raw text diff would report a re-ordered or re-grouped config as changed and push it again; comparing
trees of ``(context, line)`` is what makes a second deploy say "0 changed".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Context = tuple[str, ...]
Op = tuple[Context, str]  # (the headers of the blocks the line sits in, outermost first; the line)

# Lines that only move between views (Comware/VRP ``quit``) or are comments/separators, never config.
NAVIGATION = frozenset({"quit", "exit", "end", "return", "system-view", "configure", "configure terminal"})


@dataclass
class Node:
    """One config line and the block it opens (children keyed by their stripped text, in first-seen order)."""

    line: str = ""
    children: dict[str, Node] = field(default_factory=dict)

    def child(self, line: str) -> Node:
        return self.children.setdefault(line, Node(line))


def flatten(text: str, comments: tuple[str, ...] = ("!", "#")) -> list[Op]:
    """An indented CLI config as ``(context, line)`` in typed order; ``quit``/``exit`` and comments dropped."""
    ops: list[Op] = []
    stack: list[tuple[int, str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line in comments and raw[:1] in comments:
            stack.clear()  # a bare separator ends every block (Comware/VRP show " sysname x" after "#")
        if not line or line.startswith(comments) or line in NAVIGATION:
            continue
        indent = len(raw) - len(raw.lstrip())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        ops.append((tuple(header for _, header in stack), line))
        stack.append((indent, line))
    return ops


def parse_tree(text: str, comments: tuple[str, ...] = ("!", "#")) -> Node:
    """An indented CLI config as a tree (a block typed twice is one block).

    >>> sorted(parse_tree("interface A\n  mtu 9\ninterface A\n  desc x\n").children["interface A"].children)
    ['desc x', 'mtu 9']
    """
    root = Node()
    for path, line in flatten(text, comments):
        _find(root, path, create=True).child(line)
    return root


def _find(root: Node, path: Context, create: bool = False) -> Node:
    node = root
    for line in path:
        node = node.child(line) if create else node.children[line]
    return node


def to_push(candidate: str, have: Node, negation: str = "") -> list[Op]:
    """The candidate's lines that ``have`` lacks, in the candidate's own order (a policy is defined before
    the interface that uses it), each under its block headers."""
    wanted = {op for op in missing(parse_tree(candidate), have, negation)}
    return [op for op in flatten(candidate) if op in wanted]


def missing(want: Node, have: Node, negation: str = "", path: Context = ()) -> list[Op]:
    """Lines of ``want`` (in context) that ``have`` lacks: what a merge must add. A missing block brings
    all of its lines; a negated line (``undo flow-control``) is missing while its positive form is shown."""
    ops: list[Op] = []
    for line, node in want.children.items():
        other = have.children.get(line)
        if negation and line.startswith(negation + " ") and not node.children:
            if any(shown.startswith(line[len(negation) + 1:]) for shown in have.children):
                ops.append((path, line))
        elif other is None:
            ops.append((path, line))
            ops += missing(node, Node(), negation, (*path, line))
        else:
            ops += missing(node, other, negation, (*path, line))
    return ops


def extra(have: Node, want: Node, path: Context = ()) -> list[Op]:
    """Lines of ``have`` that ``want`` lacks, last-typed first (an interface's reference to a policy goes
    before the policy) and a block's lines before its header (some CLIs cannot remove a view, only empty it:
    ``undo interface X`` is refused, ``undo`` of each of its lines is not)."""
    ops: list[Op] = []
    for line, node in reversed(list(have.children.items())):
        other = want.children.get(line)
        if other is None:
            ops += extra(node, Node(), (*path, line))
            ops.append((path, line))
        else:
            ops += extra(node, other, (*path, line))
    return ops


def negate(line: str, word: str) -> str:
    """``no mtu 9000`` / ``undo jumboframe enable 9216``; the negation of a negated line is the line."""
    return line[len(word) + 1:] if line.startswith(word + " ") else f"{word} {line}"


def restore_ops(current: Node, backup: Node, negation: str) -> tuple[list[Op], list[Op]]:
    """What turns ``current`` back into ``backup``: (removals, additions). A removal may be refused (a view
    that cannot be removed, only emptied) without harm; the caller checks the result against the backup."""
    return ([(path, negate(line, negation)) for path, line in extra(current, backup)],
            missing(backup, current, negation))


def differences(have: Node, want: Node, predefined: tuple[str, ...] = ()) -> list[str]:
    """How two trees differ, for a one-line reason: ``+`` lines only ``want`` has, ``-`` lines only ``have`` has.

    ``predefined`` blocks (``system qos``, Comware's ``qos map-table``) exist on the device whether shown or not:
    once entered they show, and emptied they configure nothing, so an empty one in ``have`` is no difference.
    """
    if predefined:
        have = Node(have.line, {line: node for line, node in have.children.items()
                                if node.children or line in want.children or not line.startswith(predefined)})
    return render_ops(missing(want, have)) + render_ops(extra(have, want), "-")


def commands(ops: list[Op], indent: str = "  ", leave: str | None = None) -> list[str]:
    """Ops as typed lines: block headers entered as needed; ``leave`` (``quit``) closes a view on CLIs that
    do not leave one by context."""
    lines: list[str] = []
    for (path, line), (common, opened) in zip(ops, _walk(ops), strict=True):
        if leave:
            lines += [indent * (depth - 1) + leave for depth in range(opened, common, -1)]
        lines += [indent * depth + header for depth, header in enumerate(path[common:], start=common)]
        lines.append(indent * len(path) + line)
    if leave and ops:
        path, line = ops[-1]
        lines += [indent * (depth - 1) + leave for depth in range(len(path), 0, -1)]
    return lines


def _walk(ops: list[Op]) -> list[tuple[int, int]]:
    """Per op: how many of its block headers the session is already in, and how deep the session is before
    it. A line just typed counts as entered when the next op sits under it (it was a new block's header)."""
    steps: list[tuple[int, int]] = []
    open_path: Context = ()
    previous: Context | None = None
    for path, line in ops:
        if previous is not None and path[:len(previous)] == previous:
            open_path = previous
        steps.append((_common(path, open_path), len(open_path)))
        open_path, previous = path, (*path, line)
    return steps


def _common(a: Context, b: Context) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def render_ops(ops: list[Op], sign: str = "+") -> list[str]:
    """A diff for people: signed lines under their (unsigned) block headers."""
    shown: list[str] = []
    for (path, line), (common, _) in zip(ops, _walk(ops), strict=True):
        shown += ["  " + "  " * depth + header for depth, header in enumerate(path[common:], start=common)]
        shown.append(f"{sign} " + "  " * len(path) + line)
    return shown


# -- SONiC CONFIG_DB ---------------------------------------------------------------------------------------

Tables = dict[str, dict[str, Any]]


def json_patch(want: Tables, have: Tables) -> list[dict[str, Any]]:
    """RFC 6902 ops that merge ``want`` into ``have`` field by field (``config apply-patch``); nothing
    for what already holds."""
    ops: list[dict[str, Any]] = []
    for table, entries in sorted(want.items()):
        if table not in have:
            ops.append({"op": "add", "path": f"/{table}", "value": entries})
            continue
        for key, fields in sorted(entries.items()):
            ops += _entry_ops(table, key, fields, have[table].get(key))
    return ops


def _entry_ops(table: str, key: str, fields: Any, current: Any) -> list[dict[str, Any]]:
    path = f"/{table}/{_escape(key)}"
    if current is None or not isinstance(fields, dict) or not isinstance(current, dict):
        return [] if current == fields else [{"op": "add", "path": path, "value": fields}]
    return [{"op": "add", "path": f"{path}/{_escape(name)}", "value": value}
            for name, value in sorted(fields.items()) if current.get(name) != value]


def json_restore(current: Tables, backup: Tables) -> list[dict[str, Any]]:
    """RFC 6902 ops that turn ``current`` back into ``backup`` (removals of what a deploy added included)."""
    ops: list[dict[str, Any]] = []
    for table in sorted(set(current) | set(backup)):
        if table not in backup:
            ops.append({"op": "remove", "path": f"/{table}"})
        elif table not in current:
            ops.append({"op": "add", "path": f"/{table}", "value": backup[table]})
        else:
            for key in sorted(set(current[table]) | set(backup[table])):
                if key not in backup[table]:
                    ops.append({"op": "remove", "path": f"/{table}/{_escape(key)}"})
                elif current[table].get(key) != backup[table][key]:
                    ops.append({"op": "add", "path": f"/{table}/{_escape(key)}", "value": backup[table][key]})
    return ops


def _escape(key: str) -> str:
    """JSON Pointer escaping: CONFIG_DB keys hold ``|`` (fine) and sometimes ``/`` (escaped as ``~1``)."""
    return key.replace("~", "~0").replace("/", "~1")


def describe_patch(ops: list[dict[str, Any]]) -> list[str]:
    """One line per op for people and the summary's changed-line count."""
    return [f"{'-' if op['op'] == 'remove' else '+'} {op['path']}"
            + ("" if op["op"] == "remove" else f" = {_short(op['value'])}") for op in ops]


def _short(value: Any) -> str:
    import json

    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 100 else text[:97] + "..."
