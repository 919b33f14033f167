"""Why a delivery did not complete: a failure code (DescribeImageReplicationStatus's
`failureCode`) and whether trying again can help.

Permanent refusals end the delivery FAILED at once (a re-push or a backfill opens it again);
transient ones are retried with exponential backoff until the horizon, then FAILED.

    REPLICATION_ACCESS_DENIED      the destination does not allow ecr:ReplicateImage for the
                                   source account (registry policy)
    CREATE_REPOSITORY_DENIED       the repository is missing and ecr:CreateRepository is not
                                   allowed for the source account
    DESTINATION_ACCOUNT_NOT_FOUND  a local destination account this deployment does not hold
    PEER_NOT_CONFIGURED            the destination region has no [[replication.peers]] entry
    DESTINATION_REJECTED           the destination refused the content (4xx other than access)
    DESTINATION_UNREACHABLE        transient: connection refused, timeouts, 5xx, bad credential
    SOURCE_IMAGE_NOT_FOUND         the image left the source before it could be delivered
"""

from __future__ import annotations

ACCESS_DENIED = "REPLICATION_ACCESS_DENIED"
CREATE_DENIED = "CREATE_REPOSITORY_DENIED"
ACCOUNT_NOT_FOUND = "DESTINATION_ACCOUNT_NOT_FOUND"
PEER_NOT_CONFIGURED = "PEER_NOT_CONFIGURED"
REJECTED = "DESTINATION_REJECTED"
UNREACHABLE = "DESTINATION_UNREACHABLE"
SOURCE_NOT_FOUND = "SOURCE_IMAGE_NOT_FOUND"


class DeliveryError(Exception):
    def __init__(self, code: str, message: str, *, permanent: bool) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.permanent = permanent


def permanent(code: str, message: str) -> DeliveryError:
    return DeliveryError(code, message, permanent=True)


def transient(message: str, code: str = UNREACHABLE) -> DeliveryError:
    return DeliveryError(code, message, permanent=False)
