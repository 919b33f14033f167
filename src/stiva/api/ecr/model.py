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

Patterns: the model's patterns are Java regular expressions, matched in full
(`Pattern.matches`); e.g. "Bad_Name" must fail the repository-name pattern although a substring
matches. `translate_java_regex` maps the Java-only syntax to Python's `re` (`\\Q...\\E`, `\\z`,
`\\Z`, POSIX `\\p{...}` classes), patterns compile with `re.ASCII` (Java's `\\w`, `\\d`, `\\s`
are ASCII) and anything Python would read differently (nested classes, `&&`) is refused at load.
"""

from __future__ import annotations

import base64
import binascii
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

__all__ = [
    "EcrModel",
    "RequestValidationError",
    "compile_java_regex",
    "translate_java_regex",
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


# --------------------------------------------------------------------------- Java regexes

_POSIX_CLASSES: Final[Mapping[str, str]] = {
    "Lower": "a-z",
    "Upper": "A-Z",
    "ASCII": "\\x00-\\x7f",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Alnum": "a-zA-Z0-9",
    "Punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "Graph": "\\x21-\\x7e",
    "Print": "\\x20-\\x7e",
    "Blank": " \\t",
    "Cntrl": "\\x00-\\x1f\\x7f",
    "XDigit": "0-9a-fA-F",
    "Space": " \\t\\n\\x0b\\f\\r",
}


def _translate_quote(pattern: str, start: int, in_class: bool) -> tuple[str, int]:
    """`\\Q...\\E`: everything up to `\\E` (or the end) is literal."""
    end = pattern.find("\\E", start)
    literal = pattern[start:] if end < 0 else pattern[start:end]
    after = len(pattern) if end < 0 else end + 2
    if in_class:
        return "".join(re.escape(ch) for ch in literal), after
    return re.escape(literal), after


def _translate_property(pattern: str, start: int, negated: bool, in_class: bool) -> tuple[str, int]:
    """`\\p{Name}` / `\\P{Name}` for the POSIX classes Java defines over US-ASCII."""
    if pattern.startswith("{", start):
        end = pattern.find("}", start)
        if end < 0:
            raise ValueError(f"unclosed \\p{{ in {pattern!r}")
        name, after = pattern[start + 1 : end], end + 1
    else:
        name, after = pattern[start : start + 1], start + 1
    name = name.removeprefix("Is")
    if name not in _POSIX_CLASSES:
        raise ValueError(f"unsupported Java property class \\p{{{name}}} in {pattern!r}")
    ranges = _POSIX_CLASSES[name]
    if in_class:
        if negated:
            raise ValueError(f"\\P inside a character class is unsupported in {pattern!r}")
        return ranges, after
    return f"[{'^' if negated else ''}{ranges}]", after


def _translate_escape(pattern: str, index: int, in_class: bool) -> tuple[str, int]:
    """Translate the escape starting at `pattern[index] == '\\\\'`; return (text, next index)."""
    if index + 1 >= len(pattern):
        raise ValueError(f"trailing backslash in {pattern!r}")
    letter = pattern[index + 1]
    if letter == "Q":
        return _translate_quote(pattern, index + 2, in_class)
    if letter in "pP":
        return _translate_property(pattern, index + 2, letter == "P", in_class)
    if letter == "z" and not in_class:
        return "\\Z", index + 2
    if letter == "Z" and not in_class:
        return "(?=\\n?\\Z)", index + 2
    return pattern[index : index + 2], index + 2


def translate_java_regex(pattern: str) -> str:
    """Rewrite a Java regular expression as one Python's `re` reads the same way.

    Handles `\\Q...\\E`, `\\z`, `\\Z` and `\\p{...}` POSIX classes; refuses Java's class
    union (`[a[b]]`) and intersection (`&&`), which Python would read differently. Everything
    else in the model's patterns means the same in both (Python 3.11 also has possessive
    quantifiers and atomic groups). Compile the result with `re.ASCII`.
    """
    out: list[str] = []
    index, in_class = 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            text, index = _translate_escape(pattern, index, in_class)
            out.append(text)
            continue
        if in_class and (char == "[" or pattern.startswith("&&", index)):
            raise ValueError(f"Java character-class union/intersection in {pattern!r}")
        if char == "[" and not in_class:
            in_class = True
            # A `]` (after an optional `^`) right after `[` is a literal in both dialects.
            lead = 2 if pattern.startswith("^]", index + 1) else 1
            lead += 1 if pattern.startswith("]", index + lead) else 0
            out.append(pattern[index : index + lead])
            index += lead
            continue
        if char == "]" and in_class:
            in_class = False
        out.append(char)
        index += 1
    return "".join(out)


def compile_java_regex(pattern: str) -> re.Pattern[str]:
    """Compile a model pattern for full-match use; raise ValueError if it cannot be faithful."""
    translated = translate_java_regex(pattern)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return re.compile(translated, re.ASCII)
        except (re.error, FutureWarning, DeprecationWarning) as exc:
            raise ValueError(f"pattern {pattern!r} does not compile: {exc}") from exc


# --------------------------------------------------------------------------- shapes

_SCALAR_KINDS: Final = frozenset(
    {"string", "integer", "long", "float", "double", "boolean", "timestamp", "blob"}
)
_KNOWN_KINDS: Final = _SCALAR_KINDS | {"structure", "list", "map"}


@dataclass(eq=False)
class _Shape:
    """One model shape, with what validation needs and nothing else."""

    name: str
    kind: str
    min: int | float | None = None
    max: int | float | None = None
    pattern: str | None = None
    regex: re.Pattern[str] | None = None
    enum: tuple[str, ...] = ()
    required: frozenset[str] = frozenset()
    members: dict[str, _Shape] = field(default_factory=dict)
    member: _Shape | None = None
    key: _Shape | None = None
    value: _Shape | None = None
    declared: tuple[_Failure, ...] = ()  # its constraints, worded once at load


@dataclass(frozen=True, slots=True)
class _Operation:
    name: str
    input: _Shape | None
    errors: frozenset[str]


def _number(raw: object) -> int | float | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    return raw


def _ref_name(raw: object) -> str:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("shape"), str):
        raise ValueError(f"malformed shape reference {raw!r}")
    return str(raw["shape"])


def _new_shape(name: str, raw: Mapping[str, Any]) -> _Shape:
    kind = str(raw.get("type"))
    if kind not in _KNOWN_KINDS:
        raise ValueError(f"shape {name} has unsupported type {kind!r}")
    pattern = raw.get("pattern")
    shape = _Shape(
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


def _build_shapes(raw_shapes: Mapping[str, Any]) -> dict[str, _Shape]:
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


# --------------------------------------------------------------------------- violations

_OMITTED: Final = object()  # the value is left out of the message: "Value at 'x'"
_INT_RANGES: Final[Mapping[str, tuple[int, int]]] = {
    "integer": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
}
_TARGET_NAMES: Final[Mapping[str, str]] = {
    "string": "a String",
    "integer": "an Integer",
    "long": "a Long",
    "boolean": "a Boolean",
    "float": "a Float",
    "double": "a Double",
    "timestamp": "a Date",
}


@dataclass(frozen=True, slots=True)
class _Failure:
    """One constraint, by kind (for ECR's own texts) and Coral text."""

    kind: str  # max, min, max_value, min_value, pattern, enum, null, element
    text: str


@dataclass(frozen=True, slots=True)
class _Violation:
    path: str
    value: object  # None renders as `null`, _OMITTED leaves the value out
    constraint: str
    ecr_path: str
    ecr_constraint: str


def _bound(value: int | float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _constraints(shape: _Shape, numeric: bool) -> list[_Failure]:
    """Every constraint `shape` declares, in the order AWS lists them."""
    noun = "value" if numeric else "length"
    suffix = "_value" if numeric else ""
    out: list[_Failure] = []
    if shape.max is not None:
        text = f"Member must have {noun} less than or equal to {_bound(shape.max)}"
        out.append(_Failure("max" + suffix, text))
    if shape.min is not None:
        text = f"Member must have {noun} greater than or equal to {_bound(shape.min)}"
        out.append(_Failure("min" + suffix, text))
    if shape.pattern is not None:
        text = f"Member must satisfy regular expression pattern: {shape.pattern}"
        out.append(_Failure("pattern", text))
    if shape.enum:
        text = f"Member must satisfy enum value set: [{', '.join(shape.enum)}]"
        out.append(_Failure("enum", text))
    return out


def _measure(value: object) -> int | float | None:
    """The quantity min/max bound: a number, or a length (strings in UTF-16 code units)."""
    if isinstance(value, str):
        return len(value) if value.isascii() else len(value.encode("utf-16-le")) // 2
    if isinstance(value, bytes | list | dict):
        return len(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return None


def _is_numeric(shape: _Shape) -> bool:
    return shape.kind in ("integer", "long", "float", "double")


def _breaks(shape: _Shape, kind: str, value: object, measure: int | float | None) -> bool:
    if kind in ("max", "max_value"):
        return measure is not None and shape.max is not None and measure > shape.max
    if kind in ("min", "min_value"):
        return measure is not None and shape.min is not None and measure < shape.min
    if kind == "pattern":
        regex = shape.regex
        return isinstance(value, str) and regex is not None and regex.fullmatch(value) is None
    return kind == "enum" and isinstance(value, str) and value not in shape.enum


def _failures(shape: _Shape, value: object) -> list[_Failure]:
    """The constraints of `shape` that the (converted) `value` breaks."""
    if not shape.declared:
        return []
    measure = _measure(value)
    return [f for f in shape.declared if _breaks(shape, f.kind, value, measure)]


def _ecr_text(shape: _Shape, failure: _Failure, in_list: bool) -> str | None:
    """ECR's hand-written texts for repository names and registry ids (see module docstring)."""
    if shape.name == "RepositoryName":
        if failure.kind == "pattern":
            return f"must satisfy regular expression '{shape.pattern}'"
        if failure.kind in ("min", "max"):
            return failure.text.removeprefix("Member ")
    if shape.name == "RegistryId" and failure.kind == "pattern" and not in_list:
        return f"must satisfy regular expression {shape.pattern}"
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
    return None  # structures, maps, blobs, timestamps, _OMITTED


def _render(value: object) -> str:
    """The value part of "Value ... at": `null `, `'x' ` or nothing."""
    if value is None:
        return "null "
    text = _value_text(value)
    return "" if text is None else f"'{text}' "


# --------------------------------------------------------------------------- the walk


def _serialization(message: str) -> RequestValidationError:
    return RequestValidationError(SERIALIZATION_EXCEPTION, message)


def _token(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE_VALUE" if value else "FALSE_VALUE"
    if isinstance(value, int):
        return "NUMBER_VALUE"
    if isinstance(value, float):
        return "DECIMAL_VALUE"
    return "STRING_VALUE"


def _mismatch(shape: _Shape, value: object) -> RequestValidationError:
    """The SerializationException for `value` where `shape` was expected."""
    if isinstance(value, list):
        return _serialization("Start of list found where not expected")
    if isinstance(value, dict):
        return _serialization("Start of structure or map found where not expected.")
    if shape.kind == "list":
        return _serialization("Expected list or null")
    if shape.kind in ("structure", "map"):
        return _serialization("Expected null")
    if shape.kind == "blob":
        return _serialization("only base-64-encoded strings are convertible to bytes")
    return _serialization(f"{_token(value)} can not be converted to {_TARGET_NAMES[shape.kind]}")


def _member_path(path: str, name: str) -> str:
    name = name[:1].lower() + name[1:]
    return f"{path}.{name}" if path else name


def _convert_string(shape: _Shape, value: object) -> object:
    if not isinstance(value, str):
        raise _mismatch(shape, value)
    return value


def _convert_integer(shape: _Shape, value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _mismatch(shape, value)
    low, high = _INT_RANGES[shape.kind]
    if not low <= value <= high and not _failures(shape, value):
        raise _serialization(f"NUMBER_VALUE can not be converted to {_TARGET_NAMES[shape.kind]}")
    return value


def _convert_float(shape: _Shape, value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _mismatch(shape, value)
    return value


def _convert_boolean(shape: _Shape, value: object) -> object:
    if not isinstance(value, bool):
        raise _mismatch(shape, value)
    return value


def _convert_timestamp(shape: _Shape, value: object) -> object:
    """Epoch seconds (AWS JSON's default) or an ISO 8601 string -> aware UTC datetime."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (OverflowError, OSError, ValueError):
        pass
    raise _mismatch(shape, value)


def _convert_blob(shape: _Shape, value: object) -> object:
    if not isinstance(value, str):
        raise _mismatch(shape, value)
    if len(value) % 4:
        raise _serialization(
            f"Base64 encoded length is expected a multiple of 4 bytes but found: {len(value)}"
        )
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _serialization("Invalid Base64 character detected") from None


_SCALAR_CONVERTERS: Final[Mapping[str, Callable[[_Shape, object], object]]] = {
    "string": _convert_string,
    "integer": _convert_integer,
    "long": _convert_integer,
    "float": _convert_float,
    "double": _convert_float,
    "boolean": _convert_boolean,
    "timestamp": _convert_timestamp,
    "blob": _convert_blob,
}


_NULL: Final = _Failure("null", "Member must not be null")


class _Walker:
    """One request's walk: converts as it goes, raises on a type error, collects violations."""

    def __init__(self) -> None:
        self.violations: list[_Violation] = []

    def add(self, path: str, value: object, failure: _Failure, ecr: tuple[str, str] | None) -> None:
        ecr_path, ecr_text = ecr if ecr is not None else (path, failure.text)
        self.violations.append(_Violation(path, value, failure.text, ecr_path, ecr_text))

    def walk(self, shape: _Shape, value: object, path: str) -> object:
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
            text = _ecr_text(shape, failure, in_list=False)
            self.add(path, converted, failure, (path, text) if text else None)
        return converted

    def element(self, shape: _Shape, value: object, path: str) -> object:
        """A list element or map value that is not a scalar: its own path, its own checks."""
        if value is None:
            self.add(path, None, _NULL, None)
            return None
        return self.walk(shape, value, path)

    def structure_value(self, shape: _Shape, value: object, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _mismatch(shape, value)
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            item = value.get(name)
            member_path = _member_path(path, name)
            if item is not None:
                out[name] = self.walk(member, item, member_path)
            elif name in shape.required:
                self.add(member_path, None, _NULL, None)
        return out

    def list_value(self, shape: _Shape, value: object, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise _mismatch(shape, value)
        element = _child(shape, shape.member)
        if element.kind not in _SCALAR_KINDS:
            return [
                self.element(element, item, f"{path}.{index}.member")
                for index, item in enumerate(value, 1)
            ]
        items = [_convert_scalar(element, item) for item in value]
        self.scalar_elements(element, items, path, "Member", shown=items)
        return items

    def map_value(self, shape: _Shape, value: object, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _mismatch(shape, value)
        key_shape = _child(shape, shape.key)
        value_shape = _child(shape, shape.value)
        self.scalar_elements(key_shape, list(value), path, "Map keys", shown=_OMITTED)
        if value_shape.kind not in _SCALAR_KINDS:
            return {
                key: self.element(value_shape, item, f"{path}.{key}.member")
                for key, item in value.items()
            }
        out = {key: _convert_scalar(value_shape, item) for key, item in value.items()}
        self.scalar_elements(value_shape, list(out.values()), path, "Map value", shown=_OMITTED)
        return out

    def scalar_elements(
        self, shape: _Shape, items: list[Any], path: str, subject: str, shown: object
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
        self.add(path, shown, _Failure("element", text), _ecr_element(shape, broken))


def _child(shape: _Shape, child: _Shape | None) -> _Shape:
    if child is None:
        raise ValueError(f"shape {shape.name} lacks its element shape")
    return child


def _convert_scalar(shape: _Shape, value: object) -> object:
    return None if value is None else _SCALAR_CONVERTERS[shape.kind](shape, value)


def _ecr_element(
    shape: _Shape, broken: Iterable[tuple[Any, list[_Failure]]]
) -> tuple[str, str] | None:
    """ECR validates each repository name by hand, even inside `repositoryNames`."""
    if shape.name != "RepositoryName":
        return None
    for _item, failed in broken:
        for failure in failed:
            text = _ecr_text(shape, failure, in_list=True)
            if text is not None:
                return "repositoryName", text
    return None


def _validation_message(violations: list[_Violation]) -> str:
    count = len(violations)
    parts = [
        f"Value {_render(v.value)}at '{v.path}' failed to satisfy constraint: {v.constraint}"
        for v in violations
    ]
    plural = "error" if count == 1 else "errors"
    return f"{count} validation {plural} detected: " + "; ".join(parts)


def _body_message(body: object) -> str:
    """AWS answers a non-object body with a message only when it is an array."""
    return "Start of list found where not expected" if isinstance(body, list) else ""


# --------------------------------------------------------------------------- the model


class EcrModel:
    """The ECR service model, loaded once by whoever builds the app (never at import time)."""

    def __init__(
        self,
        target_prefix: str,
        operations: Mapping[str, _Operation],
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
        shapes = _build_shapes(raw["shapes"])
        operations: dict[str, _Operation] = {}
        for name in service.operation_names:
            op = service.operation_model(name)
            input_name = op.input_shape.name if op.input_shape is not None else None
            errors = frozenset(str(error.name) for error in op.error_shapes)
            operations[str(name)] = _Operation(
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
        Raises RequestValidationError (see the module docstring for codes and texts).
        """
        op = self._operations.get(operation)
        if op is None:
            raise RequestValidationError(UNKNOWN_OPERATION_EXCEPTION, "")
        if not isinstance(params, dict):
            raise _serialization(_body_message(params))
        if op.input is None:
            return {}
        walker = _Walker()
        converted = walker.structure_value(op.input, params, "")
        if not walker.violations:
            return converted
        if self.uses_validation_exception(operation):
            message = _validation_message(walker.violations)
            raise RequestValidationError(VALIDATION_EXCEPTION, message)
        first = walker.violations[0]
        message = (
            f"Invalid parameter at '{first.ecr_path}' failed to satisfy constraint: "
            f"'{first.ecr_constraint}'"
        )
        raise RequestValidationError(INVALID_PARAMETER_EXCEPTION, message)
