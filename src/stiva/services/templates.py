"""Repository creation templates, and the repository a push lands in.

A template names a repository-name prefix (`prod/team`, with a trailing `/` implied: it covers
`prod/team/x`, not `prod/teamx` nor `prod/team` itself) or `ROOT` (every name no other template
covers), the purposes it applies to (CREATE_ON_PUSH, REPLICATION, PULL_THROUGH_CACHE), and the
settings a repository Stiva creates on the caller's behalf gets: encryption, resource tags, tag
mutability (+ exclusion filters), repository policy and lifecycle policy (validated as
PutLifecyclePolicy validates it, when the template is stored). Its custom role is kept and returned
but not used (Stiva assumes no roles).

`prod` and `prod/` are the same template: the prefix is returned as it was given, but lookups,
uniqueness and matching use the form without the trailing `/`.

Choosing the template for a purpose and a name: among the templates applied for that purpose,
the one with the longest prefix covering the name, else the `ROOT` one, else none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from stiva.errors import (
    InvalidParameter,
    LimitExceeded,
    RepositoryAlreadyExists,
    RepositoryNotFound,
    TemplateAlreadyExists,
    TemplateNotFound,
)
from stiva.iam.policy import PolicyError, load_json_object
from stiva.lifecycle.policy import LifecyclePolicyError, parse_lifecycle_policy
from stiva.metadata import models as m
from stiva.oci.names import parse_name
from stiva.services import policies
from stiva.services import tags as resource_tags
from stiva.services.lifecycle.policies import put_lifecycle_policy
from stiva.services.pagination import decode_token, encode_token
from stiva.services.repositories import (
    KMS_TYPES,
    RepositorySpec,
    create_repository,
    find_repository,
    get_repository,
    mutability_exclusions,
)

ROOT = "ROOT"
CREATE_ON_PUSH = "CREATE_ON_PUSH"
APPLIED_FOR = ("REPLICATION", "PULL_THROUGH_CACHE", CREATE_ON_PUSH)
MAX_TEMPLATES = 100
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::(?P<account>[0-9]{12}):role/[\w+=,.@/-]{1,512}")

Template = m.RepositoryCreationTemplate


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    """A template's settings as a request gives them; None means "not given" (kept as is)."""

    prefix: str
    applied_for: Sequence[str] | None = None
    description: str | None = None
    encryption_type: str | None = None
    kms_key: str | None = None
    resource_tags: Sequence[tuple[str, str]] | None = None
    tag_mutability: str | None = None
    mutability_filters: Sequence[str] | None = None
    repository_policy: str | None = None
    lifecycle_policy: str | None = None
    custom_role_arn: str | None = None


# --- what a template stores ------------------------------------------------------------------


def applied_for(template: Template) -> list[str]:
    return [str(p) for p in json.loads(template.applied_for or "[]")]


def exclusion_filters(template: Template) -> list[str]:
    return [str(f) for f in json.loads(template.tag_mutability_exclusions or "[]")]


def resource_tags_of(template: Template) -> list[tuple[str, str]]:
    return [(t["Key"], t["Value"]) for t in json.loads(template.resource_tags or "[]")]


def canonical_prefix(prefix: str) -> str:
    return prefix if prefix == ROOT else prefix.rstrip("/")


# --- checking and applying the settings a request gives ---------------------------------------


def _invalid(member: str, why: str) -> InvalidParameter:
    return InvalidParameter(
        f"Invalid parameter at '{member}' failed to satisfy constraint: '{why}'"
    )


def _purposes(values: Sequence[str]) -> str:
    if not values:
        raise _invalid("appliedFor", "Member must have length greater than or equal to 1")
    return json.dumps([p for p in APPLIED_FOR if p in values])


def _json_object(text: str, member: str, why: str) -> str | None:
    """`text` when it is a JSON object; None for "" (no policy); InvalidParameter otherwise."""
    if text == "":
        return None
    try:
        load_json_object(text)
    except PolicyError:
        raise _invalid(member, why) from None
    return text


def _repository_policy(text: str) -> str | None:
    """A repository policy as SetRepositoryPolicy would accept it (IAM grammar, ECR actions)."""
    if text == "":
        return None
    try:
        policies.check_repository_policy(text)
    except InvalidParameter:
        raise _invalid("repositoryPolicy", "Invalid repository policy provided") from None
    return text


def _lifecycle_policy(text: str) -> str | None:
    """A lifecycle policy as PutLifecyclePolicy would accept it; None for "" (no policy)."""
    why = "Lifecycle policy validation failure"
    if _json_object(text, "lifecyclePolicy", f"{why}: the policy must be a JSON object") is None:
        return None
    try:
        parse_lifecycle_policy(text)
    except LifecyclePolicyError as exc:
        raise _invalid("lifecyclePolicy", f"{why}: {exc.detail}") from None
    return text


