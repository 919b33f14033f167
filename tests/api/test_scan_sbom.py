"""SBOMs: an image's inventory as CycloneDX 1.5 (`stiva sbom`), from its scan or analysed on
demand, and attached to the image as an OCI referrer that clients find with the referrers API."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from stiva.cli import main
from stiva.oci.digest import Digest
from stiva.services.scanning.sbom import export_sbom
from stiva.storage.layout import blob_path
from tests.api.test_iam_helpers import allow, iam, new_user_keys, policy
from tests.api.test_scan_authorization import ecr_as
from tests.support.layers import LayerBuilder
from tests.support.registry import basic
from tests.support.scanning import Scanning, application, debian_base, scanning_registry

CYCLONEDX = "application/vnd.cyclonedx+json"


@pytest.fixture
def sc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scanning]:
    with scanning_registry(tmp_path / "data", monkeypatch) as handle:
        handle.registry.create_repository("app")
        yield handle


def by_purl(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["purl"]: c for c in doc["components"] if "purl" in c}


def test_sbom_of_an_image_never_scanned(sc: Scanning) -> None:
    layers = [debian_base().gzip(), application().gzip()]
    digest = sc.push_layers("app", "v1", layers)
    doc = export_sbom(sc.ctx, account_id=sc.account_id, name="app", reference="v1")
    assert (doc["bomFormat"], doc["specVersion"], doc["version"]) == ("CycloneDX", "1.5", 1)
    component = doc["metadata"]["component"]
    assert (component["type"], component["name"], component["version"]) == (
        "container", "app", digest,
    )  # fmt: skip
    assert component["purl"] == f"pkg:oci/app@{digest}?repository_url=127.0.0.1:5000/app"
    assert doc["components"][0] == {
        "type": "operating-system",
        "bom-ref": "os:debian@12",
        "name": "debian",
        "version": "12",
        "description": "Debian GNU/Linux 12 (bookworm)",
    }
    components = by_purl(doc)
    lodash = components["pkg:npm/lodash@4.17.20"]
    assert lodash["properties"] == [
        {"name": "stiva:package:ecosystem", "value": "npm"},
        {"name": "stiva:package:path", "value": "srv/app/node_modules/lodash/package.json"},
        {
            "name": "stiva:package:layer",
            "value": json.loads(_manifest(sc, digest))["layers"][1]["digest"],
        },
    ]
    dmsetup = next(c for p, c in components.items() if p.startswith("pkg:deb/debian/dmsetup@"))
    props = {p["name"]: p["value"] for p in dmsetup["properties"]}
    assert (props["stiva:package:source_name"], props["stiva:package:source_version"]) == (
        "lvm2", "2.03.16-2",
    )  # fmt: skip
    assert len(doc["components"]) == len({c["bom-ref"] for c in doc["components"]})


def _manifest(sc: Scanning, digest: str) -> str:
    got = sc.call("BatchGetImage", repositoryName="app", imageIds=[{"imageDigest": digest}])
    return str(got["images"][0]["imageManifest"])


def test_sbom_comes_from_the_stored_inventory_once_scanned(sc: Scanning) -> None:
    layer = debian_base().gzip()
    digest = sc.push_layers("app", "v1", [layer])
    sc.call("StartImageScan", repositoryName="app", imageId={"imageDigest": digest})
    sc.drain()
    sc.ctx.storage.delete(blob_path(Digest.of(layer)))  # the SBOM must not need it
    doc = export_sbom(sc.ctx, account_id=sc.account_id, name="app", reference=digest)
    assert any(p.startswith("pkg:deb/debian/zlib1g@") for p in by_purl(doc))


def test_sbom_command_writes_and_attaches(sc: Scanning, tmp_path: Path) -> None:
    digest = sc.push_layers("app", "v1", [debian_base().gzip()])
    out = tmp_path / "sbom.json"
    result = CliRunner().invoke(
        main,
        [
            "sbom", "--data-dir", str(sc.registry.settings.data_dir), "--repository", "app",
            "-o", str(out), "--attach", "v1",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["metadata"]["component"]["version"] == digest
    referrers = sc.call(
        "ListImageReferrers", repositoryName="app", subjectId={"imageDigest": digest}
    )
    [referrer] = referrers["referrers"]
    assert referrer["artifactType"] == CYCLONEDX
    assert f"as referrer {referrer['digest']}" in result.output
    listing = sc.registry.client.get(
        f"/v2/app/referrers/{digest}", params={"artifactType": CYCLONEDX}, headers=sc.registry.auth
    )
    assert [m["digest"] for m in listing.json()["manifests"]] == [referrer["digest"]]
    manifest = json.loads(_manifest(sc, referrer["digest"]))
    blob = sc.registry.client.get(
        f"/v2/app/blobs/{manifest['layers'][0]['digest']}", headers=sc.registry.auth
    )
    assert json.loads(blob.content) == doc


def test_sbom_of_an_index_or_an_unknown_image_is_refused(sc: Scanning) -> None:
    child = sc.push_layers("app", None, [LayerBuilder().file("a", b"a").gzip()])
    sc.index("app", child, tag="multi")
    runner = CliRunner()
    data = ["--data-dir", str(sc.registry.settings.data_dir), "--repository", "app"]
    index = runner.invoke(main, ["sbom", *data, "multi"])
    assert index.exit_code != 0
    assert "cannot be scanned" in index.output
    missing = runner.invoke(main, ["sbom", *data, "nope"])
    assert missing.exit_code != 0
    assert "does not exist" in missing.output


def test_sbom_through_the_registry_api_extension(sc: Scanning) -> None:
    digest = sc.push_layers("app", "v1", [debian_base().gzip(), application().gzip()])
    client, auth = sc.registry.client, sc.registry.auth
    got = client.get("/v2/app/_stiva/sbom/v1", headers=auth)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith(CYCLONEDX)
    doc = got.json()
    assert doc["metadata"]["component"]["version"] == digest
    expected = export_sbom(sc.ctx, account_id=sc.account_id, name="app", reference=digest)
    assert by_purl(doc) == by_purl(expected)
    assert (
        client.get(f"/v2/app/_stiva/sbom/{digest}", headers=auth).json()["components"]
        == (doc["components"])
    )
    missing = client.get("/v2/app/_stiva/sbom/nope", headers=auth)
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    anonymous = client.get("/v2/app/_stiva/sbom/v1")
    assert anonymous.status_code == 401


def test_the_sbom_extension_needs_describe_image_scan_findings(sc: Scanning) -> None:
    sc.push_layers("app", "v1", [debian_base().gzip()])
    registry = sc.registry
    client = iam(registry)
    keys = new_user_keys(client, "puller")
    arn = f"arn:aws:ecr:us-east-1:{registry.account_id}:repository/app"
    document = policy(allow("ecr:GetAuthorizationToken"), allow(["ecr:BatchGetImage"], arn))
    client.call("PutUserPolicy", UserName="puller", PolicyName="pull", PolicyDocument=document)
    token = ecr_as(registry, keys, "GetAuthorizationToken").json()
    password = base64.b64decode(token["authorizationData"][0]["authorizationToken"]).decode()
    auth = basic(password.split(":", 1)[1])
    assert registry.client.get("/v2/app/manifests/v1", headers=auth).status_code == 200
    denied = registry.client.get("/v2/app/_stiva/sbom/v1", headers=auth)
    assert denied.status_code == 403
    assert denied.json()["errors"][0]["code"] == "DENIED"
