"""Turn pydantic validation errors into one-line problems: file:key, message, fix."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from fabric.core.problems import Problem
from fabric.inventory.yamlfile import line_of


def _unwrap(annotation: Any) -> Any:
    """Strip Optional/Annotated/dict/list wrappers down to the model a nested key belongs to."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation
        else:
            return annotation


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        origin = typing.get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        elif origin in (dict, list):
            current = typing.get_args(current)[-1]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def problems_from(exc: ValidationError, file: str, model: type[BaseModel], raw: Any,
                  prefix: tuple[Any, ...] = ()) -> list[Problem]:
    """One problem per pydantic error, located at ``file:prefix.loc`` with the YAML line."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        where = f"{file}:{_dotted(prefix + loc)}" if prefix + loc else file
        line = line_of(raw, loc) if raw is not None else None
        kind = err["type"]
        if kind == "extra_forbidden":
            parent = _model_at(model, loc[:-1])
            valid = sorted(parent.model_fields) if parent else []
            near = difflib.get_close_matches(str(loc[-1]), valid, n=1)
            fix = f"did you mean '{near[0]}'?" if near else f"valid keys: {', '.join(valid)}"
            problems.append(Problem(where, f"unknown key '{loc[-1]}'", fix, line=line))
        elif kind in ("model_type", "dict_type"):
            got = type(err.get("input")).__name__
            kind_name = {"list": "a list", "str": "text", "int": "a number", "float": "a number",
                         "bool": "true/false"}.get(got, got)
            what = "the file" if not prefix + loc else "this key"
            problems.append(Problem(where, f"must be a mapping (key: value lines), not {kind_name}",
                                    f"write {what} as indented 'key: value' lines (see the README's inventory "
                                    "example)", line=line))
        elif kind == "missing":
            problems.append(Problem(where, "required key is missing", "add it", line=line))
        else:
            message = str(err["msg"]).removeprefix("Value error, ")
            got = err.get("input")
            if kind not in ("value_error",) and not isinstance(got, dict | list):
                message += f" (got {got!r})"
            problems.append(Problem(where, message, _fix_for(kind), line=line))
    return problems


def _fix_for(kind: str) -> str:
    if kind.startswith(("int_", "float_", "bool_", "string_", "list_", "dict_", "literal_")):
        return "use a value of the documented type (fabric inventory schema)"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return "use a value inside the documented range"
    return ""
