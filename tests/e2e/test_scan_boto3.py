"""Image scanning against a live server: `stiva vulndb import` beside it, images pushed over
`/v2/` and PutImage, scans on push and by StartImageScan run by the server's own worker,
boto3's `image_scan_complete` waiter and paginators, continuous rescans after an import, hostile
layers, and `stiva sbom`."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.exceptions
import httpx
import pytest

from tests.support.layers import LayerBuilder
from tests.support.live import LiveServer
from tests.support.scanning import (
    DATABASE,
    EXPECTED_DEBIAN,
    EXPECTED_LANGUAGE,
    OCI_CONFIG,
    OCI_LAYER,
    OCI_MANIFEST,
    aliases,
    debian_base,
    ecr_name,
    known_image_layers,
    rules,
)

FAST = {"Delay": 1, "MaxAttempts": 120}


def stiva(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stiva", *args, "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=server.cli_env(),
    )


class Repo:
    """A repository on the live server: blobs over `/v2/`, manifests with PutImage."""

    def __init__(self, server: LiveServer, name: str) -> None:
        self.server, self.name = server, name
        self.ecr: Any = server.ecr()
        self.ecr.create_repository(repositoryName=name)
        token = base64.b64encode(f"AWS:{server.password()}".encode()).decode()
        self.auth = {"Authorization": f"Basic {token}"}

    def blob(self, data: bytes, media_type: str) -> dict[str, Any]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        response = httpx.post(
            f"{self.server.url}/v2/{self.name}/blobs/uploads/?digest={digest}",
            content=data,
            headers=self.auth,
            timeout=60,
        )
        assert response.status_code == 201, response.text
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def push(self, tag: str, layers: list[bytes]) -> str:
        config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
        doc = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": self.blob(config, OCI_CONFIG),
            "layers": [self.blob(layer, OCI_LAYER) for layer in layers],
        }
        image = self.ecr.put_image(
            repositoryName=self.name, imageManifest=json.dumps(doc), imageTag=tag
        )
        return str(image["image"]["imageId"]["imageDigest"])

    def wait(self, digest: str) -> None:
        self.ecr.get_waiter("image_scan_complete").wait(
            repositoryName=self.name, imageId={"imageDigest": digest}, WaiterConfig=FAST
        )

    def findings(self, digest: str, key: str) -> list[dict[str, Any]]:
        pages = self.ecr.get_paginator("describe_image_scan_findings").paginate(
            repositoryName=self.name,
            imageId={"imageDigest": digest},
            PaginationConfig={"PageSize": 10},
        )
        return [f for page in pages for f in page["imageScanFindings"].get(key, [])]

    def status(self, digest: str) -> dict[str, Any]:
        got = self.ecr.describe_image_scan_findings(
            repositoryName=self.name, imageId={"imageDigest": digest}
        )
        return dict(got["imageScanStatus"])


def until(check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not hold in time")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def database(server: LiveServer) -> dict[str, list[str]]:
    """The advisory databases, imported with the CLI while the server runs."""
    result = stiva(server, "vulndb", "import", *map(str, DATABASE))
    assert result.returncode == 0, result.stderr
    assert "osv:PyPI: 2661 records, 10 withdrawn (2661 added" in result.stdout
    return aliases()


def configure(server: LiveServer, scan_type: str, *pairs: tuple[str, list[str]]) -> None:
    server.ecr().put_registry_scanning_configuration(scanType=scan_type, rules=rules(*pairs))


def test_vulndb_status_beside_the_server(server: LiveServer, database: dict[str, Any]) -> None:
    result = stiva(server, "vulndb", "status", "--json")
    assert result.returncode == 0, result.stderr
    sources = {s["name"]: s for s in json.loads(result.stdout)["sources"]}
    assert sources["osv:Go"]["records"] == 4291
    assert sources["osv:Go"]["withdrawn"] == 17
    assert sources["osv:crates.io"]["records"] == 1206


def test_basic_scan_on_push_known_answer(server: LiveServer, database: dict[str, Any]) -> None:
    configure(server, "BASIC", ("SCAN_ON_PUSH", ["basic/*"]))
    repo = Repo(server, "basic/known")
    digest = repo.push("v1", known_image_layers())
    repo.wait(digest)
    found = set()
    for finding in repo.findings(digest, "findings"):
        attrs = {a["key"]: a["value"] for a in finding["attributes"]}
        found.add((finding["name"], attrs["package_name"], attrs.get("fixed_in_version")))
    expected = {(ecr_name(a, database), p, fixed) for a, p, _v, fixed, _s in EXPECTED_DEBIAN}
    assert found == expected
    details = repo.ecr.describe_images(repositoryName=repo.name)["imageDetails"][0]
    assert details["imageScanStatus"]["status"] == "COMPLETE"
    assert sum(details["imageScanFindingsSummary"]["findingSeverityCounts"].values()) == 18


def test_enhanced_scan_on_push_known_answer(server: LiveServer, database: dict[str, Any]) -> None:
    configure(server, "ENHANCED", ("SCAN_ON_PUSH", ["enhanced/*"]))
    repo = Repo(server, "enhanced/known")
    digest = repo.push("v1", known_image_layers())
    repo.wait(digest)
    found = {
        (f["packageVulnerabilityDetails"]["vulnerabilityId"], p["name"])
        for f in repo.findings(digest, "enhancedFindings")
        for p in f["packageVulnerabilityDetails"]["vulnerablePackages"]
    }
    expected = {(ecr_name(a, database), p) for a, p, *_ in EXPECTED_DEBIAN | EXPECTED_LANGUAGE}
    assert found == expected
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        repo.ecr.start_image_scan(repositoryName=repo.name, imageId={"imageDigest": digest})
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_start_image_scan_then_the_daily_quota(
    server: LiveServer, database: dict[str, Any]
) -> None:
    configure(server, "BASIC")
    repo = Repo(server, "manual/app")
    digest = repo.push("v1", [debian_base().gzip()])
    with pytest.raises(repo.ecr.exceptions.ScanNotFoundException):
        repo.status(digest)
    started = repo.ecr.start_image_scan(repositoryName=repo.name, imageId={"imageTag": "v1"})
    assert started["imageScanStatus"] == {"status": "IN_PROGRESS"}
    repo.wait(digest)
    assert repo.status(digest) == {
        "status": "COMPLETE",
        "description": "The scan was completed successfully.",
    }
    with pytest.raises(repo.ecr.exceptions.LimitExceededException) as limited:
        repo.ecr.start_image_scan(repositoryName=repo.name, imageId={"imageTag": "v1"})
    assert limited.value.response["Error"]["Message"] == (
        "The scan quota per image has been exceeded. Wait and try again."
    )


def test_hostile_layers_fail_the_scan_and_the_server_goes_on(
    server: LiveServer, database: dict[str, Any]
) -> None:
    configure(server, "BASIC", ("SCAN_ON_PUSH", ["hostile"]))
    repo = Repo(server, "hostile")
    blob = LayerBuilder().file("etc/os-release", bytes(range(256)) * 400).gzip()
    truncated = repo.push("truncated", [blob[: len(blob) // 2]])
    traversal = repo.push(
        "traversal", [LayerBuilder().file("ok", b"x").file("../../etc/shadow", b"").gzip()]
    )
    for digest, reason in ((truncated, "corrupt gzip"), (traversal, "traversal")):
        with pytest.raises(botocore.exceptions.WaiterError):
            repo.wait(digest)
        status = repo.status(digest)
        assert status["status"] == "FAILED"
        assert reason in status["description"]
    fine = repo.push("fine", [debian_base().gzip()])
    repo.wait(fine)
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_scratch_images_are_unsupported(server: LiveServer, database: dict[str, Any]) -> None:
    configure(server, "BASIC", ("SCAN_ON_PUSH", ["scratch"]))
    repo = Repo(server, "scratch")
    digest = repo.push("v1", [LayerBuilder().file("app", b"\x7fELF").gzip()])
    until(lambda: repo.status(digest)["status"] != "IN_PROGRESS")
    assert repo.status(digest)["status"] == "UNSUPPORTED_IMAGE"


def test_continuous_rescan_after_an_import(
    server: LiveServer, database: dict[str, Any], tmp_path: Path
) -> None:
    configure(server, "ENHANCED", ("CONTINUOUS_SCAN", ["continuous/*"]))
    repo = Repo(server, "continuous/app")
    digest = repo.push("v1", [debian_base().gzip()])
    until(lambda: repo.status(digest)["status"] == "ACTIVE")
    names = {f["title"] for f in repo.findings(digest, "enhancedFindings")}
    assert not any(t.startswith("CVE-2026-4242") for t in names)
    record = {
        "id": "DEBIAN-E2E-0001",
        "modified": "2026-08-01T00:00:00Z",
        "aliases": ["CVE-2026-4242"],
        "affected": [
            {
                "package": {"ecosystem": "Debian:12", "name": "zlib"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:2.0-1"}]}
                ],
            }
        ],
    }
    feed = tmp_path / "e2e-feed.json"
    feed.write_text(json.dumps([record]))
    imported = stiva(server, "vulndb", "import", str(feed))
    assert imported.returncode == 0, imported.stderr

    def rescanned() -> bool:
        titles = {f["title"] for f in repo.findings(digest, "enhancedFindings")}
        return "CVE-2026-4242 - zlib1g, zlib1g-dev" in titles

    until(rescanned)


def test_sbom_of_a_pushed_image(server: LiveServer, database: dict[str, Any]) -> None:
    repo = Repo(server, "sbom/app")
    repo.push("v1", [debian_base().gzip()])
    result = stiva(server, "sbom", "--repository", repo.name, "v1")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["bomFormat"] == "CycloneDX"
    assert any(c.get("name") == "zlib1g" for c in doc["components"])
