"""Policies compiled for evaluation: every pattern parsed and every regex built once.

`compile_policy(policy)` returns a `CompiledPolicy` whose statements answer the four questions
the evaluator asks, cheapest first:

    covers_action(action)            Action / NotAction: IAM action names, case-insensitive,
                                     `*` and `?` wildcards (`ecr:*`, `ecr:Batch?etImage`, `*`)
    principal_match(...)             Principal / NotPrincipal (`stiva.iam.principals`); a
                                     statement with neither names nobody
    covers_resource(resource, keys)  Resource / NotResource (`stiva.iam.arn`, with policy
                                     variables); a statement with neither covers the resource
                                     its policy is attached to (repository policies omit it)
    conditions_hold(keys)            every condition holds (`stiva.iam.conditions`)

Compiled policies are cached by identity (the same `Policy` object compiles once; callers that
keep their parsed policies pay nothing per request) and statements by value (a re-parsed copy
of a known statement reuses its compiled form).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from stiva.iam.arn import ArnPattern, arn_pattern
from stiva.iam.conditions import CompiledCondition, compile_condition
from stiva.iam.patterns import KeyValues, Template, any_of_regex, parse_template
from stiva.iam.policy import Policy, Statement
from stiva.iam.principals import PrincipalMatch, Principals

VARIABLES_VERSION = "2012-10-17"


@dataclass(frozen=True, slots=True)
class Resources:
    """A compiled Resource / NotResource element."""

    everything: bool  # one of the values is `*`
    fixed: tuple[ArnPattern, ...]  # values without policy variables
    variable: tuple[Template, ...]

    def cover(self, resource: str, keys: KeyValues) -> bool:
        if self.everything or any(pattern.matches(resource) for pattern in self.fixed):
            return True
        for template in self.variable:
            glob = template.resolve(keys)
            if glob is not None and arn_pattern(glob).matches(resource):
                return True
        return False


def _resources(values: tuple[str, ...] | None, variables: bool) -> Resources | None:
    if values is None:
        return None
    templates = [parse_template(value, variables=variables) for value in values]
    fixed = (t.resolve({}) for t in templates if not t.has_variables)
    return Resources(
        everything=any(t.is_star for t in templates),
        fixed=tuple(arn_pattern(glob) for glob in fixed if glob is not None),
        variable=tuple(t for t in templates if t.has_variables),
    )


@dataclass(frozen=True, slots=True)
class CompiledStatement:
    source: Statement
    deny: bool
    actions: re.Pattern[str]
    not_action: bool
    principals: Principals | None
    not_principal: bool
    resources: Resources | None
    not_resource: bool
    conditions: tuple[CompiledCondition, ...]

    def covers_action(self, action: str) -> bool:
        return (self.actions.fullmatch(action) is not None) is not self.not_action

    def principal_match(self, *, arn: str, role_arn: str | None, account: str) -> PrincipalMatch:
        if self.principals is None:
            return PrincipalMatch.NONE
        found = self.principals.match(arn=arn, role_arn=role_arn, account=account)
        if not self.not_principal:
            return found
        return PrincipalMatch.DIRECT if found is PrincipalMatch.NONE else PrincipalMatch.NONE

    def covers_resource(self, resource: str, keys: KeyValues) -> bool:
        if self.resources is None:
            return True
        return self.resources.cover(resource, keys) is not self.not_resource

    def conditions_hold(self, keys: KeyValues) -> bool:
        return all(condition.holds(keys) for condition in self.conditions)


@functools.lru_cache(maxsize=4096)
def compile_statement(statement: Statement, *, variables: bool) -> CompiledStatement:
    """Compile one statement; `variables`: its policy is Version 2012-10-17."""
    actions = tuple(
        parse_template(a, variables=False).resolve({}) for a in statement.action_patterns
    )
    principal = statement.principal or statement.not_principal
    return CompiledStatement(
        source=statement,
        deny=statement.effect == "Deny",
        actions=any_of_regex(tuple(a for a in actions if a is not None), ignore_case=True),
        not_action=statement.action is None,
        principals=None if principal is None else Principals.of(principal),
        not_principal=statement.not_principal is not None,
        resources=_resources(
            statement.resource if statement.resource is not None else statement.not_resource,
            variables,
        ),
        not_resource=statement.not_resource is not None,
        conditions=tuple(compile_condition(c, variables=variables) for c in statement.conditions),
    )


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    source: Policy
    statements: tuple[CompiledStatement, ...]


class _Identity:
    """Hashes and compares a policy by identity, so the cache never hashes a whole policy."""

    __slots__ = ("policy",)

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def __hash__(self) -> int:
        return id(self.policy)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Identity) and other.policy is self.policy


def compile_policy(policy: Policy) -> CompiledPolicy:
    """The compiled form of `policy` (cached; see the module docstring)."""
    return _compile_cached(_Identity(policy))


@functools.lru_cache(maxsize=2048)
def _compile_cached(key: _Identity) -> CompiledPolicy:
    policy = key.policy
    variables = policy.version == VARIABLES_VERSION
    return CompiledPolicy(
        source=policy,
        statements=tuple(compile_statement(s, variables=variables) for s in policy.statements),
    )
