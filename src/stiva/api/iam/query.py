"""Query-protocol parameters (`Name=value&Tags.member.1.Key=k&...`) as nested values.

`unflatten(shape, flat)` reads the form against an input shape the way botocore's query
serialiser writes it: structure members by name joined with `.`, lists as
`<name>.member.<n>` (n from 1; an empty list is `<name>=` with no value), maps as
`<name>.entry.<n>.key` / `.value`. Integers, floats and booleans are converted from their text
(`true`/`false`); everything else stays a string (timestamps and blobs are read by the
validator, which takes ISO 8601 and base64). Members absent from the form are left out.
A number or boolean that does not parse is AWS's ValidationError.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stiva.api.ecr.model_messages import RequestValidationError
from stiva.api.ecr.model_shapes import Shape

_ABSENT: Any = object()


class _Form:
    def __init__(self, flat: Mapping[str, str]) -> None:
        self.flat = flat
        self.prefixes: set[str] = set()
        for key in flat:
            parts = key.split(".")
            for end in range(1, len(parts) + 1):
                self.prefixes.add(".".join(parts[:end]))


def unflatten(shape: Shape, flat: Mapping[str, str]) -> dict[str, Any]:
    form = _Form(flat)
    value = _structure(shape, form, "", "")
    return value if isinstance(value, dict) else {}


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def _value(shape: Shape, form: _Form, key: str, path: str) -> Any:
    if shape.kind == "structure":
        return _structure(shape, form, key, path)
    if shape.kind == "list":
        return _list(shape, form, key, path)
    if shape.kind == "map":
        return _map(shape, form, key, path)
    raw = form.flat.get(key)
    return _ABSENT if raw is None else _scalar(shape, raw, path)


def _structure(shape: Shape, form: _Form, key: str, path: str) -> Any:
    if key and key not in form.prefixes:
        return _ABSENT
    out: dict[str, Any] = {}
    for name, member in shape.members.items():
        value = _value(member, form, _join(key, name), _join(path, _lower_first(name)))
        if value is not _ABSENT:
            out[name] = value
    return out


def _list(shape: Shape, form: _Form, key: str, path: str) -> Any:
    if key not in form.prefixes:
        return _ABSENT
    assert shape.member is not None
    items: list[Any] = []
    while f"{key}.member.{len(items) + 1}" in form.prefixes:
        index = len(items) + 1
        item = _value(shape.member, form, f"{key}.member.{index}", f"{path}.{index}.member")
        items.append(None if item is _ABSENT else item)
    return items


def _map(shape: Shape, form: _Form, key: str, path: str) -> Any:
    if key not in form.prefixes:
        return _ABSENT
    assert shape.key is not None
    assert shape.value is not None
    out: dict[str, Any] = {}
    index = 1
    while f"{key}.entry.{index}" in form.prefixes:
        entry = f"{key}.entry.{index}"
        name = _value(shape.key, form, f"{entry}.key", path)
        value = _value(shape.value, form, f"{entry}.value", f"{path}.{name}")
        if name is not _ABSENT:
            out[str(name)] = None if value is _ABSENT else value
        index += 1
    return out


def _scalar(shape: Shape, raw: str, path: str) -> Any:
    kind = shape.kind
    try:
        if kind in ("integer", "long"):
            return int(raw.strip())
        if kind in ("float", "double"):
            return float(raw.strip())
    except ValueError:
        raise _invalid(raw, path, "Member must be a number") from None
    if kind == "boolean":
        lowered = raw.strip().lower()
        if lowered not in ("true", "false"):
            raise _invalid(raw, path, "Member must be a boolean (true or false)")
        return lowered == "true"
    return raw


def _invalid(raw: str, path: str, constraint: str) -> RequestValidationError:
    return RequestValidationError(
        "ValidationError",
        f"1 validation error detected: Value '{raw}' at '{path}' failed to satisfy constraint: "
        f"{constraint}",
    )
