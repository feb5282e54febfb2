"""The consent ledger over the API: entries are added (never changed), the current state
per purpose comes from the ledger, withdrawing consent to be mailed stops the mail, an
unsubscribe link writes a withdrawal, and visibility applies."""

import hashlib

import pytest
from sqlalchemy import func, select

from pipewise.audit.models import AuditEntry
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.models import Contact
from pipewise.errors import ValidationFailed
from pipewise.leads.models import Lead
from pipewise.mail.models import Suppression
from pipewise.privacy.consent import AppendOnly
from pipewise.privacy.models import ConsentEntry
from pipewise.sequences.models import Enrollment
from pipewise.sequences.service import sequence_service
from tests.sequences.support import email_step, live_sequence, mailbox, run_worker

TEXT = "Yes, send me news about Pipewise products. I can unsubscribe at any time."
NURTURE = [email_step("Ideas", "<p>Hi</p>"), email_step("", "<p>A follow-up</p>", delay_days=2)]


def fresh(session) -> None:  # type: ignore[no-untyped-def]
    session.commit()
    session.expire_all()


def suppression_reason(session, address: str) -> str | None:  # type: ignore[no-untyped-def]
    fresh(session)
    return session.scalar(select(Suppression.reason).where(Suppression.address == address))


@pytest.fixture
def rep(session, factory):  # type: ignore[no-untyped-def]
    user = factory.user(name="Rita Rep")
    mailbox(session, user)
    return user


class TestRecordingConsent:
    def test_given_consent_keeps_the_texts_hash_and_sets_the_state(self, session, factory, api, rep):
        contact = factory.contact(rep)
        session.commit()
        response = api.post(f"/api/v1/contacts/{contact.id}/consent", headers=factory.headers(rep),
                            json={"purpose": "marketing_email", "text": TEXT, "source": "web_form"})
        assert response.status_code == 201, response.text
        entry = response.json()
        assert entry["text_hash"] == hashlib.sha256(TEXT.encode()).hexdigest()
        assert (entry["action"], entry["legal_basis"], entry["source"], entry["actor_label"]) == (
            "given", "consent", "web_form", rep.email)

        ledger = api.get(f"/api/v1/contacts/{contact.id}/consent", headers=factory.headers(rep)).json()
        assert ledger["state"]["marketing_email"]["id"] == entry["id"]
        assert "profiling" not in ledger["state"]
        run_worker()  # the record's field changed with it: that change is the ledger's own, not a second entry
        assert len(api.get(f"/api/v1/contacts/{contact.id}/consent", headers=factory.headers(rep)).json()["entries"]) == 1
        fresh(session)
        assert session.get(Contact, contact.id).consent_state == "granted"
        [logged] = session.scalars(select(AuditEntry).where(AuditEntry.action == "consent.given"))
        assert (logged.actor_id, logged.target_id, logged.channel) == (rep.id, str(contact.id), "api")

    def test_the_latest_entry_of_each_purpose_is_its_state(self, session, factory, api, rep):
        contact = factory.contact(rep)
        session.commit()
        url, headers = f"/api/v1/contacts/{contact.id}/consent", factory.headers(rep)
        for body in ({"purpose": "profiling", "text": "We score your fit."},
                     {"purpose": "sales_outreach", "legal_basis": "legitimate_interest"},
                     {"purpose": "profiling", "action": "withdrawn", "source": "rep", "note": "asked on the phone"}):
            assert api.post(url, headers=headers, json=body).status_code == 201
        ledger = api.get(url, headers=headers).json()
        assert {p: e["action"] for p, e in ledger["state"].items()} == {"profiling": "withdrawn", "sales_outreach": "given"}
        assert [e["purpose"] for e in ledger["entries"]] == ["profiling", "sales_outreach", "profiling"]  # newest first
        assert ledger["entries"][0]["note"] == "asked on the phone"

    @pytest.mark.parametrize(("body", "field"), [
        ({"purpose": "telepathy", "text": TEXT}, "purpose"),
        ({"purpose": "profiling", "legal_basis": "because", "text": TEXT}, "legal_basis"),
        ({"purpose": "profiling", "source": "rumour", "text": TEXT}, "source"),
        ({"purpose": "profiling"}, "text"),
        ({"purpose": "profiling", "text_hash": "abc"}, "text_hash"),
        ({"purpose": "profiling", "text": TEXT, "text_hash": "0" * 64}, "text_hash"),
        ({"purpose": "profiling", "text": TEXT, "at": "2999-01-01T00:00:00Z"}, "at"),
        ({"purpose": "profiling", "action": "maybe", "text": TEXT}, "action"),
        ({"purpose": "profiling", "text": TEXT, "colour": "blue"}, "colour"),
    ])
    def test_bad_input_is_refused_field_by_field_and_writes_nothing(self, session, factory, api, rep, body, field):
        contact = factory.contact(rep)
        session.commit()
        response = api.post(f"/api/v1/contacts/{contact.id}/consent", headers=factory.headers(rep), json=body)
        assert response.status_code == 422, response.text
        assert field in {e["field"].split(".")[-1] for e in response.json()["errors"]}
        fresh(session)
        assert session.scalar(select(func.count()).select_from(ConsentEntry)) == 0

    def test_a_rep_of_another_team_neither_reads_nor_writes_it(self, session, factory, api):
        east, west = factory.team("East"), factory.team("West")
        owner, stranger = factory.user(team=east), factory.user(team=west)
        contact = factory.contact(owner)
        session.commit()
        url = f"/api/v1/contacts/{contact.id}/consent"
        assert api.get(url, headers=factory.headers(stranger)).status_code == 404
        assert api.post(url + "/withdraw", headers=factory.headers(stranger),
                        json={"purpose": "marketing_email"}).status_code == 404
        fresh(session)
        assert session.scalar(select(func.count()).select_from(ConsentEntry)) == 0

    def test_entries_are_never_changed_or_deleted_one_by_one(self, session, factory, api, rep):
        contact = factory.contact(rep)
        session.commit()
        api.post(f"/api/v1/contacts/{contact.id}/consent/withdraw", headers=factory.headers(rep),
                 json={"purpose": "profiling"})
        fresh(session)
        entry = session.scalars(select(ConsentEntry)).one()
        entry.action = "given"
        with pytest.raises(AppendOnly):
            session.flush()
        session.rollback()
        session.delete(session.scalars(select(ConsentEntry)).one())
        with pytest.raises(AppendOnly):
            session.flush()
        session.rollback()


