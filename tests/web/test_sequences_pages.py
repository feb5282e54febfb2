"""The sequence pages over TestClient: the builder (settings, steps, variants, preview,
activation refused with its reasons), enrollments with their reasons, the Today queue,
results, the mailbox, the outbox and the suppression list; bad input and visibility."""

import re
from email.message import EmailMessage as Mime

import pytest
from sqlalchemy import select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.models import Task
from pipewise.mail.mailboxes import approve
from pipewise.mail.secrets import decrypt
from pipewise.mail.transport import outbox_dir
from pipewise.sequences.events import add_task
from pipewise.sequences.models import EmailMessage, Enrollment, Mailbox, Sequence, SequenceStep, Suppression
from pipewise.sequences.service import sequence_service
from pipewise.worker.runner import Worker

EMAIL = {"kind": "auto_email", "variants": [{"label": "A", "subject": "Hi {{ contact.first_name }}", "body_html": "<p>Hello</p>"}]}


def logged_in(web, factory, session, **kw):
    user = factory.user(**kw)
    session.commit()
    web.login(user)
    return user


def live(session, name="Nurture", steps=None, **kw):
    sequence = sequence_service.create(session, data={"name": name, "steps": steps or [EMAIL], **kw}, actor=SYSTEM_ACTOR)
    sequence_service.activate(session, sequence.id, actor=SYSTEM_ACTOR)
    session.commit()
    return sequence


def fresh(session):
    session.commit()
    session.expire_all()


def step_form(**kw):
    return {"kind": "auto_email", "delay_days": "0", "business_days": "on", "thread": "on", "op": "save",
            "variants[0].label": "A", "variants[0].weight": "1", "variants[0].subject": "Hello {{ contact.first_name }}",
            "variants[0].body_html": "<p>Hi {{ contact.first_name | default('there') }}</p>", "variants[0].body_text": "", **kw}


