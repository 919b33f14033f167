"""StartImageScan and DescribeImageScanFindings on a manual clock: statuses, ECR's refusals and
texts, the 24-hour quota, pagination, DescribeImages' scan members, and scan events."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from stiva.metadata import models as m
from stiva.services import events
from stiva.services.scanning import scan_job
from tests.support.layers import OS_PACKAGES, LayerBuilder
from tests.support.lifecycle import OCI_INDEX, OCI_MANIFEST, START
from tests.support.scanning import (
    SYNTHETIC,
    VULNDB,
    Scanning,
    attributes,
    debian_base,
    import_paths,
    job_errors,
    scanning_registry,
)

DAY = timedelta(days=1)


@pytest.fixture
def sc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scanning]:
    with scanning_registry(tmp_path / "data", monkeypatch) as handle:
        import_paths(handle.ctx, SYNTHETIC)
        handle.registry.create_repository("app")
        yield handle


@pytest.fixture(scope="module")
def debian() -> bytes:
    return debian_base().gzip()


def scan_jobs(sc: Scanning) -> int:
    with sc.ctx.db.read() as session:
        return len(list(session.scalars(select(m.Job).where(m.Job.kind == "scan-image"))))


def start(sc: Scanning, digest: str, name: str = "app") -> dict[str, Any]:
    return sc.call("StartImageScan", repositoryName=name, imageId={"imageDigest": digest})


def start_error(sc: Scanning, digest: str, name: str = "app") -> tuple[str, str]:
    return sc.error("StartImageScan", repositoryName=name, imageId={"imageDigest": digest})


def scan_events(sc: Scanning) -> list[dict[str, Any]]:
    """The details of the "ECR Image Scan" events, oldest first."""
    with sc.ctx.db.read() as session:
        return [
            json.loads(e.detail)
            for e in events.list_events(session)
            if e.detail_type == "ECR Image Scan"
        ]


def chart(sc: Scanning, name: str = "app") -> dict[str, Any]:
    """A Helm chart's manifest: an artifact, not an image."""
    return {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": sc.blob(name, b"{}", "application/vnd.cncf.helm.config.v1+json"),
        "layers": [sc.blob(name, b"chart", "application/vnd.cncf.helm.chart.content.v1.tar+gzip")],
    }


def gems_only() -> bytes:
    """A layer with a Ruby gem and no OS: BASIC cannot scan it, ENHANCED can."""
    gemspec = 'Gem::Specification.new do |s|\n  s.name = "rack"\n  s.version = "2.2.3"\nend\n'
    return LayerBuilder().file("usr/local/bundle/specifications/rack-2.2.3.gemspec", gemspec).gzip()


def test_manual_scan(sc: Scanning, debian: bytes) -> None:
    digest = sc.push_layers("app", "v1", [debian])
    code, message = sc.error(
        "DescribeImageScanFindings", repositoryName="app", imageId={"imageTag": "v1"}
    )
    assert code == "ScanNotFoundException"
    assert message == (
        "Image scan does not exist for the image with '{imageDigest:'null', imageTag:'v1'}' in "
        f"the repository with name 'app' in the registry with id '{sc.account_id}'"
    )
    started = sc.call("StartImageScan", repositoryName="app", imageId={"imageTag": "v1"})
    assert started == {
        "registryId": sc.account_id,
        "repositoryName": "app",
        "imageId": {"imageDigest": digest, "imageTag": "v1"},
        "imageScanStatus": {"status": "IN_PROGRESS"},
    }
    pending = sc.findings("app", digest)
    assert pending["imageScanStatus"] == {"status": "IN_PROGRESS"}
    assert "imageScanFindings" not in pending
    sc.drain()
    done = sc.findings("app", digest)
    assert done["imageScanStatus"]["status"] == "COMPLETE"
    assert done["imageId"] == {"imageDigest": digest}
    assert done["imageScanFindings"]["findingSeverityCounts"] == {
        "HIGH": 2, "LOW": 2, "INFORMATIONAL": 3, "UNDEFINED": 11,
    }  # fmt: skip


