"""IAM and STS on POST /, the query protocol: dispatch, signatures, actions, validation, XML."""

from __future__ import annotations

from pathlib import Path

import pytest

from stiva.api.iam.errors import _TABLE
from stiva.api.iam.operations import NOT_YET, OPERATIONS
from stiva.api.iam.services import iam_service, sts_service
from stiva.api.iam.sts import NOT_YET as STS_NOT_YET
from stiva.api.iam.sts import OPERATIONS as STS_OPERATIONS
from tests.api.test_iam_helpers import Keys, iam, sts
from tests.support.registry import InProcessRegistry, in_process_registry

IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"


def test_success_is_namespaced_xml_with_result_and_request_id(registry: InProcessRegistry) -> None:
    client = iam(registry)
    client.call("CreateUser", UserName="alice", Path="/team/")
    response = client.send("GetUser", UserName="alice")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    request_id = response.headers["x-amzn-requestid"]
    text = response.text
    assert text.startswith(f'<GetUserResponse xmlns="{IAM_NS}"><GetUserResult><User>')
    assert "<Path>/team/</Path><UserName>alice</UserName><UserId>AIDA" in text
    assert f"<Arn>arn:aws:iam::{registry.account_id}:user/team/alice</Arn>" in text
    assert f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>" in text
    create_date = text.split("<CreateDate>")[1].split("</CreateDate>")[0]
    assert len(create_date) == 20
    assert create_date.endswith("Z")
    assert create_date[10] == "T"


def test_lists_are_member_elements(registry: InProcessRegistry) -> None:
    client = iam(registry)
    client.call("CreateUser", UserName="bob")
    text = client.send("ListUsers").text
    assert "<ListUsersResult><Users><member><Path>/</Path><UserName>admin</UserName>" in text
    assert "</member><member><Path>/</Path><UserName>bob</UserName>" in text
    assert "<IsTruncated>false</IsTruncated>" in text


def test_operation_without_output_has_only_metadata(registry: InProcessRegistry) -> None:
    client = iam(registry)
    client.call("CreateUser", UserName="carol")
    text = client.send("DeleteUser", UserName="carol").text
    assert text.startswith(f'<DeleteUserResponse xmlns="{IAM_NS}"><ResponseMetadata>')


def test_error_response_shape(registry: InProcessRegistry) -> None:
    response = iam(registry).send("GetUser", UserName="nobody")
    assert response.status_code == 404
    assert response.text.startswith(
        f'<ErrorResponse xmlns="{IAM_NS}"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>'
        "<Message>The user with name nobody cannot be found.</Message></Error><RequestId>"
    )
    assert response.headers["x-amzn-requestid"] in response.text


def test_policy_documents_are_url_encoded_on_the_wire(registry: InProcessRegistry) -> None:
    client = iam(registry)
    document = (
        '{"Version": "2012-10-17", '
        '"Statement": {"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}}'
    )
    client.call("PutUserPolicy", UserName="admin", PolicyName="p", PolicyDocument=document)
    text = client.send("GetUserPolicy", UserName="admin", PolicyName="p").text
    assert "<PolicyDocument>%7B%22Version%22%3A%20%222012-10-17%22" in text
    got = client.call("GetUserPolicy", UserName="admin", PolicyName="p")["PolicyDocument"]
    assert got["Statement"]["Action"] == "ecr:*"


@pytest.mark.parametrize(("service", "namespace"), [("iam", IAM_NS), ("sts", STS_NS)])
def test_unsigned_request_is_missing_authentication_token(
    registry: InProcessRegistry, service: str, namespace: str
) -> None:
    client = iam(registry) if service == "iam" else sts(registry)
    version = "2010-05-08" if service == "iam" else "2011-06-15"
    response = client.raw(f"Action=ListUsers&Version={version}", sign=False)
    assert response.status_code == 403
    assert "<Code>MissingAuthenticationToken</Code>" in response.text
    assert "<Message>Request is missing Authentication Token</Message>" in response.text
    assert response.text.startswith(f'<ErrorResponse xmlns="{IAM_NS}">')