class TestSequenceBuilder:
    def test_create_add_steps_reorder_activate_pause_archive(self, web, factory, session):
        logged_in(web, factory, session, role="manager")
        _pipeline, stages = factory.pipeline()
        session.commit()
        r = web.post("/sequences/new", {"name": "Intro", "description": "First touch", "rules.on_reply": "exit",
                                         "rules.on_meeting": "pause", "rules.on_manual_touch": "pause", "rules.on_deal_created": "ignore",
                                         "rules.on_deal_stage": "exit", "rules.exit_stage_id": str(stages[1].id),
                                         "rules.account_daily_cap": "2", "rules.account_coordination": "on", "allow_concurrent": "on"},
                     follow_redirects=False)
        assert r.status_code == 303
        sequence = session.scalar(select(Sequence).where(Sequence.name == "Intro"))
        assert sequence.allow_concurrent and sequence.rules["account_daily_cap"] == 2
        assert sequence.rules["exit_stage_id"] == str(stages[1].id) and sequence.rules["on_meeting"] == "pause"
        page = web.get(r.headers["location"])
        assert page.status_code == 200 and "Intro" in page.text and "Demo" in page.text

        assert web.get(f"/sequences/{sequence.id}/steps/new?kind=auto_email").status_code == 200
        assert web.post(f"/sequences/{sequence.id}/steps/new", step_form(), follow_redirects=False).status_code == 303
        call = {"kind": "call", "delay_days": "2", "business_days": "on", "task_title": "Call them", "op": "save"}
        assert web.post(f"/sequences/{sequence.id}/steps/new", call, follow_redirects=False).status_code == 303
        fresh(session)
        steps = sequence_service.steps(session, sequence.id)
        assert [(s.kind, s.delay_days) for s in steps] == [("auto_email", 0), ("call", 2)]

        web.post(f"/sequences/{sequence.id}/steps/{steps[1].id}/move", {"direction": "up"}, follow_redirects=False)
        fresh(session)
        assert [s.kind for s in sequence_service.steps(session, sequence.id)] == ["call", "auto_email"]

        for action, status in (("activate", "active"), ("pause", "paused"), ("archive", "archived")):
            r = web.post(f"/sequences/{sequence.id}/status", {"action": action}, follow_redirects=False)
            assert r.status_code == 303
            fresh(session)
            assert session.get(Sequence, sequence.id).status == status

    def test_activation_refused_shows_each_problem_by_step(self, web, factory, session):
        logged_in(web, factory, session)
        sequence = sequence_service.create(session, data={"name": "Broken", "steps": [
            {"kind": "auto_email", "variants": [{"label": "A", "subject": "", "body_html": ""}]},
        ]}, actor=SYSTEM_ACTOR)
        session.commit()
        r = web.post(f"/sequences/{sequence.id}/status", {"action": "activate"})
        assert r.status_code == 422
        assert "cannot go live" in r.text
        assert re.search(r"Step 1 — variants\[0\]\.subject: is required", r.text)
        assert "Step 1 — variants[0].body html: is required" in r.text
        fresh(session)
        assert session.get(Sequence, sequence.id).status == "draft"

    def test_empty_sequence_cannot_go_live(self, web, factory, session):
        logged_in(web, factory, session)
        sequence = sequence_service.create(session, data={"name": "Empty"}, actor=SYSTEM_ACTOR)
        session.commit()
        r = web.post(f"/sequences/{sequence.id}/status", {"action": "activate"})
        assert r.status_code == 422 and "a sequence needs at least one step" in r.text

    def test_bad_settings_are_reported_by_field(self, web, factory, session):
        logged_in(web, factory, session)
        live(session, "Taken")
        r = web.post("/sequences/new", {"name": "Taken", "rules.on_reply": "explode", "rules.account_daily_cap": "zero",
                                         "rules.manual_touch_pause_days": "0", "sender_id": "not-a-user"})
        assert r.status_code == 422
        for message in ("is not one of the choices", "must be a whole number", "must be at least 1"):
            assert message in r.text
        assert 'id="rules-account_daily_cap-msg"' in r.text
        # the name clash is the service's verdict, reported once the form itself is fine
        r = web.post("/sequences/new", {"name": "Taken", "rules.on_reply": "exit", "rules.on_meeting": "exit",
                                         "rules.on_manual_touch": "pause", "rules.on_deal_created": "pause", "rules.on_deal_stage": "exit"})
        assert r.status_code == 422 and "a sequence named &#39;Taken&#39; exists" in r.text
        assert session.scalar(select(Sequence.id).where(Sequence.name == "")) is None

    def test_template_errors_are_shown_under_their_variant_field(self, web, factory, session):
        logged_in(web, factory, session)
        sequence = sequence_service.create(session, data={"name": "Draft"}, actor=SYSTEM_ACTOR)
        session.commit()
        form = step_form(**{"variants[0].subject": "Hi {{ contact.nickname }}", "variants[0].body_html": "<p>{% if %}</p>"})
        r = web.post(f"/sequences/{sequence.id}/steps/new", form)
        assert r.status_code == 422
        subject_slot = r.text.split('id="variants-0-subject-msg"')[1].split("</div>")[0]
        body_slot = r.text.split('id="variants-0-body_html-msg"')[1].split("</div>")[0]
        assert "unknown merge field {{ contact.nickname }}" in subject_slot.replace("&#39;", "'")
        assert "syntax error on line 1" in body_slot
        fresh(session)
        assert sequence_service.steps(session, sequence.id) == []

    def test_bad_step_numbers_and_unknown_kind(self, web, factory, session):
        logged_in(web, factory, session)
        sequence = sequence_service.create(session, data={"name": "Draft"}, actor=SYSTEM_ACTOR)
        session.commit()
        r = web.post(f"/sequences/{sequence.id}/steps/new", step_form(delay_days="-3", **{"variants[0].weight": "many"}))
        assert r.status_code == 422 and "must be at least 0" in r.text and "must be a whole number" in r.text
        assert web.get(f"/sequences/{sequence.id}/steps/new?kind=fax").status_code == 422

    def test_variants_are_added_removed_and_saved(self, web, factory, session):
        logged_in(web, factory, session)
        sequence = live(session)
        step = sequence_service.steps(session, sequence.id)[0]
        edit = web.get(f"/sequences/{sequence.id}/steps/{step.id}/edit")
        assert edit.status_code == 200 and "Hi {{ contact.first_name }}" in edit.text
        assert "contact.first_name" in edit.text and "unsubscribe_url" in edit.text  # the merge-field picker
        added = web.post(f"/sequences/{sequence.id}/steps/{step.id}/edit", step_form(op="add_variant"))
        assert 'name="variants[1].subject"' in added.text and "Variant B" in added.text
        form = step_form(**{"variants[1].label": "B", "variants[1].weight": "3", "variants[1].subject": "Other",
                            "variants[1].body_html": "<p>B</p>", "variants[1].body_text": ""})
        assert web.post(f"/sequences/{sequence.id}/steps/{step.id}/edit", form, follow_redirects=False).status_code == 303
        fresh(session)
        assert [(v.label, v.weight) for v in sequence_service.variants(session, step.id)] == [("A", 1), ("B", 3)]
        removed = web.post(f"/sequences/{sequence.id}/steps/{step.id}/edit", {**form, "op": "remove_variant:0"})
        assert 'name="variants[1].subject"' not in removed.text and 'value="Other"' in removed.text
        step_id = step.id
        r = web.post(f"/sequences/{sequence.id}/steps/{step_id}/delete", follow_redirects=False)
        assert r.status_code == 303
        fresh(session)
        assert session.get(SequenceStep, step_id) is None

    def test_preview_renders_with_a_real_contact_and_marks_bad_fields(self, web, factory, session):
        user = logged_in(web, factory, session)
        account = factory.account(user, name="Initech")
        contact = factory.contact(user, first_name="Peter", account_id=account.id)
        session.commit()
        ok = web.post("/email-preview", {"prefix": "variants[0].", "contact_id": str(contact.id),
                                         "variants[0].subject": "For {{ account.name }}",
                                         "variants[0].body_html": "<p>Hi {{ contact.first_name }}</p>"}, htmx=True)
        assert ok.status_code == 200
        assert "For Initech" in ok.text and "Hi Peter" in ok.text and 'data-preview="ok"' in ok.text
        bad = web.post("/email-preview", {"prefix": "variants[0].", "contact_id": str(contact.id),
                                          "variants[0].subject": "{{ contact.shoe_size }}", "variants[0].body_html": "{{ oops"}, htmx=True)
        assert bad.status_code == 422
        assert re.search(r'id="variants-0-subject-msg" hx-swap-oob="true"><p class="field-error">unknown merge field', bad.text)
        assert re.search(r'id="variants-0-body_html-msg" hx-swap-oob="true"><p class="field-error">syntax error', bad.text)
        none = web.post("/email-preview", {"prefix": "", "contact_id": "", "subject": "x", "body_html": "y"}, htmx=True)
        assert none.status_code == 422 and "choose a contact" in none.text
        options = web.get("/email-preview/contacts?q=Peter")
        assert str(contact.id) in options.text

    def test_preview_never_shows_another_teams_contact(self, web, factory, session):
        other = factory.user(team=factory.team())
        hidden = factory.contact(other, first_name="Secret")
        logged_in(web, factory, session, team=factory.team())
        r = web.post("/email-preview", {"prefix": "", "contact_id": str(hidden.id), "subject": "{{ contact.first_name }}",
                                        "body_html": "x"}, htmx=True)
        assert r.status_code == 422 and "Secret" not in r.text

    def test_a_rep_cannot_change_another_owners_sequence(self, web, factory, session):
        owner = factory.user()
        sequence = sequence_service.create(session, data={"name": "Theirs"}, actor=factory.actor(owner))
        logged_in(web, factory, session)
        assert web.get(f"/sequences/{sequence.id}").status_code == 200  # sequences are shared reading
        r = web.post(f"/sequences/{sequence.id}/edit", {"name": "Mine now", "rules.on_reply": "exit", "rules.on_meeting": "exit",
                                                         "rules.on_manual_touch": "pause", "rules.on_deal_created": "pause",
                                                         "rules.on_deal_stage": "exit"})
        assert r.status_code == 403
        assert web.post(f"/sequences/{sequence.id}/status", {"action": "activate"}).status_code == 403
        assert web.post(f"/sequences/{sequence.id}/steps/new", step_form()).status_code == 403
        fresh(session)
        assert session.get(Sequence, sequence.id).name == "Theirs"

    def test_unknown_ids_are_404(self, web, factory, session):
        logged_in(web, factory, session)
        assert web.get("/sequences/00000000-0000-0000-0000-000000000000").status_code == 404
        assert web.get("/sequences/not-an-id").status_code == 404
        assert web.post("/sequences/00000000-0000-0000-0000-000000000000/status", {"action": "pause"}).status_code == 404

    def test_list_and_metrics(self, web, factory, session, monkeypatch):
        user = logged_in(web, factory, session)
        sequence = live(session, "Nurture", [EMAIL, {**EMAIL, "variants": [
            {"label": "A", "subject": "One", "body_html": "<p>1</p>"}, {"label": "B", "subject": "Two", "body_html": "<p>2</p>"}]}])
        contact = factory.contact(user)
        sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
        step = sequence_service.steps(session, sequence.id)[0]
        variant = sequence_service.variants(session, step.id)[0]
        enrollment = session.scalar(select(Enrollment))
        for n, opened in ((1, True), (2, False)):
            session.add(EmailMessage(message_id=f"<m{n}@x>", direction="outbound", kind="sequence", status="sent",
                                     enrollment_id=enrollment.id, step_id=step.id, variant_id=variant.id, contact_id=contact.id,
                                     from_address="a@x.example", to_address=contact.email, sent_at=enrollment.enrolled_at,
                                     opened_at=enrollment.enrolled_at if opened else None))
        session.commit()
        listing = web.get("/sequences")
        assert listing.status_code == 200 and "Nurture" in listing.text and "1 active" in listing.text
        assert "Nurture" not in web.get("/sequences?status=archived").text
        r = web.get(f"/sequences/{sequence.id}/metrics")
        assert r.status_code == 200
        row = r.text.split('class="step-total"')[1].split("</tr>")[0]
        assert '<td data-label="Sent" class="num">2</td>' in row and "1 <span class=\"muted\">50%</span>" in row


