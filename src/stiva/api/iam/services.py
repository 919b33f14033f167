"""The IAM and STS services of `POST /`, built once by the app (their models load here)."""

from __future__ import annotations

from stiva.api.iam import operations, sts
from stiva.api.iam.call import QueryService
from stiva.api.iam.model import QueryModel


def iam_service() -> QueryService:
    return QueryService(
        name="iam",
        model=QueryModel.load("iam"),
        operations=operations.OPERATIONS,
        not_yet={
            name: operations.NOT_YET.get(name, operations.DEFAULT_REASON)
            for name in QueryModel.load("iam").operation_names()
            if name not in operations.OPERATIONS
        },
        url_encoded=frozenset({"policyDocumentType"}),
    )


def sts_service() -> QueryService:
    return QueryService(
        name="sts", model=QueryModel.load("sts"), operations=sts.OPERATIONS, not_yet=sts.NOT_YET
    )
