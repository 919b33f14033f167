"""Put/Get/DeleteLifecyclePolicy in-process: stored text, lastEvaluatedAt, errors and texts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.lifecycle import START, Lifecycle, clocked_registry, policy, rule

ACCOUNT = "123456789012"
UNTAGGED_14 = rule(
    1, "untagged", "sinceImagePushed", 14, description="Expire images older than 14 days"
)


@pytest.fixture
def lc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lifecycle]:
    with clocked_registry(tmp_path / "data", monkeypatch) as handle:
        handle.registry.create_repository("app")
        yield handle


def test_put_returns_and_stores_ecr_normal_form(lc: Lifecycle) -> None:
    # rules out of order, pretty-printed: ECR answers compact JSON, rules by priority
    text = policy(rule(2, "any", "imageCountMoreThan", 5), UNTAGGED_14, indent=4)
    put = lc.call("PutLifecyclePolicy", repositoryName="app", lifecyclePolicyText=text)
    normal = (
        '{"rules":[{"rulePriority":1,"description":"Expire images older than 14 days",'
        '"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days",'
        '"countNumber":14},"action":{"type":"expire"}},{"rulePriority":2,"selection":'
        '{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":5},'
        '"action":{"type":"expire"}}]}'
    )
    assert put == {"registryId": ACCOUNT, "repositoryName": "app", "lifecyclePolicyText": normal}
    got = lc.call("GetLifecyclePolicy", repositoryName="app")
    assert got == {**put, "lastEvaluatedAt": 0.0}  # never evaluated: ECR answers 0


def test_put_replaces_and_delete_returns_the_last_text(lc: Lifecycle) -> None:
    lc.call("PutLifecyclePolicy", repositoryName="app", lifecyclePolicyText=policy(UNTAGGED_14))
    second = policy(rule(1, "any", "imageCountMoreThan", 3))
    stored = lc.call("PutLifecyclePolicy", repositoryName="app", lifecyclePolicyText=second)
    assert json.loads(stored["lifecyclePolicyText"]) == json.loads(second)
    deleted = lc.call("DeleteLifecyclePolicy", repositoryName="app")
    assert deleted == {
        "registryId": ACCOUNT,
        "repositoryName": "app",
        "lifecyclePolicyText": stored["lifecyclePolicyText"],
        "lastEvaluatedAt": 0.0,
    }
    assert lc.error("GetLifecyclePolicy", repositoryName="app")[0] == (
        "LifecyclePolicyNotFoundException"
    )


def test_last_evaluated_at_follows_the_sweep(lc: Lifecycle) -> None:
    lc.call("PutLifecyclePolicy", repositoryName="app", lifecyclePolicyText=policy(UNTAGGED_14))
    lc.drain()  # the first sweep runs at once
    got = lc.call("GetLifecyclePolicy", repositoryName="app")
    assert got["lastEvaluatedAt"] == START.timestamp()


@pytest.mark.parametrize("operation", ["GetLifecyclePolicy", "DeleteLifecyclePolicy"])
def test_no_policy_answers_ecr_text(lc: Lifecycle, operation: str) -> None:
    assert lc.error(operation, repositoryName="app") == (
        "LifecyclePolicyNotFoundException",
        f"Lifecycle policy does not exist for the repository with name 'app' in the registry "
        f"with id '{ACCOUNT}'",
    )


@pytest.mark.parametrize(
    "operation",
    [
        "GetLifecyclePolicy",
        "DeleteLifecyclePolicy",
        "PutLifecyclePolicy",
        "StartLifecyclePolicyPreview",
        "GetLifecyclePolicyPreview",
    ],
)
def test_unknown_repository(lc: Lifecycle, operation: str) -> None:
    params = {"repositoryName": "nope"}
    if operation == "PutLifecyclePolicy":
        params["lifecyclePolicyText"] = policy(UNTAGGED_14)
    assert lc.error(operation, **params) == (
        "RepositoryNotFoundException",
        f"The repository with name 'nope' does not exist in the registry with id '{ACCOUNT}'",
    )


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("[" + " " * 120 + "]", "Could not map policyString into LifecyclePolicy."),
        (policy(UNTAGGED_14, rule(1, "any", "imageCountMoreThan", 1)), "Duplicate rulePriority"),
        (
            policy(rule(1, "tagged", "imageCountMoreThan", 1)),
            "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.",
        ),
    ],
)
@pytest.mark.parametrize("operation", ["PutLifecyclePolicy", "StartLifecyclePolicyPreview"])
def test_invalid_policies_get_ecr_wrapping(
    lc: Lifecycle, operation: str, text: str, detail: str
) -> None:
    code, message = lc.error(operation, repositoryName="app", lifecyclePolicyText=text)
    assert code == "InvalidParameterException"
    prefix = (
        "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: "
        "'Lifecycle policy validation failure: "
    )
    assert message.startswith(prefix + detail)
    assert message.endswith("'")
    assert lc.error("GetLifecyclePolicy", repositoryName="app")[0] == (
        "LifecyclePolicyNotFoundException"
    )


@pytest.mark.parametrize("length", [99, 30_721])
def test_policy_text_length_limits_come_from_the_model(lc: Lifecycle, length: int) -> None:
    text = policy(UNTAGGED_14, indent=None)
    text = text[:-1] + " " * (length - len(text)) + "}" if length > len(text) else text[:length]
    response = lc.registry.ecr("PutLifecyclePolicy", repositoryName="app", lifecyclePolicyText=text)
    assert response.status_code == 400
    assert response.json()["__type"] in ("ValidationException", "InvalidParameterException")
    assert "lifecyclePolicyText" in response.json()["message"]


def test_policy_goes_with_its_repository(lc: Lifecycle) -> None:
    lc.call("PutLifecyclePolicy", repositoryName="app", lifecyclePolicyText=policy(UNTAGGED_14))
    lc.call("DeleteRepository", repositoryName="app")
    lc.registry.create_repository("app")
    assert lc.error("GetLifecyclePolicy", repositoryName="app")[0] == (
        "LifecyclePolicyNotFoundException"
    )
