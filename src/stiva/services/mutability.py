"""Tag mutability: may a push move an existing tag? One rule for every push path.

ECR's four settings: MUTABLE, IMMUTABLE, and the `_WITH_EXCLUSION` forms whose WILDCARD filters
(`*` matches any run of characters, up to 5 filters) name the tags that behave the other way:
IMMUTABLE_WITH_EXCLUSION = immutable except matching tags; MUTABLE_WITH_EXCLUSION = mutable
except matching tags.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache

from stiva.errors import TagImmutable
from stiva.metadata import models as m


@lru_cache(maxsize=1024)
def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else re.escape(c) for c in pattern) + r"\Z")


def matches_any(tag: str, filters: Sequence[str]) -> bool:
    return any(_wildcard(f).match(tag) for f in filters)


def is_immutable(mutability: str, filters: Sequence[str], tag: str) -> bool:
    if mutability == "IMMUTABLE":
        return True
    if mutability == "IMMUTABLE_WITH_EXCLUSION":
        return not matches_any(tag, filters)
    if mutability == "MUTABLE_WITH_EXCLUSION":
        return matches_any(tag, filters)
    return False


def exclusion_filters(repository: m.Repository) -> list[str]:
    """The filter strings stored for a repository (a JSON array of strings)."""
    if not repository.tag_mutability_exclusions:
        return []
    return [str(f) for f in json.loads(repository.tag_mutability_exclusions)]


def check_tag_move(repository: m.Repository, tag: str) -> None:
    """Raise TagImmutable (ECR's text) if `tag` may not be moved in this repository."""
    if is_immutable(repository.image_tag_mutability, exclusion_filters(repository), tag):
        raise TagImmutable(
            f"The image tag '{tag}' already exists in the '{repository.name}' repository and "
            "cannot be overwritten because the repository is immutable."
        )
