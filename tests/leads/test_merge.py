import pytest
from sqlalchemy import func, select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.models import Activity, Contact, Task
from pipewise.crm.service import task_service
from pipewise.db.base import Base
from pipewise.deals.models import DealContact
from pipewise.deals.service import deal_service
from pipewise.errors import ValidationFailed
from pipewise.events.models import OutboxEvent
from pipewise.leads.merge import merge
from pipewise.leads.models import DuplicateCandidate, Lead
from pipewise.leads.scores import record_engagement
from pipewise.records.history import history_of
from pipewise.records.models import RecordHistory


def count(session, model, **where):
    stmt = select(func.count()).select_from(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return session.scalar(stmt)


class TestMergeLeads:
    def test_nothing_is_lost(self, session, factory):
        keep = factory.lead(first_name="Grace", last_name="Hopper", email="grace@navy.example", title=None)
        gone = factory.lead(first_name="Grace", last_name="Hopper", email="g.hopper@navy.example", title="Rear Admiral", phone="+14155552671")
        factory.activity(lead_id=keep.id, subject="Call one")
        factory.activity(lead_id=gone.id, subject="Call two")
        factory.activity(lead_id=gone.id, subject="Call three")
        task_service.create(session, data={"title": "Follow up", "related_type": "lead", "related_id": gone.id}, actor=SYSTEM_ACTOR)
        record_engagement(session, gone.id, kind="email_click")
        session.flush()
        history_before = count(session, RecordHistory, record_id=gone.id) + count(session, RecordHistory, record_id=keep.id)

        survivor = merge(session, "lead", keep.id, [gone.id], actor=SYSTEM_ACTOR, field_values={"email": gone.id})
        session.flush()

        assert session.get(Lead, gone.id) is None
        assert count(session, Activity, lead_id=keep.id) == 3
        assert count(session, Task, related_id=keep.id) == 1
        # chosen value from the merged lead, empty fields filled from it, the rest kept
        assert survivor.email == "g.hopper@navy.example"
        assert (survivor.title, survivor.phone) == ("Rear Admiral", "+14155552671")
        # every earlier history row now on the survivor, plus the merge itself
        assert count(session, RecordHistory, record_id=keep.id) >= history_before + 1
        merged_row = history_of(session, "lead", keep.id)[0]
        assert merged_row.action == "merged" and str(gone.id) in merged_row.changes["merged"][0]
        pointer = session.scalar(select(RecordHistory).where(RecordHistory.record_id == gone.id))
        assert pointer.action == "merged_into" and pointer.changes["survivor_id"][1] == str(keep.id)
        assert session.scalar(select(OutboxEvent).where(OutboxEvent.name == "lead.merged")) is not None
        assert survivor.engagement_score >= 0
        assert session.scalar(select(func.count()).select_from(Base.metadata.tables["engagement_event"])) == 1

    def test_candidate_pair_is_settled(self, session, factory):
        a = factory.lead(first_name="Grace", last_name="Hopper", email="grace@navy.example")
        b = factory.lead(first_name="Grace", last_name="Hopper", email="grace@navy.example")
        session.flush()
        merge(session, "lead", a.id, [b.id], actor=SYSTEM_ACTOR)
        session.flush()
        statuses = session.scalars(select(DuplicateCandidate.status)).all()
        assert statuses == ["merged"]

    def test_bad_requests(self, session, factory):
        a = factory.lead()
        with pytest.raises(ValidationFailed):
            merge(session, "lead", a.id, [a.id], actor=SYSTEM_ACTOR)
        with pytest.raises(ValidationFailed):
            merge(session, "deal", a.id, [a.id], actor=SYSTEM_ACTOR)
        b = factory.lead()
        with pytest.raises(ValidationFailed):
            merge(session, "lead", a.id, [b.id], actor=SYSTEM_ACTOR, field_values={"nope": b.id})


class TestMergeContactsAndAccounts:
    def test_contacts_keep_deals_activities_and_enrollments(self, session, factory):
        factory.pipeline()
        keep = factory.contact(first_name="Ada", last_name="Lovelace")
        gone = factory.contact(first_name="Ada", last_name="Lovelace")
        deal_one = factory.deal()
        deal_two = factory.deal()
        deal_service.add_contact(session, deal_one.id, keep.id, role="champion", actor=SYSTEM_ACTOR)
        deal_service.add_contact(session, deal_one.id, gone.id, role="user", actor=SYSTEM_ACTOR)
        deal_service.add_contact(session, deal_two.id, gone.id, role="buyer", actor=SYSTEM_ACTOR)
        factory.activity(contact_id=gone.id, subject="Met at the fair")
        enrollment_table = _enroll(session, gone)
        session.flush()

        merge(session, "contact", keep.id, [gone.id], actor=SYSTEM_ACTOR)
        session.flush()

        links = dict(session.execute(select(DealContact.deal_id, DealContact.role).where(DealContact.contact_id == keep.id)).all())
        assert links == {deal_one.id: "champion", deal_two.id: "buyer"}
        assert count(session, Activity, contact_id=keep.id) == 1
        assert session.get(Contact, gone.id) is None
        if enrollment_table is not None:
            table = Base.metadata.tables[enrollment_table[0]]
            column = table.c[enrollment_table[1]]
            assert session.scalar(select(func.count()).select_from(table).where(column == keep.id)) == 1

    def test_accounts_take_over_contacts_leads_and_deals(self, session, factory):
        factory.pipeline()
        keep = factory.account(name="Initech")
        gone = factory.account(name="Initech Inc", industry="Software")
        factory.contact(account_id=gone.id)
        factory.lead(account_id=gone.id)
        factory.deal(account_id=gone.id)
        survivor = merge(session, "account", keep.id, [gone.id], actor=SYSTEM_ACTOR)
        session.flush()
        assert survivor.industry == "Software"
        for model in (Contact, Lead):
            assert count(session, model, account_id=keep.id) == 1


def _enroll(session, contact):
    """Enrol the contact in whatever enrollment kind this build has (a sequence or a
    workflow); returns (table, column) pointing at the contact, or None."""
    tables = Base.metadata.tables
    if "enrollment" in tables and "sequence" in tables:
        from pipewise.sequences.models import Enrollment, Sequence

        sequence = Sequence(name="Welcome")
        session.add(sequence)
        session.flush()
        session.add(Enrollment(sequence_id=sequence.id, contact_id=contact.id))
        return ("enrollment", "contact_id")
    return None
