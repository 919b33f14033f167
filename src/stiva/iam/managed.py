"""AWS managed policies Stiva knows by ARN, as documents and as parsed identity policies.

`AWS_MANAGED[arn]` is a `ManagedPolicy` (arn, name, description, document text, parsed
`Policy`) for the policies users attach in ECR set-ups. The documents are AWS's public ones
(default versions as of 2024-2025), written out here:

    AdministratorAccess                   `*` on `*`
    AmazonEC2ContainerRegistryFullAccess  `ecr:*`, cloudtrail:LookupEvents, and
                                          iam:CreateServiceLinkedRole for ECR replication's role
    AmazonEC2ContainerRegistryPowerUser   read-only set + push (InitiateLayerUpload,
                                          UploadLayerPart, CompleteLayerUpload, PutImage);
                                          no deletes, no policy changes
    AmazonEC2ContainerRegistryReadOnly    authorization token, pull, describe/list, policies
                                          and lifecycle reads, tags, scan findings
    AmazonEC2ContainerRegistryPullOnly    authorization token, pull, pull-through-cache import
    ReadOnlyAccess                        **ECR subset only**: AWS's document grants
                                          read-only actions of every service; Stiva keeps its
                                          ECR statement (ecr:BatchCheck*, ecr:BatchGet*,
                                          ecr:Describe*, ecr:Get*, ecr:List*), which, like
                                          AWS's, allows pulling (Get* covers
                                          GetAuthorizationToken and GetDownloadUrlForLayer)

The table is constant data, parsed once when the module is first imported (pure: no I/O).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from stiva.iam.policy import Policy, parse_policy

ARN_PREFIX: Final = "arn:aws:iam::aws:policy/"

_ECR_READ_ONLY: Final = [
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:GetRepositoryPolicy",
    "ecr:DescribeRepositories",
    "ecr:ListImages",
    "ecr:DescribeImages",
    "ecr:BatchGetImage",
    "ecr:GetLifecyclePolicy",
    "ecr:GetLifecyclePolicyPreview",
    "ecr:ListTagsForResource",
    "ecr:DescribeImageScanFindings",
]
_ECR_PUSH: Final = [
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
]


def _allow(
    actions: list[str] | str, *, sid: str | None = None, condition: Any = None
) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid} if sid else {}
    statement.update(Effect="Allow", Action=actions, Resource="*")
    if condition is not None:
        statement["Condition"] = condition
    return statement


_DOCUMENTS: Final[dict[str, tuple[str, list[dict[str, Any]]]]] = {
    "AdministratorAccess": (
        "Provides full access to AWS services and resources.",
        [_allow("*")],
    ),
    "AmazonEC2ContainerRegistryFullAccess": (
        "Provides administrative access to Amazon ECR resources.",
        [
            _allow(["ecr:*", "cloudtrail:LookupEvents"]),
            _allow(
                ["iam:CreateServiceLinkedRole"],
                condition={
                    "StringEquals": {"iam:AWSServiceName": ["replication.ecr.amazonaws.com"]}
                },
            ),
        ],
    ),
    "AmazonEC2ContainerRegistryPowerUser": (
        "Provides full access to Amazon EC2 Container Registry repositories, but does not allow"
        " repository deletion or policy changes.",
        [_allow(_ECR_READ_ONLY + _ECR_PUSH)],
    ),
    "AmazonEC2ContainerRegistryReadOnly": (
        "Provides read-only access to Amazon EC2 Container Registry repositories.",
        [_allow(_ECR_READ_ONLY)],
    ),
    "AmazonEC2ContainerRegistryPullOnly": (
        "Provides access to pull images from Amazon EC2 Container Registry repositories.",
        [
            _allow(
                [
                    "ecr:GetAuthorizationToken",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchImportUpstreamImage",
                ]
            )
        ],
    ),
    "ReadOnlyAccess": (
        "Provides read-only access to AWS services and resources (Stiva keeps the ECR part).",
        [
            _allow(
                ["ecr:BatchCheck*", "ecr:BatchGet*", "ecr:Describe*", "ecr:Get*", "ecr:List*"],
                sid="ECRReadOnly",
            )
        ],
    ),
}


@dataclass(frozen=True, slots=True)
class ManagedPolicy:
    arn: str
    name: str
    description: str
    document: str  # the JSON policy document
    policy: Policy  # the document, parsed as an identity policy


def _managed(name: str, description: str, statements: list[dict[str, Any]]) -> ManagedPolicy:
    document = json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)
    return ManagedPolicy(
        arn=ARN_PREFIX + name,
        name=name,
        description=description,
        document=document,
        policy=parse_policy(document, resource_based=False),
    )


AWS_MANAGED: Final[Mapping[str, ManagedPolicy]] = MappingProxyType(
    {
        policy.arn: policy
        for policy in (
            _managed(name, description, statements)
            for name, (description, statements) in _DOCUMENTS.items()
        )
    }
)
