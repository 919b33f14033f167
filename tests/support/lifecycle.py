"""Lifecycle test support: policies as data, AWS's documented examples, a clocked registry.

`EXAMPLES` are the examples of the ECR user guide (reference §3.5), each with the images it
describes (tags and ages in days) and the outcome AWS documents; the e2e tests run every one
through the preview API of a live server.

`clocked_registry` is an in-process Stiva on a `ManualClock`, with the background worker off
(tests drain it) and botocore signing requests at the registry's time, so a test can move the
clock by days and keep talking to the API (SigV4 and registry tokens check the clock).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from stiva.app import make_worker
from stiva.clock import ManualClock
from stiva.services.context import RegistryContext
from tests.support.registry import InProcessRegistry, in_process_registry

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


# --- policies --------------------------------------------------------------------------------


def rule(
    priority: int,
    tag_status: str,
    count_type: str,
    count_number: int,
    *,
    prefixes: list[str] | None = None,
    patterns: list[str] | None = None,
    storage_class: str | None = None,
    action: str = "expire",
    description: str | None = None,
) -> dict[str, Any]:
    """One lifecycle rule in the policy JSON's own (lowercase) vocabulary."""
    selection: dict[str, Any] = {"tagStatus": tag_status}
    if patterns is not None:
        selection["tagPatternList"] = patterns
    if prefixes is not None:
        selection["tagPrefixList"] = prefixes
    if storage_class is not None:
        selection["storageClass"] = storage_class
    selection["countType"] = count_type
    if count_type != "imageCountMoreThan":
        selection["countUnit"] = "days"
    selection["countNumber"] = count_number
    doc: dict[str, Any] = {"rulePriority": priority}
    if description is not None:
        doc["description"] = description
    doc["selection"] = selection
    doc["action"] = {"type": action}
    if action == "transition":
        doc["action"]["targetStorageClass"] = "archive"
    return doc


def policy(*rules: dict[str, Any], indent: int | None = 2) -> str:
    """A policy text (indented by default, so it is at least the API's 100 characters)."""
    return json.dumps({"rules": list(rules)}, indent=indent)


# --- AWS's examples (reference §3.5) ---------------------------------------------------------


@dataclass(frozen=True)
class Img:
    """An image of an example: tags, age in days, and optionally pull and archive ages."""

    label: str
    tags: tuple[str, ...] = ()
    pushed_days: float = 0
    pulled_days: float | None = None
    archived_days: float | None = None  # archived that many days ago


@dataclass(frozen=True)
class Example:
    name: str
    images: tuple[Img, ...]
    rules: tuple[dict[str, Any], ...]
    expected: dict[str, tuple[str, int]] = field(default_factory=dict)  # label: (action, rule)

    @property
    def policy_text(self) -> str:
        return policy(*self.rules)


_AB = (
    Img("A", ("beta-1", "prod-1"), 10),
    Img("B", ("beta-2", "prod-2"), 9),
    Img("C", ("beta-3",), 8),
)

