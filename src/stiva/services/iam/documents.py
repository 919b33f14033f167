"""Policy documents as IAM accepts them: the grammar of `stiva.iam.policy`, IAM's error texts.

Identity policies (inline, customer managed) must not name a principal and need a Resource;
trust policies (a role's AssumeRolePolicyDocument) must name one. Documents are stored exactly
as sent (IAM gives them back as written, URL-encoded on the wire by the API layer).

IAM's MalformedPolicyDocument texts used: "Syntax errors in policy." (not JSON / not an
object), "Policy document should not specify a principal." (identity policy with Principal)
and "Missing required field Principal" (trust policy without one); any other grammar problem
is reported in the parser's words.
"""

from __future__ import annotations

from typing import Final

from stiva.iam.policy import Policy, PolicyError, parse_policy
from stiva.services.iam.errors import MalformedPolicyDocument

_IAM_TEXTS: Final = {
    "an identity policy cannot have Principal": "Policy document should not specify a principal.",
    "an identity policy cannot have NotPrincipal": (
        "Policy document should not specify a principal."
    ),
    "a statement needs Principal or NotPrincipal": "Missing required field Principal",
}


def _parse(text: str, *, resource_based: bool) -> Policy:
    try:
        return parse_policy(text, resource_based=resource_based)
    except PolicyError as exc:
        message = str(exc)
        if message.startswith("the policy is not valid JSON") or message.startswith(
            "the policy must be a JSON object"
        ):
            raise MalformedPolicyDocument("Syntax errors in policy.") from None
        raise MalformedPolicyDocument(_IAM_TEXTS.get(message, message)) from None


def identity_policy(text: str) -> Policy:
    """Parse an identity policy (inline or managed); MalformedPolicyDocument otherwise."""
    return _parse(text, resource_based=False)


def trust_policy(text: str) -> Policy:
    """Parse a role's trust policy (it must name principals); MalformedPolicyDocument otherwise."""
    return _parse(text, resource_based=True)


def policy_size(text: str) -> int:
    """The size IAM counts against its quotas: characters other than white space."""
    return sum(1 for ch in text if not ch.isspace())
