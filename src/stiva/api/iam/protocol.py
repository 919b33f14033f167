"""`POST /` in AWS's query protocol (IAM, STS): SigV4 -> Action -> validation -> authorization
-> handler -> XML.

A request is form-encoded (`Action=<Operation>&Version=<api version>&<parameters>`, parameters
in the URL's query string count too). Its SigV4 credential scope must name the service (`iam` or
`sts`) and the deployment's region or us-east-1 (where SDKs sign the global endpoints; with an
endpoint URL, botocore signs with the client's region, so both are accepted). Then:

* `Action` missing: MissingAction (400); unknown, or `Version` not the model's: InvalidAction
  (400) "Could not find operation X for version V" (`NO_VERSION_SPECIFIED` when absent);
* in the model but not served: NotImplemented (501) naming the operation and why;
* parameters are validated against the model (ValidationError, AWS's Coral text);
* `<service>:<Action>` is authorized on the operation's resource ARN, then the handler runs,
  both in one read or write unit of work.

Responses are `text/xml` with `x-amzn-RequestId`; errors are `<ErrorResponse>` (see `xml`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from stiva.api.ecr.model_messages import RequestValidationError
from stiva.api.facts import request_facts
from stiva.api.iam.call import Operation, QueryCall, QueryService
from stiva.api.iam.errors import NOT_IMPLEMENTED, classify, sigv4_error
from stiva.api.iam.model import QueryOperation
from stiva.api.iam.xml import render_error, render_result
from stiva.api.signing import verify_request
from stiva.errors import StivaError
from stiva.iam import sigv4
from stiva.services.context import RegistryContext

log = logging.getLogger(__name__)
CONTENT_TYPE: Final = "text/xml"
MAX_BODY: Final = 1024 * 1024  # a policy document is at most 131,072 characters
GLOBAL_REGION: Final = "us-east-1"


class QueryError(Exception):
    """A refusal of the protocol itself (action, version, body)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _xml(status: int, text: str, request_id: str) -> Response:
    return Response(
        text, status_code=status, media_type=CONTENT_TYPE, headers={"x-amzn-RequestId": request_id}
    )


def _error(service: QueryService, code: str, message: str, status: int, rid: str) -> Response:
    text = render_error(
        namespace=service.model.namespace,
        code=code,
        message=message,
        request_id=rid,
        sender=status < 500,
    )
    return _xml(status, text, rid)


async def _body(request: Request) -> bytes:
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_BODY:
            raise QueryError("RequestEntityTooLarge", "The request body is too large.", 413)
        chunks.append(chunk)
    return b"".join(chunks)


def regions(ctx: RegistryContext) -> list[str]:
    """Credential-scope regions IAM and STS accept: the deployment's, then us-east-1."""
    return list(dict.fromkeys([ctx.deployment.region, GLOBAL_REGION]))


def form(request: Request, body: bytes) -> dict[str, str]:
    """The request's parameters: the URL's query string, then the form body (which wins)."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise QueryError("MalformedQueryString", "The request body is not UTF-8.") from None
    pairs = parse_qsl(query, keep_blank_values=True) + parse_qsl(text, keep_blank_values=True)
    return dict(pairs)


def _operation(
    service: QueryService, params: Mapping[str, str]
) -> tuple[QueryOperation, Operation]:
    name = params.get("Action")
    if not name:
        raise QueryError("MissingAction", "Missing Action")
    version = params.get("Version") or "NO_VERSION_SPECIFIED"
    model_op = service.model.operation(name)
    if model_op is None or version != service.model.version:
        raise QueryError("InvalidAction", f"Could not find operation {name} for version {version}")
    operation = service.operations.get(name)
    if operation is None:
        why = service.not_yet.get(name, "it is not implemented yet")
        code, status = NOT_IMPLEMENTED
        label = service.name.upper()
        raise QueryError(
            code, f"The {label} operation {name} is not supported by Stiva: {why}.", status
        )
    return model_op, operation


def _run(service: QueryService, name: str, operation: Operation, call: QueryCall) -> dict[str, Any]:
    unit = call.ctx.db.write if operation.writes else call.ctx.db.read
    with unit() as session:
        if operation.resource is not None:
            resource = operation.resource(session, call)
            action = f"{service.name}:{name}"
            call.ctx.authorizer.authorize(
                call.principal,
                action,
                account_id=call.account_id,
                resource=resource,
                facts=call.facts,
            )
        return operation.handler(session, call)


async def handle(request: Request, service: QueryService) -> Response:
    ctx: RegistryContext = request.app.state.ctx
    request_id = str(uuid.uuid4())
    try:
        body = await _body(request)
        principal = await run_in_threadpool(
            verify_request, request, body, ctx, service=service.name, regions=regions(ctx)
        )
        params = form(request, body)
        model_op, operation = _operation(service, params)
        values = service.model.parse_input(model_op, params)
        call = QueryCall(ctx, principal, values, request_facts(request))
        result = await run_in_threadpool(_run, service, model_op.name, operation, call)
        text = render_result(
            model_op,
            result,
            namespace=service.model.namespace,
            request_id=request_id,
            url_encoded=service.url_encoded,
        )
        return _xml(200, text, request_id)
    except sigv4.SigV4Error as exc:
        code, status, message = sigv4_error(exc)
        return _error(service, code, message, status, request_id)
    except (QueryError, RequestValidationError) as exc:
        return _error(service, exc.code, exc.message, exc.status, request_id)
    except StivaError as exc:
        code, status = classify(exc)
        return _error(service, code, exc.message, status, request_id)
    except Exception:
        log.exception("internal error in %s request %s", service.name.upper(), request_id)
        message = "Internal error; the registry logged the cause."
        return _error(service, "ServiceFailure", message, 500, request_id)
