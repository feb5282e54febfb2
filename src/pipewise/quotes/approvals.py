"""Discount approval. The company's ``discount_limits`` give each role the largest discount
(percent) it may give alone. When the largest line discount of a quote is above the limit
of the person saving it, the quote waits (``pending_approval``) for a manager:

- the approver is the requester's team manager, else any manager or admin;
- the request is a ``QuoteApproval`` row, a ``quote.approval_requested`` event, an entry on
  the deal's timeline and a task "Approve discount on Q-…" due today for the approver;
- managers and admins decide (approve or reject, with a comment); a rep never does, and
  nobody decides their own request unless they are an admin;
- a change to the lines withdraws the open request and judges the quote again, so an
  approved quote whose lines change needs approving again when still above the limit.
"""

import uuid
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.models import Team, User
from pipewise.auth.visibility import SYSTEM_ACTOR, Actor, owner_clause
from pipewise.crm.models import Task
from pipewise.crm.service import task_service
from pipewise.db.base import utcnow
from pipewise.errors import Conflict, NotFound, PermissionDenied
from pipewise.events import bus
from pipewise.notifications.service import notify
from pipewise.quotes.events import QuoteApprovalDecided, QuoteApprovalRequested
from pipewise.quotes.models import Quote, QuoteApproval
from pipewise.quotes.settings import company_settings
from pipewise.records.history import record_change
from pipewise.records.service import apply_changes
from pipewise.records.timeline import TimelineEntry

PENDING, APPROVED, REJECTED, WITHDRAWN = "pending", "approved", "rejected", "withdrawn"
DECISION_STATUS = {APPROVED: "approved", REJECTED: "rejected"}  # approval decision -> quote status


def discount_limit(limits: dict[str, Any], role: str) -> Decimal:
    """The largest discount ``role`` may give without approval (none named: 0)."""
    value = (limits or {}).get(str(role))
    try:
        return Decimal(str(value)) if value is not None else Decimal(0)
    except ArithmeticError:
        return Decimal(0)


def _pct(value: Decimal) -> str:
    return f"{value.normalize():f} %"


def _task_title(quote: Quote) -> str:
    return f"Approve discount on {quote.number} (revision {quote.revision})"


