"""The holdout panel of a sequence's and a workflow's page (loaded into the page by htmx):
the two groups, each metric with its 95 % interval, and the verdict in words."""

import uuid

from fastapi import Request, Response

from pipewise.automation import holdouts as workflow_holdouts
from pipewise.automation.service import workflow_service
from pipewise.sequences import holdouts as sequence_holdouts
from pipewise.sequences.service import sequence_service
from pipewise.web.common import CurrentUser, DbSession, render, web_router

PANEL = "holdouts/_effect.html"
sequence_router = web_router()
workflow_router = web_router()


@sequence_router.get("/sequences/{sequence_id}/holdout-effect")
def sequence_panel(sequence_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    sequence = sequence_service.get(session, sequence_id)
    return render(request, PANEL, {
        "effect": sequence_holdouts.effect(session, sequence, actor=me.actor), "settings_url": f"/sequences/{sequence.id}/edit",
    })


@workflow_router.get("/automation/{workflow_id}/holdout-effect")
def workflow_panel(workflow_id: uuid.UUID, request: Request, session: DbSession, me: CurrentUser) -> Response:
    workflow = workflow_service.get(session, workflow_id, actor=me.actor)
    return render(request, PANEL, {
        "effect": workflow_holdouts.effect(session, workflow, actor=me.actor), "settings_url": f"/automation/{workflow.id}/edit",
    })
