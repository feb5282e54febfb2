"""``POST /api/v1/<type>/bulk``: up to 1,000 records of one type in one request, for every
record type with a CRUD surface.

One authentication, one transaction: each item is validated with the type's own create
schema (or, when it carries an ``id``, its update schema) and written through the same
service as a single POST or PATCH, so visibility, owner and assignment rules, custom
fields, history rows and events are those of one record at a time. The answer lists one
result per item, in order, each with the status and the errors a single request would
have had.

- ``all_or_nothing`` (the default): every item is written or none is. The items run
  without savepoints; if one fails, the transaction is rolled back and the answer is a
  422 problem listing every failing item. A refusal by the database (a duplicate, say)
  ends the transaction, so the items then run again one savepoint each, only to find out
  which of them fail; nothing is written either way.
- ``per_item``: each item is kept or not on its own, as if in a savepoint of its own (it
  is, once its group of items has failed together); the good ones commit, the bad ones are
  reported. The answer is always 207 Multi-Status, also when every item worked.

A caller whose role may not create the type at all gets one 403 for the request."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import (
    BaseModel,
    Field,
    SkipValidation,
    ValidationError,
    create_model,
    field_validator,
)
from pydantic_core import PydanticCustomError, to_json
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from pipewise.api.deps import CurrentActor, DbSession, RawBody, api_router
from pipewise.api.errors import Problem, problem_of
from pipewise.api.v1.crud import run_idempotent
from pipewise.auth.visibility import Actor
from pipewise.db.session import begin_write
from pipewise.errors import FieldError, PipewiseError, ValidationFailed
from pipewise.kernel import CrudResource
from pipewise.schemas import InputModel

MAX_ITEMS = 1000
PER_ITEM_STATUS = 207
CHUNK = 50  # per_item: items tried together in one savepoint before falling back to one each
ITEM_ERRORS = (PipewiseError, ValidationError, SQLAlchemyError)
Mode = Literal["all_or_nothing", "per_item"]


class BulkBody(InputModel):
    mode: Mode = Field(
        "all_or_nothing",
        description="all_or_nothing: every item is written or none (422 listing every failing item); "
        "per_item: the good items are written, the bad ones reported (207)",
    )
    items: list[Any]

    @field_validator("items", mode="before")
    @classmethod
    def _count(cls, value: Any) -> Any:
        if isinstance(value, list) and not value:
            raise PydanticCustomError("too_short", "send at least one item")
        if isinstance(value, list) and len(value) > MAX_ITEMS:
            raise PydanticCustomError(
                "too_long",
                "at most {limit} items per request; this one has {count}: send the rest in another request",
                {"limit": MAX_ITEMS, "count": len(value)},
            )
        return value


class ErrorEntry(BaseModel):
    field: str
    message: str


@dataclass
class Outcome:
    index: int
    status: int
    id: uuid.UUID | None
    record: Any = None  # the written record, until it is shown
    shown: dict[str, Any] | None = None
    problem: Problem | None = None

    def as_json(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"index": self.index, "status": self.status, "id": str(self.id) if self.id else None}
        if self.problem is None:
            answer["record"] = self.shown
        else:
            answer.update(title=self.problem.title, detail=self.problem.detail, errors=self.problem.errors)
        return answer


def _named_id(item: Any) -> uuid.UUID | None:
    """The id an item names for an update, if it is one at all (echoed in its result)."""
    try:
        return uuid.UUID(str(item["id"])) if isinstance(item, dict) and item.get("id") is not None else None
    except ValueError:
        return None


class Batch:
    """The items of one request, written through their record type's service."""

    def __init__(self, resource: CrudResource, update_item: type[BaseModel], session: Session, actor: Actor) -> None:
        self.resource = resource
        self.service = resource.service
        self.update_item = update_item
        self.session = session
        self.actor = actor

    def write(self, item: Any) -> tuple[Any, int]:
        """One item, as POST (201) or, when it names an ``id``, as PATCH with ``version``
        for If-Match (200)."""
        if isinstance(item, dict) and "id" in item:
            data = self.update_item.model_validate(item).model_dump(exclude_unset=True)
            record_id, version = data.pop("id"), data.pop("version", None)
            record = self.service.get(self.session, record_id, actor=self.actor, write=True, expected_version=version)
            self.service.update(self.session, record, data=data, actor=self.actor)
            return record, 200
        data = self.resource.create.model_validate(item).model_dump(exclude_unset=True)
        return self.service.create(self.session, data=data, actor=self.actor), 201

    def each(self, items: list[Any], first: int, *, savepoints: bool) -> list[Outcome]:
        """Every item on its own, numbered from ``first``; a failing one is reported and the
        others go on. Without ``savepoints`` a refusal by the database is raised instead
        (the transaction is lost with it), and the records are shown by ``shown``."""
        outcomes = []
        for index, item in enumerate(items, first):
            try:
                if savepoints:
                    with self.session.begin_nested():
                        record, status = self.write(item)
                        self.session.flush()
                else:
                    record, status = self.write(item)
            except ITEM_ERRORS as exc:
                found = problem_of(exc)
                if found is None or (isinstance(exc, SQLAlchemyError) and not savepoints):
                    raise
                outcomes.append(Outcome(index, found.status, _named_id(item), problem=found))
                continue
            outcomes.append(Outcome(index, status, record.id, record, self.show(record) if savepoints else None))
        return outcomes

    def together(self, items: list[Any], first: int) -> list[Outcome]:
        """All the items in one savepoint: the first failure is raised, and leaves nothing."""
        with self.session.begin_nested():
            written = [(index, *self.write(item)) for index, item in enumerate(items, first)]
            self.session.flush()
        return [Outcome(index, status, record.id, record, self.show(record)) for index, record, status in written]

    def shown(self, outcomes: list[Outcome]) -> list[Outcome]:
        self.session.flush()
        for outcome in outcomes:
            if outcome.record is not None and outcome.shown is None:
                outcome.shown = self.show(outcome.record)
        return outcomes

    def show(self, record: Any) -> dict[str, Any]:
        return self.resource.out.model_validate(record).model_dump(mode="json")  # type: ignore[no-any-return]


