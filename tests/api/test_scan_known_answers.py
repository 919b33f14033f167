"""Known-answer scans through ECR's API: real layers pushed, real advisory databases imported,
DescribeImageScanFindings lists exactly the expected findings, in both shapes.

The image (Debian 12 base + Python/npm/Go/Rust/Java/Ruby application + a whiteout layer) and
its answers are the pure scanner's (`tests.support.scanning`); BASIC reports its OS packages
only, ENHANCED everything, each in ECR's shape for that scan type.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from stiva.metadata import models as m
from stiva.scanning.layer import ANALYZER_VERSION
from tests.support.lifecycle import START
from tests.support.scanning import (
    DATABASE,
    EXPECTED_DEBIAN,
    EXPECTED_LANGUAGE,
    NOT_REPORTED,
    SEVERITY_ORDER,
    VULNDB,
    Scanning,
    aliases,
    alpine_layer,
    attributes,
    ecr_name,
    import_paths,
    known_image_layers,
    scanning_registry,
)


@pytest.fixture(scope="module")
def known() -> dict[str, list[str]]:
    return aliases()


@pytest.fixture(scope="module")
def scanned(
    tmp_path_factory: pytest.TempPathFactory, known: dict[str, list[str]]
) -> Iterator[tuple[Scanning, dict[str, str]]]:
    """One registry: the database imported, the image pushed to a BASIC and an ENHANCED repo."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        data_dir = tmp_path_factory.mktemp("known") / "data"
        with scanning_registry(data_dir, monkeypatch) as sc:
            import_paths(sc.ctx, *DATABASE)
            sc.registry.create_repository("basic/app")
            sc.registry.create_repository("enhanced/app")
            layers = known_image_layers()
            sc.configure("BASIC", ("SCAN_ON_PUSH", ["basic/*"]))
            basic = sc.push_layers("basic/app", "v1", layers)
            sc.drain()
            sc.configure("ENHANCED", ("SCAN_ON_PUSH", ["enhanced"]))
            enhanced = sc.push_layers("enhanced/app", "v1", layers)
            sc.drain()
            yield sc, {"basic": basic, "enhanced": enhanced}


def _basic_summary(finding: dict[str, Any]) -> tuple[str, str, str, str | None, str]:
    attrs = attributes(finding)
    compared = attrs.get("compared_version", attrs["package_version"])
    return (
        finding["name"],
        attrs["package_name"],
        compared,
        attrs.get("fixed_in_version"),
        finding["severity"],
    )


def test_basic_scan_on_push_lists_exactly_the_os_findings(
    scanned: tuple[Scanning, dict[str, str]], known: dict[str, list[str]]
) -> None:
    sc, digests = scanned
    page = sc.findings("basic/app", digests["basic"])
    assert page["imageScanStatus"] == {
        "status": "COMPLETE",
        "description": "The scan was completed successfully.",
    }
    found = {_basic_summary(f) for f in sc.all_findings("basic/app", digests["basic"])}
    expected = {(ecr_name(a, known), *rest) for a, *rest in EXPECTED_DEBIAN}
    assert found == expected
    assert "enhancedFindings" not in page["imageScanFindings"]


