"""IAM: users, access keys, groups, roles, inline and managed policies and their attachments.

The use cases behind the IAM API subset (`stiva.api.iam`). Every function takes an explicit
session and keyword arguments and never commits; errors are the domain errors of
`stiva.services.iam.errors` (IAM's NoSuchEntity, EntityAlreadyExists, DeleteConflict, ...) or
`stiva.errors` (LimitExceeded, Unsupported), worded as IAM words them.

    names        ARNs, unique ids, case-insensitive names, Marker pagination
    entities     finding users, groups and roles; `Owner` (whatever holds policies); inserts
                 that turn a lost race for a name into EntityAlreadyExists
    documents    policy documents: IAM's grammar (`stiva.iam.policy`) and IAM's error texts
    aws_managed  the AWS managed policies Stiva knows by ARN
    users        CreateUser, GetUser, ListUsers, DeleteUser; the caller's own user
    access_keys  CreateAccessKey (the secret sealed at rest, shown once), List, Update, Delete
    groups       groups and their members
    roles        roles and their trust policies
    inline       inline policies of users, groups and roles
    policies     customer managed policies (one version, v1) and attachments of any managed one

IAM names are unique per account regardless of case ("Bob" and "bob" are one user), and are
looked up the same way; the name is kept as it was first written.
"""
