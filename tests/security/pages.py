"""Every main page of the web UI, with the records that make each one show something:
the header test walks them over HTTP, the browser test in a real Chromium."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import select

from pipewise.auth.models import User
from pipewise.automation.service import workflow_service
from pipewise.leads.models import LeadImport
from pipewise.mail.transport import outbox_dir
from pipewise.notifications.service import notify
from pipewise.meetings import service as meeting_service
from pipewise.sequences.models import SequenceStep
from pipewise.sequences.service import sequence_service

EMAIL_STEP = {
    "kind": "auto_email",
    "variants": [{"label": "A", "subject": "Hi {{ contact.first_name }}", "body_html": "<p style=\"color: #333\">Hello</p>"}],
}
WORKFLOW = {
    "trigger": {"type": "manual", "record_type": "contact"},
    "steps": [{"id": "call", "type": "create_task", "title": "Call {{ record.last_name }}"}],
}
OUTBOX_NAME = "pages-test.eml"


@dataclass
class Site:
    admin: User
    pages: list[str]


def _outbox_message(sender: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "grace@navy.example", "Hello"
    message.set_content("Hello in text")
    message.add_alternative('<p style="font-weight: bold">Hello in HTML</p>', subtype="html")
    outbox_dir().mkdir(parents=True, exist_ok=True)
    (outbox_dir() / OUTBOX_NAME).write_bytes(bytes(message))


def build_site(factory, session) -> Site:  # type: ignore[no-untyped-def]
    """An admin, one record of each kind, and the list of pages to visit."""
    team = factory.team()
    admin = factory.user(role="admin", team=team, name="Ada Admin")
    actor = factory.actor(admin)
    pipeline, _stages = factory.pipeline()
    account = factory.account(admin, name="Navy")
    contact = factory.contact(admin, first_name="Grace", last_name="Hopper", account_id=account.id)
    deal = factory.deal(admin, name="Compiler rollout")
    lead = factory.lead(admin)
    sequence = sequence_service.create(session, data={"name": "Nurture", "steps": [EMAIL_STEP]}, actor=actor)
    session.flush()
    step = session.scalars(select(SequenceStep).where(SequenceStep.sequence_id == sequence.id)).one()
    workflow = workflow_service.create(session, name="Call CEOs", definition=WORKFLOW, actor=actor)
    booking_page = meeting_service.create_page(session, {"slug": "intro-call", "title": "Intro call"}, actor=actor)
    job = LeadImport(filename="leads.csv", status="done", actor_id=admin.id)
    session.add(job)
    notify(session, admin.id, "workflow", "Call Grace today", link=f"/contacts/{contact.id}")
    factory.task(admin, title="Prepare the demo", due_at=datetime.now(UTC), remind_at=datetime.now(UTC) + timedelta(hours=1))
    session.commit()
    _outbox_message(admin.email)
    pages = [
        "/", f"/pipelines/{pipeline.id}/board", "/account/password",
        "/deals", "/deals/new", f"/deals/{deal.id}", f"/deals/{deal.id}/edit",
        "/contacts", "/contacts/new", f"/contacts/{contact.id}", f"/contacts/{contact.id}/edit",
        "/accounts", "/accounts/new", f"/accounts/{account.id}", f"/accounts/{account.id}/edit",
        "/leads", "/leads/new", f"/leads/{lead.id}", f"/leads/{lead.id}/edit",
        "/lead-queue", "/lead-import", f"/lead-import/{job.id}", "/lead-duplicates", "/lead-scoring", "/lead-routing",
        "/automation", "/automation/new", f"/automation/{workflow.id}", f"/automation/{workflow.id}/edit",
        "/sequences", "/sequences/new", f"/sequences/{sequence.id}", f"/sequences/{sequence.id}/edit",
        f"/sequences/{sequence.id}/metrics", f"/sequences/{sequence.id}/steps/new?kind=auto_email",
        f"/sequences/{sequence.id}/steps/{step.id}/edit", "/sequence-enrollments",
        f"/sequence-enroll?contact_id={contact.id}", "/today", "/next",
        "/mail/mailbox", "/mail/outbox", f"/mail/outbox/{OUTBOX_NAME}", "/mail/suppressions",
        "/notifications", "/notifications/settings", "/calendar",
        "/meetings", f"/meetings/pages/{booking_page.id}", "/forecast",
        "/settings", "/settings/users", "/settings/teams", f"/settings/pipelines?pipeline={pipeline.id}", "/settings/fields",
        "/settings/lead-forms", "/settings/lead-forms/edit", "/settings/tokens", "/settings/scoring", "/settings/routing", "/settings/products", "/settings/price-books",
    ]
    return Site(admin=admin, pages=pages)