def test_one_scan_per_image_per_day(sc: Scanning, debian: bytes) -> None:
    digest = sc.push_layers("app", "v1", [debian])
    start(sc, digest)
    assert start_error(sc, digest) == (
        "LimitExceededException",
        "The scan quota per image has been exceeded. Wait and try again.",
    )
    sc.drain()
    sc.clock.advance(DAY - timedelta(seconds=1))
    assert start_error(sc, digest)[0] == "LimitExceededException"
    sc.clock.advance(timedelta(seconds=2))
    assert start(sc, digest)["imageScanStatus"] == {"status": "IN_PROGRESS"}


def test_scan_on_push_counts_towards_the_quota(sc: Scanning, debian: bytes) -> None:
    sc.configure("BASIC", ("SCAN_ON_PUSH", ["app"]))
    digest = sc.push_layers("app", "v1", [debian])
    assert sc.findings("app", digest)["imageScanStatus"] == {"status": "IN_PROGRESS"}
    assert start_error(sc, digest)[0] == "LimitExceededException"


def test_pushing_the_same_image_again_does_not_rescan(sc: Scanning, debian: bytes) -> None:
    sc.configure("BASIC", ("SCAN_ON_PUSH", ["app"]))
    digest = sc.push_layers("app", "v1", [debian])
    sc.drain()
    sc.clock.advance(DAY * 2)
    assert sc.push_layers("app", "v2", [debian]) == digest
    assert scan_jobs(sc) == 1
    assert sc.findings("app", digest)["imageScanStatus"]["status"] == "COMPLETE"


def test_missing_repository_and_image(sc: Scanning) -> None:
    code, message = sc.error(
        "StartImageScan", repositoryName="nope", imageId={"imageTag": "latest"}
    )
    assert code == "RepositoryNotFoundException"
    code, message = sc.error(
        "DescribeImageScanFindings", repositoryName="app", imageId={"imageTag": "missing"}
    )
    assert code == "ImageNotFoundException"
    assert message == (
        "The image with imageId {imageDigest:'null', imageTag:'missing'} does not exist within "
        f"the repository with name 'app' in the registry with id '{sc.account_id}'"
    )


def test_an_index_cannot_be_scanned(sc: Scanning, debian: bytes) -> None:
    sc.configure("BASIC", ("SCAN_ON_PUSH", ["app"]))
    child = sc.push_layers("app", None, [debian])
    index = sc.index("app", child, tag="multi")
    assert start_error(sc, index) == (
        "UnsupportedImageTypeException",
        f"An artifact with media type '{OCI_INDEX}' cannot be scanned. For more information, "
        "see the Amazon ECR documentation.",
    )
    status = sc.findings("app", index)["imageScanStatus"]
    assert status["status"] == "UNSUPPORTED_IMAGE"
    assert OCI_INDEX in status["description"]
    sc.drain()
    assert sc.findings("app", child)["imageScanStatus"]["status"] == "COMPLETE"


def test_an_artifact_cannot_be_scanned(sc: Scanning) -> None:
    chart = "application/vnd.cncf.helm.config.v1+json"
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": sc.blob("app", b"{}", chart),
        "layers": [sc.blob("app", b"chart", "application/vnd.cncf.helm.chart.content.v1.tar+gzip")],
    }
    digest = sc.put("app", doc, "chart")
    code, message = start_error(sc, digest)
    assert code == "UnsupportedImageTypeException"
    assert f"'{chart}'" in message


def test_a_scratch_image_is_unsupported(sc: Scanning) -> None:
    digest = sc.push_layers("app", "scratch", [LayerBuilder().file("hello", b"hi\n").gzip()])
    start(sc, digest)
    sc.drain()
    assert sc.findings("app", digest)["imageScanStatus"] == {
        "status": "UNSUPPORTED_IMAGE",
        "description": (
            "UnsupportedImageError: The operating system and/or package manager are not supported."
        ),
    }


