"""Repository creation templates: Create/Describe/Update/DeleteRepositoryCreationTemplate.

Templates belong to the caller's registry (the operations take no registryId) and are
authorized on `*`, as registry-level resources.
"""

from __future__ import annotations

from typing import Any

from stiva.api.ecr import shapes
from stiva.api.ecr.call import EcrCall, Operation
from stiva.metadata import models as m
from stiva.metadata.database import Session
from stiva.services import templates as svc

DEFAULT_PAGE = 100


def _spec(params: dict[str, Any]) -> svc.TemplateSpec:
    encryption = params.get("encryptionConfiguration") or {}
    tags = params.get("resourceTags")
    return svc.TemplateSpec(
        prefix=params["prefix"],
        applied_for=params.get("appliedFor"),
        description=params.get("description"),
        encryption_type=encryption.get("encryptionType"),
        kms_key=encryption.get("kmsKey"),
        resource_tags=None if tags is None else [(t["Key"], t["Value"]) for t in tags],
        tag_mutability=params.get("imageTagMutability"),
        mutability_filters=shapes.filter_values(params.get("imageTagMutabilityExclusionFilters")),
        repository_policy=params.get("repositoryPolicy"),
        lifecycle_policy=params.get("lifecyclePolicy"),
        custom_role_arn=params.get("customRoleArn"),
    )


def template_shape(template: m.RepositoryCreationTemplate) -> dict[str, Any]:
    encryption: dict[str, Any] = {"encryptionType": template.encryption_type}
    if template.kms_key:
        encryption["kmsKey"] = template.kms_key
    shape: dict[str, Any] = {
        "prefix": template.prefix,
        "encryptionConfiguration": encryption,
        "resourceTags": [{"Key": k, "Value": v} for k, v in svc.resource_tags_of(template)],
        "imageTagMutability": template.image_tag_mutability,
        "appliedFor": svc.applied_for(template),
        "createdAt": template.created_at,
        "updatedAt": template.updated_at,
    }
    filters = svc.exclusion_filters(template)
    if filters:
        shape["imageTagMutabilityExclusionFilters"] = shapes.exclusion_filters(filters)
    optional = {
        "description": template.description,
        "repositoryPolicy": template.repository_policy,
        "lifecyclePolicy": template.lifecycle_policy,
        "customRoleArn": template.custom_role_arn,
    }
    shape.update({key: value for key, value in optional.items() if value is not None})
    return shape


def _result(call: EcrCall, template: m.RepositoryCreationTemplate) -> dict[str, Any]:
    return {"registryId": call.account_id, "repositoryCreationTemplate": template_shape(template)}


def create_template(session: Session, call: EcrCall) -> dict[str, Any]:
    template = svc.create_template(
        session, account_id=call.account_id, spec=_spec(call.params), now=call.ctx.now()
    )
    return _result(call, template)


def update_template(session: Session, call: EcrCall) -> dict[str, Any]:
    template = svc.update_template(
        session, account_id=call.account_id, spec=_spec(call.params), now=call.ctx.now()
    )
    return _result(call, template)


def delete_template(session: Session, call: EcrCall) -> dict[str, Any]:
    template = svc.delete_template(
        session, account_id=call.account_id, prefix=call.params["prefix"]
    )
    return _result(call, template)


def describe_templates(session: Session, call: EcrCall) -> dict[str, Any]:
    templates, token = svc.describe_templates(
        session,
        account_id=call.account_id,
        prefixes=call.params.get("prefixes"),
        max_results=call.params.get("maxResults", DEFAULT_PAGE),
        next_token=call.params.get("nextToken"),
        key=call.ctx.keys.pagination,
    )
    result: dict[str, Any] = {
        "registryId": call.account_id,
        "repositoryCreationTemplates": [template_shape(t) for t in templates],
    }
    if token:
        result["nextToken"] = token
    return result


OPERATIONS: dict[str, Operation] = {
    "CreateRepositoryCreationTemplate": Operation(create_template, "*", writes=True),
    "DescribeRepositoryCreationTemplates": Operation(describe_templates, "*"),
    "UpdateRepositoryCreationTemplate": Operation(update_template, "*", writes=True),
    "DeleteRepositoryCreationTemplate": Operation(delete_template, "*", writes=True),
}
