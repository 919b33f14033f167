"""PutReplicationConfiguration, DescribeImageReplicationStatus and the backfill operations.

DescribeRegistry (in `registry`) returns the configuration stored here. Rules may carry the
Stiva extension `stivaTagFilters` (see `services.replication.rules`); the ECR model does not
know it, so it is read from the request body as sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stiva.api.ecr.call import EcrCall, Operation
from stiva.metadata import models as m
from stiva.metadata.database import Session
from stiva.services import images
from stiva.services.pagination import decode_token, encode_token
from stiva.services.replication import backfill, rules, status
from stiva.services.repositories import get_repository

_RESULTS_PAGE = 1000
_BACKFILLS_PAGE = 50


def _extensions(raw: object) -> list[object]:
    config = raw.get("replicationConfiguration") if isinstance(raw, Mapping) else None
    found = config.get("rules") if isinstance(config, Mapping) else None
    if not isinstance(found, list):
        return []
    return [r.get(rules.TAG_FILTERS) if isinstance(r, Mapping) else None for r in found]


def put_replication_configuration(session: Session, call: EcrCall) -> dict[str, Any]:
    given = call.params["replicationConfiguration"].get("rules", [])
    reach = rules.Reach(
        region=call.ctx.deployment.region,
        peer_regions=frozenset(peer.region for peer in call.ctx.replication.peers),
    )
    stored = rules.validate(
        given, account_id=call.account_id, reach=reach, extensions=_extensions(call.raw)
    )
    rules.put_configuration(session, account_id=call.account_id, rules=stored)
    return {"replicationConfiguration": {"rules": stored}}


def describe_image_replication_status(session: Session, call: EcrCall) -> dict[str, Any]:
    repo = get_repository(session, account_id=call.account_id, name=call.repository_name)
    given = call.params["imageId"]
    image_id = images.ImageId(given.get("imageDigest"), given.get("imageTag"))
    row = images.get_image(session, repo, image_id)
    statuses = status.image_replication_statuses(
        session, account_id=call.account_id, name=repo.name, digest=row.digest
    )
    image = {"imageDigest": row.digest, **({"imageTag": image_id.tag} if image_id.tag else {})}
    return {
        "repositoryName": repo.name,
        "imageId": image,
        "replicationStatuses": statuses,
    }


def _destination(row: m.ReplicationBackfill) -> dict[str, str]:
    return {"region": row.destination_region, "registryId": row.destination_registry_id}


def _summary(session: Session, row: m.ReplicationBackfill) -> dict[str, Any]:
    out: dict[str, Any] = {
        "replicationBackfillId": row.id,
        "destination": _destination(row),
        "status": row.status,
        "startedAt": row.started_at,
    }
    if row.failure_code:
        out["failureCode"] = row.failure_code
    found = backfill.progress(session, row)
    if found is not None:
        out["progress"] = {
            "totalReplicationCount": found.total,
            "completedReplicationCount": found.completed,
            "failedReplicationCount": found.failed,
            "failureCodes": found.failure_codes,
        }
    if row.ended_at is not None:
        out["endedAt"] = row.ended_at
    return out


def start_replication_backfill(session: Session, call: EcrCall) -> dict[str, Any]:
    given = call.params["destination"]
    row = backfill.start_backfill(
        session,
        account_id=call.account_id,
        destination=rules.Destination(given["region"], given["registryId"]),
    )
    return {
        "replicationBackfillId": row.id,
        "registryId": call.account_id,
        "destination": _destination(row),
        "status": row.status,
        "startedAt": row.started_at,
    }


def stop_replication_backfill(session: Session, call: EcrCall) -> dict[str, Any]:
    row = backfill.stop_backfill(
        session, account_id=call.account_id, backfill_id=call.params["replicationBackfillId"]
    )
    return {
        "registryId": call.account_id,
        "replicationBackfillId": row.id,
        "destination": _destination(row),
        "status": row.status,
        "startedAt": row.started_at,
    }


def describe_replication_backfill_results(session: Session, call: EcrCall) -> dict[str, Any]:
    p = call.params
    row = backfill.get_backfill(
        session, account_id=call.account_id, backfill_id=p["replicationBackfillId"]
    )
    key = call.ctx.keys.pagination
    after = (
        decode_token(p["nextToken"], key, kind="backfill-results")["id"]
        if p.get("nextToken")
        else 0
    )
    limit = int(p.get("maxResults", _RESULTS_PAGE))
    items = backfill.results(
        session, row, status=p.get("resultStatusFilter"), after_id=int(after), limit=limit + 1
    )
    out = {"registryId": call.account_id, **_summary(session, row)}
    out["results"] = [
        {
            "repositoryName": item.repository_name,
            "imageId": {"imageDigest": item.image_digest},
            "status": item.status,
            **({"failureCode": item.failure_code} if item.failure_code else {}),
        }
        for item in items[:limit]
    ]
    if len(items) > limit:
        out["nextToken"] = encode_token(
            {"kind": "backfill-results", "id": items[limit - 1].id}, key
        )
    return out


def list_replication_backfills(session: Session, call: EcrCall) -> dict[str, Any]:
    p = call.params
    key = call.ctx.keys.pagination
    after = (
        decode_token(p["nextToken"], key, kind="backfills")["id"] if p.get("nextToken") else None
    )
    limit = int(p.get("maxResults", _BACKFILLS_PAGE))
    rows = backfill.list_backfills(
        session, account_id=call.account_id, after=after, limit=limit + 1
    )
    out: dict[str, Any] = {
        "registryId": call.account_id,
        "backfills": [_summary(session, row) for row in rows[:limit]],
    }
    if len(rows) > limit:
        out["nextToken"] = encode_token({"kind": "backfills", "id": rows[limit - 1].id}, key)
    return out


OPERATIONS: dict[str, Operation] = {
    "PutReplicationConfiguration": Operation(put_replication_configuration, "*", writes=True),
    "DescribeImageReplicationStatus": Operation(describe_image_replication_status, "repository"),
    "StartReplicationBackfill": Operation(start_replication_backfill, "*", writes=True),
    "StopReplicationBackfill": Operation(stop_replication_backfill, "*", writes=True),
    "DescribeReplicationBackfillResults": Operation(describe_replication_backfill_results, "*"),
    "ListReplicationBackfills": Operation(list_replication_backfills, "*"),
}
