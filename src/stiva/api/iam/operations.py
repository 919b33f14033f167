"""The table of IAM operations Stiva serves, merged from the handler modules, and the reason
for each IAM operation it does not (NOT_YET; any other answers NotImplemented with
`DEFAULT_REASON`). A test lists the model's operations against both."""

from __future__ import annotations

from typing import Final

from stiva.api.iam import access_keys, groups, inline, policies, roles, users
from stiva.api.iam.call import Operation

OPERATIONS: Final[dict[str, Operation]] = {
    **users.OPERATIONS,
    **access_keys.OPERATIONS,
    **groups.OPERATIONS,
    **roles.OPERATIONS,
    **inline.OPERATIONS,
    **policies.OPERATIONS,
}

DEFAULT_REASON: Final = (
    "Stiva serves the IAM subset a registry needs (users, access keys, groups, roles, inline "
    "and managed policies)"
)
_CONSOLE = "console sign-in (passwords, login profiles, MFA devices) is not part of Stiva"
_TAGS = "tags on IAM entities are not stored yet"
_VERSIONS = "managed policies have one version (v1) in Stiva"
_FEDERATION = "identity providers (SAML, OpenID Connect) are not part of Stiva"
_EC2 = "instance profiles (EC2) are not part of Stiva"

NOT_YET: Final[dict[str, str]] = {
    **dict.fromkeys(
        (
            "CreateLoginProfile", "GetLoginProfile", "UpdateLoginProfile", "DeleteLoginProfile",
            "ChangePassword", "CreateVirtualMFADevice", "EnableMFADevice", "ListMFADevices",
            "DeactivateMFADevice", "DeleteVirtualMFADevice", "ListVirtualMFADevices",
            "GetAccountPasswordPolicy", "UpdateAccountPasswordPolicy",
            "DeleteAccountPasswordPolicy",
        ),
        _CONSOLE,
    ),
    **dict.fromkeys(
        (
            "TagUser", "UntagUser", "ListUserTags", "TagRole", "UntagRole", "ListRoleTags",
            "TagPolicy", "UntagPolicy", "ListPolicyTags",
        ),
        _TAGS,
    ),
    **dict.fromkeys(
        ("CreatePolicyVersion", "DeletePolicyVersion", "SetDefaultPolicyVersion"), _VERSIONS
    ),
    **dict.fromkeys(
        (
            "CreateSAMLProvider", "ListSAMLProviders", "CreateOpenIDConnectProvider",
            "ListOpenIDConnectProviders",
        ),
        _FEDERATION,
    ),
    **dict.fromkeys(
        (
            "CreateInstanceProfile", "AddRoleToInstanceProfile", "ListInstanceProfiles",
            "ListInstanceProfilesForRole",
        ),
        _EC2,
    ),
    "UpdateUser": "renaming users is not implemented yet",
    "UpdateGroup": "renaming groups is not implemented yet",
    "PutUserPermissionsBoundary": "permissions boundaries are not implemented yet",
    "PutRolePermissionsBoundary": "permissions boundaries are not implemented yet",
    "SimulatePrincipalPolicy": "the policy simulator is not implemented yet",
    "GetAccountAuthorizationDetails": "it is not implemented yet",
}  # fmt: skip
