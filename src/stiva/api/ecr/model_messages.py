"""The errors `EcrModel.validate_input` (`stiva.api.ecr.model`) raises, and their AWS texts.

`RequestValidationError` and its codes (re-exported by `stiva.api.ecr.model`); the
SerializationException texts (`mismatch`, `body_message`); the two constraint-failure messages
(`validation_message` over every `Violation`, `invalid_parameter_message` for the first); and
ECR's hand-written texts for repository names and registry ids (`ecr_own_text`, `ecr_element`).

Error forms (`RequestValidationError.code` is the AWS `__type` verbatim, status 400):

* Type mismatch -> `SerializationException`. Verified texts (real AWS JSON 1.1 services,
  Coral; captured by third-party emulators that test against AWS, and consistent across them):
  "STRING_VALUE can not be converted to an Integer", "TRUE_VALUE can not be converted to an
  Integer", "NUMBER_VALUE can not be converted to a String", "TRUE_VALUE can not be converted to
  a String", "Start of list found where not expected" (no full stop), "Start of structure or map
  found where not expected." (full stop), a string where a list is expected -> "Expected list or
  null", a string where a structure is expected -> "Expected null"; a body that is a JSON array
  -> "Start of list found where not expected"; a body that is a JSON scalar or `null` -> no
  message at all (here: `message == ""`, which the wire encoder should leave out). Measured on
  DynamoDB's older Coral: a blob given a non-string -> "only base-64-encoded strings are
  convertible to bytes", a base64 string of bad length -> "Base64 encoded length is expected a
  multiple of 4 bytes but found: N". Inferred by the same pattern: FALSE_VALUE / DECIMAL_VALUE
  tokens, the Long / Boolean / Double / Float / Date targets, a map given a scalar ("Expected
  null", as for structures), a non-string / non-number timestamp, and "Invalid Base64 character
  detected" for other bad base64.
* Constraint failure in an operation whose model errors include `ValidationException` (the
  newer operations) -> `ValidationException` in the AWS-standard Coral form, every failure
  listed: "2 validation errors detected: Value 'x' at 'a.b' failed to satisfy constraint:
  Member must ...; Value null at 'c' failed to satisfy constraint: Member must not be null".
  The form, the constraint texts ("Member must have length less than or equal to N", "Member
  must have value greater than or equal to N", "Member must satisfy regular expression pattern:
  P", "Member must satisfy enum value set: [A, B]", "Member must not be null") and the paths
  are verified from many AWS services: member names with the first letter lower-cased
  (Athena's `QueryExecutionId` is reported as 'queryExecutionId', ECR's `Tag.Key` as 'key'),
  list elements of structures as `list.<1-based index>.member.field`, and a list of scalars
  reported once at the list, its value printed as `[a, b]`, with "Member must satisfy
  constraint: [<every constraint of the element shape>]". Maps are inferred in the same style:
  "Map keys must satisfy constraint: [...]" (seen on Lambda) and "Map value must satisfy
  constraint: [...]" (inferred). Values: strings verbatim, numbers and booleans as JSON writes
  them, missing or null members as `Value null`; the value is left out ("Value at 'x'") for
  structures, lists of structures, maps and blobs (inferred; AWS leaves values out at least for
  sensitive members).
* Constraint failure in any other operation -> `InvalidParameterException`, ECR's own wrapper,
  one failure only (the first in model order): "Invalid parameter at '<path>' failed to satisfy
  constraint: '<Coral constraint text>'". Verified on ECR: 'imageIds' ... 'Member must have
  length less than or equal to 100' and '... greater than or equal to 1' (BatchDeleteImage /
  BatchGetImage), 'registryIds' ... 'Member must satisfy constraint: [Member must satisfy
  regular expression pattern: [0-9]{12}]' (GetAuthorizationToken). ECR checks repository names
  and registry ids by hand with texts of its own, also verified: 'repositoryName' ... 'must
  satisfy regular expression '<pattern>'' and 'must have length greater than or equal to 2'
  (CreateRepository, DescribeRepositories; for a name inside `repositoryNames` the path is
  still 'repositoryName'), and 'registryId' ... 'must satisfy regular expression [0-9]{12}'
  (no inner quotes). Inferred: the max-length twin of the repository-name text, 'Member must
  not be null' for a missing member, and which failure comes first when there are several.

Uncertain, and chosen deliberately: the per-operation choice between the two constraint forms
follows the model's error list, as asked; but one public capture (2024, CloudFormation) shows
CreatePullThroughCacheRule and DeletePullThroughCacheRule, both of which list
ValidationException, answering a bad `ecrRepositoryPrefix` with the InvalidParameterException
text "Invalid parameter at 'ecrRepositoryPrefix' failed to satisfy constraint: 'Member must
satisfy regular expression pattern: ...'", and no ECR capture of the standard
ValidationException form was found. `EcrModel.uses_validation_exception` is the one place to
change if that proves to be ECR's rule. Patterns are printed as the model spells them (one
capture suggests ECR prints the repository-name pattern with `/` where the model has `\\/`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from stiva.api.ecr.model_shapes import Failure, Shape

__all__ = [
    "INVALID_PARAMETER_EXCEPTION",
    "OMITTED",
    "SERIALIZATION_EXCEPTION",
    "TARGET_NAMES",
    "UNKNOWN_OPERATION_EXCEPTION",
    "VALIDATION_EXCEPTION",
    "RequestValidationError",
    "Violation",
    "body_message",
    "ecr_element",
    "ecr_own_text",
    "invalid_parameter_message",
    "mismatch",
    "serialization_error",
    "validation_message",
]

SERIALIZATION_EXCEPTION: Final = "SerializationException"
VALIDATION_EXCEPTION: Final = "ValidationException"
INVALID_PARAMETER_EXCEPTION: Final = "InvalidParameterException"
UNKNOWN_OPERATION_EXCEPTION: Final = "UnknownOperationException"


class RequestValidationError(Exception):
    """A request the model refuses. `code` is the AWS `__type`; an empty `message` is omitted."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.status = status


