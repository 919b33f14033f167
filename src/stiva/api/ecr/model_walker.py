"""The walk over one request body: deserialisation against the input shape and constraints.

`Walker.structure_value` converts a parsed JSON body member by member, recursively through
structures, lists and maps (unknown members ignored, JSON `null` read as absent), raising the
`SerializationException` of the first value of the wrong JSON type, and collects every
constraint the converted values break as a `Violation`. Blobs are base64-decoded, timestamps
parsed to aware UTC `datetime`s; string lengths count UTF-16 code units (Java's
`String.length()`). Scalar list elements, map keys and map values are reported once, at the
collection, as Coral does. The texts come from `stiva.api.ecr.model_messages`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from stiva.api.ecr.model_messages import (
    OMITTED,
    TARGET_NAMES,
    Violation,
    ecr_element,
    ecr_own_text,
    mismatch,
    serialization_error,
)
from stiva.api.ecr.model_shapes import SCALAR_KINDS, Failure, Shape

__all__ = ["Walker"]

_INT_RANGES: Final[Mapping[str, tuple[int, int]]] = {
    "integer": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
}


def _measure(value: object) -> int | float | None:
    """The quantity min/max bound: a number, or a length (strings in UTF-16 code units)."""
    if isinstance(value, str):
        return len(value) if value.isascii() else len(value.encode("utf-16-le")) // 2
    if isinstance(value, bytes | list | dict):
        return len(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return None


def _breaks(shape: Shape, kind: str, value: object, measure: int | float | None) -> bool:
    if kind in ("max", "max_value"):
        return measure is not None and shape.max is not None and measure > shape.max
    if kind in ("min", "min_value"):
        return measure is not None and shape.min is not None and measure < shape.min
    if kind == "pattern":
        regex = shape.regex
        return isinstance(value, str) and regex is not None and regex.fullmatch(value) is None
    return kind == "enum" and isinstance(value, str) and value not in shape.enum


def _failures(shape: Shape, value: object) -> list[Failure]:
    """The constraints of `shape` that the (converted) `value` breaks."""
    if not shape.declared:
        return []
    measure = _measure(value)
    return [f for f in shape.declared if _breaks(shape, f.kind, value, measure)]


def _member_path(path: str, name: str) -> str:
    name = name[:1].lower() + name[1:]
    return f"{path}.{name}" if path else name


def _convert_string(shape: Shape, value: object) -> object:
    if not isinstance(value, str):
        raise mismatch(shape, value)
    return value


def _convert_integer(shape: Shape, value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int):
        raise mismatch(shape, value)
    low, high = _INT_RANGES[shape.kind]
    if not low <= value <= high and not _failures(shape, value):
        raise serialization_error(
            f"NUMBER_VALUE can not be converted to {TARGET_NAMES[shape.kind]}"
        )
    return value


def _convert_float(shape: Shape, value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise mismatch(shape, value)
    return value


def _convert_boolean(shape: Shape, value: object) -> object:
    if not isinstance(value, bool):
        raise mismatch(shape, value)
    return value


def _convert_timestamp(shape: Shape, value: object) -> object:
    """Epoch seconds (AWS JSON's default) or an ISO 8601 string -> aware UTC datetime."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (OverflowError, OSError, ValueError):
        pass
    raise mismatch(shape, value)


def _convert_blob(shape: Shape, value: object) -> object:
    if not isinstance(value, str):
        raise mismatch(shape, value)
    if len(value) % 4:
        raise serialization_error(
            f"Base64 encoded length is expected a multiple of 4 bytes but found: {len(value)}"
        )
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise serialization_error("Invalid Base64 character detected") from None


_SCALAR_CONVERTERS: Final[Mapping[str, Callable[[Shape, object], object]]] = {
    "string": _convert_string,
    "integer": _convert_integer,
    "long": _convert_integer,
    "float": _convert_float,
    "double": _convert_float,
    "boolean": _convert_boolean,
    "timestamp": _convert_timestamp,
    "blob": _convert_blob,
}


_NULL: Final = Failure("null", "Member must not be null")


class Walker:
    """One request's walk: converts as it goes, raises on a type error, collects violations."""

    def __init__(self) -> None:
        self.violations: list[Violation] = []

    def add(self, path: str, value: object, failure: Failure, ecr: tuple[str, str] | None) -> None:
        ecr_path, ecr_text = ecr if ecr is not None else (path, failure.text)
        self.violations.append(Violation(path, value, failure.text, ecr_path, ecr_text))

    def walk(self, shape: Shape, value: object, path: str) -> object:
        """Convert a non-null `value` of `shape` found at `path` and check its constraints."""
        converted: object
        if shape.kind == "structure":
            return self.structure_value(shape, value, path)
        if shape.kind == "list":
            converted = self.list_value(shape, value, path)
        elif shape.kind == "map":
            converted = self.map_value(shape, value, path)
        else:
            converted = _SCALAR_CONVERTERS[shape.kind](shape, value)
        for failure in _failures(shape, converted):
            text = ecr_own_text(shape, failure, in_list=False)
            self.add(path, converted, failure, (path, text) if text else None)
        return converted

    def element(self, shape: Shape, value: object, path: str) -> object:
        """A list element or map value that is not a scalar: its own path, its own checks."""
        if value is None:
            self.add(path, None, _NULL, None)
            return None
        return self.walk(shape, value, path)

    def structure_value(self, shape: Shape, value: object, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise mismatch(shape, value)
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            item = value.get(name)
            member_path = _member_path(path, name)
            if item is not None:
                out[name] = self.walk(member, item, member_path)
            elif name in shape.required:
                self.add(member_path, None, _NULL, None)
        return out

    def list_value(self, shape: Shape, value: object, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise mismatch(shape, value)
        element = _child(shape, shape.member)
        if element.kind not in SCALAR_KINDS:
            return [
                self.element(element, item, f"{path}.{index}.member")
                for index, item in enumerate(value, 1)
            ]
        items = [_convert_scalar(element, item) for item in value]
        self.scalar_elements(element, items, path, "Member", shown=items)
        return items

    def map_value(self, shape: Shape, value: object, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise mismatch(shape, value)
        key_shape = _child(shape, shape.key)
        value_shape = _child(shape, shape.value)
        self.scalar_elements(key_shape, list(value), path, "Map keys", shown=OMITTED)
        if value_shape.kind not in SCALAR_KINDS:
            return {
                key: self.element(value_shape, item, f"{path}.{key}.member")
                for key, item in value.items()
            }
        out = {key: _convert_scalar(value_shape, item) for key, item in value.items()}
        self.scalar_elements(value_shape, list(out.values()), path, "Map value", shown=OMITTED)
        return out

    def scalar_elements(
        self, shape: Shape, items: list[Any], path: str, subject: str, shown: object
    ) -> None:
        """Coral reports scalar list elements (and map keys/values) once, at the collection."""
        checked = [(item, _failures(shape, item)) for item in items]
        broken = [(item, failed) for item, failed in checked if item is None or failed]
        if not broken:
            return
        declared = [failure.text for failure in shape.declared]
        if any(item is None for item, _ in broken):
            declared.append(_NULL.text)
        text = f"{subject} must satisfy constraint: [{', '.join(declared)}]"
        self.add(path, shown, Failure("element", text), ecr_element(shape, broken))


def _child(shape: Shape, child: Shape | None) -> Shape:
    if child is None:
        raise ValueError(f"shape {shape.name} lacks its element shape")
    return child


def _convert_scalar(shape: Shape, value: object) -> object:
    return None if value is None else _SCALAR_CONVERTERS[shape.kind](shape, value)