def test_signature_errors_use_query_codes(registry: InProcessRegistry) -> None:
    client = iam(registry)
    bad_secret = client.as_(Keys(registry.access_key_id, "wrong")).fail("ListUsers")
    assert (bad_secret.status, bad_secret.code) == (403, "SignatureDoesNotMatch")
    assert bad_secret.message.startswith("The request signature we calculated does not match")
    unknown = client.as_(Keys("AKIAUNKNOWNUNKNOWN00", "x")).fail("ListUsers")
    assert (unknown.status, unknown.code) == (403, "InvalidClientTokenId")
    assert unknown.message == "The security token included in the request is invalid."
    sts_unknown = sts(registry, Keys("AKIAUNKNOWNUNKNOWN00", "x")).fail("GetCallerIdentity")
    assert (sts_unknown.status, sts_unknown.code) == (403, "InvalidClientTokenId")


def test_scope_must_name_the_service(registry: InProcessRegistry) -> None:
    client = iam(registry)
    response = client.raw(client.body("ListUsers", {}), service="ecr")
    assert response.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in response.text
    assert "Credential should be scoped to correct service: 'iam'" in response.text


def test_regions_deployment_and_us_east_1(tmp_path: Path) -> None:
    with in_process_registry(tmp_path / "data", region="eu-west-1") as registry:
        client = sts(registry)
        body = client.body("GetCallerIdentity", {})
        assert client.raw(body, region="eu-west-1").status_code == 200
        assert client.raw(body, region="us-east-1").status_code == 200
        wrong = client.raw(body, region="ap-south-1")
        assert wrong.status_code == 403
        assert "<Code>SignatureDoesNotMatch</Code>" in wrong.text
        assert "Credential should be scoped to a valid region" in wrong.text


def test_actions_and_versions(registry: InProcessRegistry) -> None:
    client = iam(registry)
    missing = client.raw("Version=2010-05-08")
    assert missing.status_code == 400
    assert "<Code>MissingAction</Code>" in missing.text
    unknown = client.raw("Action=FlyToTheMoon&Version=2010-05-08")
    assert unknown.status_code == 400
    assert "<Code>InvalidAction</Code>" in unknown.text
    assert "Could not find operation FlyToTheMoon for version 2010-05-08" in unknown.text
    no_version = client.raw("Action=ListUsers")
    assert "Could not find operation ListUsers for version NO_VERSION_SPECIFIED" in no_version.text
    sts_action_on_iam = client.raw("Action=GetCallerIdentity&Version=2011-06-15")
    assert "<Code>InvalidAction</Code>" in sts_action_on_iam.text


def test_unsupported_operations_name_themselves(registry: InProcessRegistry) -> None:
    failure = iam(registry).fail("CreateLoginProfile", UserName="admin", Password="x" * 20)
    assert (failure.status, failure.code) == (501, "NotImplemented")
    assert failure.message.startswith("The IAM operation CreateLoginProfile is not supported")
    other = iam(registry).fail("ListServerCertificates")
    assert "ListServerCertificates" in other.message
    federation = sts(registry).fail("GetSessionToken")
    assert federation.code == "NotImplemented"
    assert "The STS operation GetSessionToken is not supported by Stiva" in federation.message


def test_validation_errors_in_coral_words(registry: InProcessRegistry) -> None:
    client = iam(registry)
    bad = client.raw("Action=CreateUser&Version=2010-05-08&UserName=bad%20name%21")
    assert bad.status_code == 400
    assert "<Code>ValidationError</Code>" in bad.text
    assert (
        "<Message>1 validation error detected: Value 'bad name!' at 'userName' failed to "
        "satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"
        "</Message>" in bad.text
    )
    missing = client.raw("Action=CreateUser&Version=2010-05-08")
    assert (
        "Value null at 'userName' failed to satisfy constraint: Member must not be null"
        in missing.text
    )
    number = client.raw("Action=ListUsers&Version=2010-05-08&MaxItems=lots")
    assert "<Code>ValidationError</Code>" in number.text
    assert "maxItems" in number.text
    too_many = client.raw("Action=ListUsers&Version=2010-05-08&MaxItems=5000")
    assert "Member must have value less than or equal to 1000" in too_many.text


def test_tag_patterns_with_unicode_classes(registry: InProcessRegistry) -> None:
    client = iam(registry)
    unicode_ok = client.fail("CreateUser", UserName="t1", Tags=[{"Key": "équipe", "Value": "ü"}])
    assert unicode_ok.code == "NotImplemented"  # valid, but Stiva keeps no tags yet
    assert "Tags" in unicode_ok.message
    bad = client.fail("CreateUser", UserName="t1", Tags=[{"Key": "a<b", "Value": "v"}])
    assert bad.code == "ValidationError"
    assert "at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular " in (
        bad.message
    )
    assert "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+" in bad.message


