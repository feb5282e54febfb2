"""One router factory for the CRUD surface every record type shares:
list (filters, search, sort, cursor), create, read, partial update, delete, history."""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, create_model

from pipewise.api import idempotency
from pipewise.api.deps import CurrentActor, DbSession, api_router, one_record_write
from pipewise.errors import FieldError, ValidationFailed
from pipewise.records.filters import conditions_from_params
from pipewise.records.history import history_of
from pipewise.records.repository import ListQuery
from pipewise.records.saved_views import SavedView, saved_view_service
from pipewise.records.schemas import HistoryEntry
from pipewise.records.service import RecordService

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The ETag (version) of the record as you read it, e.g. "3": the write is refused '
        "with 412 if the record has changed since. Without it, the write applies to the current record.",
    ),
]


def expected_versions(if_match: str | None) -> frozenset[int] | None:
    """The versions an ``If-Match`` header accepts (``"3"``, ``W/"3"``, a list); None for any.
    A tag that is not one of ours can never match."""
    if if_match is None or if_match.strip() == "*":
        return None
    versions = set()
    for tag in if_match.split(","):
        value = tag.strip().removeprefix("W/").strip('"')
        if value.isdigit() and len(value) < 19:
            versions.add(int(value))
    return frozenset(versions) or frozenset({-1})


def etag(version: int) -> str:
    return f'"{version}"'


def page_model(out: type[BaseModel]) -> type[BaseModel]:
    return create_model(f"{out.__name__}Page", items=(list[out], ...), next_cursor=(str | None, None))


def parse_list_query(
    request: Request, q: str | None, sort: str, cursor: str | None, limit: int, filter_json: str | None,
    view: SavedView | None = None,
) -> ListQuery:
    conditions = conditions_from_params(request.query_params)
    if filter_json:
        try:
            tree = json.loads(filter_json)
        except json.JSONDecodeError:
            raise ValidationFailed("filter is not JSON", errors=[FieldError("filter", "is not valid JSON")]) from None
        except RecursionError:
            raise ValidationFailed.on("filter", "is nested too deeply") from None
        conditions.append(tree)
    if view is not None:
        if view.filter:
            conditions.append(view.filter)
        if "sort" not in request.query_params and view.sort:
            sort = view.sort
    return ListQuery(filter={"all": conditions} if conditions else None, q=q, sort=sort, cursor=cursor, limit=limit)


def saved_view_for(session: Any, view_id: uuid.UUID | None, actor: Any, record_type: str) -> SavedView | None:
    if view_id is None:
        return None
    view = saved_view_service.get(session, view_id, actor)
    if view.record_type != record_type:
        raise ValidationFailed.on("view", f"is a {view.record_type} view, not a {record_type} view")
    return view


def _json_ready(result: Any) -> Any:
    return json.loads(result.body) if isinstance(result, Serialised) else jsonable_encoder(result)


def run_idempotent(
    request: Request, session: Any, actor: Any, body: bytes, status_code: int, produce: Callable[[], Any],
    *, encode: Callable[[Any], Any] = _json_ready, render: Callable[[int, Any], Response] | None = None,
) -> Response:
    """Run a write once per ``Idempotency-Key``; a retry replays the stored response.
    ``encode`` makes the result JSON-ready to store, ``render`` makes the response."""
    render = render or _respond
    key = request.headers.get("idempotency-key")
    if not key:
        result = produce()
        return render(status_code, result)
    print_ = idempotency.fingerprint(request.method, request.url.path, body)
    stored = idempotency.lookup(session, user_id=actor.id, key=key, print_=print_)
    if stored is not None:
        response = render(stored.status_code, stored.body)
        response.headers["Idempotent-Replayed"] = "true"
        return response
    result = produce()
    encoded = encode(result) if result is not None else None
    idempotency.remember(session, user_id=actor.id, key=key, print_=print_, status_code=status_code, body=encoded)
    return render(status_code, result if isinstance(result, Serialised) else encoded)


def body_bytes(body: BaseModel) -> bytes:
    return body.model_dump_json(exclude_unset=True).encode()


@dataclass(frozen=True)
class Serialised:
    """A record's response body, serialised once in pydantic-core (no second pass through
    ``jsonable_encoder`` and the json module), and its version for the ETag."""

    body: bytes
    version: int | None


