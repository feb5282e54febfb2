"""Every step type, run through the real worker."""

import email
import email.policy
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from pipewise.automation.models import RecordTag
from pipewise.automation.service import workflow_service
from pipewise.automation.settings import get_automation_settings
from pipewise.config import get_settings
from pipewise.crm.models import Contact, Task
from pipewise.deals.models import Deal, DealContact, Stage
from pipewise.notifications.models import Notification
from tests.automation.receiver import running_receiver
from tests.automation.support import MANAGER, drain, make_workflow, messages, only_enrollment


def run_on(session, factory, steps, *, record=None, record_type="contact", **definition):
    """A manual workflow with ``steps``, run on one record until idle."""
    record = record or factory.contact()
    wf = make_workflow(session, {"trigger": {"type": "manual", "record_type": record_type}, "steps": steps, **definition})
    workflow_service.enroll_records(session, wf.id, [record.id], actor=MANAGER)
    drain(session)
    return wf, record


def outbox_messages() -> list[email.message.Message]:
    folder = Path(get_settings().outbox_dir)
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in sorted(folder.glob("*.eml"))] if folder.exists() else []


@pytest.fixture(autouse=True)
def empty_outbox():
    folder = Path(get_settings().outbox_dir)
    for path in folder.glob("*.eml") if folder.exists() else []:
        path.unlink()


class TestRecordSteps:
    def test_set_field(self, session, factory, clock):
        _, contact = run_on(session, factory, [{"id": "s", "type": "set_field", "field": "lifecycle_stage", "value": "sql"}])
        assert session.get(Contact, contact.id).lifecycle_stage == "sql"

    def test_set_field_with_a_bad_value_fails_with_the_reason(self, session, factory, clock):
        wf, contact = run_on(session, factory, [{"id": "s", "type": "set_field", "field": "lifecycle_stage", "value": "nonsense"}])
        enrollment = only_enrollment(session, wf)
        assert enrollment.status == "failed"
        assert "lifecycle_stage: must be one of" in messages(session, contact.id)[-1]

    def test_assign_owner_round_robin_in_a_team(self, session, factory, clock):
        team = factory.team()
        first, second = factory.user(team=team), factory.user(team=team)
        contacts = [factory.contact() for _ in range(3)]
        wf = make_workflow(
            session,
            {"trigger": {"type": "manual"},
             "steps": [{"id": "a", "type": "assign_owner", "assignee": {"to": "round_robin", "team_id": str(team.id)}}]},
        )
        workflow_service.enroll_records(session, wf.id, [c.id for c in contacts], actor=MANAGER)
        drain(session)
        owners = [session.get(Contact, c.id).owner_id for c in contacts]
        assert owners == [first.id, second.id, first.id]

    def test_create_deal_for_a_contact(self, session, factory, clock):
        factory.pipeline()
        account = factory.account()
        _, contact = run_on(
            session, factory, [{"id": "d", "type": "create_deal", "name": "{{ record.last_name }} expansion", "amount": "2500"}],
            record=factory.contact(account_id=account.id),
        )
        deal = session.scalar(select(Deal).where(Deal.account_id == account.id))
        assert deal.name == f"{contact.last_name} expansion" and deal.amount == Decimal("2500.00")
        assert session.get(DealContact, (deal.id, contact.id)) is not None

    def test_move_stage_respects_the_stages_rules(self, session, factory, clock):
        factory.pipeline()
        deal = factory.deal(amount=None)
        wf, _ = run_on(session, factory, [{"id": "m", "type": "move_stage", "stage": "Proposal"}], record=deal, record_type="deal")
        assert only_enrollment(session, wf).status == "failed"
        assert "Amount is required to enter Proposal" in messages(session, deal.id)[-1]
        ok = factory.deal(amount=Decimal("10"))
        run_on(session, factory, [{"id": "m", "type": "move_stage", "stage": "Demo"}], record=ok, record_type="deal")
        assert session.get(Stage, session.get(Deal, ok.id).stage_id).name == "Demo"

    def test_add_and_remove_tag(self, session, factory, clock):
        _, contact = run_on(session, factory, [{"id": "a", "type": "add_tag", "tag": "vip"}, {"id": "b", "type": "add_tag", "tag": "old"},
                                                 {"id": "c", "type": "remove_tag", "tag": "old"}])
        assert set(session.scalars(select(RecordTag.tag).where(RecordTag.record_id == contact.id))) == {"vip"}


