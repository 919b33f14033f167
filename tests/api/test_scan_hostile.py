"""Hostile layers pushed and scanned: each scan ends FAILED with the reason, quickly, the
rejection is cached (never read twice), and the registry goes on scanning other images."""

from __future__ import annotations

import tarfile
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from stiva.metadata import models as m
from stiva.oci.digest import Digest
from stiva.storage.layout import blob_path
from tests.support.layers import LayerBuilder
from tests.support.scanning import SYNTHETIC, Scanning, debian_base, import_paths, scanning_registry

MiB = 1 << 20


def gzip_bomb(size: int = 256 * MiB) -> bytes:
    """A gzip'd tar of one file of `size` zero bytes, compressed as it is produced (~1000:1)."""
    info = tarfile.TarInfo("zeros")
    info.size = size
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    out = [packer.compress(info.tobuf(tarfile.PAX_FORMAT))]
    chunk = bytes(MiB)
    out += [packer.compress(chunk) for _ in range(size // MiB)]
    out.append(packer.compress(bytes(1024)) + packer.flush())
    return b"".join(out)


def traversal() -> bytes:
    return LayerBuilder().member(tarfile.TarInfo("../../etc/passwd"), b"").gzip()


def symlink_trick() -> bytes:
    return (
        LayerBuilder()
        .symlink("var/lib/dpkg", "/etc")
        .file("var/lib/dpkg/status", "Package: fake\nVersion: 1\n")
        .gzip()
    )


def truncated() -> bytes:
    blob = LayerBuilder().file("etc/os-release", bytes(range(256)) * 400).gzip()
    return blob[: len(blob) // 2]


CASES = {
    "gzip-bomb": (gzip_bomb, "ratio"),
    "traversal": (traversal, "traversal"),
    "symlink": (symlink_trick, "below a symlink"),
    "truncated-gzip": (truncated, "corrupt gzip"),
}


@pytest.fixture(scope="module")
def sc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scanning]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        data_dir = tmp_path_factory.mktemp("hostile") / "data"
        with scanning_registry(data_dir, monkeypatch) as handle:
            import_paths(handle.ctx, SYNTHETIC)
            handle.registry.create_repository("evil")
            handle.configure("BASIC", ("SCAN_ON_PUSH", ["evil"]))
            yield handle


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_layer_fails_the_scan_with_its_reason(sc: Scanning, case: str) -> None:
    make, reason = CASES[case]
    layer = make()
    digest = sc.push_layers("evil", case, [debian_base().gzip(), layer])
    began = time.monotonic()
    sc.drain()
    assert time.monotonic() - began < 10
    status = sc.findings("evil", digest)["imageScanStatus"]
    assert status["status"] == "FAILED"
    assert status["description"].startswith("The scan failed: layer sha256:")
    assert reason in status["description"]
    assert "imageScanFindings" not in sc.findings("evil", digest)


def test_a_rejected_layer_is_remembered(sc: Scanning) -> None:
    with sc.ctx.db.read() as session:
        rejected = session.scalars(
            select(m.LayerAnalysisCache.rejected).where(m.LayerAnalysisCache.rejected.is_not(None))
        ).all()
    assert len(rejected) >= len(CASES)


def test_the_registry_goes_on_scanning(sc: Scanning) -> None:
    digest = sc.push_layers("evil", "fine", [debian_base().gzip(), LayerBuilder().tar()])
    sc.drain()
    assert sc.findings("evil", digest)["imageScanStatus"]["status"] == "COMPLETE"
    assert sc.call("DescribeRepositories")["repositories"]


def test_a_layer_missing_from_storage_fails_the_scan(tmp_path: Path, sc: Scanning) -> None:
    layer = LayerBuilder().file("etc/marker", str(tmp_path)).gzip()
    sc.registry.create_repository("lost")
    sc.call(
        "PutImageScanningConfiguration",
        repositoryName="lost",
        imageScanningConfiguration={"scanOnPush": True},
    )
    digest = sc.push_layers("lost", "v1", [layer])
    sc.ctx.storage.delete(blob_path(Digest.of(layer)))
    sc.drain()
    status = sc.findings("lost", digest)["imageScanStatus"]
    assert status["status"] == "FAILED"
    assert "missing from storage" in status["description"]
