"""Parse and validate manifests: Docker schema 2 (+ manifest list), OCI image manifest and index.

`parse_manifest(raw, content_type)` takes the exact bytes a client pushed and returns what the
registry needs to know about them: what they reference (blobs, child manifests), their subject and
artifact type (for the referrers API), and their digest (sha256 of those exact bytes). It never
re-serialises: the registry stores and serves `raw` untouched.

Media type resolution, following the OCI image spec and Distribution:
- the JSON `mediaType` field, when present, must agree with a manifest Content-Type header;
- with neither naming a manifest type, the shape decides (`manifests` → OCI index,
  `config` → OCI image manifest);
- Docker schema 1 is refused with a clear message (deprecated, never produced by current clients).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from stiva.errors import InvalidDigest, InvalidManifest
from stiva.jsontext import LONE_SURROGATE, has_lone_surrogate
from stiva.oci import mediatypes as mt
from stiva.oci.digest import Digest

MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # ECR's imageManifest limit: 4,194,304

_MEDIA_TYPE = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$"
)


@dataclass(frozen=True, slots=True)
class Descriptor:
    media_type: str
    digest: Digest
    size: int
    artifact_type: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    urls: tuple[str, ...] = ()
    platform: dict[str, Any] | None = None

    @property
    def distributable(self) -> bool:
        """False for foreign / non-distributable layers, which a registry need not hold."""
        return self.media_type not in mt.NON_DISTRIBUTABLE_LAYERS


@dataclass(frozen=True, slots=True)
class Manifest:
    raw: bytes
    digest: Digest
    media_type: str
    config: Descriptor | None
    layers: tuple[Descriptor, ...]
    manifests: tuple[Descriptor, ...]
    subject: Descriptor | None
    artifact_type: str | None
    annotations: dict[str, str]

    @property
    def is_index(self) -> bool:
        return self.media_type in mt.INDEX_TYPES

    @property
    def size(self) -> int:
        return len(self.raw)

    def blob_references(self) -> list[Descriptor]:
        """Blobs the registry must hold for this manifest (config + distributable layers)."""
        refs = [self.config] if self.config is not None else []
        return refs + [layer for layer in self.layers if layer.distributable]

    def referrer_artifact_type(self) -> str | None:
        """The artifactType a referrers listing reports: artifactType, else config media type."""
        if self.artifact_type:
            return self.artifact_type
        return self.config.media_type if self.config is not None else None

    def image_size(self) -> int:
        """Compressed size as ECR reports it: config + layers (0 for an index here)."""
        return sum(d.size for d in self.blob_references())


def parse_manifest(raw: bytes, content_type: str | None, algorithm: str = "sha256") -> Manifest:
    """Validate `raw` as a manifest and describe it. Raises InvalidManifest with the reason."""
    if len(raw) > MAX_MANIFEST_BYTES:
        raise InvalidManifest(f"manifest is {len(raw)} bytes; the limit is {MAX_MANIFEST_BYTES}")
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidManifest(f"manifest is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidManifest("manifest JSON is nested too deeply") from None
    if not isinstance(doc, dict):
        raise InvalidManifest("manifest must be a JSON object")
    if has_lone_surrogate(doc):
        raise InvalidManifest(f"manifest is not valid Unicode: {LONE_SURROGATE}")
    media_type = _resolve_media_type(doc, _base_type(content_type))
    if doc.get("schemaVersion") != 2 or isinstance(doc.get("schemaVersion"), bool):
        raise InvalidManifest("manifest schemaVersion must be 2")
    if media_type in mt.INDEX_TYPES:
        return _parse_index(raw, doc, media_type, algorithm)
    return _parse_image(raw, doc, media_type, algorithm)


def _base_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def _resolve_media_type(doc: dict[str, Any], header: str | None) -> str:
    field_type = doc.get("mediaType")
    if field_type is not None and not isinstance(field_type, str):
        raise InvalidManifest("manifest mediaType must be a string")
    for candidate in (field_type, header):
        if candidate in mt.SCHEMA1_TYPES:
            raise InvalidManifest(
                "Docker schema 1 manifests are not supported; push schema 2 or OCI manifests"
            )
    header_is_manifest = header in mt.MANIFEST_TYPES
    if field_type:
        if field_type not in mt.MANIFEST_TYPES:
            raise InvalidManifest(f"unsupported manifest media type '{field_type}'")
        if header_is_manifest and header != field_type:
            raise InvalidManifest(
                f"manifest mediaType '{field_type}' does not match Content-Type '{header}'"
            )
        return field_type
    if header_is_manifest:
        assert header is not None
        if header in mt.DOCKER_TYPES:
            raise InvalidManifest(f"a manifest of type '{header}' must carry its mediaType field")
        return header
    if "manifests" in doc:
        return mt.OCI_INDEX
    if "config" in doc:
        return mt.OCI_MANIFEST
    raise InvalidManifest("cannot tell the manifest's media type: no mediaType and no known shape")


def _parse_image(raw: bytes, doc: dict[str, Any], media_type: str, algorithm: str) -> Manifest:
    if "manifests" in doc:
        raise InvalidManifest(f"a manifest of type '{media_type}' must not have 'manifests'")
    config = _descriptor(doc.get("config"), "config")
    layers_doc = doc.get("layers")
    if not isinstance(layers_doc, list):
        raise InvalidManifest("manifest 'layers' must be an array")
    layers = tuple(_descriptor(d, f"layers[{i}]") for i, d in enumerate(layers_doc))
    if media_type == mt.DOCKER_MANIFEST and not layers:
        raise InvalidManifest("a Docker schema 2 manifest must have at least one layer")
    return Manifest(
        raw=raw,
        digest=Digest.of(raw, algorithm),
        media_type=media_type,
        config=config,
        layers=layers,
        manifests=(),
        subject=_optional_descriptor(doc, "subject"),
        artifact_type=_artifact_type(doc),
        annotations=_annotations(doc.get("annotations"), "annotations"),
    )


def _parse_index(raw: bytes, doc: dict[str, Any], media_type: str, algorithm: str) -> Manifest:
    if "config" in doc or "layers" in doc:
        raise InvalidManifest(f"a manifest of type '{media_type}' must not have config or layers")
    children_doc = doc.get("manifests")
    if not isinstance(children_doc, list):
        raise InvalidManifest("index 'manifests' must be an array")
    children = tuple(_descriptor(d, f"manifests[{i}]") for i, d in enumerate(children_doc))
    return Manifest(
        raw=raw,
        digest=Digest.of(raw, algorithm),
        media_type=media_type,
        config=None,
        layers=(),
        manifests=children,
        subject=_optional_descriptor(doc, "subject"),
        artifact_type=_artifact_type(doc),
        annotations=_annotations(doc.get("annotations"), "annotations"),
    )


def _artifact_type(doc: dict[str, Any]) -> str | None:
    value = doc.get("artifactType")
    if value is None:
        return None
    if not isinstance(value, str) or not _MEDIA_TYPE.match(value):
        raise InvalidManifest(f"artifactType '{value}' is not a valid media type")
    return value


def _optional_descriptor(doc: dict[str, Any], key: str) -> Descriptor | None:
    value = doc.get(key)
    return None if value is None else _descriptor(value, key)


def _descriptor(value: object, where: str) -> Descriptor:
    if not isinstance(value, dict):
        raise InvalidManifest(f"{where} must be a descriptor object")
    media_type = value.get("mediaType")
    if not isinstance(media_type, str) or not _MEDIA_TYPE.match(media_type):
        raise InvalidManifest(f"{where}.mediaType '{media_type}' is not a valid media type")
    size = value.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise InvalidManifest(f"{where}.size must be a non-negative integer")
    digest_text = value.get("digest")
    if not isinstance(digest_text, str):
        raise InvalidManifest(f"{where}.digest must be a string")
    try:
        digest = Digest.parse(digest_text)
    except InvalidDigest as exc:
        raise InvalidManifest(f"{where}.digest: {exc.message}") from None
    urls = value.get("urls", [])
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise InvalidManifest(f"{where}.urls must be an array of strings")
    platform = value.get("platform")
    if platform is not None and not isinstance(platform, dict):
        raise InvalidManifest(f"{where}.platform must be an object")
    return Descriptor(
        media_type=media_type,
        digest=digest,
        size=size,
        artifact_type=_artifact_type(value),
        annotations=_annotations(value.get("annotations"), f"{where}.annotations"),
        urls=tuple(urls),
        platform=platform,
    )


def _annotations(value: object, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidManifest(f"{where} must be an object of strings")
    return dict(value)