class TestWithdrawalStopsMail:
    def test_withdrawing_marketing_consent_ends_the_sequence_and_refuses_new_mail(self, session, factory, api, smtp,
                                                                                 clock, rep):
        contact = factory.contact(rep)
        nurture = live_sequence(session, "Nurture", NURTURE)
        sequence_service.enroll(session, sequence_id=nurture.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
        session.commit()
        run_worker()
        assert len(smtp.handler.to(contact.email)) == 1

        response = api.post(f"/api/v1/contacts/{contact.id}/consent/withdraw", headers=factory.headers(rep),
                            json={"purpose": "marketing_email", "source": "rep", "note": "asked by phone"})
        assert response.status_code == 201, response.text

        assert suppression_reason(session, contact.email) == "consent"
        assert session.get(Contact, contact.id).consent_state == "withdrawn"
        assert session.scalars(select(Enrollment.status).where(Enrollment.contact_id == contact.id)).one() == "exited"
        with pytest.raises(ValidationFailed):
            sequence_service.send_email(session, contact_id=contact.id, subject="Hi", body_html="<p>x</p>",
                                        actor=SYSTEM_ACTOR)
        session.rollback()
        clock.advance(days=3)
        run_worker()
        assert len(smtp.handler.to(contact.email)) == 1

    def test_giving_it_again_lifts_only_the_suppression_the_withdrawal_made(self, session, factory, api, rep):
        withdrew, unsubscribed = factory.contact(rep), factory.contact(rep)
        session.add(Suppression(address=unsubscribed.email, reason="unsubscribe"))
        session.commit()
        headers = factory.headers(rep)
        for contact in (withdrew, unsubscribed):
            url = f"/api/v1/contacts/{contact.id}/consent"
            assert api.post(url + "/withdraw", headers=headers, json={"purpose": "marketing_email"}).status_code == 201
            assert api.post(url, headers=headers, json={"purpose": "marketing_email", "text": TEXT}).status_code == 201
        assert suppression_reason(session, withdrew.email) is None
        assert suppression_reason(session, unsubscribed.email) == "unsubscribe"
        assert session.get(Contact, withdrew.id).consent_state == "granted"

    def test_mail_stays_stopped_while_any_mail_purpose_is_withdrawn(self, session, factory, api, rep):
        contact = factory.contact(rep)
        session.commit()
        url, headers = f"/api/v1/contacts/{contact.id}/consent", factory.headers(rep)
        api.post(url + "/withdraw", headers=headers, json={"purpose": "sales_outreach"})
        api.post(url + "/withdraw", headers=headers, json={"purpose": "marketing_email"})
        api.post(url, headers=headers, json={"purpose": "marketing_email", "text": TEXT})
        assert suppression_reason(session, contact.email) == "consent"

    def test_a_leads_withdrawal_suppresses_its_address(self, session, factory, api, rep):
        lead = factory.lead(rep, email="lena@lead.example")
        session.commit()
        response = api.post(f"/api/v1/leads/{lead.id}/consent/withdraw", headers=factory.headers(rep),
                            json={"purpose": "marketing_email"})
        assert response.status_code == 201, response.text
        assert suppression_reason(session, "lena@lead.example") == "consent"
        assert session.get(Lead, lead.id).consent_state == "withdrawn"

    def test_an_unsubscribe_link_writes_a_withdrawal_to_the_ledger(self, session, factory, api, smtp, clock, rep):
        contact = factory.contact(rep)
        nurture = live_sequence(session, "Nurture", NURTURE)
        sequence_service.enroll(session, sequence_id=nurture.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
        session.commit()
        run_worker()
        received = smtp.handler.to(contact.email)[0]
        url = str(received["List-Unsubscribe"]).split(",")[0].strip("<>")
        assert api.post(url.split("8000", 1)[1], data={"List-Unsubscribe": "One-Click"}).status_code == 200
        assert api.post(url.split("8000", 1)[1], data={"List-Unsubscribe": "One-Click"}).status_code == 200
        run_worker()

        ledger = api.get(f"/api/v1/contacts/{contact.id}/consent", headers=factory.headers(rep)).json()
        [entry] = ledger["entries"]  # a second click adds nothing
        assert (entry["purpose"], entry["action"], entry["source"]) == ("marketing_email", "withdrawn", "unsubscribe")
        assert suppression_reason(session, contact.email) == "unsubscribe"
        assert session.get(Contact, contact.id).consent_state == "withdrawn"


class TestTheRecordsOwnField:
    def test_setting_marketing_consent_on_the_record_is_a_ledger_entry_and_stops_mail(self, session, factory, api, rep):
        contact = factory.contact(rep)
        session.commit()
        response = api.patch(f"/api/v1/contacts/{contact.id}", headers=factory.headers(rep),
                             json={"consent_state": "withdrawn"})
        assert response.status_code == 200, response.text
        run_worker()
        ledger = api.get(f"/api/v1/contacts/{contact.id}/consent", headers=factory.headers(rep)).json()
        [entry] = ledger["entries"]
        assert (entry["purpose"], entry["action"], entry["source"], entry["actor_label"]) == (
            "marketing_email", "withdrawn", "rep", rep.email)
        assert suppression_reason(session, contact.email) == "consent"


class TestWebFormConsent:
    def test_a_ticked_consent_box_goes_in_the_leads_ledger_with_the_forms_text(self, session, factory, api):
        admin = factory.user(role="admin")
        session.commit()
        text = "Yes, e-mail me news about the product."
        form = api.post("/api/v1/lead-forms", headers=factory.headers(admin), json={
            "name": "Newsletter", "field_map": {"lname": "last_name", "mail": "email"}, "consent_text": text,
            "consent_required": True}).json()
        assert api.post(f"/f/{form['key']}", data={"lname": "Fay", "mail": "fay@form.example", "consent": "yes"}).status_code == 200
        run_worker()
        fresh(session)
        lead = session.scalars(select(Lead)).one()
        ledger = api.get(f"/api/v1/leads/{lead.id}/consent", headers=factory.headers(admin)).json()
        [entry] = ledger["entries"]
        assert (entry["purpose"], entry["action"], entry["source"]) == ("marketing_email", "given", "web_form")
        assert entry["text_hash"] == hashlib.sha256(text.encode()).hexdigest()
        assert entry["actor_label"] == "the person (form Newsletter)"