def test_ecr_requests_still_reach_ecr(registry: InProcessRegistry) -> None:
    assert registry.ecr("DescribeRepositories").json() == {"repositories": []}


def test_every_model_operation_is_served_or_explained() -> None:
    iam_ops, sts_ops = iam_service(), sts_service()
    for service, served, explained in (
        (iam_ops, OPERATIONS, NOT_YET),
        (sts_ops, STS_OPERATIONS, STS_NOT_YET),
    ):
        names = set(service.model.operation_names())
        assert set(served) <= names
        assert set(explained) <= names
        assert not set(served) & set(explained)
        assert set(service.not_yet) == names - set(served)
    assert set(STS_NOT_YET) == set(sts_ops.model.operation_names()) - set(STS_OPERATIONS)


def test_error_codes_match_the_iam_model() -> None:
    model = iam_service().model
    codes = {model.error(name).code: model.error(name).status for name in (
        "NoSuchEntityException", "EntityAlreadyExistsException", "DeleteConflictException",
        "MalformedPolicyDocumentException", "InvalidInputException", "LimitExceededException",
    )}  # fmt: skip
    for _kind, code, status in _TABLE:
        if code in codes:
            assert codes[code] == status, code


def test_generic_parsing_and_rendering_of_maps_and_flattened_lists() -> None:
    from stiva.api.iam.model import QueryModel
    from stiva.api.iam.xml import render_result

    model = QueryModel.from_service_dict(
        {
            "metadata": {"apiVersion": "2020-01-01", "xmlNamespace": "urn:test"},
            "operations": {
                "Echo": {
                    "name": "Echo",
                    "input": {"shape": "EchoRequest"},
                    "output": {"shape": "EchoResponse", "resultWrapper": "EchoResult"},
                }
            },
            "shapes": {
                "EchoRequest": {
                    "type": "structure",
                    "required": ["Count"],
                    "members": {
                        "Count": {"shape": "Int"},
                        "Flag": {"shape": "Bool"},
                        "Labels": {"shape": "Labels"},
                        "Names": {"shape": "Names"},
                    },
                },
                "EchoResponse": {
                    "type": "structure",
                    "members": {
                        "Labels": {"shape": "Labels"},
                        "Items": {"shape": "Flat", "locationName": "Item"},
                        "When": {"shape": "Time"},
                    },
                },
                "Labels": {"type": "map", "key": {"shape": "Str"}, "value": {"shape": "Str"}},
                "Names": {"type": "list", "member": {"shape": "Str"}, "max": 2},
                "Flat": {"type": "list", "member": {"shape": "Str"}, "flattened": True},
                "Int": {"type": "integer", "min": 1},
                "Bool": {"type": "boolean"},
                "Str": {"type": "string"},
                "Time": {"type": "timestamp"},
            },
        }
    )
    operation = model.operation("Echo")
    assert operation is not None
    params = model.parse_input(
        operation,
        {
            "Count": "3",
            "Flag": "TRUE",
            "Labels.entry.1.key": "a",
            "Labels.entry.1.value": "x",
            "Labels.entry.2.key": "b",
            "Labels.entry.2.value": "y",
            "Names.member.1": "one",
            "Names.member.2": "two",
        },
    )
    assert params == {
        "Count": 3,
        "Flag": True,
        "Labels": {"a": "x", "b": "y"},
        "Names": ["one", "two"],
    }
    assert model.parse_input(operation, {"Count": "1", "Names": ""})["Names"] == []
    with pytest.raises(Exception, match="Value '0' at 'count' failed to satisfy constraint"):
        model.parse_input(operation, {"Count": "0"})
    with pytest.raises(Exception, match="Member must have length less than or equal to 2"):
        model.parse_input(
            operation, {"Count": "1", **{f"Names.member.{i}": "n" for i in (1, 2, 3)}}
        )
    from datetime import UTC, datetime

    text = render_result(
        operation,
        {
            "Labels": {"a": "<x>"},
            "Items": ["p", "q"],
            "When": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        },
        namespace="urn:test",
        request_id="rid",
    )
    assert text == (
        '<EchoResponse xmlns="urn:test"><EchoResult>'
        "<Labels><entry><key>a</key><value>&lt;x&gt;</value></entry></Labels>"
        "<Item>p</Item><Item>q</Item><When>2024-01-02T03:04:05Z</When>"
        "</EchoResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata>"
        "</EchoResponse>"
    )
    with pytest.raises(ValueError, match="no member Nope"):
        render_result(operation, {"Nope": 1}, namespace="urn:test", request_id="rid")