def test_an_archived_image_cannot_be_scanned(sc: Scanning, debian: bytes) -> None:
    digest = sc.push_layers("app", "v1", [debian])
    sc.call(
        "UpdateImageStorageClass",
        repositoryName="app",
        imageId={"imageDigest": digest},
        targetStorageClass="ARCHIVE",
    )
    code, message = start_error(sc, digest)
    assert code == "ImageArchivedException"
    assert "archived" in message


def test_enhanced_scanning_has_no_manual_scans(sc: Scanning, debian: bytes) -> None:
    sc.configure("ENHANCED", ("SCAN_ON_PUSH", ["other"]))
    digest = sc.push_layers("app", "v1", [debian])
    code, message = start_error(sc, digest)
    assert code == "ValidationException"
    assert message.startswith("This feature is disabled")


def test_findings_come_in_pages(sc: Scanning, debian: bytes) -> None:
    digest = sc.push_layers("app", "v1", [debian])
    start(sc, digest)
    sc.drain()
    everything = sc.findings("app", digest, maxResults=1000)["imageScanFindings"]["findings"]
    assert len(everything) == 18
    assert "nextToken" not in sc.findings("app", digest, maxResults=18)
    first = sc.findings("app", digest, maxResults=5)
    assert len(first["imageScanFindings"]["findings"]) == 5
    assert first["imageScanFindings"]["findingSeverityCounts"] == {
        "HIGH": 2, "LOW": 2, "INFORMATIONAL": 3, "UNDEFINED": 11,
    }  # fmt: skip
    assert sc.all_findings("app", digest) == everything
    other = sc.push_layers("app", "v2", [debian, LayerBuilder().file("x", b"x").gzip()])
    start(sc, other)
    sc.drain()
    code, _ = sc.error(
        "DescribeImageScanFindings",
        repositoryName="app",
        imageId={"imageDigest": other},
        nextToken=first["nextToken"],
    )
    assert code == "InvalidParameterException"


def test_describe_images_shows_scan_status_and_summary(sc: Scanning, debian: bytes) -> None:
    scanned = sc.push_layers("app", "v1", [debian])
    never = sc.push_layers("app", "v2", [debian, LayerBuilder().file("y", b"y").gzip()])
    start(sc, scanned)
    sc.clock.advance(timedelta(minutes=3))
    sc.drain()
    details = {
        d["imageDigest"]: d for d in sc.call("DescribeImages", repositoryName="app")["imageDetails"]
    }
    assert details[scanned]["imageScanStatus"] == {
        "status": "COMPLETE",
        "description": "The scan was completed successfully.",
    }
    assert details[scanned]["imageScanFindingsSummary"] == {
        "imageScanCompletedAt": (START + timedelta(minutes=3)).timestamp(),
        "vulnerabilitySourceUpdatedAt": START.timestamp(),
        "findingSeverityCounts": {"HIGH": 2, "LOW": 2, "INFORMATIONAL": 3, "UNDEFINED": 11},
    }
    assert "imageScanStatus" not in details[never]


def test_a_completed_basic_scan_is_an_event(sc: Scanning, debian: bytes) -> None:
    digest = sc.push_layers("app", "v1", [debian])
    start(sc, digest)
    sc.drain()
    with sc.ctx.db.read() as session:
        scans = [
            events.envelope(e, region="us-east-1")
            for e in events.list_events(session)
            if e.detail_type == "ECR Image Scan"
        ]
    assert len(scans) == 1
    assert scans[0]["source"] == "aws.ecr"
    assert scans[0]["detail"] == {
        "scan-status": "COMPLETE",
        "repository-name": "app",
        "finding-severity-counts": {"HIGH": 2, "LOW": 2, "INFORMATIONAL": 3, "UNDEFINED": 11},
        "image-digest": digest,
        "image-tags": ["v1"],
    }


