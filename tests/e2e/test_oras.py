"""oras (the PyPI client) against a live Stiva: an artifact with a subject, found via referrers."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from urllib.parse import quote

import oras.client
import oras.oci
import pytest

from tests.support.live import LiveServer

SBOM_TYPE = "application/vnd.example.sbom.v1+json"
SIGNATURE_TYPE = "application/vnd.example.signature.v1"


@pytest.fixture
def client(server: LiveServer) -> oras.client.OrasClient:
    client = oras.client.OrasClient(hostname=server.host, insecure=True, auth_backend="basic")
    client.auth.set_basic_auth("AWS", server.password())
    return client


def _push_artifact(
    client: oras.client.OrasClient,
    server: LiveServer,
    tmp_path: Path,
    tag: str,
    content: bytes,
    config_type: str,
    subject: oras.oci.Subject | None,
) -> str:
    path = tmp_path / f"{tag}.json"
    path.write_bytes(content)
    config = tmp_path / f"{tag}.config.json"
    config.write_text("{}")
    response = client.push(
        target=f"{server.host}/e2e/oras:{tag}",
        files=[str(path)],
        manifest_config=f"{config}:{config_type}",
        subject=subject,
        disable_path_validation=True,
        quiet=True,
    )
    assert response.status_code == 201, response.text
    if subject is not None:
        assert response.headers["OCI-Subject"] == subject.digest
    return str(response.headers["Docker-Content-Digest"])


def test_artifact_with_subject_is_discovered(
    server: LiveServer, client: oras.client.OrasClient, tmp_path: Path
) -> None:
    server.ecr().create_repository(repositoryName="e2e/oras")
    subject_digest = _push_artifact(
        client,
        server,
        tmp_path,
        "app",
        b'{"app": 1}',
        "application/vnd.example.app.config.v1+json",
        None,
    )
    manifest = client.do_request(f"http://{server.host}/v2/e2e/oras/manifests/{subject_digest}")
    assert hashlib.sha256(manifest.content).hexdigest() == subject_digest.split(":")[1]
    subject = oras.oci.Subject(
        mediaType=manifest.headers["Content-Type"],
        digest=subject_digest,
        size=len(manifest.content),
    )
    sbom = _push_artifact(client, server, tmp_path, "sbom", b'{"sbom": true}', SBOM_TYPE, subject)
    signature = _push_artifact(client, server, tmp_path, "sig", b"signed", SIGNATURE_TYPE, subject)

    listing = client.do_request(f"http://{server.host}/v2/e2e/oras/referrers/{subject_digest}")
    assert listing.status_code == 200
    assert listing.headers["Content-Type"] == "application/vnd.oci.image.index.v1+json"
    found = {m["digest"]: m["artifactType"] for m in listing.json()["manifests"]}
    assert found == {sbom: SBOM_TYPE, signature: SIGNATURE_TYPE}

    referrers = f"http://{server.host}/v2/e2e/oras/referrers/{subject_digest}"
    filtered = client.do_request(f"{referrers}?artifactType={quote(SBOM_TYPE, safe='')}")
    assert filtered.headers["OCI-Filters-Applied"] == "artifactType"
    assert [m["digest"] for m in filtered.json()["manifests"]] == [sbom]

    # the control plane sees the referrer as an image whose subject is the app
    details = server.ecr().describe_images(
        repositoryName="e2e/oras", imageIds=[{"imageDigest": sbom}]
    )
    assert details["imageDetails"][0]["subjectManifestDigest"] == subject_digest

    pulled = client.pull(target=f"{server.host}/e2e/oras:sbom", outdir=str(tmp_path / "out"))
    assert [Path(p).read_bytes() for p in pulled] == [b'{"sbom": true}']
    assert (
        json.loads(manifest.content)["config"]["mediaType"]
        == "application/vnd.example.app.config.v1+json"
    )
