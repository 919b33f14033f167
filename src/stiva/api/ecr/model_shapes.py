"""The ECR model's shapes as small typed records, built once at load with their constraints.

`build_shapes` turns botocore's `service-2` shape documents into `Shape`s (recursive shapes
link to themselves), compiles every `pattern` (`stiva.api.ecr.model_regex`) and words every
declared constraint once, in the order AWS lists them, as a `Failure` ("Member must have length
less than or equal to N", ...), so that validating a request does no model work.
`Operation` is one operation's input shape and modelled errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from stiva.api.ecr.model_regex import compile_java_regex

__all__ = ["SCALAR_KINDS", "Failure", "Operation", "Shape", "build_shapes"]

SCALAR_KINDS: Final = frozenset(
    {"string", "integer", "long", "float", "double", "boolean", "timestamp", "blob"}
)
_KNOWN_KINDS: Final = SCALAR_KINDS | {"structure", "list", "map"}


@dataclass(eq=False)
class Shape:
    """One model shape, with what validation needs and nothing else."""

    name: str
    kind: str
    min: int | float | None = None
    max: int | float | None = None
    pattern: str | None = None
    regex: re.Pattern[str] | None = None
    enum: tuple[str, ...] = ()
    required: frozenset[str] = frozenset()
    members: dict[str, Shape] = field(default_factory=dict)
    member: Shape | None = None
    key: Shape | None = None
    value: Shape | None = None
    declared: tuple[Failure, ...] = ()  # its constraints, worded once at load


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    input: Shape | None
    errors: frozenset[str]


@dataclass(frozen=True, slots=True)
class Failure:
    """One constraint, by kind (for ECR's own texts) and Coral text."""

    kind: str  # max, min, max_value, min_value, pattern, enum, null, element
    text: str


def _number(raw: object) -> int | float | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    return raw


def _ref_name(raw: object) -> str:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("shape"), str):
        raise ValueError(f"malformed shape reference {raw!r}")
    return str(raw["shape"])


def _new_shape(name: str, raw: Mapping[str, Any]) -> Shape:
    kind = str(raw.get("type"))
    if kind not in _KNOWN_KINDS:
        raise ValueError(f"shape {name} has unsupported type {kind!r}")
    pattern = raw.get("pattern")
    shape = Shape(
        name=name,
        kind=kind,
        min=_number(raw.get("min")),
        max=_number(raw.get("max")),
        pattern=pattern if isinstance(pattern, str) else None,
        regex=compile_java_regex(pattern) if isinstance(pattern, str) else None,
        enum=tuple(str(value) for value in raw.get("enum", ())),
        required=frozenset(str(name) for name in raw.get("required", ())),
    )
    shape.declared = tuple(_constraints(shape, _is_numeric(shape)))
    return shape


def build_shapes(raw_shapes: Mapping[str, Any]) -> dict[str, Shape]:
    """Two passes, so that recursive shapes link to themselves."""
    shapes = {name: _new_shape(name, raw) for name, raw in raw_shapes.items()}
    for name, raw in raw_shapes.items():
        shape = shapes[name]
        for member, ref in raw.get("members", {}).items():
            shape.members[str(member)] = shapes[_ref_name(ref)]
        if "member" in raw:
            shape.member = shapes[_ref_name(raw["member"])]
        if "key" in raw:
            shape.key = shapes[_ref_name(raw["key"])]
        if "value" in raw:
            shape.value = shapes[_ref_name(raw["value"])]
    return shapes


def _bound(value: int | float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _constraints(shape: Shape, numeric: bool) -> list[Failure]:
    """Every constraint `shape` declares, in the order AWS lists them."""
    noun = "value" if numeric else "length"
    suffix = "_value" if numeric else ""
    out: list[Failure] = []
    if shape.max is not None:
        text = f"Member must have {noun} less than or equal to {_bound(shape.max)}"
        out.append(Failure("max" + suffix, text))
    if shape.min is not None:
        text = f"Member must have {noun} greater than or equal to {_bound(shape.min)}"
        out.append(Failure("min" + suffix, text))
    if shape.pattern is not None:
        text = f"Member must satisfy regular expression pattern: {shape.pattern}"
        out.append(Failure("pattern", text))
    if shape.enum:
        text = f"Member must satisfy enum value set: [{', '.join(shape.enum)}]"
        out.append(Failure("enum", text))
    return out


def _is_numeric(shape: Shape) -> bool:
    return shape.kind in ("integer", "long", "float", "double")
