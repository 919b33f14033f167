"""DescribeImageScanFindings' `imageScanFindings`, in the shape of the scan's type, by pages.

BASIC lists `findings`: one per (vulnerability, package), ECR's basic shape {name, description,
uri, severity, attributes}. Attributes as ECR's basic scans write them: `package_version`,
`package_name`, `CVSS<n>_VECTOR` and `CVSS<n>_SCORE` (n from the vector: 2, 3 or 4); then
Stiva's own: `source_package_name` (when the advisory names the source package),
`compared_version` (the version the advisory was evaluated against, when it differs),
`fixed_in_version`, `advisory_id` (when `name` is an alias of it) and `package_path`.

ENHANCED lists `enhancedFindings` in Amazon Inspector's shape: one per vulnerability, its
`vulnerablePackages` being every package it was found in (Inspector's title "CVE - a, b and N
more"; fixAvailable YES, NO or PARTIAL; fixedInVersion "NotAvailable" without a fix; the
remediation text "None Provided" then). The finding ARN is stable per image and vulnerability.

Order: most severe first, then by name (and package); `nextToken` holds the position of the
last item sent, signed (`services.pagination`), valid for this image only. Default page 100,
at most 1000 (the model's bounds and ECR's documented default).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from stiva.errors import InvalidParameter
from stiva.metadata import models as m
from stiva.scanning import severity as sev
from stiva.services.deployment import Deployment
from stiva.services.pagination import decode_token, encode_token
from stiva.services.scanning import config, findings
from stiva.services.scanning.evaluate import StoredInventory
from stiva.services.scanning.notify import tags_of

DEFAULT_PAGE = 100
_KIND = "scan-findings"
_MANAGERS = {"deb": "OS", "apk": "OS", "rpm": "OS", "pypi": "PYTHONPKG", "npm": "NODEPKG"}
_MANAGERS |= {"golang": "GOBINARY", "maven": "JAR", "gem": "GEMSPEC", "cargo": "CARGO"}


@dataclass(frozen=True, slots=True)
class Page:
    shape: dict[str, Any]
    next_token: str | None


def cvss_version(vector: str) -> str:
    if vector.startswith("CVSS:"):
        return vector[5:].split("/", 1)[0]
    return "2.0"


def _attributes(name: str, detail: dict[str, Any]) -> list[dict[str, str]]:
    package = detail["package"]
    pairs = [("package_version", package.get("version")), ("package_name", package.get("name"))]
    if detail.get("vector"):
        major = cvss_version(detail["vector"]).split(".", 1)[0]
        pairs += [(f"CVSS{major}_VECTOR", detail["vector"])]
        pairs += [(f"CVSS{major}_SCORE", detail.get("score"))]
    if package.get("source_name") and package["source_name"] != package.get("name"):
        pairs.append(("source_package_name", package["source_name"]))
    if detail.get("installedVersion") != package.get("version"):
        pairs.append(("compared_version", detail.get("installedVersion")))
    pairs += [("fixed_in_version", detail.get("fixedVersion"))]
    if detail.get("advisoryId") != name:
        pairs.append(("advisory_id", detail.get("advisoryId")))
    pairs.append(("package_path", package.get("path")))
    return [{"key": k, "value": str(v)[:256]} for k, v in pairs if v not in (None, "")]


def basic_finding(row: m.ScanFinding) -> dict[str, Any]:
    detail = json.loads(row.detail)
    shape = {
        "name": row.vulnerability_id,
        "description": detail.get("description") or detail.get("summary") or "",
        "uri": detail.get("uri"),
        "severity": row.severity,
        "attributes": _attributes(row.vulnerability_id, detail),
    }
    return {k: v for k, v in shape.items() if v not in (None, "")}


def _instant(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def _version_parts(package: dict[str, Any]) -> dict[str, Any]:
    version, parts = str(package.get("version", "")), dict[str, Any]()
    if package.get("type") in ("deb", "rpm") and ":" in version.split("-", 1)[0]:
        epoch, version = version.split(":", 1)
        parts["epoch"] = int(epoch) if epoch.isdigit() else 0
    if package.get("type") in ("deb", "rpm", "apk") and "-" in version:
        version, parts["release"] = version.rsplit("-", 1)
    return {"version": version, **parts}


def _vulnerable_package(detail: dict[str, Any]) -> dict[str, Any]:
    package = detail["package"]
    shape = {
        "name": package.get("name"),
        **_version_parts(package),
        "arch": package.get("arch"),
        "packageManager": _MANAGERS.get(str(package.get("type")), "OS"),
        "filePath": package.get("path") if package.get("kind") != "os" else None,
        "sourceLayerHash": detail.get("layer"),
        "fixedInVersion": detail.get("fixedVersion") or "NotAvailable",
    }
    return {k: v for k, v in shape.items() if v is not None}


def _cvss(detail: dict[str, Any], source: str) -> list[dict[str, Any]]:
    if not detail.get("vector") or detail.get("score") is None:
        return []
    version = cvss_version(detail["vector"])
    return [
        {
            "baseScore": detail["score"],
            "scoringVector": detail["vector"],
            "source": source,
            "version": version,
        }
    ]


@dataclass(frozen=True, slots=True)
class ImageContext:
    account_id: str
    region: str
    resource: dict[str, Any]
    digest: str


def _image_context(
    session: Session, scan: m.ImageScan, manifest: m.Manifest, repo: m.Repository, d: Deployment
) -> ImageContext:
    stored = StoredInventory.from_json(scan.inventory) if scan.inventory else None
    os_info = stored.inventory.os if stored else None
    image = {
        "architecture": stored.image.get("architecture") if stored else None,
        "imageHash": manifest.digest,
        "imageTags": tags_of(session, manifest.id),
        "platform": f"{os_info.id}_{os_info.version_id}".upper().replace(".", "_")
        if os_info and os_info.version_id
        else None,
        "pushedAt": manifest.pushed_at,
        "registry": repo.account_id,
        "repositoryName": repo.name,
    }
    resource = {
        "details": {"awsEcrContainerImage": {k: v for k, v in image.items() if v is not None}},
        "id": f"{d.repository_arn(repo.account_id, repo.name)}/{manifest.digest}",
        "type": "AWS_ECR_CONTAINER_IMAGE",
    }
    return ImageContext(repo.account_id, d.region, resource, manifest.digest)


def _title(name: str, packages: Sequence[str]) -> str:
    if len(packages) <= 2:
        return f"{name} - {', '.join(packages)}"
    return f"{name} - {packages[0]}, {packages[1]} and {len(packages) - 2} more"


def _fix(details: Sequence[dict[str, Any]]) -> tuple[str, str]:
    fixed = [d for d in details if d.get("fixedVersion")]
    if not fixed:
        return "NO", "None Provided"
    steps = "; ".join(f"{d['package']['name']} to {d['fixedVersion']}" for d in fixed)
    return ("YES" if len(fixed) == len(details) else "PARTIAL"), f"Upgrade {steps}."


def enhanced_finding(rows: Sequence[m.ScanFinding], image: ImageContext) -> dict[str, Any]:
    """One Inspector finding for a vulnerability and every package it was found in."""
    name = rows[0].vulnerability_id
    details = [json.loads(row.detail) for row in rows]
    first = details[0]
    source = str(first.get("advisoryId", name)).split("-", 1)[0]
    fix_available, remedy = _fix(details)
    arn_id = hashlib.sha256(f"{image.digest}/{name}".encode()).hexdigest()[:32]
    severity = findings.worst(row.severity for row in rows)
    vendor = first.get("severity") if first.get("severitySource") == "vendor" else None
    package_details = {
        "cvss": _cvss(first, source),
        "referenceUrls": first.get("references") or [],
        "relatedVulnerabilities": first.get("aliases") or [],
        "source": source,
        "sourceUrl": first.get("uri"),
        "vendorCreatedAt": _instant(first.get("published")),
        "vendorSeverity": vendor,
        "vendorUpdatedAt": _instant(first.get("modified")),
        "vulnerabilityId": name,
        "vulnerablePackages": [_vulnerable_package(d) for d in details],
    }
    shape: dict[str, Any] = {
        "awsAccountId": image.account_id,
        "description": first.get("description") or first.get("summary") or "",
        "findingArn": f"arn:aws:inspector2:{image.region}:{image.account_id}:finding/{arn_id}",
        "firstObservedAt": min(row.first_observed_at for row in rows),
        "lastObservedAt": max(row.last_observed_at for row in rows),
        "packageVulnerabilityDetails": {k: v for k, v in package_details.items() if v is not None},
        "remediation": {"recommendation": {"text": remedy}},
        "resources": [image.resource],
        "severity": severity,
        "status": "ACTIVE",
        "title": _title(name, [str(d["package"].get("name")) for d in details]),
        "type": "PACKAGE_VULNERABILITY",
        "updatedAt": max(row.updated_at for row in rows),
        "fixAvailable": fix_available,
    }
    if first.get("score") is not None and first.get("vector"):
        shape["score"] = first["score"]
        cvss = {"score": first["score"], "scoreSource": source, "scoringVector": first["vector"]}
        shape["scoreDetails"] = {"cvss": {**cvss, "version": cvss_version(first["vector"])}}
    return shape


Item = tuple[tuple[Any, ...], Callable[[], dict[str, Any]]]


def _basic_items(rows: Sequence[m.ScanFinding]) -> list[Item]:
    return [
        (
            (sev.rank(r.severity), r.vulnerability_id, r.package_name, r.id),
            partial(basic_finding, r),
        )
        for r in rows
    ]


def _enhanced_items(rows: Sequence[m.ScanFinding], image: ImageContext) -> list[Item]:
    groups: dict[str, list[m.ScanFinding]] = {}
    for row in sorted(rows, key=lambda r: (r.package_name, r.id)):
        groups.setdefault(row.vulnerability_id, []).append(row)
    return [
        (
            (sev.rank(findings.worst(r.severity for r in group)), name),
            partial(enhanced_finding, group, image),
        )
        for name, group in groups.items()
    ]


def _position(next_token: str | None, key: bytes, manifest_id: int) -> tuple[Any, ...] | None:
    if not next_token:
        return None
    position = decode_token(next_token, key, kind=_KIND)
    if position.get("image") != manifest_id:
        raise InvalidParameter(
            "Invalid parameter at 'nextToken': the token belongs to another image"
        )
    return tuple(position["after"])


def findings_page(
    session: Session,
    *,
    scan: m.ImageScan,
    manifest: m.Manifest,
    repository: m.Repository,
    deployment: Deployment,
    max_results: int | None,
    next_token: str | None,
    key: bytes,
) -> Page:
    """One page of the scan's ACTIVE findings, with the scan's summary."""
    after = _position(next_token, key, manifest.id)
    rows = findings.active(session, manifest.id)
    enhanced = scan.scan_type == config.ENHANCED
    if enhanced:
        image = _image_context(session, scan, manifest, repository, deployment)
        items = _enhanced_items(rows, image)
    else:
        items = _basic_items(rows)
    items.sort(key=lambda item: item[0])
    remaining = [item for item in items if after is None or item[0] > after]
    limit = max_results or DEFAULT_PAGE
    chosen = remaining[:limit]
    token = None
    if len(remaining) > limit:
        position = {"kind": _KIND, "image": manifest.id, "after": list(chosen[-1][0])}
        token = encode_token(position, key)
    shape: dict[str, Any] = {
        "imageScanCompletedAt": scan.completed_at,
        "findingSeverityCounts": json.loads(scan.severity_counts or "{}"),
        ("enhancedFindings" if enhanced else "findings"): [render() for _k, render in chosen],
    }
    if scan.source_updated_at is not None:
        shape["vulnerabilitySourceUpdatedAt"] = scan.source_updated_at
    return Page(shape, token)