EXAMPLES = (
    Example(
        "1-age-prod-pattern",
        (Img("P1", ("prod-1",), 20), Img("P2", ("prod-2",), 5), Img("D1", ("dev-1",), 20)),
        (rule(1, "tagged", "sinceImagePushed", 14, patterns=["prod*"]),),
        {"P1": ("EXPIRE", 1)},
    ),
    Example(
        "2-last-pulled-to-archive",
        (
            Img("A", ("a",), 200, pulled_days=100),
            Img("B", ("b",), 200, pulled_days=10),
            Img("C", (), 120),
            Img("D", (), 10),
        ),
        (rule(1, "any", "sinceImagePulled", 90, action="transition"),),
        {"A": ("TRANSITION", 1), "C": ("TRANSITION", 1)},
    ),
    Example(
        "3-archive-age",
        (
            Img("A", ("a",), 800, archived_days=400),
            Img("B", ("b",), 800, archived_days=100),
            Img("C", ("c",), 1000),
        ),
        (rule(1, "any", "sinceImageTransitioned", 365, storage_class="archive"),),
        {"A": ("EXPIRE", 1)},
    ),
    Example(
        "4-count-untagged",
        (Img("U1", (), 3), Img("U2", (), 2), Img("U3", (), 1), Img("T", ("t",), 5)),
        (rule(1, "untagged", "imageCountMoreThan", 1),),
        {"U1": ("EXPIRE", 1), "U2": ("EXPIRE", 1)},
    ),
    Example(
        "5-multiple-rules-a",
        _AB,
        (
            rule(1, "tagged", "imageCountMoreThan", 1, patterns=["prod*"]),
            rule(2, "tagged", "imageCountMoreThan", 1, patterns=["beta*"]),
        ),
        {"A": ("EXPIRE", 1)},
    ),
    Example(
        "6-multiple-rules-b",
        _AB,
        (
            rule(1, "tagged", "imageCountMoreThan", 1, patterns=["beta*"]),
            rule(2, "tagged", "imageCountMoreThan", 1, patterns=["prod*"]),
        ),
        {"A": ("EXPIRE", 1), "B": ("EXPIRE", 1)},
    ),
    Example(
        "7-multiple-patterns-a",
        (
            Img("A", ("alpha-1",), 12),
            Img("B", ("beta-1",), 11),
            Img("C", ("alpha-2", "beta-2"), 10),
            Img("D", ("alpha-3",), 4),
            Img("E", ("beta-3",), 3),
            Img("F", ("alpha-4", "beta-4"), 2),
        ),
        (rule(1, "tagged", "sinceImagePushed", 5, patterns=["alpha*", "beta*"]),),
        {"C": ("EXPIRE", 1)},
    ),
    Example(
        "8-multiple-patterns-b",
        (
            Img("A", ("alpha-1", "beta-1", "gamma-1"), 10),
            Img("B", ("alpha-2", "beta-2"), 9),
            Img("C", ("alpha-3", "beta-3", "gamma-2"), 8),
        ),
        (rule(1, "tagged", "imageCountMoreThan", 1, patterns=["alpha*", "beta*"]),),
        {"A": ("EXPIRE", 1), "B": ("EXPIRE", 1)},
    ),
    Example(
        "9-all-images-a",
        (
            Img("A", ("alpha-1",), 4),
            Img("B", ("beta-1",), 3),
            Img("C", (), 2),
            Img("D", ("alpha-2",), 1),
        ),
        (rule(1, "any", "imageCountMoreThan", 1),),
        {"A": ("EXPIRE", 1), "B": ("EXPIRE", 1), "C": ("EXPIRE", 1)},
    ),
    Example(
        "10-all-images-b",
        (
            Img("A", ("alpha-1", "beta-1"), 4),
            Img("B", (), 3),
            Img("C", ("alpha-2",), 2),
            Img("D", ("3b2c1a0",), 23.5 / 24),  # "git hash"; E must rank newer than D
            Img("E", (), 23 / 24),
        ),
        (
            rule(1, "tagged", "imageCountMoreThan", 1, patterns=["alpha*"]),
            rule(2, "untagged", "sinceImagePushed", 1),
            rule(3, "any", "imageCountMoreThan", 1),
        ),
        {"A": ("EXPIRE", 1), "B": ("EXPIRE", 2), "D": ("EXPIRE", 3)},
    ),
    Example(
        "11a-archive-prod-after-30-days",
        (Img("P1", ("prod-1",), 40), Img("P2", ("prod-2",), 10), Img("D1", ("dev-1",), 40)),
        (rule(1, "tagged", "sinceImagePushed", 30, patterns=["prod*"], action="transition"),),
        {"P1": ("TRANSITION", 1)},
    ),
    Example(
        "11b-archive-then-expire",
        (
            Img("A", ("a",), 40),
            Img("B", ("b",), 10),
            Img("C", ("c",), 800, archived_days=400),
            Img("D", ("d",), 800, archived_days=100),
        ),
        (
            rule(1, "any", "sinceImagePushed", 30, action="transition"),
            rule(2, "any", "sinceImageTransitioned", 365, storage_class="archive"),
        ),
        {"A": ("TRANSITION", 1), "C": ("EXPIRE", 2)},
    ),
)


