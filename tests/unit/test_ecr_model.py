"""Tests for stiva.api.ecr.model: ECR request validation against botocore's service model."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import botocore.loaders
import botocore.model
import pytest

from stiva.api.ecr.model import (
    EcrModel,
    RequestValidationError,
    compile_java_regex,
    translate_java_regex,
)

REPO_PATTERN = r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*"
UPLOAD_ID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
DIGEST = "sha256:" + "a" * 64
POLICY = (
    '{"rules":[{"rulePriority":1,"description":"expire untagged images older than 14 days",'
    '"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days",'
    '"countNumber":14},"action":{"type":"expire"}}]}'
)


@pytest.fixture(scope="module")
def raw_model() -> Mapping[str, Any]:
    model: Mapping[str, Any] = botocore.loaders.Loader().load_service_model("ecr", "service-2")
    return model


@pytest.fixture(scope="module")
def model() -> EcrModel:
    return EcrModel.load()


def refused(model: EcrModel, operation: str, body: object) -> RequestValidationError:
    with pytest.raises(RequestValidationError) as info:
        model.validate_input(operation, body)
    assert info.value.status == 400
    return info.value


def invalid_parameter(path: str, constraint: str) -> str:
    return f"Invalid parameter at '{path}' failed to satisfy constraint: '{constraint}'"


# --------------------------------------------------------------------------- the model itself


def test_loads_every_operation_botocore_has(model: EcrModel, raw_model: Mapping[str, Any]) -> None:
    expected = sorted(botocore.model.ServiceModel(raw_model, "ecr").operation_names)
    assert model.operation_names() == expected
    assert len(expected) >= 60
    assert {"CreateRepository", "PutImage", "UploadLayerPart"} <= set(expected)
    assert all(model.has_operation(name) for name in expected)
    assert not model.has_operation("createRepository")
    assert not model.has_operation("DeleteEverything")
    assert model.target_prefix == "AmazonEC2ContainerRegistry_V20150921"


def test_error_shape_names_are_the_models_exceptions(
    model: EcrModel, raw_model: Mapping[str, Any]
) -> None:
    exceptions = {name for name, s in raw_model["shapes"].items() if s.get("exception")}
    assert model.error_shape_names() == exceptions
    assert {"InvalidParameterException", "ValidationException", "RepositoryNotFoundException"} <= (
        model.error_shape_names()
    )


def test_every_operation_validates_an_empty_body_by_naming_its_required_members(
    model: EcrModel, raw_model: Mapping[str, Any]
) -> None:
    for name in model.operation_names():
        input_shape = raw_model["shapes"][raw_model["operations"][name]["input"]["shape"]]
        required = input_shape.get("required", [])
        if not required:
            assert model.validate_input(name, {}) == {}, name
            continue
        error = refused(model, name, {})
        if model.uses_validation_exception(name):
            assert error.code == "ValidationException", name
            assert error.message.startswith(f"{len(required)} validation error"), name
            for member in required:
                assert f"Value null at '{member}' failed to satisfy constraint: " in error.message
        else:
            assert error.code == "InvalidParameterException", name
            assert error.message == invalid_parameter(required[0], "Member must not be null")


def test_error_form_follows_the_operations_model_errors(model: EcrModel) -> None:
    assert model.uses_validation_exception("PutLifecyclePolicy")
    assert model.uses_validation_exception("DescribeRegistry")
    assert not model.uses_validation_exception("CreateRepository")
    assert not model.uses_validation_exception("BatchGetImage")
    assert not model.uses_validation_exception("NoSuchOperation")


def test_unknown_operation_is_refused(model: EcrModel) -> None:
    assert refused(model, "DeleteEverything", {}).code == "UnknownOperationException"


def test_importing_the_module_loads_nothing() -> None:
    code = (
        "import sys, stiva.api.ecr.model; "
        "print(sorted(m for m in sys.modules if m.startswith('botocore')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_validation_compiles_no_pattern(model: EcrModel, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_compile(*args: object, **kwargs: object) -> None:
        raise AssertionError("a pattern was compiled while validating")

    monkeypatch.setattr(re, "compile", no_compile)
    body = {"repositoryName": "team/app", "registryId": "123456789012"}
    assert model.validate_input("CreateRepository", body) == body
    with pytest.raises(RequestValidationError):
        model.validate_input("CreateRepository", {"repositoryName": "Bad_Name"})


# --------------------------------------------------------------------------- patterns


def test_every_pattern_in_the_model_compiles(raw_model: Mapping[str, Any]) -> None:
    patterns = {s["pattern"] for s in raw_model["shapes"].values() if "pattern" in s}
    assert len(patterns) >= 10
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for pattern in patterns:
            assert isinstance(compile_java_regex(pattern), re.Pattern), pattern


@pytest.mark.parametrize(
    ("pattern", "good", "bad"),
    [
        ("[0-9]{12}", ["123456789012"], ["123", "1234567890123", "12345678901a"]),
        (REPO_PATTERN, ["a", "team/app", "a__b", "a---b", "a.b_c"], ["Bad_Name", "a___b", "a/"]),
        ("[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+", [DIGEST], ["sha256", "sha256:xyz"]),
        (
            "^$|arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key\\/[a-z0-9-]+",
            ["", "arn:aws:kms:eu-west-1:123456789012:key/k-1"],
            ["x"],
        ),
        # Java's \\s is ASCII-only, so a no-break space is not whitespace there.
        ("^\\S+$", ["abc", "ab\u00a0"], ["a b", "abc\n", "a\tb"]),
        (
            "^arn:aws(-[a-z]+)*:iam::[0-9]{12}:(role|user)/[\\w+=,.@-]+$",
            ["arn:aws:iam::123456789012:role/r_1"],
            ["arn:aws:iam::123456789012:role/r\u00e9"],
        ),
    ],
)
def test_model_patterns_match_in_full_with_java_semantics(
    pattern: str, good: list[str], bad: list[str]
) -> None:
    regex = compile_java_regex(pattern)
    assert all(regex.fullmatch(value) for value in good)
    assert not any(regex.fullmatch(value) for value in bad)


@pytest.mark.parametrize(
    ("java", "good", "bad"),
    [
        ("\\Qa.b\\E+", ["a.b", "a.bbb"], ["axb"]),
        ("x\\z", ["x"], ["x\n"]),
        ("\\p{Alpha}+\\p{Digit}", ["ab1"], ["\u00e91", "ab"]),
        ("[\\p{Upper}_]+", ["A_B"], ["a"]),
        ("\\P{Digit}", ["a"], ["1"]),
        ("[]a]+", ["]a]"], ["b"]),
    ],
)
def test_java_only_syntax_is_translated(java: str, good: list[str], bad: list[str]) -> None:
    regex = compile_java_regex(java)
    assert all(regex.fullmatch(value) for value in good), translate_java_regex(java)
    assert not any(regex.fullmatch(value) for value in bad), translate_java_regex(java)


@pytest.mark.parametrize("java", ["[a-z[0-9]]", "[a-z&&[^e]]", "\\p{InGreek}", "abc\\"])
def test_java_syntax_python_would_misread_is_refused(java: str) -> None:
    with pytest.raises(ValueError, match=r"Java|unsupported|backslash"):
        compile_java_regex(java)


# --------------------------------------------------------------------------- valid requests


def test_create_repository_with_every_kind_of_member_passes(model: EcrModel) -> None:
    body = {
        "registryId": "123456789012",
        "repositoryName": "team/app-1",
        "tags": [{"Key": "env", "Value": "prod"}, {"Key": "owner", "Value": ""}],
        "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
        "imageTagMutabilityExclusionFilters": [{"filterType": "WILDCARD", "filter": "latest*"}],
        "imageScanningConfiguration": {"scanOnPush": True},
        "encryptionConfiguration": {
            "encryptionType": "KMS",
            "kmsKey": "arn:aws:kms:eu-west-1:123456789012:key/abcd",
        },
    }
    assert model.validate_input("CreateRepository", body) == body


def test_describe_images_with_image_ids_and_filter_passes(model: EcrModel) -> None:
    body = {
        "repositoryName": "app",
        "imageIds": [{"imageDigest": DIGEST}, {"imageTag": "v1.2.3"}],
        "filter": {"tagStatus": "TAGGED", "imageStatus": "ANY"},
        "maxResults": 1000,
        "nextToken": "abc",
    }
    assert model.validate_input("DescribeImages", body) == body


def test_upload_layer_part_decodes_its_blob(model: EcrModel) -> None:
    payload = bytes(range(256)) * 4
    body = {
        "repositoryName": "app",
        "uploadId": UPLOAD_ID,
        "partFirstByte": 0,
        "partLastByte": len(payload) - 1,
        "layerPartBlob": base64.b64encode(payload).decode(),
    }
    result = model.validate_input("UploadLayerPart", body)
    assert result["layerPartBlob"] == payload
    assert result["partLastByte"] == 1023
    empty = model.validate_input("UploadLayerPart", {**body, "layerPartBlob": ""})
    assert empty["layerPartBlob"] == b""


def test_put_lifecycle_policy_passes(model: EcrModel) -> None:
    body = {"registryId": "123456789012", "repositoryName": "app", "lifecyclePolicyText": POLICY}
    assert model.validate_input("PutLifecyclePolicy", body) == body


def test_unknown_and_null_members_are_ignored_and_dropped(model: EcrModel) -> None:
    body = {"repositoryName": "app", "registryId": None, "fooBar": 1, "RepositoryName": 5}
    assert model.validate_input("CreateRepository", body) == {"repositoryName": "app"}


def test_a_null_required_member_counts_as_missing(model: EcrModel) -> None:
    error = refused(model, "CreateRepository", {"repositoryName": None})
    assert error.message == invalid_parameter("repositoryName", "Member must not be null")


# ------------------------------------------------------------------ InvalidParameterException


def test_bad_repository_name_carries_ecrs_own_text(model: EcrModel) -> None:
    error = refused(model, "CreateRepository", {"repositoryName": "Bad_Name"})
    assert error.code == "InvalidParameterException"
    expected = invalid_parameter(
        "repositoryName", f"must satisfy regular expression '{REPO_PATTERN}'"
    )
    assert error.message == expected


@pytest.mark.parametrize(
    ("name", "constraint"),
    [
        ("a", "must have length greater than or equal to 2"),
        ("a" * 257, "must have length less than or equal to 256"),
    ],
)
def test_repository_name_length(model: EcrModel, name: str, constraint: str) -> None:
    error = refused(model, "CreateRepository", {"repositoryName": name})
    assert error.message == invalid_parameter("repositoryName", constraint)


def test_bad_registry_id(model: EcrModel) -> None:
    error = refused(model, "DescribeImages", {"repositoryName": "app", "registryId": "123"})
    assert error.code == "InvalidParameterException"
    assert error.message == invalid_parameter(
        "registryId", "must satisfy regular expression [0-9]{12}"
    )


def test_bad_enum(model: EcrModel) -> None:
    body = {"repositoryName": "app", "imageTagMutability": "SOMETIMES"}
    error = refused(model, "CreateRepository", body)
    assert error.message == invalid_parameter(
        "imageTagMutability",
        "Member must satisfy enum value set: "
        "[MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]",
    )


def test_missing_required_member(model: EcrModel) -> None:
    error = refused(model, "BatchGetImage", {"repositoryName": "app"})
    assert error.message == invalid_parameter("imageIds", "Member must not be null")


@pytest.mark.parametrize(
    ("count", "constraint"),
    [
        (0, "Member must have length greater than or equal to 1"),
        (101, "Member must have length less than or equal to 100"),
    ],
)
def test_list_length(model: EcrModel, count: int, constraint: str) -> None:
    body = {"repositoryName": "app", "imageIds": [{"imageTag": f"t{i}"} for i in range(count)]}
    error = refused(model, "BatchGetImage", body)
    assert error.message == invalid_parameter("imageIds", constraint)


@pytest.mark.parametrize(
    ("value", "constraint"),
    [
        (0, "Member must have value greater than or equal to 1"),
        (1001, "Member must have value less than or equal to 1000"),
        (2**40, "Member must have value less than or equal to 1000"),
    ],
)
def test_number_out_of_range(model: EcrModel, value: int, constraint: str) -> None:
    error = refused(model, "DescribeImages", {"repositoryName": "app", "maxResults": value})
    assert error.message == invalid_parameter("maxResults", constraint)


def test_string_too_long_and_too_short(model: EcrModel) -> None:
    long_tag = {"repositoryName": "app", "imageIds": [{"imageTag": "t" * 301}]}
    assert refused(model, "DescribeImages", long_tag).message == invalid_parameter(
        "imageIds.1.member.imageTag", "Member must have length less than or equal to 300"
    )
    body = {
        "repositoryName": "app",
        "encryptionConfiguration": {"encryptionType": "KMS", "kmsKey": ""},
    }
    assert refused(model, "CreateRepository", body).message == invalid_parameter(
        "encryptionConfiguration.kmsKey", "Member must have length greater than or equal to 1"
    )


def test_nested_failures_inside_lists_of_structures(model: EcrModel) -> None:
    tags = {"repositoryName": "app", "tags": [{"Key": "a", "Value": "b"}, {"Value": "c"}]}
    assert refused(model, "CreateRepository", tags).message == invalid_parameter(
        "tags.2.member.key", "Member must not be null"
    )
    filters = {
        "repositoryName": "app",
        "imageTagMutability": "MUTABLE_WITH_EXCLUSION",
        "imageTagMutabilityExclusionFilters": [{"filterType": "WILDCARD", "filter": "bad tag"}],
    }
    assert refused(model, "CreateRepository", filters).message == invalid_parameter(
        "imageTagMutabilityExclusionFilters.1.member.filter",
        "Member must satisfy regular expression pattern: ^[0-9a-zA-Z._*-]{1,128}$",
    )
    nulls = {"repositoryName": "app", "imageIds": [{"imageTag": "a"}, None]}
    assert refused(model, "BatchGetImage", nulls).message == invalid_parameter(
        "imageIds.2.member", "Member must not be null"
    )


def test_scalar_list_elements_are_reported_at_the_list(model: EcrModel) -> None:
    error = refused(model, "GetAuthorizationToken", {"registryIds": ["123456789012", "123"]})
    assert error.message == invalid_parameter(
        "registryIds",
        "Member must satisfy constraint: [Member must satisfy regular expression pattern: "
        "[0-9]{12}]",
    )


def test_repository_names_in_a_list_are_checked_one_by_one(model: EcrModel) -> None:
    error = refused(model, "DescribeRepositories", {"repositoryNames": ["ok", "Not/Ok"]})
    assert error.message == invalid_parameter(
        "repositoryName", f"must satisfy regular expression '{REPO_PATTERN}'"
    )


def test_the_first_failure_in_model_order_is_the_one_reported(model: EcrModel) -> None:
    body = {"registryId": "1", "repositoryName": "Bad", "imageTagMutability": "X"}
    assert refused(model, "CreateRepository", body).message == invalid_parameter(
        "registryId", "must satisfy regular expression [0-9]{12}"
    )


# --------------------------------------------------------------------------- ValidationException


def test_newer_operations_list_every_failure_in_the_standard_form(model: EcrModel) -> None:
    body = {"repositoryName": "Bad_Name", "maxResults": 0, "imageIds": [{"imageTag": ""}]}
    error = refused(model, "GetLifecyclePolicyPreview", body)
    assert error.code == "ValidationException"
    assert error.message == (
        "3 validation errors detected: "
        f"Value 'Bad_Name' at 'repositoryName' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {REPO_PATTERN}; "
        "Value '' at 'imageIds.1.member.imageTag' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1; "
        "Value '0' at 'maxResults' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )


def test_standard_form_for_one_error_missing_member_and_list_values(model: EcrModel) -> None:
    error = refused(model, "PutLifecyclePolicy", {"repositoryName": "app"})
    assert error.message == (
        "1 validation error detected: Value null at 'lifecyclePolicyText' "
        "failed to satisfy constraint: Member must not be null"
    )
    names = {"repositoryNames": ["ok", "Bad"]}
    error = refused(model, "BatchGetRepositoryScanningConfiguration", names)
    assert error.message == (
        "1 validation error detected: Value '[ok, Bad]' at 'repositoryNames' failed to satisfy "
        "constraint: Member must satisfy constraint: [Member must have length less than or equal "
        "to 256, Member must have length greater than or equal to 2, Member must satisfy regular "
        f"expression pattern: {REPO_PATTERN}]"
    )


def test_standard_form_leaves_structure_values_out(model: EcrModel) -> None:
    body = {"repositoryName": "app", "imageIds": [{"imageTag": str(i)} for i in range(101)]}
    error = refused(model, "GetLifecyclePolicyPreview", body)
    assert error.message == (
        "1 validation error detected: Value at 'imageIds' failed to satisfy constraint: "
        "Member must have length less than or equal to 100"
    )


# --------------------------------------------------------------------------- SerializationException


@pytest.mark.parametrize(
    ("operation", "body", "message"),
    [
        (
            "DescribeImages",
            {"repositoryName": "app", "maxResults": "5"},
            "STRING_VALUE can not be converted to an Integer",
        ),
        (
            "DescribeImages",
            {"repositoryName": "app", "maxResults": True},
            "TRUE_VALUE can not be converted to an Integer",
        ),
        (
            "DescribeImages",
            {"repositoryName": "app", "maxResults": 5.5},
            "DECIMAL_VALUE can not be converted to an Integer",
        ),
        (
            "DescribeImages",
            {"repositoryName": "app", "maxResults": [5]},
            "Start of list found where not expected",
        ),
        (
            "DescribeImages",
            {"repositoryName": "app", "maxResults": {}},
            "Start of structure or map found where not expected.",
        ),
        (
            "CreateRepository",
            {"repositoryName": 12},
            "NUMBER_VALUE can not be converted to a String",
        ),
        (
            "CreateRepository",
            {"repositoryName": False},
            "FALSE_VALUE can not be converted to a String",
        ),
        ("CreateRepository", {"repositoryName": ["app"]}, "Start of list found where not expected"),
        (
            "CreateRepository",
            {"repositoryName": {"a": 1}},
            "Start of structure or map found where not expected.",
        ),
        (
            "CreateRepository",
            {"repositoryName": "app", "tags": {"Key": "a"}},
            "Start of structure or map found where not expected.",
        ),
        ("CreateRepository", {"repositoryName": "app", "tags": "a"}, "Expected list or null"),
        ("CreateRepository", {"repositoryName": "app", "tags": ["a"]}, "Expected null"),
        (
            "CreateRepository",
            {"repositoryName": "app", "imageScanningConfiguration": "yes"},
            "Expected null",
        ),
        (
            "CreateRepository",
            {"repositoryName": "app", "imageScanningConfiguration": {"scanOnPush": "true"}},
            "STRING_VALUE can not be converted to a Boolean",
        ),
        (
            "BatchDeleteImage",
            {"repositoryName": "app", "imageIds": [{"imageTag": 1}]},
            "NUMBER_VALUE can not be converted to a String",
        ),
        (
            "GetAuthorizationToken",
            {"registryIds": [123456789012]},
            "NUMBER_VALUE can not be converted to a String",
        ),
        (
            "UploadLayerPart",
            {"repositoryName": "app", "partFirstByte": "0"},
            "STRING_VALUE can not be converted to a Long",
        ),
        (
            "UploadLayerPart",
            {"repositoryName": "app", "layerPartBlob": 7},
            "only base-64-encoded strings are convertible to bytes",
        ),
        (
            "UploadLayerPart",
            {"repositoryName": "app", "layerPartBlob": "abcde"},
            "Base64 encoded length is expected a multiple of 4 bytes but found: 5",
        ),
        (
            "UploadLayerPart",
            {"repositoryName": "app", "layerPartBlob": "ab!d"},
            "Invalid Base64 character detected",
        ),
    ],
)
def test_wrong_json_types(model: EcrModel, operation: str, body: object, message: str) -> None:
    error = refused(model, operation, body)
    assert (error.code, error.message) == ("SerializationException", message)


@pytest.mark.parametrize(
    ("body", "message"),
    [([], "Start of list found where not expected"), (None, ""), ("x", ""), (3, "")],
)
def test_body_that_is_not_an_object(model: EcrModel, body: object, message: str) -> None:
    error = refused(model, "CreateRepository", body)
    assert (error.code, error.message) == ("SerializationException", message)


def test_a_type_error_wins_over_constraint_errors(model: EcrModel) -> None:
    body = {"repositoryName": "Bad_Name", "maxResults": "5"}
    error = refused(model, "DescribeImages", body)
    assert (error.code, error.message) == (
        "SerializationException",
        "STRING_VALUE can not be converted to an Integer",
    )
    assert refused(model, "GetLifecyclePolicyPreview", body).code == "SerializationException"


# --------------------------------------------------------------------------- shapes ECR inputs lack


def tiny_model() -> EcrModel:
    """A service model with the shape types the ECR inputs do not use."""
    shapes = {
        "Input": {
            "type": "structure",
            "required": ["when"],
            "members": {
                "when": {"shape": "When"},
                "labels": {"shape": "Labels"},
                "ratio": {"shape": "Ratio"},
                "tree": {"shape": "Tree"},
            },
        },
        "When": {"type": "timestamp"},
        "Labels": {"type": "map", "key": {"shape": "Key"}, "value": {"shape": "Count"}, "max": 2},
        "Key": {"type": "string", "pattern": "[a-z]+"},
        "Count": {"type": "integer", "min": 0},
        "Ratio": {"type": "double", "min": 0, "max": 1},
        "Tree": {
            "type": "structure",
            "members": {"name": {"shape": "Key"}, "child": {"shape": "Tree"}},
        },
        "ValidationException": {"type": "structure", "members": {}, "exception": True},
    }
    raw = {
        "version": "2.0",
        "metadata": {
            "apiVersion": "2020-01-01",
            "endpointPrefix": "tiny",
            "jsonVersion": "1.1",
            "protocol": "json",
            "serviceId": "Tiny",
            "signatureVersion": "v4",
            "targetPrefix": "Tiny_20200101",
        },
        "operations": {
            "Go": {
                "name": "Go",
                "http": {"method": "POST", "requestUri": "/"},
                "input": {"shape": "Input"},
                "errors": [{"shape": "ValidationException"}],
            }
        },
        "shapes": shapes,
    }
    return EcrModel.from_service_dict(raw)


@pytest.mark.parametrize(
    "when",
    [
        1700000000,
        1700000000.0,
        "2023-11-14T22:13:20Z",
        "2023-11-14T22:13:20+00:00",
        "2023-11-14T22:13:20",
    ],
)
def test_timestamps_parse_from_epoch_seconds_or_iso_8601(when: object) -> None:
    result = tiny_model().validate_input("Go", {"when": when})
    assert result == {"when": datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)}


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("yesterday", "STRING_VALUE can not be converted to a Date"),
        (True, "TRUE_VALUE can not be converted to a Date"),
    ],
)
def test_bad_timestamps(when: object, message: str) -> None:
    error = refused(tiny_model(), "Go", {"when": when})
    assert (error.code, error.message) == ("SerializationException", message)


def test_maps_doubles_and_recursive_structures() -> None:
    model = tiny_model()
    good = {
        "when": 0,
        "labels": {"a": 1},
        "ratio": 0.5,
        "tree": {"name": "a", "child": {"name": "b"}},
    }
    assert model.validate_input("Go", good)["tree"] == good["tree"]
    bad = {
        "when": 0,
        "labels": {"a": 1, "B": -1, "c": 2},
        "ratio": 2,
        "tree": {"child": {"name": "X"}},
    }
    assert refused(model, "Go", bad).message == (
        "5 validation errors detected: "
        "Value at 'labels' failed to satisfy constraint: Map keys must satisfy constraint: "
        "[Member must satisfy regular expression pattern: [a-z]+]; "
        "Value at 'labels' failed to satisfy constraint: Map value must satisfy constraint: "
        "[Member must have value greater than or equal to 0]; "
        "Value at 'labels' failed to satisfy constraint: "
        "Member must have length less than or equal to 2; "
        "Value '2' at 'ratio' failed to satisfy constraint: "
        "Member must have value less than or equal to 1; "
        "Value 'X' at 'tree.child.name' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-z]+"
    )


def test_double_given_a_string() -> None:
    error = refused(tiny_model(), "Go", {"when": 0, "ratio": "0.5"})
    assert error.message == "STRING_VALUE can not be converted to a Double"
