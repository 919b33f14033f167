"""The table of ECR operations Stiva serves. Anything else in the model is "not yet supported".

`resource` says what `ecr:<Operation>` is authorized on: the repository the call names,
the repositories it lists, or the registry as a whole (`*`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from stiva.api.ecr import auth, images, repositories
from stiva.api.ecr.call import EcrCall
from stiva.metadata.database import Session

Handler = Callable[[Session, EcrCall], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Operation:
    handler: Handler
    resource: Literal["repository", "repositories", "*"]
    writes: bool = False

    def resources(self, call: EcrCall) -> list[str]:
        if self.resource == "repository":
            return [call.repository_arn()]
        if self.resource == "repositories":
            names = call.params.get("repositoryNames") or ["*"]
            return [call.repository_arn(name) for name in names]
        return ["*"]


OPERATIONS: dict[str, Operation] = {
    "GetAuthorizationToken": Operation(auth.get_authorization_token, "*"),
    "CreateRepository": Operation(repositories.create_repository, "repository", writes=True),
    "DescribeRepositories": Operation(repositories.describe_repositories, "repositories"),
    "DeleteRepository": Operation(repositories.delete_repository, "repository", writes=True),
    "ListImages": Operation(images.list_images, "repository"),
    "DescribeImages": Operation(images.describe_images, "repository"),
    "BatchGetImage": Operation(images.batch_get_image, "repository"),
}
