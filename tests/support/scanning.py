"""Scanning test support: images built from the real package data in `tests/fixtures/shared/`,
the real advisory databases, the findings they must produce, and a scanning registry on a
manual clock.

The known answers are those of the pure scanner's unit tests (`tests/unit/test_scanning_match`):
the same layers, the same records, now pushed to a registry and read back through ECR's API.
ECR names a finding by its CVE: `expected_names` turns an advisory id into that name from the
record's own aliases (the first CVE alias, else the id).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from stiva.metadata import models as m
from stiva.services.context import RegistryContext
from stiva.services.scanning import vulndb_files
from stiva.services.scanning.vulndb import SourceReport, import_source
from tests.support.layers import (
    DATA,
    OS_PACKAGES,
    VULNDB,
    LayerBuilder,
    auditable_binary,
    dist_info,
    go_binary,
    metadata,
    osv_records,
)
from tests.support.lifecycle import Lifecycle, clocked_registry

PY, NPM = DATA / "python", DATA / "npm"
SITE = "usr/local/lib/python3.11/site-packages"
OSV = VULNDB / "osv"
SYNTHETIC = DATA / "osv" / "synthetic.json"
DATABASE = [OSV / "PyPI.zip", OSV / "Go.zip", OSV / "crates.io.zip", OSV / "npm-sample", SYNTHETIC]
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
GO_MODINFO = (
    "path\texample.com/app\nmod\texample.com/app\t(devel)\t\n"
    "dep\tgithub.com/gin-gonic/gin\tv1.5.0\th1:a=\ndep\tgolang.org/x/text\tv0.3.7\th1:b=\n"
)
URLLIB3_LIST = (
    "/.\n/usr\n/usr/lib\n/usr/lib/python3\n/usr/lib/python3/dist-packages\n"
    "/usr/lib/python3/dist-packages/urllib3\n/usr/lib/python3/dist-packages/urllib3/__init__.py\n"
    "/usr/lib/python3/dist-packages/urllib3-1.26.12.egg-info\n"
    "/usr/lib/python3/dist-packages/urllib3-1.26.12.egg-info/PKG-INFO\n"
)

# --- images ------------------------------------------------------------------------------------


def _jar(entries: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return raw.getvalue()


def _pom(group: str, artifact: str, version: str) -> dict[str, bytes]:
    props = f"groupId={group}\nartifactId={artifact}\nversion={version}\n"
    return {f"META-INF/maven/{group}/{artifact}/pom.properties": props.encode()}


def debian_base() -> LayerBuilder:
    """Debian 12: the real dpkg status, and two Python packages owned by dpkg packages."""
    deb = DATA / "debian"
    return (
        LayerBuilder()
        .file("etc/os-release", (OS_PACKAGES / "debian12-os-release").read_bytes())
        .file("var/lib/dpkg/status", (OS_PACKAGES / "debian12-dpkg-status").read_bytes())
        .file("var/lib/dpkg/info/python3-yaml.list", (deb / "python3-yaml.list").read_bytes())
        .file(
            "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA",
            (deb / "PyYAML-6.0.METADATA").read_bytes(),
        )
        .file("var/lib/dpkg/info/python3-urllib3.list", URLLIB3_LIST)
        .file(
            "usr/lib/python3/dist-packages/urllib3-1.26.12.egg-info/PKG-INFO",
            metadata("urllib3", "1.26.12"),
        )
    )


def application() -> LayerBuilder:
    """Python, npm, Go, Rust, Java and Ruby packages, from real metadata files."""
    log4j = _jar(_pom("org.apache.logging.log4j", "log4j-core", "2.14.1"))
    war = _jar({"WEB-INF/lib/log4j-core-2.14.1.jar": log4j, **_pom("com.example", "shop", "1.0.0")})
    gemspec = (
        'Gem::Specification.new do |s|\n  s.name = "rack".freeze\n  s.version = "2.2.3"\nend\n'
    )
    crates = [
        {"name": "app", "version": "0.1.0", "source": "local", "root": True},
        {"name": "smallvec", "version": "1.6.0", "source": "crates.io"},
        {"name": "ansi_term", "version": "0.12.1", "source": "crates.io"},
    ]
    builder = LayerBuilder()
    for name, version in [
        ("Jinja2", "2.10"),
        ("urllib3", "1.24.1"),
        ("requests", "2.19.1"),
        ("py", "1.11.0"),
        ("setuptools", "65.5.0"),
    ]:
        builder.file(
            dist_info(name, version, site=SITE),
            (PY / f"{name}-{version}.dist-info" / "METADATA").read_bytes(),
        )
    return (
        builder.file(
            f"{SITE}/PyYAML-5.3.egg-info/PKG-INFO",
            (PY / "PyYAML-5.3.egg-info" / "PKG-INFO").read_bytes(),
        )
        .file(dist_info("arrayfire", "3.5.0", site=SITE), metadata("arrayfire", "3.5.0"))
        .file(
            "srv/app/node_modules/lodash/package.json",
            (NPM / "lodash-4.17.20.package.json").read_bytes(),
        )
        .file(
            "srv/app/node_modules/minimist/package.json",
            (NPM / "minimist-1.2.5.package.json").read_bytes(),
        )
        .file(
            "srv/app/node_modules/mkdirp/node_modules/minimist/package.json",
            (NPM / "minimist-0.2.4.package.json").read_bytes(),
        )
        .file("usr/local/bin/server", go_binary("devel go1.23-abcdef", GO_MODINFO), mode=0o755)
        .file("usr/local/bin/tool", auditable_binary(crates), mode=0o755)
        .file("opt/shop/shop.war", war)
        .file("usr/local/bundle/specifications/rack-2.2.3.gemspec", gemspec)
    )


def cleanup() -> LayerBuilder:
    return LayerBuilder().whiteout(f"{SITE}/requests-2.19.1.dist-info")


def known_image_layers() -> list[bytes]:
    """Debian base (gzip), application (zstd), cleanup (plain tar): the known-answer image."""
    return [debian_base().gzip(), application().zstd(), cleanup().tar()]


def alpine_layer() -> bytes:
    root = OS_PACKAGES / "alpine-3.4"
    return (
        LayerBuilder()
        .file("etc/os-release", (root / "etc" / "os-release").read_bytes())
        .file("lib/apk/db/installed", (root / "lib" / "apk" / "db" / "installed").read_bytes())
        .gzip()
    )


# --- known answers (advisory id, package, version compared, fixed version, severity) ----------

EXPECTED_DEBIAN = {
    ("DEBIAN-TEST-0001", "dmsetup", "2.03.16-2", "2.03.16-3", "LOW"),
    ("DEBIAN-TEST-0001", "libdevmapper1.02.1", "2.03.16-2", "2.03.16-3", "LOW"),
    ("DEBIAN-TEST-0003", "zlib1g", "1:1.2.13.dfsg-1", "1:1.2.13.dfsg-2", "HIGH"),
    ("DEBIAN-TEST-0003", "zlib1g-dev", "1:1.2.13.dfsg-1", "1:1.2.13.dfsg-2", "HIGH"),
    ("DEBIAN-TEST-0005", "cpp", "1.203", "1.204", "INFORMATIONAL"),
    ("DEBIAN-TEST-0005", "g++", "1.203", "1.204", "INFORMATIONAL"),
    ("DEBIAN-TEST-0005", "gcc", "1.203", "1.204", "INFORMATIONAL"),
    ("DEBIAN-TEST-0008", "tar", "1.34+dfsg-1.2+deb12u1", None, "UNDEFINED"),
    ("DEBIAN-TEST-0013", "zlib1g", "1:1.2.13.dfsg-1", None, "UNDEFINED"),
    ("DEBIAN-TEST-0013", "zlib1g-dev", "1:1.2.13.dfsg-1", None, "UNDEFINED"),
    *(
        ("DEBIAN-TEST-0012", name, "2.36-9+deb12u14", "2.36-9+deb12u20", "UNDEFINED")
        for name in (
            "libc-bin", "libc-dev-bin", "libc-devtools", "libc-l10n", "libc6", "libc6-dbg",
            "libc6-dev", "locales",
        )
    ),
}  # fmt: skip
EXPECTED_LANGUAGE = {
    ("PYSEC-2019-217", "jinja2", "2.10", "2.10.1", "UNDEFINED"),
    ("PYSEC-2021-66", "jinja2", "2.10", "2.11.3", "UNDEFINED"),
    ("PYSEC-2019-132", "urllib3", "1.24.1", "1.24.3", "UNDEFINED"),
    ("PYSEC-2019-133", "urllib3", "1.24.1", "1.24.2", "UNDEFINED"),
    ("PYSEC-2020-148", "urllib3", "1.24.1", "1.25.9", "UNDEFINED"),
    ("PYSEC-2021-108", "urllib3", "1.24.1", "1.26.5", "UNDEFINED"),
    ("PYSEC-2023-192", "urllib3", "1.24.1", "1.26.17", "HIGH"),
    ("PYSEC-2023-207", "urllib3", "1.24.1", "1.24.2", "MEDIUM"),
    ("PYSEC-2023-212", "urllib3", "1.24.1", "1.26.18", "MEDIUM"),
    ("PYSEC-2020-96", "pyyaml", "5.3", "5.3.1", "UNDEFINED"),
    ("PYSEC-2021-142", "pyyaml", "5.3", "5.4", "UNDEFINED"),
    ("PYSEC-2022-42969", "py", "1.11.0", None, "UNDEFINED"),
    ("PYSEC-2022-43012", "setuptools", "65.5.0", "65.5.1", "UNDEFINED"),
    ("GHSA-35jh-r3h4-6jhm", "lodash", "4.17.20", "4.17.21", "HIGH"),
    ("GHSA-xvch-5gv4-984h", "minimist", "1.2.5", "1.2.6", "CRITICAL"),
    ("GO-2020-0001", "github.com/gin-gonic/gin", "v1.5.0", "1.6.0", "UNDEFINED"),
    ("GO-2021-0052", "github.com/gin-gonic/gin", "v1.5.0", "1.7.7", "UNDEFINED"),
    ("GO-2023-1737", "github.com/gin-gonic/gin", "v1.5.0", "1.9.1", "UNDEFINED"),
    ("GO-2022-1059", "golang.org/x/text", "v0.3.7", "0.3.8", "UNDEFINED"),
    ("GO-2026-5970", "golang.org/x/text", "v0.3.7", "0.39.0", "UNDEFINED"),
    ("RUSTSEC-2021-0003", "smallvec", "1.6.0", "1.6.1", "CRITICAL"),
    ("GHSA-TEST-log4j", "org.apache.logging.log4j:log4j-core", "2.14.1", "2.15.0", "CRITICAL"),
    ("GHSA-TEST-rack", "rack", "2.2.3", "2.2.3.1", "MEDIUM"),
}
NOT_REPORTED = {
    "DEBIAN-TEST-0002", "DEBIAN-TEST-0004", "DEBIAN-TEST-0006", "DEBIAN-TEST-0007",
    "DEBIAN-TEST-0009", "DEBIAN-TEST-0010", "DEBIAN-TEST-0011", "DEBIAN-TEST-0014",
    "GHSA-p6mc-m468-83gw", "GHSA-TEST-rack-old", "PYSEC-2019-144", "PYSEC-2018-28",
    "PYSEC-2023-74", "RUSTSEC-2021-0139",
}  # fmt: skip
SEVERITY_ORDER = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED"]


def aliases() -> dict[str, list[str]]:
    """advisory id -> aliases, from the records of `DATABASE`."""
    found: dict[str, list[str]] = {}
    for path in DATABASE:
        records = json.loads(path.read_text()) if path.suffix == ".json" else osv_records(path)
        for record in records:
            found[str(record["id"])] = list(record.get("aliases") or [])  # type: ignore[call-overload]
    return found


def ecr_name(advisory_id: str, known: dict[str, list[str]]) -> str:
    """The name ECR gives the finding: a CVE id when the advisory is or aliases one."""
    if advisory_id.startswith("CVE-"):
        return advisory_id
    cves = sorted(a for a in known.get(advisory_id, []) if a.startswith("CVE-"))
    return cves[0] if cves else advisory_id


# --- the vulnerability database and a scanning registry ----------------------------------------


def import_paths(ctx: RegistryContext, *paths: Path, prune: bool = False) -> list[SourceReport]:
    sources = [source for path in paths for source in vulndb_files.sources_of(path)]
    return [import_source(ctx.db, s, prune=prune, now=ctx.now) for s in sources]


def job_errors(ctx: RegistryContext, kind: str) -> list[str]:
    """The last error of every job of this kind that failed (and waits for a retry, or gave up)."""
    with ctx.db.read() as session:
        rows = session.scalars(
            select(m.Job.last_error).where(m.Job.kind == kind, m.Job.last_error.is_not(None))
        )
        return [str(error) for error in rows]


def rules(*pairs: tuple[str, list[str]]) -> list[dict[str, Any]]:
    """Scanning rules [(frequency, [filters])] in the API's shape."""
    return [
        {
            "scanFrequency": frequency,
            "repositoryFilters": [{"filter": f, "filterType": "WILDCARD"} for f in filters],
        }
        for frequency, filters in pairs
    ]