def _role(arn: str, account_id: str) -> str | None:
    if arn == "":
        return None
    found = _ROLE_ARN.fullmatch(arn)
    if found is None or found["account"] != account_id:
        raise _invalid(
            "customRoleArn",
            f"must be the ARN of an IAM role in account {account_id} "
            "(arn:aws:iam::<account>:role/<name>)",
        )
    return arn


def _apply_encryption(template: Template, spec: TemplateSpec) -> None:
    if spec.encryption_type is None:
        return
    if spec.encryption_type in KMS_TYPES:
        raise _invalid(
            "encryptionConfiguration.encryptionType",
            f"encryptionType {spec.encryption_type} needs a KMS key, and this Stiva deployment "
            "has no KMS key provider configured; use AES256",
        )
    if spec.kms_key:
        raise _invalid(
            "encryptionConfiguration.kmsKey",
            f"a kmsKey can only be given with encryptionType KMS or KMS_DSSE, not "
            f"{spec.encryption_type}",
        )
    template.encryption_type, template.kms_key = spec.encryption_type, None


def _apply_mutability(template: Template, spec: TemplateSpec) -> None:
    if spec.tag_mutability is None and spec.mutability_filters is None:
        return
    # filters alone keep the setting; a setting alone comes without filters
    mutability = spec.tag_mutability or template.image_tag_mutability
    template.tag_mutability_exclusions = mutability_exclusions(mutability, spec.mutability_filters)
    template.image_tag_mutability = mutability


def _apply_tags(template: Template, tags: Sequence[tuple[str, str]] | None) -> None:
    if tags is None:
        return
    resource_tags.check_tags(tags)
    resource_tags.check_count(len(tags))
    template.resource_tags = json.dumps([{"Key": k, "Value": v} for k, v in tags])


def _apply(template: Template, spec: TemplateSpec, *, account_id: str) -> None:
    """Check the settings `spec` gives and store them on `template`."""
    if spec.applied_for is not None:
        template.applied_for = _purposes(spec.applied_for)
    if spec.description is not None:
        template.description = spec.description
    _apply_encryption(template, spec)
    _apply_tags(template, spec.resource_tags)
    _apply_mutability(template, spec)
    if spec.repository_policy is not None:
        template.repository_policy = _repository_policy(spec.repository_policy)
    if spec.lifecycle_policy is not None:
        template.lifecycle_policy = _lifecycle_policy(spec.lifecycle_policy)
    if spec.custom_role_arn is not None:
        template.custom_role_arn = _role(spec.custom_role_arn, account_id)


# --- the four operations ------------------------------------------------------------------------


def _find(session: Session, *, account_id: str, prefix: str) -> Template | None:
    wanted = canonical_prefix(prefix)
    candidates = [wanted] if wanted == ROOT else [wanted, wanted + "/"]
    return session.scalar(
        select(Template).where(Template.account_id == account_id, Template.prefix.in_(candidates))
    )


def _get(session: Session, *, account_id: str, prefix: str) -> Template:
    template = _find(session, account_id=account_id, prefix=prefix)
    if template is None:
        raise TemplateNotFound(
            f"Repository creation template with prefix '{prefix}' does not exist in the "
            f"registry with id '{account_id}'"
        )
    return template


def create_template(
    session: Session, *, account_id: str, spec: TemplateSpec, now: datetime
) -> Template:
    """CreateRepositoryCreationTemplate; settings not given take ECR's defaults."""
    template = Template(
        account_id=account_id,
        prefix=spec.prefix,
        applied_for="[]",
        encryption_type="AES256",
        image_tag_mutability="MUTABLE",
        created_at=now,
        updated_at=now,
    )
    _apply(template, spec, account_id=account_id)
    if _find(session, account_id=account_id, prefix=spec.prefix) is not None:
        raise TemplateAlreadyExists(
            f"Repository creation template with prefix '{spec.prefix}' already exists in the "
            f"registry with id '{account_id}'"
        )
    count = session.scalar(select(func.count()).where(Template.account_id == account_id))
    if (count or 0) >= MAX_TEMPLATES:
        raise LimitExceeded(
            "The operation did not succeed because it would have exceeded a service limit for "
            f"your account: a registry holds at most {MAX_TEMPLATES} repository creation "
            "templates."
        )
    session.add(template)
    session.flush()
    return template


def update_template(
    session: Session, *, account_id: str, spec: TemplateSpec, now: datetime
) -> Template:
    """UpdateRepositoryCreationTemplate: the settings given replace the stored ones."""
    template = _get(session, account_id=account_id, prefix=spec.prefix)
    _apply(template, spec, account_id=account_id)
    template.updated_at = now
    session.flush()
    return template


