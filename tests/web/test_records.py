import re

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.models import Activity, Contact, Task
from pipewise.db.base import utcnow
from pipewise.deals.models import Deal
from pipewise.deals.service import deal_service
from pipewise.records import timeline as timeline_module
from pipewise.records.field_definitions import custom_field_service
from pipewise.records.timeline import TimelineEntry


def logged_in(web, factory, session, **kw):
    user = factory.user(**kw)
    session.commit()
    web.login(user)
    return user


def new_contact_form(**kw):
    return {"first_name": "", "last_name": "", "email": "", "lifecycle_stage": "lead", "consent_state": "unknown", **kw}


class TestListPages:
    def test_every_list_page_renders(self, web, factory, session):
        user = logged_in(web, factory, session, role="admin")
        factory.pipeline()
        account = factory.account(user, name="Initech", industry="Software")
        factory.contact(user, last_name="Lumbergh", account_id=account.id)
        factory.lead(user, last_name="Waddams", source="webinar")
        factory.deal(user, name="TPS reports", account_id=account.id)
        session.commit()
        for url, expected in (("/accounts", "Initech"), ("/contacts", "Lumbergh"), ("/leads", "Waddams"), ("/deals", "TPS reports")):
            r = web.get(url)
            assert r.status_code == 200, url
            assert expected in r.text
        # related names, not ids
        assert "Initech" in web.get("/contacts").text

    def test_search_and_filters(self, web, factory, session):
        user = logged_in(web, factory, session)
        factory.contact(user, first_name="Ada", last_name="Lovelace", lifecycle_stage="customer")
        factory.contact(user, first_name="Grace", last_name="Hopper", lifecycle_stage="lead")
        session.commit()
        searched = web.get("/contacts?q=lovel")
        assert "Lovelace" in searched.text and "Hopper" not in searched.text
        filtered = web.get("/contacts?lifecycle_stage=lead&owner_id=")
        assert "Hopper" in filtered.text and "Lovelace" not in filtered.text
        sorted_page = web.get("/contacts?sort=-last_name").text
        assert sorted_page.index("Lovelace") < sorted_page.index("Hopper")

    def test_custom_fields_filter_through_the_generic_params(self, web, factory, session):
        user = logged_in(web, factory, session)
        custom_field_service.create(
            session,
            data={"record_type": "account", "key": "tier", "label": "Tier", "field_type": "choice", "choices": ["gold", "silver"]},
            actor=SYSTEM_ACTOR,
        )
        factory.account(user, name="Goldco", custom={"tier": "gold"})
        factory.account(user, name="Silverco", custom={"tier": "silver"})
        session.commit()
        r = web.get("/accounts?custom.tier=gold")
        assert "Goldco" in r.text and "Silverco" not in r.text
        assert 'name="custom.tier"' in r.text  # offered as a filter

    def test_live_search_returns_only_the_results(self, web, factory, session):
        user = logged_in(web, factory, session)
        factory.account(user, name="Umbrella")
        session.commit()
        r = web.get("/accounts?q=umbr", headers={"HX-Request": "true", "HX-Target": "results"})
        assert r.status_code == 200
        assert "Umbrella" in r.text
        assert "<html" not in r.text

    def test_cursor_pagination(self, web, factory, session):
        user = logged_in(web, factory, session)
        for n in range(30):
            factory.account(user, name=f"Company {n:02d}")
        session.commit()
        first = web.get("/accounts?sort=name")
        assert "Company 00" in first.text and "Company 29" not in first.text
        next_url = re.search(r'href="(/accounts\?[^"]*cursor=[^"]+)"', first.text).group(1).replace("&amp;", "&")
        second = web.get(next_url)
        assert "Company 29" in second.text and "Company 00" not in second.text
        assert "cursor=" not in re.sub(r'href="/accounts\?sort=name"', "", second.text.split("Next →")[0].split("First page")[-1])

    def test_a_bad_filter_is_a_message_not_a_500(self, web, factory, session):
        logged_in(web, factory, session)
        r = web.get("/accounts?no_such_field=1")
        assert r.status_code == 400
        assert "has no field" in r.text
        assert web.get("/accounts?sort=password_hash").status_code == 400


