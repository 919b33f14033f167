"""Who a resource policy's Principal / NotPrincipal element names, and how it names the caller.

`Principals.match` answers at one of three strengths, because IAM treats them differently:

    DIRECT   "*" / {"AWS": "*"}; the caller's own ARN (IAM user or assumed-role session); or the
             ARN of the role whose session is calling (a role ARN covers all its sessions)
    ACCOUNT  the caller's account, as a 12-digit id or `arn:aws:iam::<account>:root`: it stands
             for every principal of that account, not only its root user
    NONE     anything else; service, federated and canonical-user principals never name an
             IAM caller

An account principal *delegates* to that account: in a Deny it covers all its principals, and
across accounts it lets the account's own identity policies decide; within the resource's own
account it grants nothing by itself (the caller's identity policies must allow), which is why the
evaluator needs the distinction. A NotPrincipal names everyone it does not match (any strength).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Final

from stiva.iam.policy import Principal

_ACCOUNT_ID: Final = re.compile(r"[0-9]{12}", re.ASCII)
_ACCOUNT_ROOT: Final = re.compile(r"arn:aws[a-z-]*:iam::([0-9]{12}):root", re.ASCII)


class PrincipalMatch(enum.IntEnum):
    NONE = 0
    ACCOUNT = 1
    DIRECT = 2


@dataclass(frozen=True, slots=True)
class Principals:
    """A compiled Principal / NotPrincipal element (its AWS principals only)."""

    anyone: bool = False
    accounts: frozenset[str] = frozenset()
    arns: frozenset[str] = frozenset()

    @classmethod
    def of(cls, principal: Principal) -> Principals:
        accounts: set[str] = set()
        arns: set[str] = set()
        for value in principal.aws:
            root = _ACCOUNT_ROOT.fullmatch(value)
            if _ACCOUNT_ID.fullmatch(value):
                accounts.add(value)
            elif root is not None:
                accounts.add(root.group(1))
            elif value != "*":
                arns.add(value)
        return cls(
            anyone=principal.anyone or "*" in principal.aws,
            accounts=frozenset(accounts),
            arns=frozenset(arns),
        )

    def match(self, *, arn: str, role_arn: str | None, account: str) -> PrincipalMatch:
        """How this element names the caller `arn` (of `account`; `role_arn` for sessions)."""
        if self.anyone or arn in self.arns or (role_arn is not None and role_arn in self.arns):
            return PrincipalMatch.DIRECT
        if account in self.accounts:
            return PrincipalMatch.ACCOUNT
        return PrincipalMatch.NONE
