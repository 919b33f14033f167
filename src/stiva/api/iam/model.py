"""botocore's IAM and STS models, read once, for the query protocol's plumbing.

`QueryModel.load(service)` reads `<service>/service-2.json` (cached: the models are constant)
and keeps, per operation: the input shape (the records `stiva.api.ecr.model_shapes` builds,
so validation is the ECR validator's: the same Coral texts), the output shape (`OutShape`, with
the XML names and list layout the renderer needs) and the result wrapper element; and per
exception shape its query error code and HTTP status (the model's `error` trait), so that the
codes sent are the ones botocore maps to `client.exceptions.X`.

IAM's tag patterns use Java's Unicode classes `\\p{L}`, `\\p{Z}`, `\\p{N}`, which Python's `re`
lacks: they are matched as `\\w` (letters, digits of every script, `_`) and `\\s`; messages
still print the model's pattern. Input shapes must use the default query serialisation
(`member` lists, no `locationName`, not flattened), as IAM's and STS's do; `load` checks it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from stiva.api.ecr.model_messages import RequestValidationError, validation_message
from stiva.api.ecr.model_shapes import Failure, Shape, build_shapes
from stiva.api.ecr.model_walker import Walker
from stiva.api.iam.query import unflatten

VALIDATION_ERROR: Final = "ValidationError"
_UNICODE_CLASSES: Final = {"\\p{L}": "\\w", "\\p{N}": "\\w", "\\p{Z}": "\\s"}


@dataclass(eq=False)
class OutShape:
    """An output shape, with what XML rendering needs."""

    name: str
    kind: str
    members: dict[str, tuple[str, OutShape]] = field(default_factory=dict)  # name -> (tag, shape)
    member: OutShape | None = None
    member_tag: str = "member"
    flattened: bool = False
    key: OutShape | None = None
    value: OutShape | None = None


@dataclass(frozen=True, slots=True)
class QueryOperation:
    name: str
    input: Shape | None
    output: OutShape | None
    result_wrapper: str | None


@dataclass(frozen=True, slots=True)
class ErrorCode:
    code: str
    status: int


class QueryModel:
    """One query-protocol service model (IAM or STS)."""

    def __init__(
        self,
        *,
        version: str,
        namespace: str,
        operations: Mapping[str, QueryOperation],
        errors: Mapping[str, ErrorCode],
    ) -> None:
        self.version = version
        self.namespace = namespace
        self._operations = dict(operations)
        self._errors = dict(errors)

    @staticmethod
    @functools.cache
    def load(service: str) -> QueryModel:
        from botocore.loaders import Loader

        return QueryModel.from_service_dict(Loader().load_service_model(service, "service-2"))

    @classmethod
    def from_service_dict(cls, raw: Mapping[str, Any]) -> QueryModel:
        _check_default_serialisation(raw)
        inputs = _input_shapes(raw["shapes"])
        outputs = _output_shapes(raw["shapes"])
        operations = {
            str(name): _operation(str(name), op, inputs, outputs)
            for name, op in raw["operations"].items()
        }
        errors = {
            str(name): ErrorCode(
                str(shape.get("error", {}).get("code", name)),
                int(shape.get("error", {}).get("httpStatusCode", 400)),
            )
            for name, shape in raw["shapes"].items()
            if shape.get("exception")
        }
        metadata = raw["metadata"]
        return cls(
            version=str(metadata["apiVersion"]),
            namespace=str(metadata["xmlNamespace"]),
            operations=operations,
            errors=errors,
        )

    def operation(self, name: str) -> QueryOperation | None:
        return self._operations.get(name)

    def operation_names(self) -> list[str]:
        return sorted(self._operations)

    def error(self, shape_name: str) -> ErrorCode:
        """The query code and status of an exception shape (e.g. NoSuchEntityException)."""
        return self._errors[shape_name]

    def parse_input(self, operation: QueryOperation, flat: Mapping[str, str]) -> dict[str, Any]:
        """The operation's parameters from the flattened form, validated against the model.

        Raises RequestValidationError (`ValidationError`, AWS's Coral text listing every
        failure) for values of the wrong type or that break a constraint."""
        if operation.input is None:
            return {}
        values = unflatten(operation.input, flat)
        walker = Walker()
        try:
            converted = walker.structure_value(operation.input, values, "")
        except RequestValidationError as exc:
            raise RequestValidationError(VALIDATION_ERROR, exc.message) from None
        if walker.violations:
            raise RequestValidationError(VALIDATION_ERROR, validation_message(walker.violations))
        return converted


def _operation(
    name: str, raw: Mapping[str, Any], inputs: dict[str, Shape], outputs: dict[str, OutShape]
) -> QueryOperation:
    input_ref, output_ref = raw.get("input"), raw.get("output")
    return QueryOperation(
        name=name,
        input=inputs[input_ref["shape"]] if input_ref else None,
        output=outputs[output_ref["shape"]] if output_ref else None,
        result_wrapper=output_ref.get("resultWrapper") if output_ref else None,
    )


def _check_default_serialisation(raw: Mapping[str, Any]) -> None:
    shapes = raw["shapes"]
    for op in raw["operations"].values():
        name = op.get("input", {}).get("shape")
        if name is None:
            continue
        for shape in _reachable(shapes, name):
            refs = list(shape.get("members", {}).values())
            refs += [shape[k] for k in ("member", "key", "value") if k in shape]
            if shape.get("flattened") or any("locationName" in ref for ref in refs):
                raise ValueError(f"input shape {name} uses a serialisation Stiva does not read")


def _reachable(shapes: Mapping[str, Any], start: str) -> list[Mapping[str, Any]]:
    seen: set[str] = set()
    pending = [start]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        shape = shapes[name]
        refs = list(shape.get("members", {}).values())
        refs += [shape[k] for k in ("member", "key", "value") if k in shape]
        pending.extend(ref["shape"] for ref in refs)
    return [shapes[name] for name in seen]


def _input_shapes(raw_shapes: Mapping[str, Any]) -> dict[str, Shape]:
    """ECR's shape records; patterns with Java Unicode classes are compiled here instead."""
    unicode_patterns: dict[str, str] = {}
    plain: dict[str, Any] = {}
    for name, raw in raw_shapes.items():
        pattern = raw.get("pattern")
        if isinstance(pattern, str) and any(c in pattern for c in _UNICODE_CLASSES):
            unicode_patterns[name] = pattern
            raw = {k: v for k, v in raw.items() if k != "pattern"}
        plain[name] = raw
    shapes = build_shapes(plain)
    for name, pattern in unicode_patterns.items():
        shape = shapes[name]
        translated = pattern
        for java, python in _UNICODE_CLASSES.items():
            translated = translated.replace(java, python)
        shape.pattern, shape.regex = pattern, re.compile(translated)
        text = f"Member must satisfy regular expression pattern: {pattern}"
        shape.declared = (*shape.declared, Failure("pattern", text))
    return shapes


def _output_shapes(raw_shapes: Mapping[str, Any]) -> dict[str, OutShape]:
    """Two passes, so that recursive shapes link to themselves."""
    shapes = {name: OutShape(name, str(raw["type"])) for name, raw in raw_shapes.items()}
    for name, raw in raw_shapes.items():
        shape = shapes[name]
        for member, ref in raw.get("members", {}).items():
            shape.members[member] = (ref.get("locationName", member), shapes[ref["shape"]])
        if "member" in raw:
            shape.member = shapes[raw["member"]["shape"]]
            shape.member_tag = raw["member"].get("locationName", "member")
            shape.flattened = bool(raw.get("flattened"))
        if "key" in raw:
            shape.key, shape.value = shapes[raw["key"]["shape"]], shapes[raw["value"]["shape"]]
    return shapes
