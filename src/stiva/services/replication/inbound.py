"""Who may replicate into this deployment on behalf of an account of another region.

The trust model (docs/replication.md): a source deployment calls this one's public APIs with
the credential of one of *our* principals (its `[[replication.peers]]` entry), and names the
account it replicates for in a signed header:

    X-Stiva-Replication-Source: <source-account-id>/<source-region>

We believe that claim only from the principal our operator declared for that region
(`[[replication.sources]]`: region + principal ARN), and only for the source accounts declared
with it: the principal's own account here, plus the entry's `accounts`. (Account ids are local
to each deployment, so a claim cannot be checked otherwise: without this list, whoever holds
the replication key could claim any account of ours and act as its root.) The request is then
authorized as the source account's root, `arn:aws:iam::<source-account>:root`, for
`ecr:ReplicateImage` or `ecr:CreateRepository` (CreateRepository): a cross-account source needs
the destination registry policy to allow both, exactly as in ECR; the same account is allowed by
default. `ecr:ReplicateImage` covers only what a delivery does on `/v2/` (blob HEAD, uploads,
manifest HEAD, PUT and DELETE) and DescribeRepositories of named repositories: it grants no
pull, listing or catalog. On the control plane the header must be covered by the SigV4
signature (`iam.sigv4_checks`: every `X-Stiva-*` header must be). Any other principal, region,
account or operation is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from stiva.config import ReplicationSource
from stiva.errors import AccessDenied
from stiva.services.authorization import role_arn_of
from stiva.services.identity import Principal

HEADER = "X-Stiva-Replication-Source"
REPLICATE_IMAGE = "ecr:ReplicateImage"
_VALUE = re.compile(r"^(?P<account>\d{12})/(?P<region>[a-z]{2}(-[a-z]+)+-\d+)$")
_ECR_ACTIONS = {
    "CreateRepository": "ecr:CreateRepository",
    "DescribeRepositories": REPLICATE_IMAGE,
}


def account_root(account_id: str) -> Principal:
    """An account's root as a principal: who a replication acts as."""
    return Principal(
        arn=f"arn:aws:iam::{account_id}:root",
        account_id=account_id,
        user_id=account_id,
        access_key_id="",
        kind="root",
    )


def replication_principal(
    sources: Sequence[ReplicationSource],
    *,
    caller: Principal,
    header: str | None,
    own_region: str,
) -> Principal | None:
    """None for ordinary requests; the source account's root for a trusted replication."""
    if header is None:
        return None
    found = _VALUE.match(header.strip())
    if found is None:
        raise AccessDenied(f"{HEADER} must be '<account-id>/<region>', not '{header[:80]}'")
    region, account = found["region"], found["account"]
    arns = {caller.arn, role_arn_of(caller) or caller.arn}
    entries = [s for s in sources if s.region == region and s.principal in arns]
    if region == own_region or not entries:
        raise AccessDenied(
            f"User: {caller.arn} is not trusted to replicate on behalf of region {region}: "
            "this deployment's [[replication.sources]] does not name it for that region"
        )
    if not any(account in (caller.account_id, *entry.accounts) for entry in entries):
        raise AccessDenied(
            f"User: {caller.arn} may not replicate on behalf of account {account}: the "
            f"[[replication.sources]] entry of region {region} does not list it in `accounts`"
        )
    return account_root(account)


def ecr_action(operation: str, params: Mapping[str, object]) -> str:
    """The action a replication's ECR call is authorized as; other operations are refused."""
    action = _ECR_ACTIONS.get(operation)
    if action is None:
        raise AccessDenied(f"{operation} cannot be called as a replication")
    if operation == "DescribeRepositories" and not params.get("repositoryNames"):
        raise AccessDenied("a replication may describe only the repositories it names")
    return action
