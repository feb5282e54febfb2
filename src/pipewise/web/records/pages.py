"""List, record, create and edit pages for accounts, contacts, leads and deals — one
router factory over the RecordViews, every read and write through the services."""

import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from pipewise.crm import schemas as crm_schemas
from pipewise.crm.service import activity_service, task_service
from pipewise.errors import PreconditionFailed, ValidationFailed
from pipewise.records.filters import RESERVED_PARAMS, conditions_from_params
from pipewise.records.repository import ListQuery
from pipewise.records.saved_views import page_query, saved_view_service
from pipewise.records.timeline import timeline
from pipewise.records.totals import list_totals
from pipewise.web.common import (
    CurrentUser, DbSession, PostedForm, WebUser, flash, is_htmx, redirect, render, safe_next, web_router,
)
from pipewise.web.forms import custom_form_fields, state_for_new, state_from_record, submit
from pipewise.web.lookups import PICKER_KINDS, Lookups
from pipewise.web.lookups import router as lookup_router
from pipewise.web.records import bulk, columns, related
from pipewise.web.records.display import Display
from pipewise.web.records.views import ACTIVITY_FIELDS, RECORD_VIEWS, TASK_FIELDS, ListFilter, RecordView

PAGE_SIZE = 25


def list_params(request: Request) -> dict[str, str]:
    """The query string minus empty values (an unset filter select sends '')."""
    return {k: v for k, v in request.query_params.items() if v.strip()}


def build_query(view: RecordView, params: dict[str, str]) -> ListQuery:
    conditions = conditions_from_params(params)
    return ListQuery(
        filter={"all": conditions} if conditions else None,
        q=params.get("q"),
        sort=params.get("sort", view.sorts[0][0] if view.sorts else "-created_at"),
        cursor=params.get("cursor"),
        limit=PAGE_SIZE,
    )


def custom_filters(lookups: Lookups, view: RecordView) -> tuple[ListFilter, ...]:
    """Choice custom fields become filters too; any other custom field can still be
    filtered by URL (``?custom.region=EMEA``)."""
    return tuple(
        ListFilter(f"custom.{d.key}", d.label, "choice", tuple(str(c) for c in d.choices))
        for d in lookups.custom_fields(view.name)
        if d.field_type == "choice"
    )


