"""IAM's own refusals, as domain errors (the API maps each to IAM's error code once, in a table).

    StivaError
    ├── NotFound
    │   └── NoSuchEntity            NoSuchEntity (404)
    ├── Conflict
    │   ├── EntityAlreadyExists     EntityAlreadyExists (409)
    │   └── DeleteConflict          DeleteConflict (409)
    └── InvalidRequest
        ├── MalformedPolicyDocument MalformedPolicyDocument (400)
        ├── InvalidInput            InvalidInput (400)
        └── IamValidationError      ValidationError (400)

Quotas raise `stiva.errors.LimitExceeded` (IAM's LimitExceeded, 409), features Stiva lacks
`stiva.errors.Unsupported`, refusals `stiva.errors.AccessDenied`.
"""

from __future__ import annotations

from stiva.errors import Conflict, InvalidRequest, NotFound


class NoSuchEntity(NotFound):
    """A user, group, role, policy or access key that does not exist."""


class EntityAlreadyExists(Conflict):
    """A name already taken in the account (names are compared regardless of case)."""


class DeleteConflict(Conflict):
    """An entity that still has dependents (access keys, policies, members, attachments)."""


class MalformedPolicyDocument(InvalidRequest):
    """A policy document that breaks IAM's grammar."""


class InvalidInput(InvalidRequest):
    """A parameter that is well-formed but unacceptable (a bad ARN, marker, ...)."""


class IamValidationError(InvalidRequest):
    """IAM's ValidationError raised by the service itself (not by the model's constraints)."""
