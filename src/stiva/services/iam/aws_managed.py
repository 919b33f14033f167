"""The AWS managed policies (`arn:aws:iam::aws:policy/<name>`) as IAM describes them.

The catalogue is the policy engine's (`stiva.iam.managed.AWS_MANAGED`: ARN, name, description,
document); this module adds what GetPolicy and ListPolicies show besides: the path (`/`), one
version (`v1`), a policy id derived from the ARN (stable and AWS-shaped, not AWS's own) and
fixed dates.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from stiva.iam.managed import ARN_PREFIX, AWS_MANAGED, ManagedPolicy
from stiva.services.iam.names import POLICY_PREFIX

_CREATED: Final = datetime(2015, 2, 6, 18, 39, 46, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class AwsPolicy:
    source: ManagedPolicy
    path: str = "/"
    default_version_id: str = "v1"
    created_at: datetime = _CREATED
    updated_at: datetime = _CREATED

    @property
    def arn(self) -> str:
        return self.source.arn

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def description(self) -> str:
        return self.source.description

    @property
    def document(self) -> str:
        return self.source.document

    @property
    def policy_id(self) -> str:
        digest = base64.b32encode(hashlib.sha256(self.arn.encode()).digest()).decode()
        return POLICY_PREFIX + digest[:17]


def is_aws_arn(arn: str) -> bool:
    return arn.startswith(ARN_PREFIX)


def aws_policy(arn: str) -> AwsPolicy | None:
    """The AWS managed policy `arn` names, or None."""
    source = AWS_MANAGED.get(arn)
    return AwsPolicy(source) if source is not None else None


def aws_policies() -> list[AwsPolicy]:
    return [AwsPolicy(source) for source in AWS_MANAGED.values()]
