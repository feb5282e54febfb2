"""Duplicates over HTTP: candidates on a record, the review list, a full scan, dismissing
a pair, and merging leads, contacts or accounts."""

import uuid
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import Field

from pipewise.api.deps import CurrentActor, DbSession, api_router
from pipewise.errors import NotFound, PermissionDenied
from pipewise.leads import dedup, merge
from pipewise.records.bounds import INT64
from pipewise.records.service import RecordService
from pipewise.schemas import InputModel, OutputModel

router = api_router(tags=["duplicates"])


class CandidateOut(OutputModel):
    id: int
    record_type: str
    record_id: uuid.UUID
    candidate_type: str
    candidate_id: uuid.UUID
    score: float
    reason: str
    status: str


class MergeIn(InputModel):
    record_type: str
    survivor_id: uuid.UUID
    merged_ids: list[uuid.UUID] = Field(min_length=1, max_length=20)
    field_values: dict[str, uuid.UUID] = {}


class MergeOut(OutputModel):
    record_type: str
    survivor_id: uuid.UUID
    merged_ids: list[uuid.UUID]


class ScanOut(OutputModel):
    new_candidates: int


@router.get("/leads/{lead_id}/duplicates", response_model=list[CandidateOut], summary="Possible duplicates of a lead")
def lead_duplicates(lead_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> Any:
    RecordService("lead").get(session, lead_id, actor=actor)
    return dedup.review_list(session, actor, involving=("lead", lead_id), limit=None)


@router.get("/duplicates", response_model=list[CandidateOut], summary="Duplicate pairs to review, best first")
def review_list(session: DbSession, actor: CurrentActor, status: str = "open", limit: int = Query(100, ge=1, le=1000)) -> Any:
    return dedup.review_list(session, actor, status=status, limit=limit)


@router.post("/duplicates/scan", response_model=ScanOut, summary="Look for duplicates in the whole database")
def scan(session: DbSession, actor: CurrentActor) -> Any:
    if not actor.is_manager:
        raise PermissionDenied("only managers and admins may scan the whole database")
    return {"new_candidates": dedup.scan(session)}


@router.post("/duplicates/{candidate_id}/dismiss", response_model=CandidateOut, summary="Not a duplicate")
def dismiss(candidate_id: Annotated[int, Path(ge=1, le=INT64[1])], session: DbSession, actor: CurrentActor) -> Any:
    pair = dedup.dismiss(session, actor, candidate_id)
    if pair is None:
        raise NotFound(f"no duplicate pair {candidate_id}")
    return pair


@router.post("/merges", response_model=MergeOut, summary="Merge leads, contacts or accounts into one")
def merge_records(body: MergeIn, session: DbSession, actor: CurrentActor) -> Any:
    survivor = merge.merge(session, body.record_type, body.survivor_id, body.merged_ids, actor=actor,
                           field_values=body.field_values)
    return {"record_type": body.record_type, "survivor_id": survivor.id, "merged_ids": body.merged_ids}
