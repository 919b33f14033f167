"""ListImageReferrers: the OCI 1.1 referrers of a subject image, paginated."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from stiva.errors import InvalidDigest, InvalidParameter
from stiva.oci.digest import Digest
from stiva.services import manifests
from stiva.services.images import token_position
from stiva.services.manifests import Referrer
from stiva.services.pagination import encode_token

DEFAULT_REFERRERS_PAGE = 20  # ListImageReferrers without maxResults (the model's documentation)


def list_image_referrers(
    session: Session,
    *,
    repository_id: int,
    subject: str,
    artifact_types: Sequence[str],
    artifact_status: str,
    max_results: int,
    next_token: str | None,
    key: bytes,
) -> tuple[list[Referrer], str | None]:
    """ListImageReferrers: the artifacts whose `subject` is the digest given, in push order."""
    try:
        subject = str(Digest.parse(subject))
    except InvalidDigest:
        raise InvalidParameter(
            "Invalid parameter at 'subjectId.imageDigest' failed to satisfy constraint: "
            "'must satisfy regular expression '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+''"
        ) from None
    after = 0
    if next_token:
        position = token_position(next_token, key, "image-referrers", repository_id)
        if position.get("subject") != subject:
            raise InvalidParameter(
                "Invalid parameter at 'nextToken': the token belongs to another subject image"
            )
        after = int(position["after"])
    found = manifests.page_referrers(
        session,
        repository_id=repository_id,
        subject=subject,
        artifact_types=artifact_types,
        statuses=None if artifact_status == "ANY" else [artifact_status],
        after_id=after,
        limit=max_results + 1,
    )
    if len(found) <= max_results:
        return found, None
    found = found[:max_results]
    position = {"kind": "image-referrers", "repository": repository_id, "subject": subject}
    return found, encode_token({**position, "after": found[-1].id}, key)