def _results(mode: str, outcomes: list[Outcome]) -> dict[str, Any]:
    return {
        "mode": mode,
        "created": sum(1 for o in outcomes if o.problem is None and o.status == 201),
        "updated": sum(1 for o in outcomes if o.problem is None and o.status == 200),
        "failed": sum(1 for o in outcomes if o.problem is not None),
        "items": [o.as_json() for o in outcomes],
    }


def _item_field(index: int, name: str) -> str:
    return f"items.{index}" if name == "body" else f"items.{index}.{name}"


def _rejection(failed: list[Outcome], total: int) -> ValidationFailed:
    errors = [
        FieldError(_item_field(o.index, e["field"]), e["message"])
        for o in failed
        for e in (o.problem.errors or [{"field": "body", "message": o.problem.detail}])  # type: ignore[union-attr]
    ]
    return ValidationFailed(
        f"{len(failed)} of {total} items failed; nothing was written",
        errors=errors,
        extensions=_results("all_or_nothing", failed),
    )


def all_or_nothing(batch: Batch, items: list[Any]) -> dict[str, Any]:
    try:
        outcomes = batch.shown(batch.each(items, 0, savepoints=False))
    except SQLAlchemyError as exc:
        if problem_of(exc) is None:
            raise
        # The database refused an item and the transaction is gone: run the items again,
        # each in a savepoint, to report every one that fails (none is kept).
        batch.session.rollback()
        begin_write(batch.session)
        outcomes = batch.each(items, 0, savepoints=True)
    failed = [o for o in outcomes if o.problem is not None]
    if failed:
        raise _rejection(failed, len(items))
    return _results("all_or_nothing", outcomes)