class TestEnrollments:
    def test_enroll_from_the_contacts_list_and_see_the_reason(self, web, factory, session):
        user = logged_in(web, factory, session)
        sequence = live(session)
        ada, bob = factory.contact(user, first_name="Ada"), factory.contact(user, first_name="Bob", email=None)
        session.commit()
        contacts = web.get("/contacts")
        assert 'form="bulk-form"' in contacts.text and 'value="enroll"' in contacts.text
        page = web.get(f"/sequence-enroll?contact_id={ada.id}&contact_id={bob.id}")
        assert page.status_code == 200 and ada.full_name in page.text and "Nurture" in page.text
        r = web.post("/sequence-enroll", {"sequence_id": str(sequence.id), "contact_id": [str(ada.id), str(bob.id)], "reason": "webinar"})
        assert r.status_code == 200
        assert "1 enrolled" in r.text and f"{bob.full_name}</a>: {bob.full_name} has no e-mail address" in r.text
        listing = web.get(f"/sequence-enrollments?sequence_id={sequence.id}")
        assert listing.status_code == 200
        assert ada.full_name in listing.text and ": webinar" in listing.text and "enrolled by" in listing.text
        assert "1. Automatic e-mail" in listing.text

    def test_enroll_page_reports_bad_input_by_field(self, web, factory, session):
        logged_in(web, factory, session)
        r = web.post("/sequence-enroll", {"sequence_id": "", "contact_id": "nope"})
        assert r.status_code == 422
        assert 'id="sequence_id-msg"><p class="field-error">choose a sequence' in r.text
        assert "not a valid id" in r.text
        assert web.get("/sequence-enroll?contact_id=bad").status_code == 400

    def test_contact_page_offers_enrolling(self, web, factory, session):
        user = logged_in(web, factory, session)
        contact = factory.contact(user)
        session.commit()
        assert f"/sequence-enroll?contact_id={contact.id}" in web.get(f"/contacts/{contact.id}").text

    def test_pause_resume_unenroll_with_reasons(self, web, factory, session):
        user = logged_in(web, factory, session)
        sequence = live(session)
        contact = factory.contact(user)
        enrollment = sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
        session.commit()
        web.post(f"/sequence-enrollments/{enrollment.id}/pause", {"next": "/sequence-enrollments"}, follow_redirects=False)
        listing = web.get("/sequence-enrollments?status=paused")
        assert "paused by" in listing.text and "until someone resumes it" in listing.text
        again = web.post(f"/sequence-enrollments/{enrollment.id}/pause", follow_redirects=True)
        assert "the enrollment is paused" in again.text
        web.post(f"/sequence-enrollments/{enrollment.id}/resume", follow_redirects=False)
        fresh(session)
        assert session.get(Enrollment, enrollment.id).status == "active"
        web.post(f"/sequence-enrollments/{enrollment.id}/unenroll", {"reason": "asked by phone"}, follow_redirects=False)
        fresh(session)
        row = session.get(Enrollment, enrollment.id)
        assert row.status == "exited" and "asked by phone" in row.reason
        assert "asked by phone" in web.get("/sequence-enrollments?status=exited").text
        assert web.post(f"/sequence-enrollments/{enrollment.id}/explode").status_code == 422

    def test_filters_are_checked(self, web, factory, session):
        logged_in(web, factory, session)
        assert web.get("/sequence-enrollments?status=dancing").status_code == 400
        assert web.get("/sequence-enrollments?sequence_id=xyz").status_code == 400

    def test_another_teams_enrollments_are_invisible(self, web, factory, session):
        other = factory.user(team=factory.team())
        sequence = live(session)
        hidden = factory.contact(other, first_name="Hidden")
        enrollment = sequence_service.enroll(session, sequence_id=sequence.id, contact_id=hidden.id, actor=SYSTEM_ACTOR)
        session.commit()
        logged_in(web, factory, session, team=factory.team())
        assert hidden.full_name not in web.get("/sequence-enrollments").text
        assert hidden.full_name not in web.get(f"/sequences/{sequence.id}").text
        for action in ("pause", "unenroll"):
            assert web.post(f"/sequence-enrollments/{enrollment.id}/{action}").status_code == 404
        r = web.post("/sequence-enroll", {"sequence_id": str(sequence.id), "contact_id": str(hidden.id)})
        assert r.status_code == 422 and "choose at least one contact you can see" in r.text
        fresh(session)
        assert session.get(Enrollment, enrollment.id).status == "active"


