"""An image's package inventory as a CycloneDX 1.5 JSON SBOM (`stiva sbom`).

The inventory is the one the image's last scan stored; an image never scanned is analysed now
(layer analyses are cached as for scans; nothing else is stored). Components: the distribution
(`operating-system`) and every package (`library`), each with its purl (`bom-ref`), and Stiva
properties: the ecosystem, the file it was read from, the source package for OS packages, and
the layer (`stiva:package:layer`). The image itself is `metadata.component` (`container`,
with its `pkg:oci` purl).

`attach_sbom` also stores the SBOM in the registry as an OCI 1.1 referrer of the image
(artifactType `application/vnd.cyclonedx+json`, the empty config, one layer), which is how ECR
keeps SBOMs: any client then finds it with the referrers API (`GET /v2/<name>/referrers/
<digest>`, `oras discover`, ListImageReferrers) and pulls it as a blob.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from packageurl import PackageURL

from stiva import __version__
from stiva.errors import InvalidParameter, UnsupportedImageType
from stiva.metadata import models as m
from stiva.metadata.dialect import lock_blobs
from stiva.oci import mediatypes as mt
from stiva.oci.digest import Digest
from stiva.oci.manifest import parse_manifest
from stiva.scanning.inventory import merge
from stiva.scanning.layer import ANALYZER_VERSION
from stiva.scanning.packages import OS, Package
from stiva.services import images, manifests
from stiva.services.context import RegistryContext
from stiva.services.repositories import get_repository
from stiva.services.scanning import hooks, layers
from stiva.services.scanning.evaluate import StoredInventory, provenance
from stiva.services.uploads import link_blob
from stiva.storage.layout import blob_path

CYCLONEDX = "application/vnd.cyclonedx+json"
_EMPTY = b"{}"


@dataclass(frozen=True, slots=True)
class Subject:
    manifest_id: int
    repository_id: int
    digest: str
    media_type: str
    size: int
    inventory: str | None  # the stored inventory, when the image was scanned


def _reference(reference: str) -> images.ImageId:
    return images.ImageId(digest=reference) if ":" in reference else images.ImageId(tag=reference)


def _subject(ctx: RegistryContext, account_id: str, name: str, reference: str) -> Subject:
    with ctx.db.read() as session:
        repository = get_repository(session, account_id=account_id, name=name)
        image_id = _reference(reference)
        manifest_id = images.find_image(session, repository.id, image_id)
        row = session.get(m.Manifest, manifest_id) if manifest_id is not None else None
        if row is None:
            raise images.image_not_found(image_id, repository)
        reason = hooks.unsupported_reason(parse_manifest(row.content, row.media_type))
        if reason is not None:
            raise UnsupportedImageType(reason)
        scan = session.get(m.ImageScan, row.id)
        stored = scan.inventory if scan is not None else None
        return Subject(row.id, repository.id, row.digest, row.media_type, row.size, stored)


def _analysed(ctx: RegistryContext, subject: Subject) -> StoredInventory:
    with ctx.db.read() as session:
        row = session.get(m.Manifest, subject.manifest_id)
        assert row is not None
        manifest = parse_manifest(row.content, row.media_type)
    digests = [str(d.digest) for d in manifest.layers if d.distributable]
    analyses = []
    for digest in digests:
        result = layers.analyse(ctx, digest)
        if result.analysis is None:
            raise InvalidParameter(f"layer {digest} cannot be analysed: {result.rejected}")
        analyses.append(result.analysis)
    return StoredInventory(merge(analyses), provenance(analyses, digests))


def _properties(package: Package, layer: str | None) -> list[dict[str, str]]:
    pairs = [("stiva:package:ecosystem", package.ecosystem), ("stiva:package:path", package.path)]
    if package.kind == OS and package.source_name:
        pairs.append(("stiva:package:source_name", package.source_name))
        pairs.append(("stiva:package:source_version", package.source_version or package.version))
    if layer:
        pairs.append(("stiva:package:layer", layer))
    return [{"name": k, "value": v} for k, v in pairs if v]


def _component(package: Package, layer: str | None) -> dict[str, Any]:
    component: dict[str, Any] = {
        "type": "library",
        "bom-ref": package.purl or f"{package.ecosystem}/{package.name}@{package.version}",
        "name": package.name,
        "version": package.version,
    }
    if package.purl:
        component["purl"] = package.purl
    component["properties"] = _properties(package, layer)
    return component


def cyclonedx(
    stored: StoredInventory, *, name: str, digest: str, repository_url: str, now: datetime
) -> dict[str, Any]:
    """The CycloneDX 1.5 document of an inventory (see the module docstring)."""
    purl = PackageURL(
        "oci", None, name.rsplit("/", 1)[-1], digest, {"repository_url": repository_url}
    ).to_string()
    components: list[dict[str, Any]] = []
    os_info = stored.inventory.os
    if os_info is not None:
        components.append(
            {
                "type": "operating-system",
                "bom-ref": f"os:{os_info.id}@{os_info.version_id}",
                "name": os_info.id,
                "version": os_info.version_id,
                "description": os_info.pretty_name,
            }
        )
    seen: set[str] = set()
    for package in stored.inventory.packages:
        component = _component(package, stored.layer_of.get(package.path.split("!", 1)[0]))
        if component["bom-ref"] in seen:
            component["bom-ref"] += f"#{package.path}"
        seen.add(component["bom-ref"])
        components.append(component)
    serial = uuid.uuid5(uuid.NAMESPACE_URL, f"stiva:{digest}:{ANALYZER_VERSION}")
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{serial}",
        "version": 1,
        "metadata": {
            "timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tools": {
                "components": [{"type": "application", "name": "stiva", "version": __version__}]
            },
            "component": {
                "type": "container",
                "bom-ref": purl,
                "name": name,
                "version": digest,
                "purl": purl,
            },
        },
        "components": components,
    }


def export_sbom(
    ctx: RegistryContext, *, account_id: str, name: str, reference: str
) -> dict[str, Any]:
    """The SBOM of the image `reference` (a tag or a digest) names in a repository."""
    subject = _subject(ctx, account_id, name, reference)
    stored = (
        StoredInventory.from_json(subject.inventory)
        if subject.inventory
        else _analysed(ctx, subject)
    )
    url = ctx.deployment.repository_uri(account_id, name)
    return cyclonedx(stored, name=name, digest=subject.digest, repository_url=url, now=ctx.now())


def _put_blob(
    ctx: RegistryContext, session: Any, repository_id: int, data: bytes
) -> dict[str, Any]:
    digest = Digest("sha256", hashlib.sha256(data).hexdigest())
    ctx.storage.put_content(blob_path(digest), data)
    link_blob(session, repository_id=repository_id, digest=digest, size=len(data))
    return {"digest": str(digest), "size": len(data)}


def _referrer(subject: Subject, config: dict[str, Any], layer: dict[str, Any], now: str) -> bytes:
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "artifactType": CYCLONEDX,
        "config": {"mediaType": mt.OCI_EMPTY, **config},
        "layers": [{"mediaType": CYCLONEDX, **layer}],
        "subject": {
            "mediaType": subject.media_type,
            "digest": subject.digest,
            "size": subject.size,
        },
        "annotations": {"org.opencontainers.image.created": now},
    }
    return json.dumps(manifest, indent=2).encode()


def attach_sbom(
    ctx: RegistryContext, *, account_id: str, name: str, reference: str, document: dict[str, Any]
) -> str:
    """Store `document` as a referrer of the image; the referrer manifest's digest."""
    subject = _subject(ctx, account_id, name, reference)
    data = json.dumps(document, indent=2, sort_keys=True).encode()
    with ctx.db.write() as session:
        lock_blobs(session, [f"sha256:{hashlib.sha256(x).hexdigest()}" for x in (data, _EMPTY)])
        layer = _put_blob(ctx, session, subject.repository_id, data)
        config = _put_blob(ctx, session, subject.repository_id, _EMPTY)
        raw = _referrer(subject, config, layer, ctx.now().strftime("%Y-%m-%dT%H:%M:%SZ"))
        repository = session.get(m.Repository, subject.repository_id)
        assert repository is not None
        digest = f"sha256:{hashlib.sha256(raw).hexdigest()}"
        manifests.put_manifest(
            session, repository=repository, reference=digest, raw=raw, content_type=mt.OCI_MANIFEST
        )
    return digest
