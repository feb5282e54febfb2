"""Every error leaves the API as RFC 9457 problem details, with field-level messages."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, StatementError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipewise.errors import PipewiseError

log = logging.getLogger("pipewise.api")
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, errors: list[dict[str, str]] | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _validation_message(error: dict[str, Any]) -> str:
    if error.get("type") == "extra_forbidden":
        return "is not a known field"
    if error.get("type") == "missing":
        return "is required"
    if error.get("type") == "json_invalid":
        return "the body is not valid JSON"
    return str(error.get("msg", "is invalid"))


@dataclass(frozen=True)
class Problem:
    """What a request that failed is told: the parts of its problem details."""

    status: int
    title: str
    detail: str
    errors: list[dict[str, str]] = field(default_factory=list)


def validation_problem(pydantic_errors: Sequence[Any]) -> Problem:
    errors = [{"field": _location(tuple(e.get("loc", ()))), "message": _validation_message(e)} for e in pydantic_errors]
    return Problem(422, "Validation failed", "; ".join(f"{e['field']}: {e['message']}" for e in errors), errors)


def problem_of(exc: Exception) -> Problem | None:
    """The problem a write that raised ``exc`` answers with: the request's own fault (bad
    input, no right, a conflict). None for anything else, such as a database that is down."""
    if isinstance(exc, PipewiseError):
        return Problem(exc.status, exc.title, exc.detail, [{"field": e.field, "message": e.message} for e in exc.errors])
    if isinstance(exc, (RequestValidationError, ValidationError)):
        return validation_problem(exc.errors())
    if isinstance(exc, IntegrityError):
        return Problem(409, "Conflict", "the change conflicts with existing data (a duplicate or a missing reference)")
    if isinstance(exc, DataError):
        return Problem(422, "Validation failed", "a value is out of range, too long or not allowed for its field")
    if isinstance(exc, StatementError) and isinstance(exc.orig, (ValueError, OverflowError)):
        return Problem(422, "Validation failed", "a value is out of range for its field")  # a bind value the column type cannot take
    if isinstance(exc, StaleDataError):
        return Problem(409, "Conflict", "the record was changed by someone else at the same moment; read it again and retry")
    return None


def install(app: FastAPI) -> None:
    @app.exception_handler(PipewiseError)
    @app.exception_handler(RequestValidationError)
    @app.exception_handler(StaleDataError)
    @app.exception_handler(StatementError)  # IntegrityError and DataError too
    async def on_request_error(_request: Request, exc: Exception) -> JSONResponse:
        found = problem_of(exc)
        if found is None:
            if isinstance(exc, OperationalError):
                log.warning("database unavailable: %s", exc.orig)
                return problem(503, "Service unavailable", "the database is busy; retry shortly")
            raise exc
        if isinstance(exc, (StatementError, StaleDataError)):
            log.info("write refused by the database: %s", getattr(exc, "orig", exc))
        return problem(found.status, found.title, found.detail, found.errors, **getattr(exc, "extensions", {}))

    app.add_exception_handler(StarletteHTTPException, http_problem)


def http_problem(_request: Request, exc: Exception) -> JSONResponse:
    """An HTTP error raised by the framework (no such route, method not allowed) as problem details."""
    assert isinstance(exc, StarletteHTTPException)
    response = problem(exc.status_code, _title(exc.status_code), str(exc.detail))
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    return response


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
