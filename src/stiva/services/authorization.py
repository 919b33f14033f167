"""Authorization decisions, in one place, for both API surfaces.

Today's rule, until the IAM policy engine lands: a principal may perform every ECR action on the
resources of its own account and none on another account's. Every request goes through
`authorize`, so the policy engine replaces this one function.
"""

from __future__ import annotations

from stiva.errors import AccessDenied
from stiva.services.identity import Principal


def is_allowed(principal: Principal, action: str, *, account_id: str, resource: str) -> bool:
    del action, resource  # the account boundary is the only rule for now
    return principal.account_id == account_id


def authorize(principal: Principal, action: str, *, account_id: str, resource: str) -> None:
    """Raise AccessDenied, in ECR's words, unless `principal` may do `action` on `resource`."""
    if not is_allowed(principal, action, account_id=account_id, resource=resource):
        raise AccessDenied(
            f"User: {principal.arn} is not authorized to perform: {action} on resource: "
            f"{resource} because no resource-based policy allows the {action} action"
        )