OMITTED: Final = object()  # the value is left out of the message: "Value at 'x'"
TARGET_NAMES: Final[Mapping[str, str]] = {
    "string": "a String",
    "integer": "an Integer",
    "long": "a Long",
    "boolean": "a Boolean",
    "float": "a Float",
    "double": "a Double",
    "timestamp": "a Date",
}


@dataclass(frozen=True, slots=True)
class Violation:
    path: str
    value: object  # None renders as `null`, OMITTED leaves the value out
    constraint: str
    ecr_path: str
    ecr_constraint: str


def serialization_error(message: str) -> RequestValidationError:
    return RequestValidationError(SERIALIZATION_EXCEPTION, message)


def _token(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE_VALUE" if value else "FALSE_VALUE"
    if isinstance(value, int):
        return "NUMBER_VALUE"
    if isinstance(value, float):
        return "DECIMAL_VALUE"
    return "STRING_VALUE"


def mismatch(shape: Shape, value: object) -> RequestValidationError:
    """The SerializationException for `value` where `shape` was expected."""
    if isinstance(value, list):
        return serialization_error("Start of list found where not expected")
    if isinstance(value, dict):
        return serialization_error("Start of structure or map found where not expected.")
    if shape.kind == "list":
        return serialization_error("Expected list or null")
    if shape.kind in ("structure", "map"):
        return serialization_error("Expected null")
    if shape.kind == "blob":
        return serialization_error("only base-64-encoded strings are convertible to bytes")
    return serialization_error(
        f"{_token(value)} can not be converted to {TARGET_NAMES[shape.kind]}"
    )


def ecr_own_text(shape: Shape, failure: Failure, in_list: bool) -> str | None:
    """ECR's hand-written texts for repository names and registry ids (see module docstring)."""
    if shape.name == "RepositoryName":
        if failure.kind == "pattern":
            return f"must satisfy regular expression '{shape.pattern}'"
        if failure.kind in ("min", "max"):
            return failure.text.removeprefix("Member ")
    if shape.name == "RegistryId" and failure.kind == "pattern" and not in_list:
        return f"must satisfy regular expression {shape.pattern}"
    return None


def ecr_element(
    shape: Shape, broken: Iterable[tuple[Any, list[Failure]]]
) -> tuple[str, str] | None:
    """ECR validates each repository name by hand, even inside `repositoryNames`."""
    if shape.name != "RepositoryName":
        return None
    for _item, failed in broken:
        for failure in failed:
            text = ecr_own_text(shape, failure, in_list=True)
            if text is not None:
                return "repositoryName", text
    return None


def _value_text(value: object) -> str | None:
    """A value as Coral prints it, or None where the message leaves it out."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list):
        items = ["null" if item is None else _value_text(item) for item in value]
        texts = [item for item in items if item is not None]
        return "[" + ", ".join(texts) + "]" if len(texts) == len(items) else None
    return None  # structures, maps, blobs, timestamps, OMITTED


def _render(value: object) -> str:
    """The value part of "Value ... at": `null `, `'x' ` or nothing."""
    if value is None:
        return "null "
    text = _value_text(value)
    return "" if text is None else f"'{text}' "


def validation_message(violations: list[Violation]) -> str:
    count = len(violations)
    parts = [
        f"Value {_render(v.value)}at '{v.path}' failed to satisfy constraint: {v.constraint}"
        for v in violations
    ]
    plural = "error" if count == 1 else "errors"
    return f"{count} validation {plural} detected: " + "; ".join(parts)


def body_message(body: object) -> str:
    """AWS answers a non-object body with a message only when it is an array."""
    return "Start of list found where not expected" if isinstance(body, list) else ""


def invalid_parameter_message(violation: Violation) -> str:
    """ECR's InvalidParameterException text, for the first violation only."""
    return (
        f"Invalid parameter at '{violation.ecr_path}' failed to satisfy constraint: "
        f"'{violation.ecr_constraint}'"
    )