@pytest.fixture
def handlers():
    from pipewise import domains

    domains.load()


MANUAL = {"kind": "manual_email", "variants": [{"label": "A", "subject": "Quick question, {{ contact.first_name }}",
                                                 "body_html": "<p>Hi {{ contact.first_name }}, got a minute?</p>"}]}


class TestToday:
    def test_send_a_manual_email_from_the_queue(self, web, factory, session, handlers):
        user = logged_in(web, factory, session, name="Rita Rep")
        sequence = live(session, "Manual", [MANUAL, {"kind": "call", "delay_days": 0, "task_title": "Call after the e-mail"}])
        contact = factory.contact(user, first_name="Grace")
        sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
        session.commit()
        Worker(name="test").run_until_idle()
        page = web.get("/today")
        assert page.status_code == 200
        assert 'value="Quick question, Grace"' in page.text and "Hi Grace, got a minute?" in page.text
        task = session.scalar(select(Task).where(Task.status == "open"))
        bad = web.post(f"/today/{task.id}/send", {"subject": "", "body": "Hi {{ contact.shoe }}"})
        assert bad.status_code == 422
        assert 'id="subject-msg"><p class="field-error">is required' in bad.text
        r = web.post(f"/today/{task.id}/send", {"subject": "Quick question, Grace", "body": "Hi Grace,\n\nfree on Friday?"},
                     follow_redirects=False)
        assert r.status_code == 303
        fresh(session)
        message = session.scalar(select(EmailMessage))
        assert (message.to_address, message.subject, message.automated, message.kind) == (contact.email, "Quick question, Grace", False, "sequence")
        assert message.enrollment_id is not None and message.step_id is not None
        assert "free on Friday?" in message.body_text
        assert session.get(Task, task.id).status == "done"
        Worker(name="test").run_until_idle()
        fresh(session)
        assert session.get(EmailMessage, message.id).status == "sent"
        written = list(outbox_dir().glob("*.eml"))
        assert any("free on Friday?" in p.read_text() for p in written)
        assert "Call after the e-mail" in web.get("/today").text

    def test_done_and_skip(self, web, factory, session, handlers):
        user = logged_in(web, factory, session)
        sequence = live(session, "Calls", [{"kind": "call", "task_title": "Ring them"}, {"kind": "task", "task_title": "Send a gift"}])
        contact = factory.contact(user)
        sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
        session.commit()
        Worker(name="test").run_until_idle()
        page = web.get("/today")
        assert "Ring them" in page.text and 'id="queue-call"' in page.text
        task = session.scalar(select(Task).where(Task.title == "Ring them"))
        assert web.post(f"/today/{task.id}/done", follow_redirects=False).status_code == 303
        Worker(name="test").run_until_idle()
        fresh(session)
        gift = session.scalar(select(Task).where(Task.title == "Send a gift"))
        assert gift is not None and "Send a gift" in web.get("/today").text
        web.post(f"/today/{gift.id}/skip", follow_redirects=False)
        Worker(name="test").run_until_idle()
        fresh(session)
        assert session.get(Task, gift.id).status == "cancelled"
        assert session.scalar(select(Enrollment)).status == "finished"

    def test_a_manager_opens_a_team_members_queue_and_a_rep_cannot(self, web, factory, session):
        team = factory.team()
        rep = factory.user(team=team, name="Rita Rep")
        add_task(session, title="Follow up Acme", owner_id=rep.id, contact_id=factory.contact(rep).id)
        outsider = factory.user(team=factory.team())
        manager = factory.user(role="manager", team=team)
        session.commit()
        web.login(manager)
        queue = web.get(f"/today?rep={rep.id}")
        assert queue.status_code == 200 and "Follow up Acme" in queue.text and "Rita Rep" in queue.text
        assert "Follow up Acme" in web.get("/today").text  # a manager starts on the team's queue
        assert "Follow up Acme" not in web.get("/today?scope=me").text
        assert web.get(f"/today?rep={outsider.id}").status_code == 403
        web.login(rep)
        assert web.get(f"/today?rep={manager.id}").status_code == 403
        assert web.get("/today?rep=garbage").status_code == 403

    def test_another_teams_task_is_404(self, web, factory, session):
        other = factory.user(team=factory.team())
        contact = factory.contact(other)
        task = add_task(session, title="Theirs", owner_id=other.id, contact_id=contact.id)
        session.commit()
        logged_in(web, factory, session, team=factory.team())
        assert web.post(f"/today/{task.id}/done").status_code == 404
        assert web.post(f"/today/{task.id}/send", {"subject": "x", "body": "y"}).status_code == 404
        fresh(session)
        assert session.get(Task, task.id).status == "open"