class TestTasksAndPeople:
    def test_create_task_for_the_owner_with_a_due_date(self, session, factory, clock):
        rep = factory.user()
        _, contact = run_on(session, factory, [{"id": "t", "type": "create_task", "title": "Call {{ record.first_name }}", "due_in": "2d", "priority": "high"}],
                            record=factory.contact(owner=rep))
        task = session.scalar(select(Task).where(Task.related_id == contact.id))
        assert (task.title, task.owner_id, task.priority) == ("Call Ada", rep.id, "high")
        assert task.due_at == clock() + timedelta(days=2)

    def test_create_task_for_a_role_in_the_owners_team(self, session, factory, clock):
        team = factory.team()
        rep, manager = factory.user(team=team), factory.user(team=team, role="manager")
        factory.user(role="manager")
        _, contact = run_on(session, factory, [{"id": "t", "type": "create_task", "title": "Review", "assignee": {"to": "role", "role": "manager"}}],
                            record=factory.contact(owner=rep))
        assert session.scalar(select(Task.owner_id).where(Task.related_id == contact.id)) == manager.id

    def test_notify_in_app_and_by_email(self, session, factory, clock):
        rep = factory.user(name="Rita Rep")
        _, contact = run_on(
            session, factory,
            [{"id": "n", "type": "notify", "title": "{{ record.last_name }} needs you", "body": "Hello {{ recipient }}", "channels": ["in_app", "email"]}],
            record=factory.contact(owner=rep),
        )
        note = session.scalar(select(Notification).where(Notification.user_id == rep.id))
        assert note.title == f"{contact.last_name} needs you" and note.body == "Hello Rita Rep"
        assert (note.kind, note.link) == ("workflow", f"/contacts/{contact.id}")
        (message,) = outbox_messages()
        assert message["To"] == rep.email and message["Subject"] == f"{contact.last_name} needs you"

    def test_send_templated_email(self, session, factory, clock):
        _, contact = run_on(session, factory, [{"id": "e", "type": "send_email", "subject": "Hi {{ record.first_name }}", "body": "From {{ owner.name }} at {{ workflow.name }}"}])
        (message,) = outbox_messages()
        assert message["To"] == contact.email and message["Subject"] == "Hi Ada"
        assert message.get_content().strip() == "From  at Test workflow"
        assert str(message["X-Pipewise-Idempotency-Key"]).strip().startswith("wf:")

    def test_send_email_respects_withdrawn_consent(self, session, factory, clock):
        _, contact = run_on(session, factory, [{"id": "e", "type": "send_email", "subject": "Hi", "body": "x"}], record=factory.contact(consent_state="withdrawn"))
        assert outbox_messages() == []
        assert "skipped: Not sent: the contact has withdrawn consent" in messages(session, contact.id)

    def test_templates_are_sandboxed(self, session, factory, clock):
        wf, contact = run_on(session, factory, [{"id": "e", "type": "send_email", "subject": "x", "body": "{{ ''.__class__.__mro__[1].__subclasses__() }}"}])
        assert only_enrollment(session, wf).status == "failed"
        assert "the template could not be rendered" in messages(session, contact.id)[-1]
        assert outbox_messages() == []


class TestSequenceSteps:
    def test_without_the_sequences_module_the_step_fails_clearly(self, session, factory, clock, monkeypatch):
        monkeypatch.setitem(sys.modules, "pipewise.sequences.service", None)
        wf, contact = run_on(session, factory, [{"id": "s", "type": "enroll_in_sequence", "sequence_id": "01a20000-0000-7000-8000-000000000000"}])
        assert only_enrollment(session, wf).status == "failed"
        assert messages(session, contact.id)[-1].endswith("sequences are not available")


class TestWebhook:
    def test_signed_call_with_the_idempotency_key(self, session, factory, clock):
        with running_receiver("s3cret") as receiver:
            wf, contact = run_on(session, factory, [{"id": "w", "type": "webhook", "url": receiver.url, "secret": "s3cret", "body": {"source": "test"}}])
        enrollment = only_enrollment(session, wf)
        assert enrollment.status == "completed"
        (key,) = receiver.accepted
        assert key == f"wf:{enrollment.version_id.hex}:{enrollment.id.hex}:w"
        assert receiver.bodies[key]["record"]["id"] == str(contact.id) and receiver.bodies[key]["source"] == "test"
        assert receiver.bad_signatures == 0

    def test_failures_retry_with_backoff_then_dead_letter_and_a_person_retries(self, session, factory, clock, monkeypatch):
        monkeypatch.setenv("PIPEWISE_AUTOMATION_MAX_ATTEMPTS", "3")
        get_automation_settings.cache_clear()
        with running_receiver("k") as receiver:
            receiver.fail_next = 3
            wf, contact = run_on(session, factory, [{"id": "w", "type": "webhook", "url": receiver.url, "secret": "k"}])
            assert only_enrollment(session, wf).status == "running"
            clock.advance(seconds=31)
            drain(session)
            clock.advance(seconds=61)
            drain(session)
            enrollment = only_enrollment(session, wf)
            assert enrollment.status == "failed"
            assert [m.split(":")[0] for m in messages(session, contact.id)] == ["enrolled", "retrying", "retrying", "failed"]
            assert "answered 503" in messages(session, contact.id)[-1]
            workflow_service.retry_enrollment(session, enrollment.id, actor=MANAGER, reason="receiver is back")
            drain(session)
            assert only_enrollment(session, wf).status == "completed"
            assert len(receiver.accepted) == 1
        get_automation_settings.cache_clear()
