"""XML for the query protocol: results rendered from the operation's output shape, and errors.

    <XResponse xmlns="<namespace>">
      <XResult> ...members of the output shape... </XResult>
      <ResponseMetadata><RequestId>...</RequestId></ResponseMetadata>
    </XResponse>

Members are written in the model's order under their XML names; lists as `<member>` elements
(or flattened / renamed as the model says), maps as `<entry><key/><value/></entry>`; booleans
`true` / `false`, timestamps ISO 8601 in UTC (`2024-01-02T03:04:05Z`), blobs base64. Strings
of the shapes in `url_encoded` (IAM's `policyDocumentType`) are percent-encoded first, as IAM
sends policy documents (botocore decodes them back). A result member the shape does not have
is a bug and raises ValueError.

Errors: `<ErrorResponse xmlns="<namespace>"><Error><Type>Sender|Receiver</Type><Code/>
<Message/></Error><RequestId/></ErrorResponse>`.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

from stiva.api.iam.model import OutShape, QueryOperation


def render_result(
    operation: QueryOperation,
    result: Mapping[str, Any],
    *,
    namespace: str,
    request_id: str,
    url_encoded: frozenset[str] = frozenset(),
) -> str:
    parts = [f'<{operation.name}Response xmlns="{escape(namespace)}">']
    if operation.output is not None and operation.result_wrapper:
        parts.append(f"<{operation.result_wrapper}>")
        _members(operation.output, result, parts, url_encoded)
        parts.append(f"</{operation.result_wrapper}>")
    elif result:
        raise ValueError(f"{operation.name} has no output, but the handler returned {result!r}")
    parts.append(f"<ResponseMetadata><RequestId>{escape(request_id)}</RequestId>")
    parts.append(f"</ResponseMetadata></{operation.name}Response>")
    return "".join(parts)


def render_error(
    *, namespace: str, code: str, message: str, request_id: str, sender: bool = True
) -> str:
    kind = "Sender" if sender else "Receiver"
    return (
        f'<ErrorResponse xmlns="{escape(namespace)}"><Error><Type>{kind}</Type>'
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{escape(request_id)}</RequestId></ErrorResponse>"
    )


def _members(
    shape: OutShape, value: Mapping[str, Any], parts: list[str], encoded: frozenset[str]
) -> None:
    unknown = set(value) - set(shape.members)
    if unknown:
        raise ValueError(f"{shape.name} has no member {sorted(unknown)[0]}")
    for name, (tag, member) in shape.members.items():
        item = value.get(name)
        if item is not None:
            _element(tag, member, item, parts, encoded)


def _element(
    tag: str, shape: OutShape, value: Any, parts: list[str], encoded: frozenset[str]
) -> None:
    if shape.kind == "list" and shape.flattened:
        assert shape.member is not None
        for item in value:
            _element(tag, shape.member, item, parts, encoded)
        return
    parts.append(f"<{tag}>")
    if shape.kind == "structure":
        _members(shape, value, parts, encoded)
    elif shape.kind == "list":
        assert shape.member is not None
        for item in value:
            _element(shape.member_tag, shape.member, item, parts, encoded)
    elif shape.kind == "map":
        assert shape.key is not None
        assert shape.value is not None
        for key, item in value.items():
            parts.append("<entry>")
            _element("key", shape.key, key, parts, encoded)
            _element("value", shape.value, item, parts, encoded)
            parts.append("</entry>")
    else:
        parts.append(escape(_scalar(shape, value, encoded)))
    parts.append(f"</{tag}>")


def _scalar(shape: OutShape, value: Any, encoded: frozenset[str]) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    text = str(value)
    return quote(text, safe="") if shape.name in encoded else text