class TestMail:
    def test_mailbox_settings_saved_and_bad_input_by_field(self, web, factory, session):
        user = logged_in(web, factory, session, name="Rita Rep")
        page = web.get("/mail/mailbox")
        assert page.status_code == 200 and user.email in page.text
        approve(session, user_id=user.id, address="rita@example.com", actor=SYSTEM_ACTOR)
        session.commit()
        good = {"from_name": "Rita", "from_address": "Rita@Example.com", "signature_html": "<p>Rita</p>", "signature_text": "",
                "smtp_host": "smtp.example.com", "smtp_port": "2525", "smtp_security": "ssl", "smtp_username": "rita",
                "smtp_password": "s3cret", "daily_cap": "50", "send_start_hour": "8", "send_end_hour": "18",
                "send_days": ["0", "2", "4"], "track_opens": "on"}
        assert web.post("/mail/mailbox", good, follow_redirects=False).status_code == 303
        fresh(session)
        box = session.scalar(select(Mailbox).where(Mailbox.user_id == user.id))
        assert (box.from_address, box.daily_cap, box.send_days, box.track_opens, box.track_clicks) == ("rita@example.com", 50, [0, 2, 4], True, False)
        assert (box.smtp_host, box.smtp_port, decrypt(box.smtp_password)) == ("smtp.example.com", 2525, "s3cret")
        assert "s3cret" not in box.smtp_password  # encrypted at rest
        web.post("/mail/mailbox", {**good, "smtp_password": ""}, follow_redirects=False)
        fresh(session)
        assert decrypt(session.get(Mailbox, box.id).smtp_password) == "s3cret"  # left empty: kept
        bad = web.post("/mail/mailbox", {**good, "from_address": "not an address", "daily_cap": "lots", "send_start_hour": "19",
                                         "send_end_hour": "9", "from_name": ""})
        assert bad.status_code == 422
        assert 'id="daily_cap-msg"><p class="field-error">must be a whole number' in bad.text
        assert 'id="from_name-msg"><p class="field-error">is required' in bad.text
        later = web.post("/mail/mailbox", {**good, "from_address": "not an address", "send_start_hour": "19", "send_end_hour": "9"})
        assert later.status_code == 422
        assert 'id="send_end_hour-msg"><p class="field-error">must be after send_start_hour' in later.text
        assert 'id="from_address-msg"><p class="field-error">' in later.text
        fresh(session)
        assert session.get(Mailbox, box.id).daily_cap == 50

    def test_a_sender_address_is_added_by_its_confirmation_link(self, web, factory, session):
        user = logged_in(web, factory, session)
        assert web.post("/mail/mailbox", {"from_name": "R", "from_address": "rita@sales.example", "smtp_security": "starttls", "daily_cap": "5",
                                          "send_start_hour": "8", "send_end_hour": "18"}).status_code == 422
        bad = web.post("/mail/addresses", {"address": "nope"})
        assert bad.status_code == 422 and 'id="address-msg"><p class="field-error">' in bad.text
        assert web.post("/mail/addresses", {"address": "rita@sales.example"}, follow_redirects=False).status_code == 303
        assert "waiting for the confirmation link" in web.get("/mail/mailbox").text
        fresh(session)
        letter = session.scalar(select(EmailMessage).where(EmailMessage.to_address == "rita@sales.example"))
        link = re.search(r"/api/v1/mail-addresses/confirm/\S+", letter.body_text)[0]
        assert web.get(link).status_code == 200
        assert "verified (link)" in web.get("/mail/mailbox").text
        assert user.email in web.get("/mail/mailbox").text

    def test_outbox_lists_and_shows_a_message_only_to_its_sender_or_an_admin(self, web, factory, session):
        sender = logged_in(web, factory, session)
        folder = outbox_dir()
        folder.mkdir(parents=True, exist_ok=True)
        mime = Mime()
        mime["From"], mime["To"], mime["Subject"] = sender.email, "ada@example.org", "Hello Ada"
        mime["Date"] = "Mon, 23 Nov 2026 10:00:00 +0000"
        mime.set_content("Plain hello")
        mime.add_alternative("<p>HTML hello</p>", subtype="html")
        (folder / "test-message.eml").write_bytes(bytes(mime))
        try:
            listing = web.get("/mail/outbox")
            assert "Hello Ada" in listing.text
            shown = web.get("/mail/outbox/test-message.eml")
            assert shown.status_code == 200 and "Plain hello" in shown.text and "HTML hello" in shown.text
            assert web.get("/mail/outbox/..%2Fsecret.eml").status_code == 404
            assert web.get("/mail/outbox/missing.eml").status_code == 404
            logged_in(web, factory, session)
            assert "Hello Ada" not in web.get("/mail/outbox").text
            assert web.get("/mail/outbox/test-message.eml").status_code == 404
            logged_in(web, factory, session, role="admin")
            assert web.get("/mail/outbox/test-message.eml").status_code == 200
        finally:
            (folder / "test-message.eml").unlink()

    def test_suppression_list_add_and_remove(self, web, factory, session):
        logged_in(web, factory, session)
        r = web.post("/mail/suppressions", {"address": "Gone@Example.com", "detail": "asked us"}, follow_redirects=False)
        assert r.status_code == 303
        assert "gone@example.com" in web.get("/mail/suppressions").text
        bad = web.post("/mail/suppressions", {"address": "nope"})
        assert bad.status_code == 422 and 'id="address-msg"><p class="field-error">' in bad.text
        assert web.post("/mail/suppressions/remove", {"address": "gone@example.com"}).status_code == 403
        logged_in(web, factory, session, role="admin")
        assert web.post("/mail/suppressions/remove", {"address": "gone@example.com"}, follow_redirects=False).status_code == 303
        assert web.post("/mail/suppressions/remove", {"address": "gone@example.com"}).status_code == 404
        fresh(session)
        assert session.scalar(select(Suppression)) is None

    def test_pages_need_a_login(self, web):
        for url in ("/sequences", "/today", "/mail/mailbox", "/mail/outbox", "/mail/suppressions", "/sequence-enrollments"):
            r = web.get(url, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), url