class ApprovalService:
    # -- the request --

    def review(self, session: Session, quote: Quote, *, discount: Decimal, actor: Actor) -> str:
        """The quote's status after its lines changed: ``draft`` when ``actor`` may give
        ``discount`` alone, else ``pending_approval`` with a new request."""
        self._withdraw_open(session, quote)
        limit = discount_limit(company_settings(session).discount_limits, actor.role)
        if discount <= limit:
            return "draft"
        requester = actor.id if actor is not SYSTEM_ACTOR else None
        approver_id = self._approver_for(session, requester)
        approval = QuoteApproval(
            quote_id=quote.id, requested_by_id=requester, approver_id=approver_id, status=PENDING,
            discount_percent=discount, threshold_percent=limit,
            reason=f"a discount of {_pct(discount)} is above the {actor.role} limit of {_pct(limit)}",
        )
        session.add(approval)
        session.flush()
        bus.record(session, QuoteApprovalRequested(
            record_id=quote.id, actor_id=requester, deal_id=quote.deal_id, number=quote.number, revision=quote.revision,
            contact_id=quote.contact_id, account_id=quote.account_id, approval_id=approval.id,
            discount_percent=discount, threshold_percent=limit, approver_id=approver_id,
        ))
        for user_id in self._deciders(session, approver_id):
            notify(session, user_id, "approval_requested", f"A discount on {quote.number} waits for your approval",
                   body=f"{quote.title}: {approval.reason}.", link="/quote-approvals", record_type="quote",
                   record_id=quote.id, key=f"approval_requested:{approval.id}:{user_id}")
        due = datetime.combine(utcnow().date(), time(23, 59), tzinfo=UTC)
        task_service.create(session, actor=SYSTEM_ACTOR, data={
            "title": _task_title(quote), "owner_id": approver_id, "due_at": due, "priority": "high",
            "related_type": "deal", "related_id": quote.deal_id,
            "notes": f"{quote.title}: {approval.reason}. Approve or reject it in the approval queue (/quote-approvals).",
        })
        return "pending_approval"

    @staticmethod
    def _deciders(session: Session, approver_id: uuid.UUID | None) -> list[uuid.UUID]:
        """Who is told: the team's manager, or, when the requester has none, the admins."""
        if approver_id is not None:
            return [approver_id]
        return list(session.scalars(select(User.id).where(User.role == "admin", User.is_active.is_(True))))

    def _approver_for(self, session: Session, requester: uuid.UUID | None) -> uuid.UUID | None:
        if requester is None:
            return None
        manager_id = session.scalar(
            select(Team.manager_id).join(User, User.team_id == Team.id).where(User.id == requester)
        )
        return manager_id if manager_id is not None and manager_id != requester else None

    def _withdraw_open(self, session: Session, quote: Quote) -> None:
        for approval in session.scalars(
            select(QuoteApproval).where(QuoteApproval.quote_id == quote.id, QuoteApproval.status == PENDING)
        ):
            approval.status = WITHDRAWN
            approval.decided_at = utcnow()
            approval.comment = "the lines changed before a decision"
            self._close_task(session, quote)

    def _close_task(self, session: Session, quote: Quote) -> None:
        for task in session.scalars(select(Task).where(
            Task.related_id == quote.deal_id, Task.title == _task_title(quote), Task.status == "open"
        )):
            task_service.update(session, task, data={"status": "done"}, actor=SYSTEM_ACTOR)

    # -- the decision --

    def get(self, session: Session, approval_id: uuid.UUID, *, actor: Actor) -> tuple[QuoteApproval, Quote]:
        """An approval of a quote ``actor`` may see (any other answers as missing)."""
        row = session.execute(
            self._visible(select(QuoteApproval, Quote).join(Quote, Quote.id == QuoteApproval.quote_id), actor)
            .where(QuoteApproval.id == approval_id)
        ).first()
        if row is None:
            raise NotFound(f"no quote approval with id {approval_id}")
        return row[0], row[1]

    def decide(
        self, session: Session, approval_id: uuid.UUID, *, decision: str, comment: str | None, actor: Actor,
    ) -> QuoteApproval:
        approval, quote = self.get(session, approval_id, actor=actor)
        if not actor.is_manager:
            raise PermissionDenied("only managers and admins may approve or reject a discount")
        if approval.requested_by_id == actor.id and not actor.is_admin:
            raise PermissionDenied("you cannot decide on your own request: another manager or an admin must")
        session.refresh(quote, with_for_update=True)
        session.refresh(approval, with_for_update=True)
        if approval.status != PENDING or quote.status != "pending_approval":
            raise Conflict(f"this request was already {approval.status}")
        approval.status = decision
        approval.decided_by_id = actor.id if actor is not SYSTEM_ACTOR else None
        approval.decided_at = utcnow()
        approval.comment = comment
        changes = apply_changes(quote, {"status": DECISION_STATUS[decision]})
        record_change(session, record_type="quote", record_id=quote.id, action="updated", changes=changes, actor=actor)
        bus.record(session, QuoteApprovalDecided(
            record_id=quote.id, actor_id=approval.decided_by_id, deal_id=quote.deal_id, number=quote.number,
            revision=quote.revision, contact_id=quote.contact_id, account_id=quote.account_id, approval_id=approval.id,
            decision=decision, comment=comment,
        ))
        self._close_task(session, quote)
        session.flush()
        return approval

    # -- lists --

    def _visible(self, stmt: Any, actor: Actor) -> Any:
        clause = owner_clause(Quote.owner_id, actor, write=False)
        return stmt if clause is None else stmt.where(clause)

    def queue(self, session: Session, *, actor: Actor, status: str | None = PENDING, limit: int = 200
              ) -> list[tuple[QuoteApproval, Quote]]:
        """Requests on quotes ``actor`` may see, oldest first (the order to work through)."""
        stmt = self._visible(select(QuoteApproval, Quote).join(Quote, Quote.id == QuoteApproval.quote_id), actor)
        if status is not None:
            stmt = stmt.where(QuoteApproval.status == status)
        stmt = stmt.order_by(QuoteApproval.created_at, QuoteApproval.id).limit(limit)
        return [(approval, quote) for approval, quote in session.execute(stmt)]

    def of_quote(self, session: Session, quote_id: uuid.UUID) -> list[QuoteApproval]:
        return list(session.scalars(
            select(QuoteApproval).where(QuoteApproval.quote_id == quote_id).order_by(QuoteApproval.created_at)
        ))


def deal_timeline(session: Session, record_type: str, record_id: uuid.UUID) -> list[TimelineEntry]:
    """Quotes made on a deal and their approval requests and decisions."""
    if record_type != "deal":
        return []
    entries = []
    quotes = {q.id: q for q in session.scalars(select(Quote).where(Quote.deal_id == record_id))}
    for quote in quotes.values():
        entries.append(TimelineEntry(
            kind="quote", at=quote.created_at, title=f"Quote {quote.number} revision {quote.revision} created",
            detail=f"{quote.gross_total} {quote.currency} · {quote.status.replace('_', ' ')}",
            data={"quote_id": str(quote.id), "status": quote.status},
        ))
    if not quotes:
        return entries
    for approval in session.scalars(select(QuoteApproval).where(QuoteApproval.quote_id.in_(list(quotes)))):
        quote = quotes[approval.quote_id]
        entries.append(TimelineEntry(
            kind="approval", at=approval.created_at, title=f"Discount approval requested on {quote.number}",
            detail=approval.reason, actor_id=approval.requested_by_id,
            data={"quote_id": str(quote.id), "approval_id": str(approval.id), "approver_id": str(approval.approver_id or "")},
        ))
        if approval.decided_at is not None and approval.status in (APPROVED, REJECTED):
            entries.append(TimelineEntry(
                kind="approval", at=approval.decided_at, title=f"Discount on {quote.number} {approval.status}",
                detail=approval.comment, actor_id=approval.decided_by_id,
                data={"quote_id": str(quote.id), "approval_id": str(approval.id), "decision": approval.status},
            ))
    return entries


approval_service = ApprovalService()