def test_basic_shape_and_summary(scanned: tuple[Scanning, dict[str, str]]) -> None:
    sc, digests = scanned
    page = sc.findings("basic/app", digests["basic"], maxResults=1000)
    summary = page["imageScanFindings"]
    assert summary["imageScanCompletedAt"] == START.timestamp()
    assert summary["vulnerabilitySourceUpdatedAt"] == START.timestamp()
    assert summary["findingSeverityCounts"] == {
        "HIGH": 2, "LOW": 2, "INFORMATIONAL": 3, "UNDEFINED": 11,
    }  # fmt: skip
    dmsetup = next(f for f in summary["findings"] if attributes(f).get("package_name") == "dmsetup")
    assert dmsetup["name"] == "DEBIAN-TEST-0001"
    assert dmsetup["uri"] == "https://osv.dev/vulnerability/DEBIAN-TEST-0001"
    assert dmsetup["attributes"][:4] == [
        {"key": "package_version", "value": "2:1.02.185-2"},
        {"key": "package_name", "value": "dmsetup"},
        {"key": "CVSS3_VECTOR", "value": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
        {"key": "CVSS3_SCORE", "value": "9.8"},
    ]
    assert attributes(dmsetup)["source_package_name"] == "lvm2"
    order = [SEVERITY_ORDER.index(f["severity"]) for f in summary["findings"]]
    assert order == sorted(order)


def test_enhanced_scan_lists_os_and_language_findings_by_vulnerability(
    scanned: tuple[Scanning, dict[str, str]], known: dict[str, list[str]]
) -> None:
    sc, digests = scanned
    items = sc.all_findings("enhanced/app", digests["enhanced"], key="enhancedFindings")
    found = {
        (f["packageVulnerabilityDetails"]["vulnerabilityId"], p["name"])
        for f in items
        for p in f["packageVulnerabilityDetails"]["vulnerablePackages"]
    }
    expected = {(ecr_name(a, known), pkg) for a, pkg, *_ in EXPECTED_DEBIAN | EXPECTED_LANGUAGE}
    assert found == expected
    names = [f["packageVulnerabilityDetails"]["vulnerabilityId"] for f in items]
    assert len(names) == len(set(names))  # one finding per vulnerability
    reported = {f["packageVulnerabilityDetails"]["vulnerabilityId"] for f in items}
    assert not {ecr_name(a, known) for a in NOT_REPORTED} & reported


def test_enhanced_finding_shape(
    scanned: tuple[Scanning, dict[str, str]], known: dict[str, list[str]]
) -> None:
    sc, digests = scanned
    items = sc.all_findings("enhanced/app", digests["enhanced"], key="enhancedFindings")
    name = ecr_name("GHSA-35jh-r3h4-6jhm", known)
    lodash = next(f for f in items if f["packageVulnerabilityDetails"]["vulnerabilityId"] == name)
    details = lodash["packageVulnerabilityDetails"]
    assert name == "CVE-2021-23337"
    assert lodash["title"] == "CVE-2021-23337 - lodash"
    assert (lodash["severity"], lodash["status"], lodash["type"]) == (
        "HIGH", "ACTIVE", "PACKAGE_VULNERABILITY",
    )  # fmt: skip
    assert lodash["fixAvailable"] == "YES"
    assert lodash["findingArn"].startswith("arn:aws:inspector2:us-east-1:123456789012:finding/")
    assert details["relatedVulnerabilities"] == ["GHSA-35jh-r3h4-6jhm"]
    assert details["sourceUrl"] == "https://nvd.nist.gov/vuln/detail/CVE-2021-23337"
    assert details["cvss"] == [
        {
            "baseScore": 7.2,
            "scoringVector": "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H",
            "source": "GHSA",
            "version": "3.1",
        }
    ]
    layer_digests = _layer_digests(sc, "enhanced/app", digests["enhanced"])
    assert details["vulnerablePackages"] == [
        {
            "name": "lodash",
            "version": "4.17.20",
            "packageManager": "NODEPKG",
            "filePath": "srv/app/node_modules/lodash/package.json",
            "sourceLayerHash": layer_digests[1],
            "fixedInVersion": "4.17.21",
        }
    ]
    image = lodash["resources"][0]
    assert image["type"] == "AWS_ECR_CONTAINER_IMAGE"
    assert image["id"] == (
        f"arn:aws:ecr:us-east-1:123456789012:repository/enhanced/app/{digests['enhanced']}"
    )
    assert image["details"]["awsEcrContainerImage"] == {
        "architecture": "amd64",
        "imageHash": digests["enhanced"],
        "imageTags": ["v1"],
        "platform": "DEBIAN_12",
        "pushedAt": START.timestamp(),
        "registry": "123456789012",
        "repositoryName": "enhanced/app",
    }
    assert lodash["firstObservedAt"] == lodash["lastObservedAt"] == START.timestamp()


def test_enhanced_os_finding_groups_binary_packages(
    scanned: tuple[Scanning, dict[str, str]],
) -> None:
    sc, digests = scanned
    items = sc.all_findings("enhanced/app", digests["enhanced"], key="enhancedFindings")
    glibc = next(
        f
        for f in items
        if f["packageVulnerabilityDetails"]["vulnerabilityId"] == "DEBIAN-TEST-0012"
    )
    packages = glibc["packageVulnerabilityDetails"]["vulnerablePackages"]
    assert glibc["title"] == "DEBIAN-TEST-0012 - libc-bin, libc-dev-bin and 6 more"
    assert {p["packageManager"] for p in packages} == {"OS"}
    libc6 = next(p for p in packages if p["name"] == "libc6")
    assert (libc6["version"], libc6["release"], libc6["fixedInVersion"]) == (
        "2.36", "9+deb12u14", "2.36-9+deb12u20",
    )  # fmt: skip
    assert "filePath" not in libc6
    unfixed = next(
        f
        for f in items
        if f["packageVulnerabilityDetails"]["vulnerabilityId"] == "DEBIAN-TEST-0008"
    )
    assert unfixed["fixAvailable"] == "NO"
    assert unfixed["remediation"] == {"recommendation": {"text": "None Provided"}}
    tar = unfixed["packageVulnerabilityDetails"]["vulnerablePackages"][0]
    assert tar["fixedInVersion"] == "NotAvailable"


def _layer_digests(sc: Scanning, name: str, digest: str) -> list[str]:
    got = sc.call("BatchGetImage", repositoryName=name, imageIds=[{"imageDigest": digest}])
    manifest = json.loads(got["images"][0]["imageManifest"])
    return [layer["digest"] for layer in manifest["layers"]]


def test_layers_shared_by_two_images_are_analysed_once(
    scanned: tuple[Scanning, dict[str, str]],
) -> None:
    sc, _digests = scanned
    with sc.ctx.db.read() as session:
        rows = session.scalar(
            select(func.count()).where(m.LayerAnalysisCache.analyzer_version == ANALYZER_VERSION)
        )
    assert rows == 3  # the same three layers, pushed to two repositories, scanned twice


def test_alpine_secdb_known_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with scanning_registry(tmp_path / "data", monkeypatch) as sc:
        import_paths(sc.ctx, VULNDB / "alpine-secdb" / "v3.4", VULNDB / "alpine-secdb" / "v3.5")
        sc.registry.create_repository("alpine")
        sc.call(
            "PutImageScanningConfiguration",
            repositoryName="alpine",
            imageScanningConfiguration={"scanOnPush": True},
        )
        digest = sc.push_layers("alpine", "3.4", [alpine_layer()])
        sc.drain()
        found = {
            (f["name"], attributes(f)["package_name"], attributes(f).get("fixed_in_version"))
            for f in sc.all_findings("alpine", digest)
        }
    assert ("CVE-2016-6301", "busybox", "1.24.2-r12") in found
    assert ("CVE-2016-8859", "musl", "1.1.14-r13") in found
    assert ("CVE-2016-8859", "musl-utils", "1.1.14-r13") in found
    assert {n for n, *_ in found if n.startswith("CVE-2016-984")} == {
        f"CVE-2016-984{i}" for i in range(4)
    }
    assert "CVE-2016-2147" not in {n for n, *_ in found}  # busybox fixed in 1.24.2-r0
    assert len(found) == 11 + 2 * 23  # the pure scanner's count: 11 + openssl's 23 twice


def test_alpine_secdb_findings_claim_no_vendor_dates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A secdb document dates nothing: `vendorUpdatedAt` (optional in ECR's model) is left
    out rather than reported as 1970."""
    with scanning_registry(tmp_path / "data", monkeypatch) as sc:
        import_paths(sc.ctx, VULNDB / "alpine-secdb" / "v3.4" / "main.yaml")
        sc.registry.create_repository("alpine")
        sc.configure("ENHANCED", ("SCAN_ON_PUSH", ["alpine"]))
        digest = sc.push_layers("alpine", "3.4", [alpine_layer()])
        sc.drain()
        items = sc.all_findings("alpine", digest, key="enhancedFindings")
    assert len(items) > 10
    for item in items:
        details = item["packageVulnerabilityDetails"]
        assert "vendorUpdatedAt" not in details
        assert "vendorCreatedAt" not in details
