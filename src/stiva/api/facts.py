"""The request facts IAM conditions read (aws:SourceIp, aws:SecureTransport, request tags)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from starlette.requests import Request

from stiva.services.authorization import RequestFacts


def request_facts(request: Request, tags: Mapping[str, str] | None = None) -> RequestFacts:
    client = request.client
    return RequestFacts(
        source_ip=client.host if client else None,
        secure_transport=request.url.scheme == "https",
        request_tags=dict(tags or {}),
    )


def tags_of(items: Iterable[Mapping[str, str]] | None) -> dict[str, str]:
    """ECR's `[{"Key": ..., "Value": ...}]` as a mapping (for aws:RequestTag / aws:TagKeys)."""
    return {item["Key"]: item.get("Value", "") for item in items or ()}
