"""Continuous scanning: a database import changes the findings of CONTINUOUS_SCAN images,
matched again from their stored inventories (their layers are deleted from storage first, so
any layer read would fail), with first/last observed times; other images stay as scanned."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from stiva.metadata import models as m
from stiva.oci.digest import Digest
from stiva.storage.layout import blob_path
from tests.support.layers import LayerBuilder
from tests.support.lifecycle import START
from tests.support.scanning import (
    SYNTHETIC,
    Scanning,
    alpine_layer,
    debian_base,
    import_paths,
    job_errors,
    scanning_registry,
)

DAY = timedelta(days=1)
NEW = {
    "id": "DEBIAN-TEST-0100",
    "modified": "2026-06-01T00:00:00Z",
    "aliases": ["CVE-2026-0100"],
    "summary": "a new tar advisory",
    "affected": [
        {
            "package": {"ecosystem": "Debian:12", "name": "tar"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.35"}]}],
            "ecosystem_specific": {"urgency": "medium"},
        }
    ],
}


@pytest.fixture
def sc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scanning]:
    with scanning_registry(tmp_path / "data", monkeypatch) as handle:
        import_paths(handle.ctx, SYNTHETIC)
        for name in ("live/app", "static/app"):
            handle.registry.create_repository(name)
        handle.configure(
            "ENHANCED", ("CONTINUOUS_SCAN", ["live/*"]), ("SCAN_ON_PUSH", ["static/*"])
        )
        yield handle


def update(tmp_path: Path, records: list[dict[str, Any]]) -> Path:
    """A file that updates the `osv:synthetic` source (same name: synthetic.json)."""
    folder = tmp_path / f"update-{len(list(tmp_path.glob('update-*')))}"
    folder.mkdir()
    path = folder / "synthetic.json"
    path.write_text(json.dumps(records))
    return path


def original(advisory_id: str) -> dict[str, Any]:
    records = json.loads(SYNTHETIC.read_text())
    return copy.deepcopy(next(r for r in records if r["id"] == advisory_id))


def findings_by_id(sc: Scanning, name: str, digest: str) -> dict[str, dict[str, Any]]:
    items = sc.all_findings(name, digest, key="enhancedFindings")
    return {f["packageVulnerabilityDetails"]["vulnerabilityId"]: f for f in items}


def delete_layers(sc: Scanning, name: str, digest: str) -> None:
    got = sc.call("BatchGetImage", repositoryName=name, imageIds=[{"imageDigest": digest}])
    for layer in json.loads(got["images"][0]["imageManifest"])["layers"]:
        sc.ctx.storage.delete(blob_path(Digest.parse(layer["digest"])))


def test_an_import_changes_findings_without_reading_layers(sc: Scanning, tmp_path: Path) -> None:
    layer = debian_base().gzip()
    live = sc.push_layers("live/app", "v1", [layer])
    static = sc.push_layers("static/app", "v1", [layer])
    sc.drain()
    before = findings_by_id(sc, "live/app", live)
    assert "DEBIAN-TEST-0003" in before
    assert sc.findings("live/app", live)["imageScanStatus"] == {
        "status": "ACTIVE",
        "description": "Continuous scan is selected for image.",
    }
    delete_layers(sc, "live/app", live)  # shared with static/app: neither can be read again

    sc.clock.advance(DAY)
    withdrawn = original("DEBIAN-TEST-0003") | {
        "modified": "2026-06-01T00:00:00Z",
        "withdrawn": "2026-06-01T00:00:00Z",
    }
    import_paths(sc.ctx, update(tmp_path, [withdrawn, NEW]))
    sc.drain()

    after = findings_by_id(sc, "live/app", live)
    assert set(after) == set(before) - {"DEBIAN-TEST-0003"} | {"CVE-2026-0100"}
    added = after["CVE-2026-0100"]
    assert (added["firstObservedAt"], added["lastObservedAt"]) == ((START + DAY).timestamp(),) * 2
    assert added["packageVulnerabilityDetails"]["vulnerablePackages"][0]["name"] == "tar"
    kept = after["DEBIAN-TEST-0001"]
    assert (kept["firstObservedAt"], kept["lastObservedAt"]) == (
        START.timestamp(), (START + DAY).timestamp(),
    )  # fmt: skip
    summary = sc.findings("live/app", live)
    assert summary["imageScanStatus"]["status"] == "ACTIVE"
    assert summary["imageScanFindings"]["vulnerabilitySourceUpdatedAt"] == (START + DAY).timestamp()
    assert summary["imageScanFindings"]["imageScanCompletedAt"] == (START + DAY).timestamp()
    assert summary["imageScanFindings"]["findingSeverityCounts"]["MEDIUM"] == 1
    assert "DEBIAN-TEST-0003" in findings_by_id(sc, "static/app", static)  # not continuous

    with sc.ctx.db.read() as session:
        closed = session.scalars(
            select(m.ScanFinding).where(
                m.ScanFinding.vulnerability_id == "DEBIAN-TEST-0003",
                m.ScanFinding.status == "CLOSED",
            )
        ).all()
        assert len(closed) == 2  # zlib1g and zlib1g-dev of the live image
        assert {row.last_observed_at for row in closed} == {START}
        assert {row.updated_at for row in closed} == {START + DAY}


def test_a_finding_that_comes_back_keeps_its_first_observation(
    sc: Scanning, tmp_path: Path
) -> None:
    live = sc.push_layers("live/app", "v1", [debian_base().gzip()])
    sc.drain()
    sc.clock.advance(DAY)
    gone = original("DEBIAN-TEST-0008") | {
        "modified": "2026-06-01T00:00:00Z",
        "withdrawn": "2026-06-01T00:00:00Z",
    }
    import_paths(sc.ctx, update(tmp_path, [gone]))
    sc.drain()
    assert "DEBIAN-TEST-0008" not in findings_by_id(sc, "live/app", live)
    sc.clock.advance(DAY)
    back = original("DEBIAN-TEST-0008") | {"modified": "2026-07-01T00:00:00Z"}
    import_paths(sc.ctx, update(tmp_path, [back]))
    sc.drain()
    again = findings_by_id(sc, "live/app", live)["DEBIAN-TEST-0008"]
    assert again["firstObservedAt"] == START.timestamp()
    assert again["lastObservedAt"] == (START + 2 * DAY).timestamp()


def test_an_unchanged_import_changes_nothing(sc: Scanning) -> None:
    live = sc.push_layers("live/app", "v1", [debian_base().gzip()])
    sc.drain()
    before = findings_by_id(sc, "live/app", live)
    sc.clock.advance(DAY)
    reports = import_paths(sc.ctx, SYNTHETIC)
    assert (reports[0].added, reports[0].updated, reports[0].unchanged) == (0, 0, 17)
    sc.drain()
    assert findings_by_id(sc, "live/app", live) == before


def test_turning_continuous_scanning_on_scans_images_already_pushed(sc: Scanning) -> None:
    sc.registry.create_repository("later/app")
    digest = sc.push_layers("later/app", "v1", [debian_base().gzip()])
    sc.drain()
    code, _ = sc.error(
        "DescribeImageScanFindings", repositoryName="later/app", imageId={"imageDigest": digest}
    )
    assert code == "ScanNotFoundException"
    sc.configure("ENHANCED", ("CONTINUOUS_SCAN", ["later"]))
    sc.drain()
    page = sc.findings("later/app", digest)
    assert page["imageScanStatus"]["status"] == "ACTIVE"
    assert page["imageScanFindings"]["enhancedFindings"]


def status(sc: Scanning, name: str, digest: str) -> str:
    return str(sc.findings(name, digest)["imageScanStatus"]["status"])


def scan_jobs(sc: Scanning) -> int:
    with sc.ctx.db.read() as session:
        return len(session.scalars(select(m.Job.id).where(m.Job.kind == "scan-image")).all())


def alpine_advisory(advisory_id: str, package: str, fixed: str) -> dict[str, Any]:
    return {
        "id": advisory_id,
        "modified": "2026-06-01T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": "Alpine:v3.4", "name": package},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                ],
            }
        ],
    }


def test_an_advisory_with_a_version_past_pythons_digit_limit_is_ignored(
    sc: Scanning, tmp_path: Path
) -> None:
    """Its range cannot be compared (`int()` refuses 5000 digits): it matches nothing, and the
    pass matches everything else instead of failing."""
    live = sc.push_layers("live/app", "v1", [alpine_layer()])
    sc.drain()
    records = [
        alpine_advisory("ALPINE-TEST-HUGE", "musl", f"1.1.{'9' * 5000}-r0"),
        alpine_advisory("ALPINE-TEST-ZLIB", "zlib", "1.2.11-r0"),
    ]
    import_paths(sc.ctx, update(tmp_path, records))
    sc.drain()
    assert job_errors(sc.ctx, "scan-continuous") == []
    assert set(findings_by_id(sc, "live/app", live)) == {"ALPINE-TEST-ZLIB"}


def test_an_image_that_cannot_be_matched_does_not_stop_the_pass(
    sc: Scanning, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = sc.push_layers("live/app", "v1", [debian_base().gzip()])
    fine = sc.push_layers("live/app", "v2", [debian_base().gzip(), LayerBuilder().tar()])
    sc.drain()
    with sc.ctx.db.write() as session:
        manifest_id = session.scalar(select(m.Manifest.id).where(m.Manifest.digest == broken))
        scan = session.get(m.ImageScan, manifest_id)
        assert scan is not None
        stored, scan.inventory = scan.inventory, "{not json"  # cannot be read back
    import_paths(sc.ctx, update(tmp_path, [NEW]))
    with caplog.at_level(logging.ERROR):
        sc.drain()
    assert job_errors(sc.ctx, "scan-continuous") == []
    assert "CVE-2026-0100" in findings_by_id(sc, "live/app", fine)
    assert f"continuous scan of image {manifest_id} failed" in caplog.text
    with sc.ctx.db.write() as session:
        scan = session.get(m.ImageScan, manifest_id)
        assert scan is not None
        scan.inventory = stored  # DescribeImageScanFindings reads it too
    assert status(sc, "live/app", broken) == "ACTIVE"  # left as it was, for the next pass
    assert "CVE-2026-0100" not in findings_by_id(sc, "live/app", broken)


def test_enhanced_scanning_scans_images_basic_found_unsupported(sc: Scanning) -> None:
    """BASIC reads OS packages only; once the repository is under continuous scanning, an
    image it found unsupported is scanned. What ENHANCED cannot scan either is not retried."""
    sc.registry.create_repository("legacy/app")
    sc.configure("BASIC", ("SCAN_ON_PUSH", ["legacy"]))
    gemspec = 'Gem::Specification.new do |s|\n  s.name = "rack"\n  s.version = "2.2.3"\nend\n'
    gems = LayerBuilder().file("usr/local/bundle/specifications/rack-2.2.3.gemspec", gemspec)
    ruby = sc.push_layers("legacy/app", "ruby", [gems.gzip()])
    scratch = sc.push_layers("legacy/app", "scratch", [LayerBuilder().file("hello", b"hi").gzip()])
    chart = sc.put(
        "legacy/app",
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": sc.blob("legacy/app", b"{}", "application/vnd.cncf.helm.config.v1+json"),
            "layers": [],
        },
        "chart",
    )
    sc.drain()
    for digest in (ruby, scratch, chart):
        assert status(sc, "legacy/app", digest) == "UNSUPPORTED_IMAGE"
    assert scan_jobs(sc) == 2

    sc.configure("ENHANCED", ("CONTINUOUS_SCAN", ["legacy"]))
    sc.drain()
    assert status(sc, "legacy/app", ruby) == "ACTIVE"
    assert "GHSA-TEST-rack" in findings_by_id(sc, "legacy/app", ruby)
    assert status(sc, "legacy/app", scratch) == "UNSUPPORTED_IMAGE"
    assert status(sc, "legacy/app", chart) == "UNSUPPORTED_IMAGE"
    assert scan_jobs(sc) == 4  # the gems and the scratch image, once each
    import_paths(sc.ctx, SYNTHETIC, prune=True)
    sc.configure("ENHANCED", ("CONTINUOUS_SCAN", ["legacy", "live"]))
    sc.drain()
    assert scan_jobs(sc) == 4