def per_item(batch: Batch, items: list[Any]) -> dict[str, Any]:
    """Each item is kept or not on its own. Items are tried ``CHUNK`` at a time in one
    savepoint (one flush, multi-row INSERTs); a chunk in which one fails is rolled back and
    its items run again one savepoint each."""
    outcomes: list[Outcome] = []
    for first in range(0, len(items), CHUNK):
        chunk = items[first : first + CHUNK]
        try:
            outcomes += batch.together(chunk, first)
        except ITEM_ERRORS as exc:
            if problem_of(exc) is None:
                raise
            outcomes += batch.each(chunk, first, savepoints=True)
    return _results("per_item", outcomes)


def _json(status_code: int, content: Any) -> Response:
    return Response(to_json(content), status_code=status_code, media_type="application/json")


def _same(content: Any) -> Any:
    return content  # already JSON-ready: the records were shown in pydantic's JSON mode


def bulk_router(resource: CrudResource) -> APIRouter:
    out, create, update = resource.out, resource.create, resource.update
    plural = resource.service.spec.plural
    update_item = create_model(
        f"{update.__name__}Item",
        __base__=update,
        id=(uuid.UUID, Field(description=f"the {resource.service.spec.name} to change")),
        version=(int | None, Field(None, description="the version you read, as If-Match: 412 if it has changed")),
    )
    body_model = create_model(
        f"{out.__name__}Bulk",
        __base__=BulkBody,
        items=(
            Annotated[
                # Validated item by item in the handler, so that one bad item does not refuse the rest.
                list[SkipValidation[create | update_item]],  # type: ignore[valid-type]
                Field(min_length=1, max_length=MAX_ITEMS, description="creates, and changes (items with an id)"),
            ],
            ...,
        ),
    )
    item_result = create_model(
        f"{out.__name__}BulkItem",
        index=(int, ...),
        status=(int, Field(description="201 created, 200 changed, or the 4xx a single request would get")),
        id=(uuid.UUID | None, None),
        record=(out | None, None),
        title=(str | None, None),
        detail=(str | None, None),
        errors=(list[ErrorEntry] | None, None),
    )
    result_model = create_model(
        f"{out.__name__}BulkResult",
        mode=(Mode, ...),
        created=(int, ...),
        updated=(int, ...),
        failed=(int, ...),
        items=(list[item_result], ...),  # type: ignore[valid-type]
    )
    router = api_router(prefix=resource.path, tags=[resource.tag])

    @router.post(
        "/bulk",
        response_model=result_model,
        summary=f"Create or change up to {MAX_ITEMS:,} {plural}",
        response_description="all_or_nothing mode: every item was written",
        responses={
            PER_ITEM_STATUS: {"model": result_model, "description": "per_item mode: one result per item"},
            422: {"description": "all_or_nothing mode: nothing was written; `items` lists every failing item"},
        },
    )
    def bulk(request: Request, session: DbSession, actor: CurrentActor, raw: RawBody, body: body_model) -> Any:  # type: ignore[valid-type]
        """Each item is what `POST` takes, or, with an `id`, what `PATCH` takes (plus `version`
        for If-Match). Results come in the items' order; `Idempotency-Key` is honoured."""
        resource.service.check_may_create(actor)
        batch = Batch(resource, update_item, session, actor)
        if body.mode == "per_item":  # type: ignore[attr-defined]
            status_code, produce = PER_ITEM_STATUS, per_item
        else:
            status_code, produce = 200, all_or_nothing
        return run_idempotent(
            request, session, actor, raw, status_code, lambda: produce(batch, body.items),  # type: ignore[attr-defined]
            encode=_same, render=_json,
        )

    return router


def bulk_routes(resources: Iterable[CrudResource]) -> APIRouter:
    router = api_router()
    for resource in resources:
        if resource.create is not None:
            router.include_router(bulk_router(resource))
    return router
