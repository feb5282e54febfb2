"""Every error leaves the API as RFC 9457 problem details, with field-level messages."""

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
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


def install(app: FastAPI) -> None:
    @app.exception_handler(PipewiseError)
    async def on_domain_error(_request: Request, exc: PipewiseError) -> JSONResponse:
        errors = [{"field": e.field, "message": e.message} for e in exc.errors]
        return problem(exc.status, exc.title, exc.detail, errors)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _location(tuple(e.get("loc", ()))), "message": _validation_message(e)} for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, "Validation failed", detail, errors)

    @app.exception_handler(IntegrityError)
    async def on_integrity_error(_request: Request, exc: IntegrityError) -> JSONResponse:
        log.info("integrity error: %s", exc.orig)
        return problem(409, "Conflict", "the change conflicts with existing data (a duplicate or a missing reference)")

    @app.exception_handler(DataError)
    async def on_data_error(_request: Request, exc: DataError) -> JSONResponse:
        log.info("value refused by the database: %s", exc.orig)
        return problem(422, "Validation failed", "a value is out of range, too long or not allowed for its field")

    @app.exception_handler(StatementError)
    async def on_statement_error(request: Request, exc: StatementError) -> JSONResponse:
        if isinstance(exc.orig, (ValueError, OverflowError)):  # a bind value the column type cannot take
            log.info("value refused before the database: %s", exc.orig)
            return problem(422, "Validation failed", "a value is out of range for its field")
        raise exc

    @app.exception_handler(StaleDataError)
    async def on_stale_data(_request: Request, exc: StaleDataError) -> JSONResponse:
        log.info("write lost a race: %s", exc)
        return problem(409, "Conflict", "the record was changed by someone else at the same moment; read it again and retry")

    @app.exception_handler(OperationalError)
    async def on_operational_error(_request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", exc.orig)
        return problem(503, "Service unavailable", "the database is busy; retry shortly")

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = problem(exc.status_code, _title(exc.status_code), str(exc.detail))
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
