"""Registry scanning configuration: Put/Get, what applies to each repository (ECR's filter
matrix), the deprecated per-repository scanOnPush, validation, and the frequency-change event."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stiva.services import events
from tests.support.scanning import Scanning, rules, scanning_registry

NAMES = ["prod", "repo-prod", "prod-repo", "repo-prod-repo", "prodrepo"]


@pytest.fixture
def sc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scanning]:
    with scanning_registry(tmp_path / "data", monkeypatch) as handle:
        yield handle


def applied(sc: Scanning, *names: str) -> dict[str, tuple[str, list[str]]]:
    got = sc.call("BatchGetRepositoryScanningConfiguration", repositoryNames=list(names))
    return {
        c["repositoryName"]: (c["scanFrequency"], [f["filter"] for f in c["appliedScanFilters"]])
        for c in got["scanningConfigurations"]
    }


def test_default_is_basic_without_rules(sc: Scanning) -> None:
    got = sc.call("GetRegistryScanningConfiguration")
    assert got == {
        "registryId": sc.account_id,
        "scanningConfiguration": {"scanType": "BASIC", "rules": []},
    }


def test_put_then_get(sc: Scanning) -> None:
    given = rules(("CONTINUOUS_SCAN", ["prod*"]), ("SCAN_ON_PUSH", ["*"]))
    put = sc.call("PutRegistryScanningConfiguration", scanType="ENHANCED", rules=given)
    assert put == {"registryScanningConfiguration": {"scanType": "ENHANCED", "rules": given}}
    got = sc.call("GetRegistryScanningConfiguration")["scanningConfiguration"]
    assert got == {"scanType": "ENHANCED", "rules": given}


@pytest.mark.parametrize(
    ("filter_", "matches"),
    [
        ("prod", "YYYYY"),
        ("*prod", "YYNNN"),
        ("prod*", "YNYNY"),
        ("*prod*", "YYYYY"),
        ("prod*repo", "NNYNY"),
    ],
)
def test_wildcard_filters_follow_ecrs_matrix(sc: Scanning, filter_: str, matches: str) -> None:
    for name in NAMES:
        sc.registry.create_repository(name)
    sc.configure("BASIC", ("SCAN_ON_PUSH", [filter_]))
    got = applied(sc, *NAMES)
    for name, expected in zip(NAMES, matches, strict=True):
        want = ("SCAN_ON_PUSH", [filter_]) if expected == "Y" else ("MANUAL", [])
        assert got[name] == want, name


def test_enhanced_continuous_wins_over_scan_on_push(sc: Scanning) -> None:
    for name in ("team/api", "team/web", "other"):
        sc.registry.create_repository(name)
    sc.configure("ENHANCED", ("SCAN_ON_PUSH", ["team/*", "oth"]), ("CONTINUOUS_SCAN", ["*api"]))
    assert applied(sc, "team/api", "team/web", "other") == {
        "team/api": ("CONTINUOUS_SCAN", ["*api"]),
        "team/web": ("SCAN_ON_PUSH", ["team/*"]),
        "other": ("SCAN_ON_PUSH", ["oth"]),
    }


def test_basic_has_no_continuous_scanning(sc: Scanning) -> None:
    sc.registry.create_repository("app")
    sc.configure("BASIC", ("CONTINUOUS_SCAN", ["app"]))
    assert applied(sc, "app") == {"app": ("MANUAL", [])}


def test_repository_flag_counts_for_basic_only(sc: Scanning) -> None:
    sc.registry.create_repository("legacy", imageScanningConfiguration={"scanOnPush": True})
    sc.registry.create_repository("later")
    put = sc.call(
        "PutImageScanningConfiguration",
        repositoryName="later",
        imageScanningConfiguration={"scanOnPush": True},
    )
    assert put == {
        "registryId": sc.account_id,
        "repositoryName": "later",
        "imageScanningConfiguration": {"scanOnPush": True},
    }
    repos = sc.call("DescribeRepositories", repositoryNames=["later"])["repositories"]
    assert repos[0]["imageScanningConfiguration"] == {"scanOnPush": True}
    assert applied(sc, "legacy", "later") == {
        "legacy": ("SCAN_ON_PUSH", []),
        "later": ("SCAN_ON_PUSH", []),
    }
    sc.configure("ENHANCED", ("SCAN_ON_PUSH", ["nothing-matches"]))
    got = sc.call("BatchGetRepositoryScanningConfiguration", repositoryNames=["legacy"])
    config = got["scanningConfigurations"][0]
    assert (config["scanOnPush"], config["scanFrequency"]) == (True, "MANUAL")


def test_unknown_repositories_are_failures(sc: Scanning) -> None:
    sc.registry.create_repository("here")
    got = sc.call("BatchGetRepositoryScanningConfiguration", repositoryNames=["here", "gone"])
    assert [c["repositoryName"] for c in got["scanningConfigurations"]] == ["here"]
    assert got["scanningConfigurations"][0]["repositoryArn"] == (
        f"arn:aws:ecr:us-east-1:{sc.account_id}:repository/here"
    )
    assert got["failures"] == [
        {
            "repositoryName": "gone",
            "failureCode": "REPOSITORY_NOT_FOUND",
            "failureReason": "REPOSITORY_NOT_FOUND",
        }
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"scanType": "BASIC", "rules": rules(("SCAN_ON_PUSH", ["Bad Filter"]))},
        {"scanType": "BASIC", "rules": rules(*[("SCAN_ON_PUSH", ["a"])] * 3)},
        {"scanType": "SOMETIMES"},
    ],
)
def test_invalid_configurations_are_refused(sc: Scanning, params: dict[str, Any]) -> None:
    code, _message = sc.error("PutRegistryScanningConfiguration", **params)
    assert code == "ValidationException"


def test_put_image_scanning_configuration_needs_the_repository(sc: Scanning) -> None:
    code, message = sc.error(
        "PutImageScanningConfiguration",
        repositoryName="missing",
        imageScanningConfiguration={"scanOnPush": True},
    )
    assert code == "RepositoryNotFoundException"
    assert message == (
        f"The repository with name 'missing' does not exist in the registry with id "
        f"'{sc.account_id}'"
    )


def test_frequency_changes_under_enhanced_are_events(sc: Scanning) -> None:
    sc.registry.create_repository("svc/a")
    sc.registry.create_repository("svc/b")
    sc.configure("ENHANCED", ("CONTINUOUS_SCAN", ["svc/a"]))
    with sc.ctx.db.read() as session:
        rows = [
            e for e in events.list_events(session) if e.detail_type == "ECR Scan Resource Change"
        ]
        assert len(rows) == 1
        detail = json.loads(rows[0].detail)
    assert detail == {
        "action-type": "SCAN_FREQUENCY_CHANGE",
        "repositories": [
            {
                "repository-name": "svc/a",
                "repository-arn": f"arn:aws:ecr:us-east-1:{sc.account_id}:repository/svc/a",
                "scan-frequency": "CONTINUOUS_SCAN",
                "previous-scan-frequency": "MANUAL",
            }
        ],
        "resource-type": "REPOSITORY",
        "scan-type": "ENHANCED",
    }
