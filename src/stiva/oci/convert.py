"""Converting an image manifest between OCI and Docker schema 2, as ECR does on pull by tag.

ECR serves a manifest pulled **by tag** in another format when the client's Accept header (or
BatchGetImage's `acceptedMediaTypes`) excludes the stored one: OCI image manifest → Docker v2
schema 2 and back. Pulls by digest never convert: a digest names exact bytes. Stiva does not
produce Docker schema 1, and does not convert indexes or manifest lists (their children keep
their own format and digests, so a converted list would name manifests that do not match it).

A manifest converts when every part of it has a counterpart in the other format:

    OCI (application/vnd.oci.…)              Docker schema 2 (application/vnd.docker.…)
    image.manifest.v1+json                   distribution.manifest.v2+json
    config image.config.v1+json              container.image.v1+json
    layer  image.layer.v1.tar+gzip           image.rootfs.diff.tar.gzip
    layer  image.layer.nondistributable.     image.rootfs.foreign.diff.tar.gzip (`urls` kept)
           v1.tar+gzip

Anything else makes it not convertible: another config type (an artifact), another layer type
(zstd, uncompressed tar, artifact payloads), a `subject` or `artifactType` (referrers), or no
layers at all (Docker schema 2 requires one). Docker schema 2 has no annotations: converting to it
drops them, on the manifest and on its descriptors. The config blob is the same JSON in both
formats, so descriptors keep their digests and sizes; only the manifest's bytes (and so its
digest) change. Output is deterministic: the same stored manifest always converts to the same
bytes (3-space indentation and Go field order, as Distribution's schema2 package writes them).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from stiva.errors import InvalidManifest
from stiva.oci import mediatypes as mt
from stiva.oci.manifest import Descriptor, Manifest, parse_manifest


@dataclass(frozen=True, slots=True)
class _Direction:
    target: str
    configs: dict[str, str]  # config media type → the target's
    layers: dict[str, str]  # layer media type → the target's
    fields: tuple[str, ...]  # descriptor fields in the target's (Go struct) order


_CONFIG = {mt.OCI_IMAGE_CONFIG: mt.DOCKER_IMAGE_CONFIG}
_LAYERS = {
    mt.OCI_LAYER_GZIP: mt.DOCKER_LAYER_GZIP,
    mt.OCI_NONDISTRIBUTABLE_GZIP: mt.DOCKER_FOREIGN_GZIP,
}
_DIRECTIONS = {
    mt.OCI_MANIFEST: _Direction(
        mt.DOCKER_MANIFEST, _CONFIG, _LAYERS, ("mediaType", "size", "digest", "urls")
    ),
    mt.DOCKER_MANIFEST: _Direction(
        mt.OCI_MANIFEST,
        {docker: oci for oci, docker in _CONFIG.items()},
        {docker: oci for oci, docker in _LAYERS.items()},
        ("mediaType", "digest", "size", "urls"),
    ),
}
CONVERSIONS = {source: direction.target for source, direction in _DIRECTIONS.items()}
"""The other format of each convertible manifest type."""


def convert(manifest: Manifest, target: str) -> bytes | None:
    """`manifest` as a manifest of type `target`, or None when it does not convert to it."""
    direction = _DIRECTIONS.get(manifest.media_type)
    if direction is None or direction.target != target or not _convertible(manifest, direction):
        return None
    assert manifest.config is not None  # _convertible
    doc = {
        "schemaVersion": 2,
        "mediaType": target,
        "config": _descriptor(manifest.config, direction.configs, direction),
        "layers": [_descriptor(layer, direction.layers, direction) for layer in manifest.layers],
    }
    return json.dumps(doc, indent=3, ensure_ascii=False).encode("utf-8")


def convert_for(raw: bytes, media_type: str, accepted: Collection[str]) -> tuple[bytes, str] | None:
    """A stored manifest (`raw`, of `media_type`) in the other format, when `accepted` names it
    and the manifest converts: (bytes, media type). None otherwise."""
    target = CONVERSIONS.get(media_type)
    if target is None or target not in accepted:
        return None
    try:
        manifest = parse_manifest(raw, media_type)
    except InvalidManifest:
        return None  # stored before a rule tightened: served as it is, never converted
    converted = convert(manifest, target)
    return None if converted is None else (converted, target)


def _convertible(manifest: Manifest, direction: _Direction) -> bool:
    return (
        manifest.config is not None
        and manifest.config.media_type in direction.configs
        and bool(manifest.layers)
        and all(layer.media_type in direction.layers for layer in manifest.layers)
        and manifest.subject is None
        and manifest.artifact_type is None
    )


def _descriptor(
    descriptor: Descriptor, media_types: dict[str, str], direction: _Direction
) -> dict[str, Any]:
    """The descriptor in the target format: media type mapped, annotations and the rest dropped."""
    values: dict[str, Any] = {
        "mediaType": media_types[descriptor.media_type],
        "size": descriptor.size,
        "digest": str(descriptor.digest),
        "urls": list(descriptor.urls),
    }
    return {key: values[key] for key in direction.fields if values[key] != []}
