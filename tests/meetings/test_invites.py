"""Invitations over real SMTP (aiosmtpd on loopback), an attendee's REPLY through the
inbound gateway, and a booked meeting as a sales signal for sequences."""

from icalendar import Calendar
from sqlalchemy import select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.meetings.models import Meeting, MeetingAttendee
from pipewise.records.timeline import timeline
from pipewise.sequences.models import Enrollment
from pipewise.sequences.service import sequence_service
from tests.meetings.support import book, first_slot, make_page, set_hours, slot_on_another_day
from tests.sequences.support import email_step, gateway_headers, live_sequence, mailbox, run_worker


def _calendar_parts(message):
    inline = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    attached = [p for p in message.walk() if p.get_filename() == "invite.ics"]
    return inline, attached


def _vevent(part):
    cal = Calendar.from_ical(part.get_content() if isinstance(part.get_content(), str) else part.get_content().decode())
    return cal, cal.walk("VEVENT")[0]


def _reply(meeting, partstat, sequence):
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Mail client//EN\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n"
        f"UID:{meeting.uid}\r\nSEQUENCE:{sequence}\r\nDTSTAMP:20260101T000000Z\r\n"
        f"ATTENDEE;PARTSTAT={partstat}:mailto:ada@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    return (
        "From: Ada <ada@example.com>\r\nTo: rep@example.com\r\nSubject: Accepted: Intro call\r\n"
        f"Message-ID: <reply-{partstat}-{sequence}@client.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/calendar; method=REPLY; charset=utf-8\r\n\r\n" + ics
    ).encode()


class TestInvitations:
    def test_request_reschedule_cancel_reach_the_smtp_server(self, api, session, factory, smtp):
        rep = factory.user()
        mailbox(session, rep)
        session.commit()
        set_hours(api, factory.headers(rep))
        make_page(api, factory.headers(rep), location="https://meet.example/intro")
        booked = book(api, "intro", first_slot(api, "intro")).json()
        run_worker()
        [message] = smtp.handler.to("ada@example.com")
        assert message.get_content_type() == "multipart/mixed"
        alternative = next(p for p in message.walk() if p.get_content_type() == "multipart/alternative")
        inline, attached = _calendar_parts(message)
        assert inline[0] in list(alternative.iter_parts()) and inline[0].get_param("method") == "REQUEST"
        assert attached and attached[0].get_content_type() == "application/ics"
        cal, event = _vevent(inline[0])
        session.expire_all()
        meeting = session.scalar(select(Meeting))
        assert str(cal["method"]) == "REQUEST" and str(event["uid"]) == meeting.uid and int(event["sequence"]) == 0
        assert str(event["location"]) == "https://meet.example/intro"
        assert event.decoded("dtstart") == meeting.start_at

        token = booked["manage_url"].rsplit("/", 1)[1]
        moved = api.post(f"/book/manage/{token}/reschedule", json={"start": slot_on_another_day(api, "intro", booked["start"])})
        token = moved.json()["manage_url"].rsplit("/", 1)[1]
        api.post(f"/book/manage/{token}/cancel", json={})
        run_worker()
        seen = []
        for message in smtp.handler.to("ada@example.com"):
            cal, event = _vevent(_calendar_parts(message)[0][0])
            seen.append((str(cal["method"]), str(event["uid"]), int(event["sequence"])))
        assert seen == [("REQUEST", meeting.uid, 0), ("REQUEST", meeting.uid, 1), ("CANCEL", meeting.uid, 2)]

    def test_an_attendee_reply_sets_their_status(self, api, session, factory, inbound_secret):
        rep = factory.user()
        session.commit()
        set_hours(api, factory.headers(rep))
        make_page(api, factory.headers(rep))
        book(api, "intro", first_slot(api, "intro"))
        session.expire_all()
        meeting = session.scalar(select(Meeting))
        raw = _reply(meeting, "ACCEPTED", 0)
        response = api.post("/api/v1/inbound/email", content=raw, headers=gateway_headers(raw))
        assert response.status_code == 200 and response.json()["kind"] == "calendar_reply", response.text
        assert "answered ACCEPTED" in response.json()["detail"], response.text
        session.commit()  # end the read snapshot
        assert session.get(MeetingAttendee, (meeting.id, "ada@example.com")).partstat == "ACCEPTED"
        detail = api.get(f"/api/v1/meetings/{meeting.id}", headers=factory.headers(rep)).json()
        assert detail["attendees"] == [{"email": "ada@example.com", "name": "Ada Lovelace", "partstat": "ACCEPTED"}]


class TestSalesSignal:
    def test_a_booked_meeting_ends_the_intro_sequence_in_one_worker_pass(self, api, session, factory, smtp):
        rep = factory.user()
        mailbox(session, rep)
        contact = factory.contact(rep, last_name="Lovelace", email="ada@example.com")
        intro = live_sequence(session, "Intro", [email_step("Hello", "<p>Hi</p>"), email_step("", "<p>Again</p>", delay_days=2)])
        sequence_service.enroll(session, sequence_id=intro.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
        session.commit()
        run_worker()
        set_hours(api, factory.headers(rep))
        make_page(api, factory.headers(rep))
        assert book(api, "intro", first_slot(api, "intro")).status_code == 201
        run_worker()
        session.commit()
        enrollment = session.scalar(select(Enrollment).where(Enrollment.contact_id == contact.id))
        assert enrollment.status == "exited" and "meeting" in enrollment.reason
        entries = [f"{e.title} | {e.detail}" for e in timeline(session, "contact", contact.id)]
        assert any("meeting" in entry.lower() and "Intro" in entry for entry in entries), entries
