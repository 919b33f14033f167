"""Layer operations of ECR's own tooling: check, initiate, upload part, complete, download URL."""

from __future__ import annotations

from typing import Any

from stiva.api.ecr.call import EcrCall, Operation
from stiva.metadata.database import Session
from stiva.services import layers as svc


def _layer(status: svc.LayerStatus) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "layerDigest": status.digest,
        "layerAvailability": status.availability,
    }
    if status.size is not None:
        shape["layerSize"] = status.size
    if status.media_type is not None:
        shape["mediaType"] = status.media_type
    return shape


def _failure(failure: svc.LayerFailure) -> dict[str, Any]:
    return {
        "layerDigest": failure.digest,
        "failureCode": failure.code,
        "failureReason": failure.reason,
    }


def batch_check_layer_availability(session: Session, call: EcrCall) -> dict[str, Any]:
    layers, failures = svc.batch_check_layer_availability(
        session,
        account_id=call.account_id,
        name=call.repository_name,
        digests=call.params["layerDigests"],
    )
    return {"layers": [_layer(s) for s in layers], "failures": [_failure(f) for f in failures]}


def initiate_layer_upload(session: Session, call: EcrCall) -> dict[str, Any]:
    upload_id = svc.initiate_layer_upload(
        session,
        uploads=call.ctx.uploads,
        account_id=call.account_id,
        name=call.repository_name,
        authorize_create=lambda: call.authorize("ecr:CreateRepository"),  # CREATE_ON_PUSH
    )
    return {"uploadId": upload_id, "partSize": svc.PART_SIZE}


def upload_layer_part(session: Session, call: EcrCall) -> dict[str, Any]:
    p = call.params
    receipt = svc.upload_layer_part(
        session,
        uploads=call.ctx.uploads,
        account_id=call.account_id,
        name=call.repository_name,
        upload_id=p["uploadId"],
        first_byte=p["partFirstByte"],
        last_byte=p["partLastByte"],
        data=p["layerPartBlob"],
        now=call.ctx.now(),
    )
    return {
        "registryId": receipt.registry_id,
        "repositoryName": receipt.repository_name,
        "uploadId": receipt.upload_id,
        "lastByteReceived": receipt.last_byte_received,
    }


def stage_layer(call: EcrCall) -> None:
    """Before CompleteLayerUpload's unit of work: copy the upload into place on stores where a
    move copies (S3), as the OCI PUT does (`Uploads.stage`); only bytes matching a digest given,
    only for an upload of the repository named."""
    upload_id = str(call.params["uploadId"])
    if call.ctx.storage.instant_move:
        return
    with call.ctx.db.read() as session:
        if not svc.may_complete(
            session, account_id=call.account_id, name=call.repository_name, upload_id=upload_id
        ):
            return  # the handler answers the error
    digest = svc.digest_to_stage(call.ctx.uploads, upload_id, call.params["layerDigests"])
    if digest is not None:  # else the handler refuses it (InvalidLayer)
        call.ctx.uploads.stage(upload_id, digest)


def complete_layer_upload(session: Session, call: EcrCall) -> dict[str, Any]:
    layer = svc.complete_layer_upload(
        session,
        uploads=call.ctx.uploads,
        account_id=call.account_id,
        name=call.repository_name,
        upload_id=call.params["uploadId"],
        digests=call.params["layerDigests"],
    )
    return {
        "registryId": layer.registry_id,
        "repositoryName": layer.repository_name,
        "uploadId": layer.upload_id,
        "layerDigest": str(layer.digest),
    }


def get_download_url_for_layer(session: Session, call: EcrCall) -> dict[str, Any]:
    found = svc.get_download_url_for_layer(
        session,
        storage=call.ctx.storage,
        deployment=call.ctx.deployment,
        key=call.ctx.keys.download,
        account_id=call.account_id,
        name=call.repository_name,
        layer_digest=call.params["layerDigest"],
        now=call.ctx.now(),
    )
    return {"downloadUrl": found.url, "layerDigest": str(found.digest)}


OPERATIONS: dict[str, Operation] = {
    "BatchCheckLayerAvailability": Operation(batch_check_layer_availability, "repository"),
    "InitiateLayerUpload": Operation(initiate_layer_upload, "repository", writes=True),
    "UploadLayerPart": Operation(upload_layer_part, "repository", writes=True),
    "CompleteLayerUpload": Operation(
        complete_layer_upload, "repository", writes=True, prepare=stage_layer
    ),
    "GetDownloadUrlForLayer": Operation(get_download_url_for_layer, "repository"),
}
