"""Resource tags on repositories (ECR's TagResource, UntagResource, ListTagsForResource).

Rules, checked here for every path that sets tags (CreateRepository, TagResource, templates):

- at most 50 tags on a repository, counting the ones it already has (TooManyTagsException);
- keys are 1-128 characters, values 0-256 (Java `String.length()`, i.e. UTF-16 code units);
- a key may appear once per request; keys starting with `aws:` (any case) are AWS's own
  (all InvalidTagParameterException).

The only taggable resource is a repository, named by its ARN in this deployment's region:
`arn:aws:ecr:<region>:<account>:repository/<name>`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from stiva.errors import InvalidParameter, InvalidTagParameter, TooManyTags
from stiva.metadata import models as m

MAX_TAGS = 50
MAX_KEY = 128
MAX_VALUE = 256
RESERVED_PREFIX = "aws:"

_ARN = re.compile(
    r"arn:aws:ecr:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):repository/(?P<name>.+)"
)

Tag = tuple[str, str]


@dataclass(frozen=True, slots=True)
class RepositoryRef:
    """The repository a resource ARN names."""

    account_id: str
    name: str


def parse_repository_arn(arn: str, *, region: str) -> RepositoryRef:
    """The repository `arn` names; InvalidParameter unless it is a repository of this region."""
    found = _ARN.fullmatch(arn)
    if found is None or found["region"] != region:
        raise InvalidParameter(
            "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'"
        )
    return RepositoryRef(found["account"], found["name"])


def _length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def check_key(key: str) -> None:
    if not 1 <= _length(key) <= MAX_KEY:
        raise InvalidTagParameter(
            f"Tag key '{key[:MAX_KEY]}' is invalid: tag keys can have a maximum character "
            "length of 128 characters, and tag values can have a maximum length of 256 characters."
        )
    if key[: len(RESERVED_PREFIX)].lower() == RESERVED_PREFIX:
        raise InvalidTagParameter(
            f"Tag key '{key}' is invalid: tag keys starting with 'aws:' are reserved for "
            "internal use."
        )


def check_tags(tags: Sequence[Tag]) -> None:
    """Each tag's key and value; no key twice in one request."""
    seen: set[str] = set()
    for key, value in tags:
        check_key(key)
        if _length(value) > MAX_VALUE:
            raise InvalidTagParameter(
                f"Tag value for key '{key}' is invalid: tag keys can have a maximum character "
                "length of 128 characters, and tag values can have a maximum length of 256 "
                "characters."
            )
        if key in seen:
            raise InvalidTagParameter(f"Tag key '{key}' appears more than once in the request.")
        seen.add(key)


def check_count(count: int) -> None:
    if count > MAX_TAGS:
        raise TooManyTags(
            "The list of tags on the repository is over the limit. The maximum number of tags "
            f"that can be applied to a repository is {MAX_TAGS}."
        )


def tags_of(session: Session, *, repository_id: int) -> list[Tag]:
    rows = session.execute(
        select(m.RepositoryTag.key, m.RepositoryTag.value)
        .where(m.RepositoryTag.repository_id == repository_id)
        .order_by(m.RepositoryTag.key)
    )
    return [(key, value) for key, value in rows]


def set_tags(session: Session, *, repository_id: int, tags: Sequence[Tag]) -> None:
    """Add or overwrite `tags` on a repository, within the 50-tag limit (existing + new)."""
    check_tags(tags)
    existing = dict(tags_of(session, repository_id=repository_id))
    check_count(len(existing.keys() | {key for key, _ in tags}))
    for key, value in tags:
        if key in existing:
            session.execute(
                update(m.RepositoryTag)
                .where(
                    m.RepositoryTag.repository_id == repository_id,
                    m.RepositoryTag.key == key,
                )
                .values(value=value)
            )
        else:
            session.add(m.RepositoryTag(repository_id=repository_id, key=key, value=value))
    session.flush()


def remove_tags(session: Session, *, repository_id: int, keys: Sequence[str]) -> None:
    """Remove the tags with these keys; keys the repository does not have are ignored."""
    for key in keys:
        check_key(key)
    session.execute(
        delete(m.RepositoryTag).where(
            m.RepositoryTag.repository_id == repository_id, m.RepositoryTag.key.in_(list(keys))
        )
    )
