"""IAM and STS on `POST /`, in AWS's query protocol (form-encoded requests, XML responses).

model       botocore's IAM / STS service models: input shapes (validated like ECR's),
            output shapes (rendered generically), error codes and statuses
query       flattened query parameters (`Tags.member.1.Key=...`) -> nested values
xml         XML rendering of results and errors from the output shapes
call        what a handler receives; how an operation is described in a table
errors      domain and SigV4 errors -> query error codes and HTTP statuses, one table
protocol    the plumbing: SigV4 -> Action -> validation -> authorization -> handler -> XML
resources   which ARN `iam:<Action>` is authorized on, per operation
users, access_keys, groups, roles, inline, policies   IAM handlers and their tables
operations  IAM's operation table merged, and what is not served (NOT_YET)
sts         STS handlers and table (GetCallerIdentity, AssumeRole)
"""
