"""The predictive score on this database: features of a lead known before sales works
it, a model trained on the leads that closed (converted or disqualified), kept in the
database with its evaluation, and used to score and explain open leads. The leads come
from the caller (the leads package), as ``LeadFacts``."""

import io
import uuid
from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pipewise.crm.models import Account
from pipewise.db.base import utcnow, uuid7
from pipewise.errors import ValidationFailed
from pipewise.records.models import RecordHistory
from pipewise.scoring import setup
from pipewise.scoring.facts import LeadFacts
from pipewise.scoring.models import EngagementEvent, ScoringModel
from pipewise.scoring.schema import Schema, infer_schema

if TYPE_CHECKING:
    from pipewise.scoring.model import LeadModel

MIN_CLOSED = 40
# A lead is closed, and so a training example, in one of these statuses or stages.
CLOSED_STATUSES = ("converted", "disqualified")
CLOSED_STAGES = ("opportunity", "customer", "disqualified")
MIN_PER_CLASS = 10
# What closing a lead writes on it (leads/service.py convert, disqualifying): the outcome
# itself, so never a feature. Closing also creates an account, a contact and a deal.
SET_WHEN_CLOSED = ("status", "lifecycle_stage", "converted_at", "converted_contact_id", "converted_deal_id",
                   "account_id", "disqualified_reason")
# Engagement that happens before sales works a lead; replies and meetings come with the work.
PRE_SALES_ENGAGEMENT = ("form_fill", "page_visit", "email_open", "email_click")
_SENIORITY = (
    ("executive", ("chief", "ceo", "cto", "cfo", "coo", "cmo", "cio", "founder", "owner", "president", "partner")),
    ("vp or director", ("vp", "vice president", "head of", "director")),
    ("manager", ("manager", "lead")),
    ("student", ("student", "intern")),
)
_loaded: dict[uuid.UUID, "LeadModel"] = {}


def seniority(title: str | None) -> str | None:
    if not title:
        return None
    lowered = title.lower()
    for label, words in _SENIORITY:
        if any(w in lowered for w in words):
            return label
    return "individual contributor"


def closed_label(lead: LeadFacts) -> int | None:
    if lead.status == "converted" or lead.lifecycle_stage in ("opportunity", "customer"):
        return 1
    if lead.status == "disqualified" or lead.lifecycle_stage == "disqualified":
        return 0
    return None