class TestForms:
    def test_create_shows_every_error_inline_and_keeps_the_values(self, web, factory, session):
        logged_in(web, factory, session)
        r = web.post("/contacts", new_contact_form(first_name="Grace", email="not-an-email", phone="12"))
        assert r.status_code == 422
        html = r.text
        assert 'value="Grace"' in html and 'value="not-an-email"' in html
        assert re.search(r'id="f-last_name-msg">is required<', html)
        assert re.search(r'id="f-email-msg">[^<]+<', html)
        assert re.search(r'id="f-phone-msg">[^<]+<', html)
        assert session.query(Contact).count() == 0

    def test_type_errors_and_service_errors_show_together(self, web, factory, session):
        logged_in(web, factory, session)
        r = web.post("/accounts", {"name": "", "size": "lots", "domain": ""})
        assert r.status_code == 422
        assert re.search(r'id="f-size-msg">must be a whole number<', r.text)
        assert re.search(r'id="f-name-msg">is required<', r.text)

    def test_create_then_edit(self, web, factory, session):
        logged_in(web, factory, session)
        r = web.post("/contacts", new_contact_form(first_name="Grace", last_name="Hopper", email=" Grace@Navy.MIL "))
        assert r.status_code == 200
        assert "Grace Hopper" in r.text and "created" in r.text
        contact = session.query(Contact).one()
        assert contact.email == "grace@navy.mil"
        edit = web.get(f"/contacts/{contact.id}/edit")
        assert 'value="grace@navy.mil"' in edit.text
        r = web.post(f"/contacts/{contact.id}", new_contact_form(first_name="Grace", last_name="Hopper", title="Rear Admiral"))
        assert "Rear Admiral" in r.text
        session.rollback()  # a fresh snapshot of what the request committed
        session.expire_all()
        assert contact.title == "Rear Admiral"
        assert contact.email is None  # an emptied field is cleared

    def test_custom_fields_appear_and_are_validated(self, web, factory, session):
        logged_in(web, factory, session)
        custom_field_service.create(
            session,
            data={"record_type": "contact", "key": "seats", "label": "Seats", "field_type": "number", "required": True},
            actor=SYSTEM_ACTOR,
        )
        session.commit()
        assert 'name="custom.seats"' in web.get("/contacts/new").text
        bad = web.post("/contacts", new_contact_form(last_name="Knuth", **{"custom.seats": "many"}))
        assert bad.status_code == 422
        assert re.search(r'id="f-custom-seats-msg">must be a number<', bad.text)
        web.post("/contacts", new_contact_form(last_name="Knuth", **{"custom.seats": "12"}))
        session.rollback()
        session.expire_all()
        assert session.query(Contact).one().custom == {"seats": 12}

    def test_a_deal_opened_from_a_contact_starts_with_the_contact(self, web, factory, session):
        user = logged_in(web, factory, session)
        factory.pipeline()
        contact = factory.contact(user, last_name="Shannon")
        session.commit()
        form = web.get(f"/deals/new?contact_id={contact.id}").text
        assert f'name="contact_id" value="{contact.id}"' in form
        r = web.post("/deals", {"name": "Information", "currency": "USD", "contact_id": str(contact.id)})
        assert r.status_code == 200
        deal = session.query(Deal).one()
        assert [c.id for c, _ in deal_service.contacts(session, deal.id)] == [contact.id]
        assert "Shannon" in r.text

    def test_a_deal_missing_its_stage_requirements_is_not_created(self, web, factory, session):
        logged_in(web, factory, session)
        _pipeline, stages = factory.pipeline()
        session.commit()
        negotiation = stages[3]
        r = web.post("/deals", {"name": "Big one", "currency": "USD", "stage_id": str(negotiation.id), "amount": "1,500"})
        assert r.status_code == 422
        assert "Close date is required to enter Negotiation" in r.text
        assert 'value="1,500"' in r.text
        assert session.query(Deal).count() == 0


