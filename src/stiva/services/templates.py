"""Repository creation templates, and the repository a push lands in."""

from __future__ import annotations

from sqlalchemy.orm import Session

from stiva.metadata import models as m
from stiva.services.repositories import get_repository


def repository_for_push(session: Session, *, account_id: str, name: str) -> m.Repository:
    """The repository a push to `name` writes to. RepositoryNotFound if it does not exist.

    (CREATE_ON_PUSH templates will create it here when one covers `name`.)
    """
    return get_repository(session, account_id=account_id, name=name)