def _respond(status_code: int, content: Any) -> Response:
    if status_code == 204 or content is None:
        return Response(status_code=204)
    if isinstance(content, Serialised):
        response = Response(content.body, status_code=status_code, media_type="application/json")
        version = content.version
    else:
        response = JSONResponse(jsonable_encoder(content), status_code=status_code)
        version = content.get("version") if isinstance(content, dict) else None
    if isinstance(version, int):
        response.headers["ETag"] = etag(version)
    return response


def crud_router(
    *,
    service: RecordService[Any],
    out: type[BaseModel],
    create: type[BaseModel] | None,
    update: type[BaseModel] | None,
    path: str,
    tag: str,
) -> APIRouter:
    router = api_router(prefix=path, tags=[tag])
    name = service.spec.name
    page = page_model(out)

    def dump(record: Any) -> Serialised:
        return Serialised(out.model_validate(record).model_dump_json().encode(), getattr(record, "version", None))

    @router.get("", response_model=page, summary=f"List {service.spec.plural}")
    def list_records(
        request: Request,
        session: DbSession,
        actor: CurrentActor,
        q: str | None = Query(None, description="search " + ", ".join(service.spec.search_fields)),
        sort: str = Query("-created_at", description="field, '-' prefix for descending"),
        cursor: str | None = None,
        limit: int = Query(50, ge=1, le=500),
        filter: str | None = Query(None, description='JSON filter tree, e.g. {"any": [...]}'),
        view: uuid.UUID | None = Query(None, description="a saved view's id: its filter (and sort) apply too"),
    ) -> Any:
        """Filter with `field=value` or `field__op=value` (ops: eq ne gt gte lt lte in not_in contains
        starts_with is_empty is_not_empty before after within_last_days older_than_days), also on
        `custom.<key>` and related records (`account.industry`)."""
        saved = saved_view_for(session, view, actor, service.spec.name)
        query = parse_list_query(request, q, sort, cursor, limit, filter, saved)
        result = service.list(session, actor=actor, query=query)
        # Serialised once, in pydantic-core: returning a dict would validate every item again
        # against the page model and encode it in Python, most of a list request's CPU time.
        body = page(items=[out.model_validate(r) for r in result.items], next_cursor=result.next_cursor)
        return Response(body.model_dump_json(), media_type="application/json")

    @router.get("/{record_id}", response_model=out, summary=f"Read a {name}")
    def read_record(record_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
        """The `ETag` header carries the record's version, for `If-Match` on a later write."""
        return _respond(200, dump(service.get(session, record_id, actor=actor)))

    @router.get("/{record_id}/history", response_model=list[HistoryEntry], summary=f"Field history of a {name}")
    def record_history(record_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
        service.get(session, record_id, actor=actor)
        return [HistoryEntry.model_validate(h) for h in history_of(session, name, record_id)]

    if create is not None:

        @router.post("", status_code=201, response_model=out, summary=f"Create a {name}")
        @one_record_write
        def create_record(request: Request, session: DbSession, actor: CurrentActor, body: create) -> Any:  # type: ignore[valid-type]
            def produce() -> Any:
                record = service.create(session, data=body.model_dump(exclude_unset=True), actor=actor)
                session.flush()
                return dump(record)

            return run_idempotent(request, session, actor, body_bytes(body), 201, produce)

        @router.delete("/{record_id}", status_code=204, response_model=None, summary=f"Delete a {name}")
        def delete_record(
            record_id: uuid.UUID, request: Request, session: DbSession, actor: CurrentActor, if_match: IfMatch = None
        ) -> Any:
            def produce() -> None:
                options = service.delete_options(request.query_params)
                record = service.get(
                    session, record_id, actor=actor, write=True, expected_version=expected_versions(if_match)
                )
                service.delete(session, record, actor=actor, **options)

            return run_idempotent(request, session, actor, b"", 204, produce)

    if update is not None:

        @router.patch("/{record_id}", response_model=out, summary=f"Change a {name}")
        @one_record_write
        def update_record(
            record_id: uuid.UUID, request: Request, session: DbSession, actor: CurrentActor, body: update,  # type: ignore[valid-type]
            if_match: IfMatch = None,
        ) -> Any:
            """Only the fields sent change (`custom` merges key by key), on the current record.
            The response's `ETag` is the new version."""

            def produce() -> Any:
                record = service.get(
                    session, record_id, actor=actor, write=True, expected_version=expected_versions(if_match)
                )
                service.update(session, record, data=body.model_dump(exclude_unset=True), actor=actor)
                session.flush()
                return dump(record)

            return run_idempotent(request, session, actor, body_bytes(body), 200, produce)

    return router
