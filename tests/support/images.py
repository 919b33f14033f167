"""Build real OCI image layouts on disk (images, multi-arch indexes) for clients to push."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


@dataclass(frozen=True)
class Blob:
    media_type: str
    digest: str
    size: int

    def descriptor(self, **extra: object) -> dict[str, object]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size, **extra}


class Layout:
    """An OCI image layout directory (the `oci:` transport of skopeo)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
        self.refs: list[dict[str, object]] = []

    def add_blob(self, data: bytes, media_type: str) -> Blob:
        digest = hashlib.sha256(data).hexdigest()
        (self.root / "blobs" / "sha256" / digest).write_bytes(data)
        return Blob(media_type, f"sha256:{digest}", len(data))

    def add_layer(self, size: int, seed: int) -> tuple[Blob, str]:
        """A gzip'd tar holding one file of `size` pseudo-random bytes; (blob, diff_id)."""
        payload = _pseudo_random(size, seed)
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w") as tar:
            info = tarfile.TarInfo(f"data-{seed}.bin")
            info.size = len(payload)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(payload))
        tar_bytes = raw.getvalue()
        compressed = gzip.compress(tar_bytes, compresslevel=1, mtime=0)
        return self.add_blob(compressed, OCI_LAYER), "sha256:" + hashlib.sha256(
            tar_bytes
        ).hexdigest()

    def add_image(self, layer_sizes: list[int], *, arch: str = "amd64", seed: int = 0) -> Blob:
        layers, diff_ids = [], []
        for i, size in enumerate(layer_sizes):
            blob, diff_id = self.add_layer(size, seed * 1000 + i)
            layers.append(blob)
            diff_ids.append(diff_id)
        config = {
            "architecture": arch,
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "config": {"Env": [f"SEED={seed}"]},
        }
        config_blob = self.add_blob(json.dumps(config).encode(), OCI_CONFIG)
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config_blob.descriptor(),
            "layers": [layer.descriptor() for layer in layers],
        }
        return self.add_blob(json.dumps(manifest).encode(), OCI_MANIFEST)

    def add_index(self, images: list[tuple[Blob, str]]) -> Blob:
        index = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                blob.descriptor(platform={"architecture": arch, "os": "linux"})
                for blob, arch in images
            ],
        }
        return self.add_blob(json.dumps(index).encode(), OCI_INDEX)

    def tag(self, blob: Blob, name: str) -> None:
        self.refs.append(blob.descriptor(annotations={"org.opencontainers.image.ref.name": name}))
        index = {"schemaVersion": 2, "manifests": self.refs}
        (self.root / "index.json").write_text(json.dumps(index))


def _pseudo_random(size: int, seed: int) -> bytes:
    """Incompressible bytes, fast: a SHAKE stream seeded by `seed`."""
    if size == 0:
        return b""
    return hashlib.shake_256(seed.to_bytes(8, "big")).digest(size)
