"""`POST /` in AWS JSON 1.1: SigV4 → operation → validation → authorization → handler → JSON.

Errors are `{"__type": <shape name>, "message": ...}` with `x-amzn-RequestId`, as botocore parses
them (the `__type` must equal the model's exception shape name for `client.exceptions.X`).
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from stiva.api.ecr.call import EcrCall, Operation
from stiva.api.ecr.errors import classify, extra_members
from stiva.api.ecr.model import EcrModel, RequestValidationError
from stiva.api.ecr.operations import NOT_YET, OPERATIONS
from stiva.api.facts import request_facts, tags_of
from stiva.api.signing import verify_request
from stiva.errors import StivaError
from stiva.iam import sigv4
from stiva.jsontext import LONE_SURROGATE, has_lone_surrogate
from stiva.services.context import RegistryContext
from stiva.services.replication import inbound
from stiva.storage.driver import StorageError

log = logging.getLogger(__name__)
CONTENT_TYPE = "application/x-amz-json-1.1"
MAX_BODY = 32 * 1024 * 1024  # UploadLayerPart carries up to 20 MiB, base64-encoded


class AwsError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _default(value: object) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _response(status: int, body: dict[str, Any], request_id: str) -> Response:
    return Response(
        json.dumps(body, default=_default),
        status_code=status,
        media_type=CONTENT_TYPE,
        headers={"x-amzn-RequestId": request_id},
    )


def error(code: str, message: str, status: int, request_id: str) -> Response:
    return _response(status, {"__type": code, "message": message}, request_id)


async def _body(request: Request) -> bytes:
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_BODY:
            raise AwsError("SerializationException", "The request body is too large.", 413)
        chunks.append(chunk)
    return b"".join(chunks)


def _operation(target: str | None, model: EcrModel) -> tuple[str, Operation]:
    prefix = model.target_prefix + "."
    if not target or not target.startswith(prefix):
        raise AwsError("UnknownOperationException", f"Unknown target: {target!r}")
    name = target[len(prefix) :]
    operation = OPERATIONS.get(name)
    if operation is not None:
        return name, operation
    if model.has_operation(name):
        why = NOT_YET.get(name, "it is not implemented yet")
        raise AwsError(
            "UnsupportedOperationException",
            f"The ECR operation {name} is not supported by Stiva yet: {why}.",
        )
    raise AwsError("UnknownOperationException", f"Unknown operation: {name}")


def _params(body: bytes) -> object:
    if not body.strip():
        return {}
    try:
        params = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise AwsError("SerializationException", "The request body is not valid JSON.") from None
    if has_lone_surrogate(params):
        raise AwsError(
            "SerializationException", f"The request body is not valid Unicode: {LONE_SURROGATE}."
        )
    return params


def _run(ctx: RegistryContext, operation: Operation, call: EcrCall) -> dict[str, Any]:
    if operation.prepare is not None:
        operation.prepare(call)
    unit = ctx.db.write if operation.writes else ctx.db.read
    with unit() as session:
        return operation.handler(session, call)


async def handle(request: Request) -> Response:
    ctx: RegistryContext = request.app.state.ctx
    model: EcrModel = request.app.state.ecr_model
    request_id = str(uuid.uuid4())
    try:
        body = await _body(request)
        principal = await run_in_threadpool(verify_request, request, body, ctx, service="ecr")
        name, operation = _operation(request.headers.get("x-amz-target"), model)
        raw = _params(body)
        params = model.validate_input(name, raw)
        facts = request_facts(request, tags_of(params.get("tags")))
        account = operation.account_for(params, principal.account_id)
        action = f"ecr:{name}"
        source = inbound.replication_principal(
            ctx.replication.sources,
            caller=principal,
            header=request.headers.get(inbound.HEADER),
            own_region=ctx.deployment.region,
        )
        if source is not None:  # a peer replicating: authorized as the source account
            principal, action = source, inbound.ecr_action(name, params)
        call = EcrCall(ctx, principal, params, account, facts, raw, replicated=source is not None)
        for resource in operation.resources(call):
            ctx.authorizer.authorize(
                principal, action, account_id=account, resource=resource, facts=facts
            )
        result = await run_in_threadpool(_run, ctx, operation, call)
        return _response(200, result, request_id)
    except sigv4.SigV4Error as exc:
        return error(exc.code, exc.message, exc.status, request_id)
    except (AwsError, RequestValidationError) as exc:
        return error(exc.code, exc.message, exc.status, request_id)
    except StivaError as exc:
        code, status = classify(exc)
        shape = {"__type": code, "message": exc.message, **extra_members(exc)}
        return _response(status, shape, request_id)
    except StorageError:
        log.exception("storage failure in ECR request %s", request_id)
        return error(
            "ServerException", "The registry's storage failed; try again.", 500, request_id
        )
    except Exception:
        log.exception("internal error in ECR request %s", request_id)
        return error(
            "ServerException", "Internal error; the registry logged the cause.", 500, request_id
        )
