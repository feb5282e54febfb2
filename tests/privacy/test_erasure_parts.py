"""The parts of an erasure one by one, through the API where there is one: the leads that
are the same person, the hashed suppression entry (with and without a pepper), a column
registered for scrubbing in one line, meetings, and the replacing of values in text and
JSON."""

import uuid

import pytest
from sqlalchemy import select

from pipewise.config import get_settings
from pipewise.leads.models import Lead, MatchKey
from pipewise.mail.models import Suppression
from pipewise.mail.suppression import hashed_address, suppress, suppression_of
from pipewise.notifications.models import Notification
from pipewise.privacy.erasure_scrub import Pseudonyms, phone_forms
from pipewise.quotes.models import QuoteTemplate
from pipewise.records.personal_data import register_scrubbed_columns, unregister_scrubbed_columns


@pytest.fixture
def admin_headers(factory, session):  # type: ignore[no-untyped-def]
    admin = factory.user(role="admin")
    session.commit()
    return factory.headers(admin)


def erase(api, headers, contact_id, **body):  # type: ignore[no-untyped-def]
    response = api.post(f"/api/v1/contacts/{contact_id}/erase", headers=headers, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_leads_with_their_address_are_erased_with_them(api, admin_headers, factory, session):
    address = f"lena.{uuid.uuid4().hex[:6]}@leads.example"
    lead = api.post("/api/v1/leads", headers=admin_headers, json={
        "first_name": "Lena", "last_name": "Leadmann", "email": address.upper(), "phone": "+1 212 555 0147",
        "company": "Leads Inc"}).json()
    other = factory.lead(last_name="Someone Else", email="someone@leads.example")
    contact = factory.contact(first_name="Lena", last_name="Leadmann", email=address)
    session.commit()
    counts = erase(api, admin_headers, contact.id)["counts"]
    assert counts["leads"] == 1
    session.rollback()  # a fresh look, past the snapshot this session read before
    session.expire_all()
    erased = session.get(Lead, uuid.UUID(lead["id"]))
    assert (erased.email, erased.phone, erased.first_name, erased.company) == (None, None, None, "Leads Inc")
    assert erased.last_name.startswith("Erased person")
    assert session.get(Lead, other.id).email == "someone@leads.example"
    assert session.scalars(select(MatchKey).where(MatchKey.record_id == erased.id)).all() == []


def test_a_plain_suppression_entry_becomes_one_hashed_entry_keeping_its_reason(api, admin_headers, factory, session):
    contact = factory.contact(last_name="Unsub", email="unsub@example.org")
    suppress(session, "unsub@example.org", reason="unsubscribe")
    session.commit()
    assert erase(api, admin_headers, contact.id, dry_run=True)["counts"]["suppression"] == 1
    assert [r.address for r in session.scalars(select(Suppression))] == ["unsub@example.org"], "a dry run keeps it plain"
    erase(api, admin_headers, contact.id)
    session.rollback()  # a fresh look, past the snapshot this session read before
    session.expire_all()
    rows = [(r.address, r.reason, r.detail) for r in session.scalars(select(Suppression))]
    assert rows == [(hashed_address("unsub@example.org"), "unsubscribe", None)]
    assert rows[0][0].startswith("sha256:") and suppression_of(session, " UNSUB@example.org ") is not None
    assert suppression_of(session, "other@example.org") is None


def test_a_pepper_keys_the_hash_and_older_unpeppered_entries_still_match(session, monkeypatch):
    plain = hashed_address("peppered@example.org")
    session.add(Suppression(address=plain, reason="erased"))
    session.flush()
    monkeypatch.setenv("PIPEWISE_SUPPRESSION_PEPPER", "a-server-side-secret")
    get_settings.cache_clear()
    try:
        peppered = hashed_address("peppered@example.org")
        assert peppered.startswith("hmac-sha256:") and peppered != plain
        assert suppression_of(session, "Peppered@example.org") is not None
    finally:
        monkeypatch.delenv("PIPEWISE_SUPPRESSION_PEPPER")
        get_settings.cache_clear()


def test_one_line_registers_another_table_for_scrubbing(api, admin_headers, factory, session):
    """What an integrator does for a new table (a webhook delivery log): name its columns."""
    contact = factory.contact(first_name="Rhea", last_name="Registered", email="rhea.registered@example.org")
    template = QuoteTemplate(name="For Rhea", terms="Send to rhea.registered@example.org, attn. Rhea Registered", lines=[])
    session.add(template)
    session.add(Notification(user_id=factory.user().id, kind="reminder", title="Call Rhea Registered",
                             body="rhea.registered@example.org asked for a call", key=uuid.uuid4().hex))
    session.commit()
    register_scrubbed_columns("quote_template", ["terms"])
    try:
        counts = erase(api, admin_headers, contact.id)["counts"]
    finally:
        unregister_scrubbed_columns("quote_template")
    assert counts["quote_template"] == 1 and counts["notification"] == 1
    session.rollback()  # a fresh look, past the snapshot this session read before
    session.expire_all()
    terms = session.get(QuoteTemplate, template.id).terms
    assert "rhea" not in terms.lower() and terms.startswith("Send to erased-") and "attn. Erased person" in terms


def test_values_are_replaced_in_text_and_json_whatever_their_case():
    pseudo = Pseudonyms.build(token="t0k3n", emails=["ada@example.org"], phones=["+4930123456789"], names=["Zoë Lovelace"])
    payload = {"changes": {"email": [None, "ADA@example.org"], "note": "call +49 30 123456789 or 030 123456789"},
               "ada@example.org": ["zoë lovelace"], "count": 3}
    assert pseudo.rewrite(payload) == {
        "changes": {"email": [None, "erased-t0k3n@erased.invalid"], "note": "call [erased phone] or [erased phone]"},
        "erased-t0k3n@erased.invalid": ["Erased person t0k3n"], "count": 3}
    owned = pseudo.rewrite({"first_name": [None, "Zoë"], "stage": ["lead", "customer"]}, owned=True)
    assert owned == {"first_name": [None, "[erased]"], "stage": ["lead", "customer"]}
    assert "zo\\u00eb lovelace" in pseudo.search_forms()  # JSON stored with ASCII escapes
    assert {"+4930123456789", "+49 30 123456789", "030 123456789", "4930123456789"} <= phone_forms("+4930123456789")


def test_their_meetings_lose_answers_and_attendance(api, admin_headers, factory, session):
    from datetime import UTC, datetime, timedelta

    from pipewise.meetings.models import Meeting, MeetingAttendee

    host = factory.user(name="Hana Host")
    contact = factory.contact(host, first_name="Mira", last_name="Meetmann", email="mira.meetmann@example.org")
    start = datetime.now(UTC) + timedelta(days=2)
    meeting = Meeting(host_id=host.id, title="Intro with Mira Meetmann", start_at=start, end_at=start + timedelta(minutes=30),
                      uid=f"{uuid.uuid4()}@pipewise", nonce=uuid.uuid4().hex, contact_id=contact.id,
                      answers={"What do you need?": "Call me on +1 212 555 0199"}, booker_ip="203.0.113.9")
    session.add(meeting)
    session.flush()
    session.add_all([MeetingAttendee(meeting_id=meeting.id, email="mira.meetmann@example.org", name="Mira Meetmann"),
                     MeetingAttendee(meeting_id=meeting.id, email=host.email, name=host.name, user_id=host.id)])
    session.commit()
    assert erase(api, admin_headers, contact.id)["counts"]["meetings"] == 2
    session.rollback()
    session.expire_all()
    kept = session.get(Meeting, meeting.id)
    assert (kept.answers, kept.booker_ip) == ({}, None)
    assert kept.title.startswith("Intro with Erased person")
    assert [a.email for a in session.scalars(select(MeetingAttendee).where(MeetingAttendee.meeting_id == meeting.id))] == [host.email]
