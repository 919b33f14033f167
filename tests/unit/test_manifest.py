"""Manifest parsing: media types, shapes, references, exact bytes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from stiva.errors import InvalidManifest
from stiva.oci import mediatypes as mt
from stiva.oci.manifest import MAX_MANIFEST_BYTES, parse_manifest

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64


def image(**extra: Any) -> dict[str, Any]:
    return {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": {"mediaType": mt.OCI_IMAGE_CONFIG, "digest": D1, "size": 10},
        "layers": [
            {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": D2, "size": 20}
        ],
        **extra,
    }


def raw(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=3).encode()


def test_image_manifest_keeps_exact_bytes_and_digest() -> None:
    data = raw(image())
    manifest = parse_manifest(data, mt.OCI_MANIFEST)
    assert manifest.raw is data
    assert str(manifest.digest) == "sha256:" + hashlib.sha256(data).hexdigest()
    assert [str(d.digest) for d in manifest.blob_references()] == [D1, D2]
    assert manifest.image_size() == 30
    assert not manifest.is_index


def test_sha512_digest_when_asked() -> None:
    data = raw(image())
    assert (
        str(parse_manifest(data, None, "sha512").digest)
        == "sha512:" + hashlib.sha512(data).hexdigest()
    )


def test_index_children_and_subject() -> None:
    doc = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_INDEX,
        "manifests": [
            {"mediaType": mt.OCI_MANIFEST, "digest": D1, "size": 5, "platform": {"os": "linux"}}
        ],
        "subject": {"mediaType": mt.OCI_MANIFEST, "digest": D3, "size": 9},
        "artifactType": "application/vnd.example+json",
    }
    manifest = parse_manifest(raw(doc), None)
    assert manifest.is_index
    assert [str(c.digest) for c in manifest.manifests] == [D1]
    assert manifest.subject is not None
    assert str(manifest.subject.digest) == D3
    assert manifest.referrer_artifact_type() == "application/vnd.example+json"
    assert manifest.blob_references() == []


def test_referrer_artifact_type_falls_back_to_config_media_type() -> None:
    assert parse_manifest(raw(image()), None).referrer_artifact_type() == mt.OCI_IMAGE_CONFIG


def test_media_type_inferred_from_shape_without_field_or_header() -> None:
    doc = image()
    del doc["mediaType"]
    assert parse_manifest(raw(doc), "application/octet-stream").media_type == mt.OCI_MANIFEST
    index = {"schemaVersion": 2, "manifests": []}
    assert parse_manifest(raw(index), None).media_type == mt.OCI_INDEX


def test_foreign_layers_are_not_required_blobs() -> None:
    doc = image()
    doc["layers"].append(
        {
            "mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
            "digest": D3,
            "size": 1,
            "urls": ["https://example.com/l"],
        }
    )
    manifest = parse_manifest(raw(doc), None)
    assert D3 not in {str(d.digest) for d in manifest.blob_references()}


@pytest.mark.parametrize(
    ("data", "content_type", "reason"),
    [
        (b"not json", None, "not valid JSON"),
        (b"[]", None, "must be a JSON object"),
        (raw(image(schemaVersion=1)), None, "schemaVersion must be 2"),
        (raw(image(schemaVersion=True)), None, "schemaVersion must be 2"),
        (raw(image()), mt.DOCKER_MANIFEST, "does not match Content-Type"),
        (raw(image(mediaType="application/x-thing")), None, "unsupported manifest media type"),
        (raw(image(mediaType=mt.DOCKER_SCHEMA1)), None, "schema 1"),
        (
            raw(image(config={"mediaType": "x/y", "digest": "sha256:zz", "size": 1})),
            None,
            "config.digest",
        ),
        (raw(image(config={"mediaType": "x/y", "digest": D1, "size": -1})), None, "non-negative"),
        (
            raw(image(config={"mediaType": "bad", "digest": D1, "size": 1})),
            None,
            "not a valid media type",
        ),
        (raw(image(layers="nope")), None, "'layers' must be an array"),
        (raw(image(manifests=[])), None, "must not have 'manifests'"),
        (raw(image(annotations={"a": 1})), None, "annotations must be an object of strings"),
        (raw(image(artifactType="nonsense")), None, "artifactType"),
        (
            raw(
                {
                    "schemaVersion": 2,
                    "mediaType": mt.DOCKER_MANIFEST,
                    "config": image()["config"],
                    "layers": [],
                }
            ),
            None,
            "at least one layer",
        ),
        (raw({"schemaVersion": 2}), None, "cannot tell the manifest's media type"),
    ],
)
def test_invalid_manifests_say_why(data: bytes, content_type: str | None, reason: str) -> None:
    with pytest.raises(InvalidManifest, match=reason):
        parse_manifest(data, content_type)


def test_oversized_manifest_is_refused() -> None:
    doc = image(annotations={"pad": "x" * MAX_MANIFEST_BYTES})
    with pytest.raises(InvalidManifest, match="limit"):
        parse_manifest(raw(doc), None)
