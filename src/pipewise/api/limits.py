"""Limits on what a request may carry, checked before any route sees it:

- a body over ``max_body_bytes`` (``max_import_bytes`` for CSV imports, ``max_bulk_bytes``
  for the bulk routes) gets 413, whether it declares a Content-Length or arrives chunked;
- a JSON body nested deeper than ``max_json_depth`` gets 422;
- a NUL character in a JSON or form body or in the query string gets 422 naming the field
  (PostgreSQL cannot store one, and no field of a CRM needs it).

Multipart uploads (CSV files) are only counted: the importer checks their contents row by row."""

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException

from pipewise.api.errors import problem
from pipewise.config import Settings, get_settings
from pipewise.records.bounds import NUL_MESSAGE

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

IMPORT_PATHS = ("/api/v1/lead-imports", "/lead-import")
BULK_SUFFIX = "/bulk"  # POST /api/v1/<type>/bulk: up to 1,000 records in one body
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class RequestLimits:
    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = get_settings()
        path: str = scope["path"]
        limit = _body_limit(path, settings)
        declared, content_type = _body_headers(scope["headers"])
        if declared.isdigit() and int(declared) > limit:
            await problem(413, "Content too large", _too_large(limit))(scope, receive, send)
            return
        found = _query_problem(scope.get("query_string", b""))
        content_type = content_type.split(";")[0].strip().lower()
        if found is None and (content_type.endswith("json") or content_type == "application/x-www-form-urlencoded"):
            body = await _read_body(receive, limit)
            if body is None:
                await problem(413, "Content too large", _too_large(limit))(scope, receive, send)
                return
            found = _body_problem(body, content_type, settings.max_json_depth)
            receive = _replay(body, receive)
        else:
            receive = _counting(receive, limit)
        if found is not None:
            field, message = found
            errors = [{"field": field, "message": message}]
            await problem(422, "Validation failed", f"{field}: {message}", errors)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _body_headers(headers: list[tuple[bytes, bytes]]) -> tuple[str, str]:
    """Content-Length and Content-Type, the only headers the limits read (ASGI servers give
    header names in lower case)."""
    length = kind = ""
    for name, value in headers:
        if name == b"content-length":
            length = value.decode("latin-1")
        elif name == b"content-type":
            kind = value.decode("latin-1")
    return length, kind


def _body_limit(path: str, settings: Settings) -> int:
    if path.startswith(IMPORT_PATHS):
        return settings.max_import_bytes
    if path.startswith("/api/v1/") and path.endswith(BULK_SUFFIX):
        return settings.max_bulk_bytes
    return settings.max_body_bytes


def _too_large(limit: int) -> str:
    return f"the request body is larger than the {limit:,} bytes this server accepts"


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _counting(receive: Receive, limit: int) -> Receive:
    """Pass the body through, and stop it with 413 once it grows past ``limit``."""
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise HTTPException(413, _too_large(limit))
        return message

    return counted


def _query_problem(query: bytes) -> tuple[str, str] | None:
    if b"%00" not in query:
        return None
    for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in key or "\x00" in value:
            return key.replace("\x00", "") or "query", NUL_MESSAGE
    return None


def _body_problem(body: bytes, content_type: str, max_depth: int) -> tuple[str, str] | None:
    if content_type == "application/x-www-form-urlencoded":
        return _query_problem(body)
    if _too_deep(body, max_depth):
        return "body", f"is nested deeper than {max_depth} levels"
    if b"\\u0000" in body or b"\x00" in body:
        try:
            return _nul_in(json.loads(body), "")
        except ValueError:
            return None  # not JSON: the route's own parsing says so
    return None


def _too_deep(body: bytes, max_depth: int) -> bool:
    """Whether the arrays and objects of a JSON text nest deeper than ``max_depth``
    (brackets inside strings do not count)."""
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return False
    depth = 0
    for char in _STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        depth += 1 if char in b"[{" else -1
        if depth > max_depth:
            return True
    return False


def _nul_in(value: Any, path: str) -> tuple[str, str] | None:
    if isinstance(value, str):
        return (path or "body", NUL_MESSAGE) if "\x00" in value else None
    items: Any = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and "\x00" in key:
            return (path or "body", NUL_MESSAGE)
        found = _nul_in(item, f"{path}.{key}" if path and isinstance(key, str) else f"{path}[{key}]" if path else str(key))
        if found is not None:
            return found
    return None