def delete_template(session: Session, *, account_id: str, prefix: str) -> Template:
    template = _get(session, account_id=account_id, prefix=prefix)
    session.execute(
        delete(Template).where(
            Template.account_id == account_id, Template.prefix == template.prefix
        )
    )
    return template


def describe_templates(
    session: Session,
    *,
    account_id: str,
    prefixes: Sequence[str] | None,
    max_results: int,
    next_token: str | None,
    key: bytes,
) -> tuple[list[Template], str | None]:
    """DescribeRepositoryCreationTemplates: all, or those named that exist; by prefix, paged."""
    query = select(Template).where(Template.account_id == account_id)
    if prefixes:
        wanted = {canonical_prefix(p) for p in prefixes}
        query = query.where(Template.prefix.in_(wanted | {p + "/" for p in wanted - {ROOT}}))
    if next_token:
        after = str(decode_token(next_token, key, kind="templates")["after"])
        query = query.where(Template.prefix > after)
    rows = list(session.scalars(query.order_by(Template.prefix).limit(max_results + 1)))
    token = None
    if len(rows) > max_results:
        rows = rows[:max_results]
        token = encode_token({"kind": "templates", "after": rows[-1].prefix}, key)
    return rows, token


# --- using templates ----------------------------------------------------------------------------


def covers(prefix: str, name: str) -> bool:
    """Whether a template prefix covers a repository name: ROOT all, others `prefix/...`."""
    return prefix == ROOT or name.startswith(canonical_prefix(prefix) + "/")


def choose_template(templates: Iterable[Template], *, name: str, purpose: str) -> Template | None:
    """Of `templates`, the one applied for `purpose` with the longest prefix covering `name`,
    else the ROOT one applied for it, else None."""
    matching = [t for t in templates if purpose in applied_for(t) and covers(t.prefix, name)]
    specific = [t for t in matching if t.prefix != ROOT]
    if specific:
        return max(specific, key=lambda t: len(canonical_prefix(t.prefix)))
    return matching[0] if matching else None


def template_for(session: Session, *, account_id: str, name: str, purpose: str) -> Template | None:
    """The account's template that applies to creating `name` for `purpose` (see above)."""
    rows = session.scalars(select(Template).where(Template.account_id == account_id))
    return choose_template(rows, name=name, purpose=purpose)


def create_repository_from_template(
    session: Session, *, account_id: str, name: str, template: Template
) -> m.Repository:
    """Create `name` with a template's encryption, tags, mutability (+ filters), repository
    policy and lifecycle policy.

    RepositoryAlreadyExists if it exists. Replication and pull-through cache call this too.
    """
    spec = RepositorySpec(
        name=name,
        tag_mutability=template.image_tag_mutability,
        mutability_filters=exclusion_filters(template) or None,
        encryption_type=template.encryption_type,
        kms_key=template.kms_key,
        tags=resource_tags_of(template),
        policy_text=_stored_policy(template.repository_policy),
    )
    repo = create_repository(session, account_id=account_id, spec=spec)
    if template.lifecycle_policy is not None:
        put_lifecycle_policy(
            session,
            account_id=account_id,
            name=name,
            policy_text=template.lifecycle_policy,
            now=m.utcnow(),
        )
    return repo


def _stored_policy(text: str | None) -> str | None:
    """A template's policy as a repository keeps it (SetRepositoryPolicy's stored form)."""
    return None if text is None else policies.pretty_json(load_json_object(text))


def repository_for_push(
    session: Session,
    *,
    account_id: str,
    name: str,
    authorize_create: Callable[[], None] | None = None,
) -> m.Repository:
    """The repository a push to `name` writes to.

    An existing repository; else one created from the CREATE_ON_PUSH template covering `name`
    (after `authorize_create()`, which callers serving a request pass to check that the pusher
    may also `ecr:CreateRepository`); else RepositoryNotFound. Concurrent first pushes are
    safe: the one that loses the race uses the winner's repository.
    """
    repo = find_repository(session, account_id=account_id, name=name)
    if repo is not None:
        return repo
    template = template_for(session, account_id=account_id, name=name, purpose=CREATE_ON_PUSH)
    if template is None:
        raise RepositoryNotFound(name, account_id)
    parse_name(name)
    if authorize_create is not None:
        authorize_create()
    try:
        with session.begin_nested():
            return create_repository_from_template(
                session, account_id=account_id, name=name, template=template
            )
    except RepositoryAlreadyExists:
        return get_repository(session, account_id=account_id, name=name)