class RecordPages:
    """The pages of one record type."""

    def __init__(self, view: RecordView) -> None:
        self.view = view

    def form_fields(self, lookups: Lookups) -> tuple[Any, ...]:
        return self.view.fields + custom_form_fields(lookups.custom_fields(self.view.name))

    def context(self, session: Session, me: WebUser, **extra: Any) -> dict[str, Any]:
        lookups = Lookups(session, me.actor)
        show = Display(lookups, me.user.timezone)
        return {"view": self.view, "lookups": lookups, "show": show, "picker_kinds": PICKER_KINDS, **extra}

    # -- list --

    def list_page(self, request: Request, session: Session, me: WebUser) -> Response:
        params = list_params(request)
        ctx = self.context(session, me, params=params, error=None, page=None)
        lookups: Lookups = ctx["lookups"]
        status = 200
        try:
            page = self.view.service.list(session, actor=me.actor, query=build_query(self.view, params))
        except ValidationFailed as exc:
            ctx["error"] = "; ".join(e.message for e in exc.errors) or exc.detail
            status = 400
        else:
            ctx["page"] = page
            ctx["totals"] = list_totals(session, self.view.name, me.actor, build_query(self.view, params), amount=self.view.amount)
            lookups.load_accounts(getattr(r, "account_id", None) for r in page.items)
            if page.next_cursor:
                ctx["next_url"] = f"{self.view.url}?{urlencode({**params, 'cursor': page.next_cursor})}"
        ctx["columns"] = columns.shown(request, self.view, me)
        ctx["all_columns"] = columns.available(self.view)
        ctx["bulk_fields"] = bulk.editable_fields(self.view)
        ctx["here"] = f"{self.view.url}?{urlencode(params)}" if params else self.view.url
        ctx["filters"] = self.view.filters + custom_filters(lookups, self.view)
        ctx["first_url"] = f"{self.view.url}?{urlencode({k: v for k, v in params.items() if k != 'cursor'})}"
        ctx["filtered"] = any(k not in RESERVED_PARAMS for k in params) or "q" in params
        ctx["saved_views"] = saved_view_service.list(session, me.actor, self.view.name)
        ctx["current_query"] = page_query(urlencode(params))
        template = "records/_results.html" if request.headers.get("HX-Target") == "results" else "records/list.html"
        return render(request, template, ctx, status_code=status)

    def bulk(self, request: Request, session: Session, me: WebUser, form: FormData) -> Response:
        ctx = self.context(session, me)
        return bulk.apply(request, session, self.view, me, form, columns=columns.shown(request, self.view, me), show=ctx["show"])

    def choose_columns(self, request: Request, me: WebUser, form: FormData) -> Response:
        back = safe_next(str(form.get("next") or ""), self.view.url)
        return columns.remember(redirect(back), self.view, me, [str(k) for k in form.getlist("col")])

    # -- one record --

    def record_page(self, request: Request, session: Session, me: WebUser, record_id: uuid.UUID) -> Response:
        record = self.view.service.get(session, record_id, actor=me.actor)
        return self.render_record(request, session, me, record)

    def render_record(
        self,
        request: Request,
        session: Session,
        me: WebUser,
        record: Any,
        *,
        engage: dict[str, Any] | None = None,
        status_code: int = 200,
        template: str = "records/detail.html",
    ) -> Response:
        ctx = self.context(session, me, record=record)
        lookups: Lookups = ctx["lookups"]
        show: Display = ctx["show"]
        ctx["fields"] = self.form_fields(lookups)

        def moment(item: Any) -> str:
            at = getattr(item, "due_at", None) or getattr(item, "start_at", None)
            return show.moment_text(at) or "no due date"

        tasks = related.open_tasks(session, self.view.name, record.id, me.actor) if self.view.name == "contact" else []
        ctx["next_task"] = tasks[0] if tasks else None
        ctx["next_task_when"] = moment(ctx["next_task"]) if ctx["next_task"] else ""
        ctx["related"] = related.sections(session, self.view, record, lookups, tasks=tasks, when=moment)
        if self.view.name == "deal":
            ctx["stage_bar"] = lookups.stages_of(record.pipeline_id)
        currency = getattr(record, "currency", "USD")
        items = [show.timeline_item(e, currency) for e in timeline(session, self.view.name, record.id)]
        ctx["timeline_kinds"] = sorted({i.kind for i in items})
        ctx["timeline_kind"] = kind = request.query_params.get("kind", "")
        ctx["timeline"] = [i for i in items if i.kind == kind] if kind in ctx["timeline_kinds"] else items
        ctx["activity_fields"] = ACTIVITY_FIELDS
        ctx["task_fields"] = TASK_FIELDS
        ctx["activity_form"] = state_for_new(ACTIVITY_FIELDS, {})
        ctx["task_form"] = state_for_new(TASK_FIELDS, {})
        ctx["active_tab"] = "activity"
        ctx.update(engage or {})
        return render(request, template, ctx, status_code=status_code)

    # -- create and edit --

    def new_page(self, request: Request, session: Session, me: WebUser) -> Response:
        ctx = self.context(session, me, record=None)
        fields = self.form_fields(ctx["lookups"])
        prefill = dict(request.query_params)
        ctx.update(fields=fields, form=state_for_new(fields, prefill), carry=related.carried(prefill))
        return render(request, "records/form.html", ctx)

    def create(self, request: Request, session: Session, me: WebUser, form: FormData) -> Response:
        ctx = self.context(session, me, record=None)
        fields = self.form_fields(ctx["lookups"])
        follow_up = related.after_create(session, self.view, form, me.actor)
        record, state = submit(
            session, self.view.service, fields, self.view.schema, form, actor=me.actor, tz=me.user.timezone, then=follow_up
        )
        if record is None:
            ctx.update(fields=fields, form=state, carry=related.carried(form))
            return render(request, "records/form.html", ctx, status_code=422)
        flash(request, f"{self.view.name.capitalize()} “{self.view.title_of(record)}” created.")
        return redirect(self.view.record_url(record))

    def edit_page(self, request: Request, session: Session, me: WebUser, record_id: uuid.UUID) -> Response:
        record = self.view.service.get(session, record_id, actor=me.actor)
        ctx = self.context(session, me, record=record)
        fields = self.form_fields(ctx["lookups"])
        state = state_from_record(fields, record, me.user.timezone)
        known = {f.name for f in fields}
        state.values.update({k: v for k, v in request.query_params.items() if k in known})
        return render(request, "records/form.html", {**ctx, "fields": fields, "form": state, "carry": version_carry(record)})

    def update(self, request: Request, session: Session, me: WebUser, form: FormData, record_id: uuid.UUID) -> Response:
        try:
            record = self.view.service.get(
                session, record_id, actor=me.actor, write=True, expected_version=posted_version(form)
            )
        except PreconditionFailed:
            flash(request, STALE_SAVE.format(name=self.view.name))
            return redirect(f"/{self.view.plural}/{record_id}/edit")
        ctx = self.context(session, me, record=record)
        fields = self.form_fields(ctx["lookups"])
        saved, state = submit(
            session, self.view.service, fields, self.view.schema, form, actor=me.actor, record=record, tz=me.user.timezone
        )
        if saved is None:
            return render(request, "records/form.html", {**ctx, "fields": fields, "form": state,
                                                         "carry": version_carry(record)}, status_code=422)
        flash(request, "Changes saved.")
        return redirect(self.view.record_url(record))

    def delete(self, request: Request, session: Session, me: WebUser, record_id: uuid.UUID) -> Response:
        record = self.view.service.get(session, record_id, actor=me.actor, write=True)
        name = self.view.title_of(record)
        self.view.service.delete(session, record, actor=me.actor)
        flash(request, f"{self.view.name.capitalize()} “{name}” deleted.")
        return redirect(self.view.url)

    # -- inline: log an activity, add a task --

    def log_activity(self, request: Request, session: Session, me: WebUser, form: FormData, record_id: uuid.UUID) -> Response:
        record = self.view.service.get(session, record_id, actor=me.actor)
        link = {f"{self.view.name}_id": record.id}
        return self._engage_submit(request, session, me, form, record, "activity", link)

    def add_task(self, request: Request, session: Session, me: WebUser, form: FormData, record_id: uuid.UUID) -> Response:
        record = self.view.service.get(session, record_id, actor=me.actor)
        link = {"related_type": self.view.name, "related_id": record.id}
        return self._engage_submit(request, session, me, form, record, "task", link)

    def _engage_submit(
        self, request: Request, session: Session, me: WebUser, form: FormData, record: Any, tab: str, link: dict[str, Any]
    ) -> Response:
        service, fields, schema = (
            (activity_service, ACTIVITY_FIELDS, crm_schemas.ActivityUpdate)
            if tab == "activity"
            else (task_service, TASK_FIELDS, crm_schemas.TaskUpdate)
        )
        saved, state = submit(session, service, fields, schema, form, actor=me.actor, tz=me.user.timezone, extra=link)
        engage: dict[str, Any] = {"active_tab": tab}
        status = 200
        if saved is None:
            engage[f"{tab}_form"] = state
            status = 422
        else:
            engage["engage_message"] = "Activity logged." if tab == "activity" else "Task added."
        template = "records/_engage.html" if is_htmx(request) else "records/detail.html"
        return self.render_record(request, session, me, record, engage=engage, status_code=status, template=template)

    # -- routes --

    def router(self) -> APIRouter:
        router = web_router(prefix=self.view.url)

        @router.get("", name=f"{self.view.plural}_list")
        def list_page(request: Request, session: DbSession, me: CurrentUser) -> Response:
            return self.list_page(request, session, me)

        @router.get("/new")
        def new_page(request: Request, session: DbSession, me: CurrentUser) -> Response:
            return self.new_page(request, session, me)

        @router.post("")
        def create(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
            return self.create(request, session, me, form)

        @router.post("/bulk")
        def bulk_action(request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
            return self.bulk(request, session, me, form)

        @router.post("/columns")
        def choose_columns(request: Request, me: CurrentUser, form: PostedForm) -> Response:
            return self.choose_columns(request, me, form)

        @router.get("/{record_id}")
        def record_page(record_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
            return self.record_page(request, session, me, record_id)

        @router.get("/{record_id}/edit")
        def edit_page(record_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
            return self.edit_page(request, session, me, record_id)

        @router.post("/{record_id}")
        def update(record_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
            return self.update(request, session, me, form, record_id)

        @router.post("/{record_id}/delete")
        def delete(record_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
            return self.delete(request, session, me, record_id)

        @router.post("/{record_id}/activities")
        def log_activity(record_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
            return self.log_activity(request, session, me, form, record_id)

        @router.post("/{record_id}/tasks")
        def add_task(record_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser, form: PostedForm) -> Response:
            return self.add_task(request, session, me, form, record_id)

        return router


router = APIRouter()
router.include_router(lookup_router)
for _view in RECORD_VIEWS.values():
    router.include_router(RecordPages(_view).router())


STALE_SAVE = "Someone else changed this {name} while you were editing it, so your changes were not saved. This is the current version: please make your changes again."


def version_carry(record: Any) -> dict[str, str]:
    """The version an edit form was drawn from, carried in a hidden field."""
    return {"version": str(record.version)} if hasattr(record, "version") else {}


def posted_version(form: FormData) -> int | None:
    value = str(form.get("version") or "")
    return int(value) if value.isdigit() and len(value) < 19 else None
