"""The effect of a sequence or a workflow measured against its holdout group. Thin: the
method lives in ``pipewise.runs.holdout_effect``; each report counts only the records and
deals its caller may see."""

import uuid
from typing import Any

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.automation import holdouts as workflow_holdouts
from pipewise.automation.service import workflow_service
from pipewise.runs.holdout_effect import HoldoutEffect
from pipewise.sequences import holdouts as sequence_holdouts
from pipewise.sequences.service import sequence_service

SUMMARY = "Enrolled against held out: stage progression, win rate, cycle length, revenue, with 95 % intervals and a verdict"
sequence_router = api_router(tags=["sequences"])
workflow_router = api_router(tags=["automation"])


@sequence_router.get("/sequences/{sequence_id}/holdout-effect", response_model=HoldoutEffect, summary=SUMMARY)
def sequence_holdout_effect(sequence_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    return sequence_holdouts.effect(session, sequence_service.get(session, sequence_id), actor=actor)


@workflow_router.get("/workflows/{workflow_id}/holdout-effect", response_model=HoldoutEffect, summary=SUMMARY)
def workflow_holdout_effect(workflow_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    return workflow_holdouts.effect(session, workflow_service.get(session, workflow_id, actor=actor), actor=actor)