def test_an_enhanced_first_scan_is_an_inspector_event(sc: Scanning, debian: bytes) -> None:
    sc.configure("ENHANCED", ("SCAN_ON_PUSH", ["app"]))
    digest = sc.push_layers("app", "v1", [debian])
    status = sc.findings("app", digest)["imageScanStatus"]
    assert status == {"status": "PENDING", "description": "The image is waiting to be scanned."}
    sc.drain()
    assert sc.findings("app", digest)["imageScanStatus"]["status"] == "COMPLETE"
    with sc.ctx.db.read() as session:
        rows = [e for e in events.list_events(session) if e.detail_type == "Inspector2 Scan"]
        assert [e.source for e in rows] == ["aws.inspector2"]
        detail = json.loads(rows[0].detail)
    assert detail["scan-status"] == "INITIAL_SCAN_COMPLETE"
    assert detail["repository-name"] == f"arn:aws:ecr:us-east-1:{sc.account_id}:repository/app"
    assert detail["finding-severity-counts"]["TOTAL"] == sum(
        v for k, v in detail["finding-severity-counts"].items() if k != "TOTAL"
    )


def test_language_packages_are_not_basic_findings(sc: Scanning, debian: bytes) -> None:
    import_paths(sc.ctx, VULNDB / "osv" / "npm-sample")
    lodash = json.dumps({"name": "lodash", "version": "4.17.20"})
    app = LayerBuilder().file("srv/node_modules/lodash/package.json", lodash).gzip()
    digest = sc.push_layers("app", "v1", [debian, app])
    start(sc, digest)
    sc.drain()
    names = {attributes(f)["package_name"] for f in sc.all_findings("app", digest)}
    assert "lodash" not in names
    assert "zlib1g" in names


def test_pushing_an_artifact_with_scan_on_push_records_it_unsupported(sc: Scanning) -> None:
    sc.configure("BASIC", ("SCAN_ON_PUSH", ["*"]))
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.example.sbom",
        "config": sc.blob("app", b"{}", "application/vnd.oci.empty.v1+json"),
        "layers": [sc.blob("app", b"sbom", "application/json")],
    }
    digest = sc.put("app", doc, "sbom")
    status = sc.findings("app", digest)["imageScanStatus"]
    assert status["status"] == "UNSUPPORTED_IMAGE"
    assert "'application/vnd.example.sbom'" in status["description"]
    assert scan_jobs(sc) == 0


def test_a_version_past_pythons_digit_limit_does_not_fail_the_scan(sc: Scanning) -> None:
    """`1.1.999…` (5000 digits) cannot be compared: that package has no finding, the others
    are matched, and the scan completes instead of failing its job again and again."""
    import_paths(sc.ctx, VULNDB / "alpine-secdb" / "v3.4" / "main.yaml")
    sc.configure("BASIC", ("SCAN_ON_PUSH", ["app"]))
    installed = (
        f"P:musl\nV:1.1.{'9' * 5000}-r0\nA:x86_64\no:musl\n\n"
        "P:busybox\nV:1.24.2-r9\nA:x86_64\no:busybox\n\n"
    )
    release = (OS_PACKAGES / "alpine-3.4" / "etc" / "os-release").read_bytes()
    layer = (
        LayerBuilder()
        .file("etc/os-release", release)
        .file("lib/apk/db/installed", installed)
        .gzip()
    )
    digest = sc.push_layers("app", "v1", [layer])
    sc.drain()
    assert job_errors(sc.ctx, "scan-image") == []
    assert sc.findings("app", digest)["imageScanStatus"]["status"] == "COMPLETE"
    found = {(f["name"], attributes(f)["package_name"]) for f in sc.all_findings("app", digest)}
    assert ("CVE-2016-6301", "busybox") in found
    assert {package for _name, package in found} == {"busybox"}


