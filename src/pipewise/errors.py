"""Domain errors. Adapters (API, web, CLI) turn them into their own kind of answer."""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FieldError:
    field: str
    message: str


class PipewiseError(Exception):
    status = 400
    title = "Bad request"

    def __init__(
        self, detail: str, *, errors: list[FieldError] | None = None, extensions: dict[str, Any] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        # More members for the API's problem details (RFC 9457 extension members).
        self.extensions = extensions or {}


class NotFound(PipewiseError):
    status = 404
    title = "Not found"


class PermissionDenied(PipewiseError):
    status = 403
    title = "Forbidden"


class Conflict(PipewiseError):
    status = 409
    title = "Conflict"


class PreconditionFailed(PipewiseError):
    """The client's ``If-Match`` names a version the record no longer has."""

    status = 412
    title = "Precondition failed"


class ValidationFailed(PipewiseError):
    status = 422
    title = "Validation failed"

    @classmethod
    def on(cls, field_name: str, message: str) -> "ValidationFailed":
        return cls(f"{field_name}: {message}", errors=[FieldError(field_name, message)])


@dataclass
class ErrorCollector:
    """Gathers every field error before raising, so a form shows them all at once."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, field_name: str, message: str) -> None:
        self.errors.append(FieldError(field_name, message))

    def raise_if_any(self) -> None:
        if self.errors:
            summary = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
            raise ValidationFailed(summary, errors=self.errors)