def outcome(results: list[dict[str, Any]], labels: dict[str, str]) -> dict[str, tuple[str, int]]:
    """previewResults as {label: (action type, appliedRulePriority)}."""
    return {
        labels[r["imageDigest"]]: (r["action"]["type"], r["appliedRulePriority"]) for r in results
    }


# --- an in-process registry on a manual clock ------------------------------------------------


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Lifecycle:
    """A clocked registry with helpers to push images and run the lifecycle jobs."""

    registry: InProcessRegistry
    clock: ManualClock

    @property
    def ctx(self) -> RegistryContext:
        ctx: RegistryContext = self.registry.client.app.state.ctx  # type: ignore[attr-defined]
        return ctx

    @property
    def account_id(self) -> str:
        return self.registry.account_id

    def drain(self) -> int:
        """Run every due job (previews, sweeps, applications) to the end."""
        worker = make_worker(self.ctx, self.registry.settings)
        worker.schedule_periodic()
        return worker.drain()

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        return self.registry.ecr_ok(operation, **params)

    def error(self, operation: str, **params: Any) -> tuple[str, str]:
        response = self.registry.ecr(operation, **params)
        assert response.status_code == 400, response.text
        body = response.json()
        return body["__type"], body["message"]

    def blob(self, name: str, data: bytes, media_type: str) -> dict[str, Any]:
        digest = self.registry.push_blob(name, data, self.registry.auth)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def image_doc(self, name: str, seed: str, layers: list[bytes] | None = None) -> dict[str, Any]:
        config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
        return {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": self.blob(name, config, OCI_CONFIG),
            "layers": [
                self.blob(name, data, OCI_LAYER)
                for data in (layers if layers is not None else [f"layer {seed}".encode() * 10])
            ],
        }

    def put(self, name: str, doc: dict[str, Any], tag: str | None = None) -> str:
        """PutImage `doc` (with a tag, or untagged); its digest."""
        text = json.dumps(doc, indent=1)
        params: dict[str, Any] = {"repositoryName": name, "imageManifest": text}
        if tag is not None:
            params["imageTag"] = tag
        self.call("PutImage", **params)
        return sha256(text.encode())

    def push(self, name: str, seed: str, *tags: str, layers: list[bytes] | None = None) -> str:
        """Push an image with these tags (none: untagged); its digest."""
        doc = self.image_doc(name, seed, layers)
        digest = self.put(name, doc, tags[0] if tags else None)
        for tag in tags[1:]:
            self.put(name, doc, tag)
        return digest

    def index(self, name: str, *children: str, tag: str | None = None) -> str:
        """Push an OCI index of the images `children` (digests); its digest."""
        manifests = []
        for digest in children:
            got = self.call(
                "BatchGetImage", repositoryName=name, imageIds=[{"imageDigest": digest}]
            )["images"][0]
            size = len(got["imageManifest"].encode())
            manifests.append({"mediaType": OCI_MANIFEST, "digest": digest, "size": size})
        doc = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}
        return self.put(name, doc, tag)

    def preview(self, name: str, text: str | None = None, **params: Any) -> dict[str, Any]:
        """Start a preview (of `text`, else the repository's policy), run it, get its results."""
        start: dict[str, Any] = {"repositoryName": name}
        if text is not None:
            start["lifecyclePolicyText"] = text
        started = self.call("StartLifecyclePolicyPreview", **start)
        assert started["status"] == "IN_PROGRESS"
        self.drain()
        return self.call("GetLifecyclePolicyPreview", repositoryName=name, **params)


@contextmanager
def clocked_registry(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, start: datetime = START
) -> Iterator[Lifecycle]:
    clock = ManualClock(start)
    monkeypatch.setattr(
        "botocore.auth.get_current_datetime",
        lambda remove_tzinfo=True: (
            clock.now().replace(tzinfo=None) if remove_tzinfo else clock.now()
        ),
    )
    with in_process_registry(data_dir, clock=clock, workers={"enabled": False}) as registry:
        yield Lifecycle(registry, clock)