@dataclass
class Scanning(Lifecycle):
    """A clocked registry with helpers to configure scanning, push images and read findings."""

    def configure(self, scan_type: str, *pairs: tuple[str, list[str]]) -> dict[str, Any]:
        return self.call(
            "PutRegistryScanningConfiguration", scanType=scan_type, rules=rules(*pairs)
        )

    def push_layers(
        self, name: str, tag: str | None, layers: list[bytes], *, config: bytes | None = None
    ) -> str:
        """Push an image whose layers are `layers` (gzip, zstd or tar, as given); its digest."""
        config = config or json.dumps({"architecture": "amd64", "os": "linux"}).encode()
        doc = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": self.blob(name, config, OCI_CONFIG),
            "layers": [self.blob(name, data, OCI_LAYER) for data in layers],
        }
        return self.put(name, doc, tag)

    def findings(self, name: str, digest: str, **params: Any) -> dict[str, Any]:
        return self.call(
            "DescribeImageScanFindings",
            repositoryName=name,
            imageId={"imageDigest": digest},
            **params,
        )

    def all_findings(self, name: str, digest: str, key: str = "findings") -> list[dict[str, Any]]:
        """Every finding, page after page."""
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            extra = {"nextToken": token} if token else {}
            page = self.findings(name, digest, maxResults=7, **extra)
            items += page["imageScanFindings"][key]
            token = page.get("nextToken")
            if not token:
                return items


@contextmanager
def scanning_registry(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scanning]:
    with clocked_registry(data_dir, monkeypatch) as handle:
        yield Scanning(handle.registry, handle.clock)


def attributes(finding: dict[str, Any]) -> dict[str, str]:
    return {a["key"]: a["value"] for a in finding.get("attributes", [])}
