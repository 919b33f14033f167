"""The Condition element, evaluated: every IAM operator, IfExists, the set qualifiers, Null.

`compile_condition` turns one parsed `Condition` (operator, key, policy values) into a
`CompiledCondition` whose `holds(keys)` answers for a request's context keys (lower-cased names;
a key is absent when it has no value). A statement's conditions all must hold (different
operators and different keys are AND'ed); the policy values of one key are OR'ed.

Positive operators test one request value against the policy values, true when any matches:

    StringEquals / StringEqualsIgnoreCase   exact (case-folded) equality; no wildcards
    StringLike                              case-sensitive, `*` and `?` wildcards anywhere
    Numeric{Equals,LessThan,LessThanEquals,GreaterThan,GreaterThanEquals}   decimal numbers
    Date{Equals,LessThan,...}               ISO 8601 (UTC when no offset) or epoch seconds
    Bool                                    "true" / "false", case-insensitive
    IpAddress                               the address lies in a CIDR range (IPv4 or IPv6; a
                                            bare address is a /32 or /128)
    ArnEquals / ArnLike                     per ARN component, with wildcards (`stiva.iam.arn`)
    BinaryEquals                            the base64 text, exactly

A value that cannot be read as the operator's type (a request IP that is not an address...)
matches nothing. Negated operators (StringNotEquals, StringNotEqualsIgnoreCase, StringNotLike,
NumericNotEquals, DateNotEquals, ArnNotEquals, ArnNotLike, NotIpAddress) are exactly the negation
of their positive twin: true when no request value matches any policy value (IAM's "NOR"), and
so true when the key is absent, as IAM documents.

Absent keys and qualifiers:

    plain operator      absent -> false (negated: true); `...IfExists` -> true. A multi-valued
                        key is treated as "any of its values" (IAM wants a qualifier there)
    ForAnyValue:        true when at least one request value satisfies the operator (a negated
                        operator: one value matching none); absent -> false (IfExists: true)
    ForAllValues:       true when every request value satisfies it; absent -> true
    Null                "true": holds when the key is absent; "false": when it is present

Policy variables (`${aws:username}`...) are resolved in String* and Arn* values of Version
2012-10-17 policies; a value whose variable cannot be resolved matches nothing.
"""

from __future__ import annotations

import ipaddress
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Protocol

from stiva.iam.arn import ArnLikePattern, arn_like_pattern
from stiva.iam.patterns import KeyValues, Template, any_of_regex, glob_regex, parse_template
from stiva.iam.policy import Condition

_NEGATED: Final = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NotIpAddress": "IpAddress",
}
_COMPARISONS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "LessThanEquals": operator.le,
    "GreaterThan": operator.gt,
    "GreaterThanEquals": operator.ge,
}
_EPOCH: Final = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)

FOR_ANY_VALUE: Final = "ForAnyValue"
FOR_ALL_VALUES: Final = "ForAllValues"


class ValueTest(Protocol):
    """A positive operator with its policy values: does one request value match any?"""

    def __call__(self, value: str, keys: KeyValues, /) -> bool: ...


@dataclass(frozen=True, slots=True)
class CompiledCondition:
    source: Condition
    key: str  # lower-cased
    qualifier: str | None
    if_exists: bool
    negated: bool
    test: ValueTest | None  # None for Null
    null_wants_absent: tuple[bool, ...] = ()

    def holds(self, keys: KeyValues) -> bool:
        values = keys.get(self.key)
        if self.test is None:
            return (values is None) in self.null_wants_absent
        if values is None:
            if self.qualifier == FOR_ALL_VALUES or self.if_exists:
                return True
            return self.negated and self.qualifier is None
        test, negated = self.test, self.negated
        if self.qualifier == FOR_ALL_VALUES:
            return all(test(value, keys) is not negated for value in values)
        if self.qualifier == FOR_ANY_VALUE:
            return any(test(value, keys) is not negated for value in values)
        return any(test(value, keys) for value in values) is not negated


def compile_condition(condition: Condition, *, variables: bool) -> CompiledCondition:
    """Compile one condition; `variables`: the policy is Version 2012-10-17.

    ValueError for an operator IAM does not have (`parse_policy` never lets one through)."""
    base = condition.base
    positive = _NEGATED.get(base, base)
    null = base == "Null"
    return CompiledCondition(
        source=condition,
        key=condition.key.lower(),
        qualifier=condition.qualifier,
        if_exists=condition.if_exists,
        negated=positive != base,
        test=None if null else _value_test(positive, condition.values, variables),
        null_wants_absent=tuple(v.lower() == "true" for v in condition.values) if null else (),
    )