def features(session: Session, leads: list[LeadFacts]) -> list[dict[str, Any]]:
    """What the model sees of each lead: only what was known before sales worked it, so a
    closed lead looks as it did while it was open. Nothing in ``SET_WHEN_CLOSED`` is read
    as a feature (tests/scoring/test_generalisation.py converts and disqualifies leads and
    checks that their features stay the same)."""
    counts: dict[uuid.UUID, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    cutoffs = engagement_cutoffs(session, leads)
    if leads:
        rows = session.execute(
            select(EngagementEvent.lead_id, EngagementEvent.kind, EngagementEvent.occurred_at).where(
                EngagementEvent.lead_id.in_([lead.id for lead in leads]), EngagementEvent.kind.in_(PRE_SALES_ENGAGEMENT)
            )
        )
        for lead_id, kind, occurred_at in rows:
            cutoff = cutoffs.get(lead_id)
            if cutoff is None or occurred_at < cutoff:
                counts[lead_id][kind] += 1
    known_since = _accounts_known_since(session, leads)
    out = []
    for lead in leads:
        account_since = known_since.get(lead.domain) if lead.domain else None
        row: dict[str, Any] = {
            "source": lead.source,
            "industry": lead.industry,
            "company size": lead.company_size,
            "country": lead.country,
            "seniority": seniority(lead.title),
            "e-mail kind": "company" if lead.domain else ("free mail" if lead.email else None),
            "phone given": "yes" if lead.phone else "no",
            "known account": "yes" if account_since is not None and account_since <= lead.created_at else "no",
            "utm source": (lead.attribution or {}).get("utm_source"),
            "utm medium": (lead.attribution or {}).get("utm_medium"),
        }
        for kind in PRE_SALES_ENGAGEMENT:
            row[kind.replace("_", " ") + "s"] = counts[lead.id][kind]
        for key, value in (lead.custom or {}).items():
            row[f"custom {key}"] = value
        out.append(row)
    return out


def _accounts_known_since(session: Session, leads: list[LeadFacts]) -> dict[str, datetime]:
    """When an account of each lead's domain first existed. The lead's own ``account_id``
    is not asked: conversion sets it, so it would tell the model which leads converted."""
    domains = {lead.domain for lead in leads if lead.domain}
    if not domains:
        return {}
    rows = session.execute(
        select(Account.domain, func.min(Account.created_at)).where(Account.domain.in_(domains)).group_by(Account.domain)
    )
    return {domain: first for domain, first in rows}


def _closes(changes: dict[str, Any]) -> bool:
    """Whether a history entry's ``{field: [old, new]}`` closes the lead."""
    status, stage = changes.get("status"), changes.get("lifecycle_stage")
    return (isinstance(status, list) and status[-1] in CLOSED_STATUSES) or (
        isinstance(stage, list) and stage[-1] in CLOSED_STAGES)


def engagement_cutoffs(session: Session, leads: list[LeadFacts]) -> dict[uuid.UUID, datetime]:
    """Engagement counts until sales first touched the lead or, untouched, until it closed
    (converted or disqualified): a lead that kept visiting after it was dropped must not
    look different from one that converted at its third visit."""
    cutoffs = {lead.id: lead.first_touched_at or lead.converted_at for lead in leads}
    undated = [lead.id for lead in leads if cutoffs[lead.id] is None and closed_label(lead) is not None]
    if undated:
        changes = session.execute(
            select(RecordHistory.record_id, RecordHistory.at, RecordHistory.changes)
            .where(RecordHistory.record_type == "lead", RecordHistory.record_id.in_(undated))
            .order_by(RecordHistory.at, RecordHistory.id)
        )
        for lead_id, at, changed in changes:
            if cutoffs.get(lead_id) is None and _closes(changed or {}):
                cutoffs[lead_id] = at
    return {lead_id: cutoff for lead_id, cutoff in cutoffs.items() if cutoff is not None}


def trainable(session: Session, closed: list[LeadFacts]) -> tuple[list[int], list[dict[str, Any]], Schema]:
    """The labels, features and schema a model would learn from ``closed``, or a
    ``ValidationFailed`` saying in one sentence why there is nothing to learn from. Cheap
    (no scikit-learn): a request asks it before queueing a training."""
    labels = [label for lead in closed if (label := closed_label(lead)) is not None]
    positives = sum(labels)
    if len(labels) < MIN_CLOSED or min(positives, len(labels) - positives) < MIN_PER_CLASS:
        raise ValidationFailed.on(
            "leads",
            f"a model needs at least {MIN_CLOSED} closed leads with {MIN_PER_CLASS} converted and {MIN_PER_CLASS} "
            f"disqualified; this database has {positives} converted and {len(labels) - positives} disqualified",
        )
    closed = [lead for lead in closed if closed_label(lead) is not None]
    rows = features(session, closed)
    schema = infer_schema(rows, list(rows[0]))
    if not schema.features:
        raise ValidationFailed.on(
            "leads",
            f"no usable feature: on all {len(closed)} closed leads each field the model may read is empty or the same "
            f"({', '.join(schema.dropped)}); record where leads come from and who they are, then train again",
        )
    return labels, rows, schema


def train(session: Session, closed: list[LeadFacts]) -> ScoringModel:
    """Evaluate on a stratified quarter of the ``closed`` leads (those in ``CLOSED_STATUSES``
    or ``CLOSED_STAGES``), then train on all of them and make the result the active model."""
    import joblib

    from pipewise.scoring import model as lead_model  # scikit-learn loads when first used

    labels, rows, schema = trainable(session, closed)
    metrics = lead_model.evaluate(rows, labels, schema)
    fitted = lead_model.LeadModel.train(rows, labels, schema)
    buffer = io.BytesIO()
    joblib.dump(fitted, buffer)
    session.execute(update(ScoringModel).values(is_active=False))
    record = ScoringModel(id=uuid7(), created_at=utcnow(), is_active=True, algorithm=fitted.algorithm,
                          features=schema.features, metrics=metrics, trained_on=len(labels), artifact=buffer.getvalue())
    session.add(record)
    session.flush()
    _loaded[record.id] = fitted
    setup.changed(session)
    return record


def loaded(session: Session, model_id: uuid.UUID | None) -> tuple[uuid.UUID, "LeadModel"] | None:
    """The fitted model ``model_id``, unpickled once per process."""
    if model_id is None:
        return None
    if model_id not in _loaded:
        import joblib  # unpickling the model loads scikit-learn, when a model is first used

        artifact = session.scalar(select(ScoringModel.artifact).where(ScoringModel.id == model_id))
        _loaded[model_id] = joblib.load(io.BytesIO(artifact))
    return model_id, _loaded[model_id]


def predict_leads(
    session: Session, leads: list[LeadFacts], model_id: uuid.UUID | None
) -> dict[uuid.UUID, tuple[float | None, list[dict[str, Any]]]]:
    """Probability and reasons for each open lead by the model ``model_id`` (the active one;
    None: no model, no prediction)."""
    open_leads = [lead for lead in leads if closed_label(lead) is None]
    if not open_leads or model_id is None:
        return {}
    found = loaded(session, model_id)
    if found is None:
        return {}
    _model_id, fitted = found
    rows = features(session, open_leads)
    probabilities = fitted.probabilities(rows)
    reasons = fitted.explain(rows)
    return {lead.id: (round(float(p), 4), r) for lead, p, r in zip(open_leads, probabilities, reasons, strict=True)}
