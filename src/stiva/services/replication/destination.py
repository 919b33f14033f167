"""The repository a replication writes to, created when missing.

Created with a repository creation template applied for REPLICATION when one covers the name
(encryption, tags, mutability, policy), else with default settings, as ECR does. Callers
authorize `ecr:CreateRepository` for the source account first.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from stiva.errors import RepositoryAlreadyExists
from stiva.metadata import models as m
from stiva.services.repositories import (
    RepositorySpec,
    create_repository,
    find_repository,
    get_repository,
)
from stiva.services.templates import create_repository_from_template, template_for

REPLICATION = "REPLICATION"


def create_destination_repository(session: Session, *, account_id: str, name: str) -> m.Repository:
    """Create `name` for a replication (template or defaults); the existing one if it exists."""
    existing = find_repository(session, account_id=account_id, name=name)
    if existing is not None:
        return existing
    template = template_for(session, account_id=account_id, name=name, purpose=REPLICATION)
    try:
        with session.begin_nested():
            if template is not None:
                return create_repository_from_template(
                    session, account_id=account_id, name=name, template=template
                )
            return create_repository(session, account_id=account_id, spec=RepositorySpec(name))
    except RepositoryAlreadyExists:
        return get_repository(session, account_id=account_id, name=name)
