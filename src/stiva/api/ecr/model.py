"""Server-side validation of ECR control-plane requests against botocore's ECR service model.

botocore ships the model AWS generates its SDKs from (`ecr/2015-09-21/service-2.json`); it is
the source of truth for every input shape here. `EcrModel.load()` reads it once (never at
import), turns its shapes into small typed records and compiles every `pattern` once, so
`EcrModel.validate_input` does no model work per request.

What `validate_input` does, in AWS's order (a type error wins over any constraint error):

1. The body must be a JSON object; otherwise `SerializationException`.
2. Deserialisation against the input shape, recursively through structures, lists and maps.
   Unknown members are ignored and a member whose value is JSON `null` counts as absent, as
   AWS JSON services do. The first value of the wrong JSON type raises
   `SerializationException` with the Coral deserialiser's text.
3. Constraints, collected over the whole body: required members, string / blob length (Java
   `String.length()`, i.e. UTF-16 code units), list length, map size, numeric min/max,
   `pattern` (full match) and `enum`.

The value returned is a *new* dict holding only the modelled members that were present and not
null; blobs are base64-decoded to `bytes` and timestamps parsed to aware UTC `datetime`s. Every
other value is passed through as parsed from JSON.

Errors (`RequestValidationError.code` is the AWS `__type` verbatim, status 400): a type
mismatch answers `SerializationException`; a constraint failure answers `ValidationException`
listing every failure when the operation's model errors include it, else ECR's own
`InvalidParameterException` with the first failure only (`EcrModel.uses_validation_exception`
is where that choice is made). The texts, what was verified and what was inferred are in the
docstring of `stiva.api.ecr.model_messages`.

Patterns are Java regular expressions, matched in full; `stiva.api.ecr.model_regex` translates
them for Python's `re`.

Layout: this module is the `EcrModel` facade and re-exports the public names;
`model_regex` (Java-regex translation), `model_shapes` (the shapes as typed records, built and
worded once at load), `model_walker` (the walk over a body: conversion and constraints) and
`model_messages` (`RequestValidationError` and AWS's texts) hold the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The error codes, `RequestValidationError` and the regex functions were defined here before
# the split; they are re-exported (`X as X`), so they stay importable from this module.
from stiva.api.ecr.model_messages import (
    INVALID_PARAMETER_EXCEPTION as INVALID_PARAMETER_EXCEPTION,
)
from stiva.api.ecr.model_messages import (
    SERIALIZATION_EXCEPTION as SERIALIZATION_EXCEPTION,
)
from stiva.api.ecr.model_messages import (
    UNKNOWN_OPERATION_EXCEPTION as UNKNOWN_OPERATION_EXCEPTION,
)
from stiva.api.ecr.model_messages import (
    VALIDATION_EXCEPTION as VALIDATION_EXCEPTION,
)
from stiva.api.ecr.model_messages import (
    RequestValidationError,
    body_message,
    invalid_parameter_message,
    serialization_error,
    validation_message,
)
from stiva.api.ecr.model_regex import compile_java_regex, translate_java_regex
from stiva.api.ecr.model_shapes import Operation, build_shapes
from stiva.api.ecr.model_walker import Walker

__all__ = [
    "EcrModel",
    "RequestValidationError",
    "compile_java_regex",
    "translate_java_regex",
]


class EcrModel:
    """The ECR service model, loaded once by whoever builds the app (never at import time)."""

    def __init__(
        self,
        target_prefix: str,
        operations: Mapping[str, Operation],
        error_shapes: frozenset[str],
    ) -> None:
        self._target_prefix = target_prefix
        self._operations = dict(operations)
        self._error_shapes = error_shapes

    @classmethod
    def load(cls) -> EcrModel:
        """Load the ECR model botocore ships, and compile every pattern in it."""
        from botocore.loaders import Loader

        raw = Loader().load_service_model("ecr", "service-2")
        return cls.from_service_dict(raw)

    @classmethod
    def from_service_dict(cls, raw: Mapping[str, Any]) -> EcrModel:
        """Build from a botocore `service-2` document (also how tests use small models)."""
        from botocore.model import ServiceModel

        service = ServiceModel(raw, service_name="ecr")
        shapes = build_shapes(raw["shapes"])
        operations: dict[str, Operation] = {}
        for name in service.operation_names:
            op = service.operation_model(name)
            input_name = op.input_shape.name if op.input_shape is not None else None
            errors = frozenset(str(error.name) for error in op.error_shapes)
            operations[str(name)] = Operation(
                str(name), shapes[str(input_name)] if input_name else None, errors
            )
        error_shapes = frozenset(str(shape.name) for shape in service.error_shapes)
        return cls(str(service.metadata["targetPrefix"]), operations, error_shapes)

    @property
    def target_prefix(self) -> str:
        return self._target_prefix

    def operation_names(self) -> list[str]:
        return sorted(self._operations)

    def has_operation(self, name: str) -> bool:
        return name in self._operations

    def error_shape_names(self) -> frozenset[str]:
        return self._error_shapes

    def uses_validation_exception(self, operation: str) -> bool:
        """Whether constraint failures of `operation` take the standard ValidationException form."""
        op = self._operations.get(operation)
        return op is not None and VALIDATION_EXCEPTION in op.errors

    def validate_input(self, operation: str, params: object) -> dict[str, Any]:
        """Validate a parsed JSON body; return a new dict of the modelled, non-null members.

        Blobs come back base64-decoded (`bytes`), timestamps as aware UTC `datetime`s.
        Raises RequestValidationError (codes and texts: see `stiva.api.ecr.model_messages`).
        """
        op = self._operations.get(operation)
        if op is None:
            raise RequestValidationError(UNKNOWN_OPERATION_EXCEPTION, "")
        if not isinstance(params, dict):
            raise serialization_error(body_message(params))
        if op.input is None:
            return {}
        walker = Walker()
        converted = walker.structure_value(op.input, params, "")
        if not walker.violations:
            return converted
        if self.uses_validation_exception(operation):
            message = validation_message(walker.violations)
            raise RequestValidationError(VALIDATION_EXCEPTION, message)
        message = invalid_parameter_message(walker.violations[0])
        raise RequestValidationError(INVALID_PARAMETER_EXCEPTION, message)
