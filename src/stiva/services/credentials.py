"""Which credential an access key id names: a long-term key (AKIA) or an STS session (ASIA)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from stiva.iam.sigv4 import Credential
from stiva.services import sts
from stiva.services.identity import Principal, lookup_access_key
from stiva.services.secrets import SecretBox


def lookup_credentials(
    session: Session, box: SecretBox, access_key_id: str, *, now: datetime
) -> tuple[Credential, Principal] | None:
    """The secret (and session token) to verify a signature with, and the principal; or None."""
    if access_key_id.startswith("ASIA"):
        return sts.lookup_session(session, box, access_key_id, now=now)
    return lookup_access_key(session, box, access_key_id)
