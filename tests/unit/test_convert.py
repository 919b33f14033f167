"""Manifest conversion, OCI image manifest ⇄ Docker schema 2: what converts, what it becomes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stiva.oci import mediatypes as mt
from stiva.oci.convert import CONVERSIONS, convert, convert_for
from stiva.oci.manifest import parse_manifest

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64
FOREIGN_URLS = ["https://store.example.com/layer"]


def oci_image(**extra: Any) -> dict[str, Any]:
    return {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": {
            "mediaType": mt.OCI_IMAGE_CONFIG,
            "digest": D1,
            "size": 10,
            "annotations": {"on": "config"},
        },
        "layers": [
            {
                "mediaType": mt.OCI_LAYER_GZIP,
                "digest": D2,
                "size": 20,
                "annotations": {"org.opencontainers.image.title": "layer.tgz"},
            },
            {
                "mediaType": mt.OCI_NONDISTRIBUTABLE_GZIP,
                "digest": D3,
                "size": 30,
                "urls": FOREIGN_URLS,
            },
        ],
        "annotations": {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"},
        **extra,
    }


def docker_image() -> dict[str, Any]:
    return {
        "schemaVersion": 2,
        "mediaType": mt.DOCKER_MANIFEST,
        "config": {"mediaType": mt.DOCKER_IMAGE_CONFIG, "size": 10, "digest": D1},
        "layers": [
            {"mediaType": mt.DOCKER_LAYER_GZIP, "size": 20, "digest": D2},
            {"mediaType": mt.DOCKER_FOREIGN_GZIP, "size": 30, "digest": D3, "urls": FOREIGN_URLS},
        ],
    }


def raw(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=2).encode()


def test_oci_image_becomes_docker_schema2_without_annotations() -> None:
    source = parse_manifest(raw(oci_image()), mt.OCI_MANIFEST)
    converted = convert(source, mt.DOCKER_MANIFEST)
    assert converted is not None
    assert json.loads(converted) == docker_image()
    # Docker's field order (Distribution's schema2 structs): mediaType, size, digest, urls.
    assert list(json.loads(converted)["layers"][1]) == ["mediaType", "size", "digest", "urls"]
    parsed = parse_manifest(converted, mt.DOCKER_MANIFEST)  # a valid Docker schema 2 manifest
    assert parsed.media_type == mt.DOCKER_MANIFEST
    assert [str(d.digest) for d in parsed.blob_references()] == [D1, D2]  # foreign: not held
    assert [str(d.digest) for d in parsed.layers] == [D2, D3]
    assert parsed.annotations == {}
    assert convert(source, mt.DOCKER_MANIFEST) == converted  # the same bytes every time


def test_docker_schema2_becomes_an_oci_image() -> None:
    source = parse_manifest(raw(docker_image()), mt.DOCKER_MANIFEST)
    converted = convert(source, mt.OCI_MANIFEST)
    assert converted is not None
    doc = json.loads(converted)
    assert doc == {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": {"mediaType": mt.OCI_IMAGE_CONFIG, "digest": D1, "size": 10},
        "layers": [
            {"mediaType": mt.OCI_LAYER_GZIP, "digest": D2, "size": 20},
            {
                "mediaType": mt.OCI_NONDISTRIBUTABLE_GZIP,
                "digest": D3,
                "size": 30,
                "urls": FOREIGN_URLS,
            },
        ],
    }
    assert list(doc["config"]) == ["mediaType", "digest", "size"]  # OCI's field order
    assert parse_manifest(converted, mt.OCI_MANIFEST).media_type == mt.OCI_MANIFEST


def test_round_trip_loses_only_the_annotations() -> None:
    source = oci_image()
    there = convert(parse_manifest(raw(source), mt.OCI_MANIFEST), mt.DOCKER_MANIFEST)
    assert there is not None
    back = convert(parse_manifest(there, mt.DOCKER_MANIFEST), mt.OCI_MANIFEST)
    assert back is not None
    del source["annotations"], source["config"]["annotations"], source["layers"][0]["annotations"]
    assert json.loads(back) == source


def _layer(media_type: str) -> dict[str, Any]:
    return {"layers": [{"mediaType": media_type, "digest": D2, "size": 20}]}


@pytest.mark.parametrize(
    "extra",
    [
        {"config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": D1, "size": 2}},
        {
            "config": {
                "mediaType": "application/vnd.cncf.helm.config.v1+json",
                "digest": D1,
                "size": 2,
            }
        },
        _layer("application/vnd.oci.image.layer.v1.tar+zstd"),
        _layer("application/vnd.oci.image.layer.v1.tar"),
        _layer("application/vnd.oci.image.layer.nondistributable.v1.tar"),
        _layer(mt.DOCKER_LAYER_GZIP),  # a Docker type in an OCI manifest: not ours to guess
        _layer("application/vnd.example.payload"),
        {"artifactType": "application/vnd.example.sbom"},
        {"subject": {"mediaType": mt.OCI_MANIFEST, "digest": D3, "size": 100}},
        {"layers": []},  # Docker schema 2 needs a layer
    ],
    ids=[
        "empty config",
        "helm config",
        "zstd layer",
        "uncompressed layer",
        "non-distributable uncompressed",
        "docker layer type",
        "artifact layer",
        "artifactType",
        "subject",
        "no layers",
    ],
)
def test_what_does_not_convert_to_docker(extra: dict[str, Any]) -> None:
    source = parse_manifest(raw(oci_image(**extra)), mt.OCI_MANIFEST)
    assert convert(source, mt.DOCKER_MANIFEST) is None
    assert convert_for(source.raw, mt.OCI_MANIFEST, {mt.DOCKER_MANIFEST}) is None


def test_what_does_not_convert_to_oci() -> None:
    zstd = docker_image()
    zstd["layers"][0]["mediaType"] = "application/vnd.oci.image.layer.v1.tar+zstd"
    other_config = docker_image()
    other_config["config"]["mediaType"] = "application/vnd.example.config"
    for doc in (zstd, other_config):
        source = parse_manifest(raw(doc), mt.DOCKER_MANIFEST)
        assert convert(source, mt.OCI_MANIFEST) is None


def test_indexes_lists_and_same_format_targets_do_not_convert() -> None:
    assert CONVERSIONS == {
        mt.OCI_MANIFEST: mt.DOCKER_MANIFEST,
        mt.DOCKER_MANIFEST: mt.OCI_MANIFEST,
    }
    child = {"mediaType": mt.OCI_MANIFEST, "digest": D1, "size": 5}
    for media_type, target in (
        (mt.OCI_INDEX, mt.DOCKER_MANIFEST_LIST),
        (mt.OCI_INDEX, mt.OCI_INDEX),
    ):
        index = parse_manifest(
            raw({"schemaVersion": 2, "mediaType": media_type, "manifests": [child]}), media_type
        )
        assert convert(index, target) is None
    image = parse_manifest(raw(oci_image()), mt.OCI_MANIFEST)
    for target in (mt.OCI_MANIFEST, mt.DOCKER_SCHEMA1, mt.OCI_INDEX):
        assert convert(image, target) is None


def test_convert_for_needs_the_other_format_accepted() -> None:
    data = raw(oci_image())
    assert convert_for(data, mt.OCI_MANIFEST, set()) is None
    assert convert_for(data, mt.OCI_MANIFEST, {mt.DOCKER_SCHEMA1, mt.OCI_INDEX}) is None
    converted = convert_for(data, mt.OCI_MANIFEST, [mt.DOCKER_MANIFEST_LIST, mt.DOCKER_MANIFEST])
    assert converted is not None
    assert converted[1] == mt.DOCKER_MANIFEST
    assert json.loads(converted[0]) == docker_image()
    index = raw({"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": []})
    assert convert_for(index, mt.OCI_INDEX, {mt.DOCKER_MANIFEST_LIST}) is None