class TestRecordPage:
    def test_timeline_related_records_and_unknown_entry_kinds(self, web, factory, session, monkeypatch):
        user = logged_in(web, factory, session)
        account = factory.account(user, name="Hooli")
        contact = factory.contact(user, last_name="Belson", account_id=account.id)
        factory.activity(user, type="call", subject="Pricing call", contact_id=contact.id)
        session.commit()

        def automation(_session, record_type, record_id):
            return [TimelineEntry(kind="automation", at=utcnow(), title="Sequence step skipped", detail="they replied")]

        monkeypatch.setattr(timeline_module, "_sources", [*timeline_module._sources, automation])
        contact_page = web.get(f"/contacts/{contact.id}").text
        assert "Hooli" in contact_page and "Pricing call" in contact_page
        assert "Sequence step skipped" in contact_page and "they replied" in contact_page
        account_page = web.get(f"/accounts/{account.id}").text
        assert "Belson" in account_page and "Pricing call" in account_page

    def test_log_an_activity_and_add_a_task_inline(self, web, factory, session):
        user = logged_in(web, factory, session)
        contact = factory.contact(user)
        session.commit()
        url = f"/contacts/{contact.id}"
        bad = web.post(f"{url}/activities", {"type": "call", "subject": " "}, htmx=True)
        assert bad.status_code == 422
        assert re.search(r'id="act-subject-msg">is required<', bad.text)
        assert "<html" not in bad.text
        ok = web.post(f"{url}/activities", {"type": "call", "subject": "Intro call", "body": "Went well"}, htmx=True)
        assert ok.status_code == 200 and "Intro call" in ok.text
        activity = session.query(Activity).one()
        assert (activity.contact_id, activity.type, activity.owner_id) == (contact.id, "call", user.id)
        task = web.post(f"{url}/tasks", {"title": "Send deck", "due_at": "2030-01-02T09:30", "priority": "high"}, htmx=True)
        assert task.status_code == 200 and "Send deck" in task.text
        session.rollback()
        session.expire_all()
        stored = session.query(Task).one()
        assert (stored.related_type, stored.related_id, stored.priority) == ("contact", contact.id, "high")
        assert stored.due_at.hour == 9  # the user's zone is UTC

    def test_a_rep_cannot_see_another_teams_record(self, web, factory, session):
        east, west = factory.team("East"), factory.team("West")
        other = factory.user(team=west)
        theirs = factory.contact(other, last_name="Secret")
        logged_in(web, factory, session, team=east)
        assert web.get(f"/contacts/{theirs.id}").status_code == 404
        assert web.get(f"/contacts/{theirs.id}/edit").status_code == 404
        assert web.post(f"/contacts/{theirs.id}", new_contact_form(last_name="Mine")).status_code == 404
        assert "Secret" not in web.get("/contacts").text
        assert web.get("/contacts/not-a-uuid").status_code == 404

    def test_delete(self, web, factory, session):
        user = logged_in(web, factory, session)
        account = factory.account(user, name="Doomed")
        session.commit()
        r = web.post(f"/accounts/{account.id}/delete")
        assert r.status_code == 200 and "deleted" in r.text
        assert web.get(f"/accounts/{account.id}").status_code == 404


class TestLeadConversion:
    def test_convert_a_lead_into_contact_account_and_deal(self, web, factory, session):
        user = logged_in(web, factory, session)
        factory.pipeline()
        lead = factory.lead(user, first_name="Jean", last_name="Sammet", company="Fortran Inc")
        session.commit()
        assert "/convert" in web.get(f"/leads/{lead.id}").text
        r = web.post(f"/leads/{lead.id}/convert", {"create_deal": "on"})
        assert r.status_code == 200
        assert "Lead converted and a deal opened." in r.text
        assert "Fortran Inc" in r.text
        again = web.post(f"/leads/{lead.id}/convert", {"create_deal": "on"})
        assert "Could not convert" in again.text