def test_a_failure_after_the_layers_are_read_ends_the_scan_failed(
    sc: Scanning, debian: bytes, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> tuple[int, int]:
        raise RuntimeError("a bug in matching")

    monkeypatch.setattr(scan_job, "evaluate", broken)
    digest = sc.push_layers("app", "v1", [debian])
    start(sc, digest)
    with caplog.at_level(logging.ERROR):
        sc.drain()
    assert "a bug in matching" in caplog.text  # the cause is logged...
    assert sc.findings("app", digest)["imageScanStatus"] == {
        "status": "FAILED",
        "description": "The scan failed: internal error (the registry logged the cause).",
    }  # ...and the scan ends, without failing its job (which would leave it IN_PROGRESS)
    assert job_errors(sc.ctx, "scan-image") == []
    assert [e["scan-status"] for e in scan_events(sc)] == ["FAILED"]


@pytest.mark.parametrize("operation", ["StartImageScan", "DescribeImageScanFindings"])
def test_an_image_id_must_name_an_image(sc: Scanning, debian: bytes, operation: str) -> None:
    """As UpdateImageStorageClass answers: neither tag nor digest, or a malformed digest, is
    InvalidParameterException (not the repository's first image)."""
    sc.push_layers("app", "v1", [debian])
    texts = {
        "{}": "Invalid request parameters: both tag and digest cannot be null",
        '{"imageDigest": "sha256:nothex"}': "Invalid request parameters: image digest should "
        "satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'",
    }
    for image_id, text in texts.items():
        answer = sc.error(operation, repositoryName="app", imageId=json.loads(image_id))
        assert answer == ("InvalidParameterException", text)
        assert answer == sc.error(
            "UpdateImageStorageClass",
            repositoryName="app",
            imageId=json.loads(image_id),
            targetStorageClass="ARCHIVE",
        )
    assert scan_jobs(sc) == 0


def test_an_artifact_refused_at_push_is_a_scan_event(sc: Scanning) -> None:
    sc.configure("BASIC", ("SCAN_ON_PUSH", ["app"]))
    digest = sc.put("app", chart(sc), "chart")
    assert sc.findings("app", digest)["imageScanStatus"]["status"] == "UNSUPPORTED_IMAGE"
    assert scan_events(sc) == [
        {
            "scan-status": "UNSUPPORTED_IMAGE",
            "repository-name": "app",
            "finding-severity-counts": {},
            "image-digest": digest,
            "image-tags": ["chart"],
        }
    ]
    sc.configure("ENHANCED", ("SCAN_ON_PUSH", ["app"]))
    sc.put("app", chart(sc) | {"annotations": {"v": "2"}}, "chart2")
    assert len(scan_events(sc)) == 1  # ENHANCED scans are not "ECR Image Scan" events


def test_enhanced_scan_on_push_scans_an_image_basic_found_unsupported(sc: Scanning) -> None:
    """BASIC reads OS packages only: an image of gems is UNSUPPORTED_IMAGE to it. Pushed again
    under ENHANCED, which reads gems, it is scanned (once)."""
    sc.configure("BASIC", ("SCAN_ON_PUSH", ["app"]))
    digest = sc.push_layers("app", "v1", [gems_only()])
    sc.drain()
    assert sc.findings("app", digest)["imageScanStatus"]["status"] == "UNSUPPORTED_IMAGE"
    sc.configure("ENHANCED", ("SCAN_ON_PUSH", ["app"]))
    assert sc.push_layers("app", "v2", [gems_only()]) == digest
    sc.drain()
    page = sc.findings("app", digest)
    assert page["imageScanStatus"]["status"] == "COMPLETE"
    [finding] = page["imageScanFindings"]["enhancedFindings"]
    assert finding["packageVulnerabilityDetails"]["vulnerablePackages"][0]["name"] == "rack"
    sc.push_layers("app", "v3", [gems_only()])
    assert scan_jobs(sc) == 2  # BASIC's, then ENHANCED's: no more