def _value_test(base: str, values: tuple[str, ...], variables: bool) -> ValueTest:
    if base in ("StringEquals", "StringEqualsIgnoreCase", "BinaryEquals"):
        templates = tuple(
            parse_template(v, variables=variables and base != "BinaryEquals") for v in values
        )
        return _Equals.of(templates, fold=base == "StringEqualsIgnoreCase")
    if base == "StringLike":
        return _Like.of(tuple(parse_template(v, variables=variables) for v in values))
    if base in ("ArnEquals", "ArnLike"):
        return _Arn.of(tuple(parse_template(v, variables=variables) for v in values))
    if (
        base.startswith(("Numeric", "Date"))
        and base.removeprefix("Numeric").removeprefix("Date") in _COMPARISONS
    ):
        return _ordered(base, values)
    if base == "Bool":
        return _Bool(frozenset(value.lower() for value in values))
    if base == "IpAddress":
        return _Ip.of(values)
    raise ValueError(f"{base!r} is not a condition operator")


# --------------------------------------------------------------------------- strings, ARNs


@dataclass(frozen=True, slots=True)
class _Equals:
    exact: frozenset[str]  # values without variables, case-folded when `fold`
    variable: tuple[Template, ...]
    fold: bool

    @classmethod
    def of(cls, templates: tuple[Template, ...], *, fold: bool) -> _Equals:
        exact = {t.literal({}) for t in templates if not t.has_variables}
        return cls(
            exact=frozenset(v.casefold() if fold else v for v in exact if v is not None),
            variable=tuple(t for t in templates if t.has_variables),
            fold=fold,
        )

    def __call__(self, value: str, keys: KeyValues, /) -> bool:
        wanted = value.casefold() if self.fold else value
        if wanted in self.exact:
            return True
        for template in self.variable:
            literal = template.literal(keys)
            if literal is not None and (literal.casefold() if self.fold else literal) == wanted:
                return True
        return False


@dataclass(frozen=True, slots=True)
class _Like:
    fixed: re.Pattern[str]  # all values without variables, as one pattern
    variable: tuple[Template, ...]

    @classmethod
    def of(cls, templates: tuple[Template, ...]) -> _Like:
        fixed = tuple(t.resolve({}) for t in templates if not t.has_variables)
        return cls(
            fixed=any_of_regex(tuple(glob for glob in fixed if glob is not None)),
            variable=tuple(t for t in templates if t.has_variables),
        )

    def __call__(self, value: str, keys: KeyValues, /) -> bool:
        if self.fixed.fullmatch(value) is not None:
            return True
        for template in self.variable:
            glob = template.resolve(keys)
            if glob is not None and glob_regex(glob).fullmatch(value) is not None:
                return True
        return False


@dataclass(frozen=True, slots=True)
class _Arn:
    fixed: tuple[ArnLikePattern, ...]
    variable: tuple[Template, ...]

    @classmethod
    def of(cls, templates: tuple[Template, ...]) -> _Arn:
        fixed = (t.resolve({}) for t in templates if not t.has_variables)
        patterns = (arn_like_pattern(glob) for glob in fixed if glob is not None)
        return cls(
            fixed=tuple(p for p in patterns if p is not None),
            variable=tuple(t for t in templates if t.has_variables),
        )

    def __call__(self, value: str, keys: KeyValues, /) -> bool:
        if any(pattern.matches(value) for pattern in self.fixed):
            return True
        for template in self.variable:
            glob = template.resolve(keys)
            pattern = None if glob is None else arn_like_pattern(glob)
            if pattern is not None and pattern.matches(value):
                return True
        return False


# --------------------------------------------------------------------------- typed values


@dataclass(frozen=True, slots=True)
class _Ordered:
    compare: Callable[[Any, Any], bool]
    parse: Callable[[str], object | None]
    operands: tuple[object, ...]

    def __call__(self, value: str, keys: KeyValues, /) -> bool:
        parsed = self.parse(value)
        return parsed is not None and any(self.compare(parsed, o) for o in self.operands)


def _ordered(base: str, values: tuple[str, ...]) -> _Ordered:
    dates = base.startswith("Date")
    parse: Callable[[str], object | None] = parse_instant if dates else parse_number
    operands = (parse(value) for value in values)
    return _Ordered(
        compare=_COMPARISONS[base.removeprefix("Date" if dates else "Numeric")],
        parse=parse,
        operands=tuple(o for o in operands if o is not None),
    )


def parse_number(text: str) -> Decimal | None:
    """A finite decimal number, or None."""
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_instant(text: str) -> datetime | None:
    """An aware UTC instant from ISO 8601 (no offset means UTC) or epoch seconds, or None."""
    text = text.strip()
    try:
        if _EPOCH.fullmatch(text):
            return datetime.fromtimestamp(float(text), tz=UTC)
        instant = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class _Bool:
    values: frozenset[str]

    def __call__(self, value: str, keys: KeyValues, /) -> bool:
        return value.lower() in self.values


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class _Ip:
    networks: tuple[Network, ...]

    @classmethod
    def of(cls, values: tuple[str, ...]) -> _Ip:
        networks: list[Network] = []
        for value in values:
            try:
                networks.append(ipaddress.ip_network(value.strip(), strict=False))
            except ValueError:
                continue
        return cls(networks=tuple(networks))

    def __call__(self, value: str, keys: KeyValues, /) -> bool:
        try:
            address = ipaddress.ip_address(value.strip())
        except ValueError:
            return False
        return any(address in network for network in self.networks)  # False across versions
