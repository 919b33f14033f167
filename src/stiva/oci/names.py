"""Repository names and tags: the OCI grammar, narrowed by ECR's limits."""

from __future__ import annotations

import re
from typing import NewType

from stiva.errors import InvalidName, InvalidTag

RepositoryName = NewType("RepositoryName", str)
Tag = NewType("Tag", str)

# OCI distribution-spec name grammar; ECR uses the same shape with a 2-256 length bound.
NAME_PATTERN = r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*"
_NAME = re.compile(rf"^{NAME_PATTERN}$")
NAME_MIN, NAME_MAX = 2, 256

TAG_PATTERN = r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}"
_TAG = re.compile(rf"^{TAG_PATTERN}$")


def parse_name(text: str) -> RepositoryName:
    if not NAME_MIN <= len(text) <= NAME_MAX or not _NAME.match(text):
        raise InvalidName(
            f"invalid repository name '{text[:300]}': must be {NAME_MIN}-{NAME_MAX} characters "
            f"and match {NAME_PATTERN}"
        )
    return RepositoryName(text)


def is_tag(text: str) -> bool:
    return bool(_TAG.match(text))


def parse_tag(text: str) -> Tag:
    if not is_tag(text):
        raise InvalidTag(f"invalid tag '{text[:300]}': must match {TAG_PATTERN}")
    return Tag(text)
