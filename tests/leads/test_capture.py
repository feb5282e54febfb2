from sqlalchemy import select

from pipewise.assignment import service as routing
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.models import Task
from pipewise.leads.models import FormSubmission, Lead
from pipewise.worker.runner import Worker

FIELDS = {"fname": "first_name", "lname": "last_name", "mail": "email", "org": "company"}


def make_form(api, headers, **kw):
    body = {"name": "Demo request", "field_map": FIELDS, "required_fields": ["mail"], **kw}
    response = api.post("/api/v1/lead-forms", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


class TestFormEndpoint:
    def test_form_encoded_post_creates_a_scored_routed_lead(self, api, session, factory):
        admin = factory.user(role="admin")
        rep = factory.user()
        routing.create_rule(session, {"name": "Everyone to rep", "target_type": "user", "user_id": rep.id}, actor=SYSTEM_ACTOR)
        session.commit()
        form = make_form(api, factory.headers(admin), hidden_fields=["gclid"])
        response = api.post(
            f"/f/{form['key']}",
            data={"fname": "ada", "lname": "LOVELACE", "mail": "Ada@Engines.example", "org": "Engines",
                  "utm_source": "newsletter", "utm_campaign": "spring", "gclid": "abc", "extra": "kept"},
        )
        # A browser is sent on to the form's thank-you page (post, redirect, get).
        assert response.status_code == 200 and response.url.path == f"/f/{form['key']}/thanks" and "Thank you" in response.text
        lead = session.scalar(select(Lead).where(Lead.email == "ada@engines.example"))
        assert (lead.first_name, lead.last_name, lead.source) == ("Ada", "Lovelace", "web form")
        assert lead.attribution == {"utm_source": "newsletter", "utm_campaign": "spring", "gclid": "abc", "form": "Demo request"}
        assert lead.owner_id == rep.id and lead.engagement_score > 0
        submission = session.scalar(select(FormSubmission))
        assert submission.payload["extra"] == "kept" and submission.assigned_at is not None
        session.rollback()
        Worker().run_until_idle()
        submission = session.scalar(select(FormSubmission))
        assert submission.notified_at is not None and submission.speed_to_lead_ms >= 0
        assert session.scalar(select(Task).where(Task.owner_id == rep.id)).title.startswith("New lead: Ada Lovelace")

    def test_json_post_and_repeat_submission_updates_the_same_lead(self, api, session, factory):
        form = make_form(api, factory.headers(factory.user(role="admin")))
        for company in ("Engines", "Other"):
            response = api.post(f"/f/{form['key']}", json={"lname": "Lovelace", "mail": "ada@engines.example", "org": company})
            assert response.status_code == 201 and response.json()["ok"] is True
        leads = session.scalars(select(Lead)).all()
        assert len(leads) == 1 and leads[0].company == "Engines"
        assert len(session.scalars(select(FormSubmission)).all()) == 2

    def test_redirect(self, api, factory):
        form = make_form(api, factory.headers(factory.user(role="admin")), redirect_url="https://example.com/thanks")
        response = api.post(f"/f/{form['key']}", data={"lname": "X", "mail": "x@example.com"}, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "https://example.com/thanks"

    def test_honeypot_looks_accepted_but_stores_no_lead(self, api, session, factory):
        form = make_form(api, factory.headers(factory.user(role="admin")))
        response = api.post(f"/f/{form['key']}", json={"lname": "Bot", "mail": "bot@spam.example", "pw_website": "http://spam"})
        assert response.status_code == 201
        assert session.scalar(select(Lead)) is None
        assert session.scalar(select(FormSubmission)).status == "spam"

    def test_rate_limit_per_ip(self, api, session, factory):
        form = make_form(api, factory.headers(factory.user(role="admin")), rate_limit_per_minute=3)
        codes = [api.post(f"/f/{form['key']}", json={"lname": "L", "mail": f"p{i}@example.com"}).status_code for i in range(5)]
        assert codes == [201, 201, 201, 429, 429]
        limited = api.post(f"/f/{form['key']}", json={"lname": "L", "mail": "late@example.com"})
        assert limited.headers["retry-after"] == "60"
        assert len(session.scalars(select(Lead)).all()) == 3

    def test_consent_is_stored_with_text_time_and_form(self, api, session, factory):
        text = "I agree to hear from Pipewise about its products."
        form = make_form(api, factory.headers(factory.user(role="admin")), consent_text=text, consent_required=True)
        refused = api.post(f"/f/{form['key']}", json={"lname": "L", "mail": "l@example.com"})
        assert refused.status_code == 422 and refused.json()["errors"] == [{"field": "consent", "message": "please tick the consent box"}]
        assert session.scalar(select(FormSubmission)) is None
        session.rollback()
        assert api.post(f"/f/{form['key']}", data={"lname": "L", "mail": "l@example.com", "consent": "yes"}).status_code == 200
        submission = session.scalar(select(FormSubmission))
        assert (submission.consent_given, submission.consent_text) == (True, text)
        assert submission.consented_at is not None and str(submission.form_id) == form["id"]
        assert session.scalar(select(Lead)).consent_state == "granted"

    def test_bad_fields_are_named_as_the_form_names_them(self, api, session, factory):
        form = make_form(api, factory.headers(factory.user(role="admin")))
        response = api.post(f"/f/{form['key']}", json={"lname": "L", "mail": "not-an-address"})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "mail"
        missing = api.post(f"/f/{form['key']}", json={"lname": "L"})
        assert missing.json()["errors"] == [{"field": "mail", "message": "is required"}]
        assert session.scalar(select(Lead)) is None and session.scalar(select(FormSubmission)) is None

    def test_unknown_or_inactive_form(self, api, factory):
        assert api.post("/f/nope", json={"lname": "x"}).status_code == 404
        headers = factory.headers(factory.user(role="admin"))
        form = make_form(api, headers)
        api.patch(f"/api/v1/lead-forms/{form['id']}", json={"is_active": False}, headers=headers)
        assert api.post(f"/f/{form['key']}", json={"lname": "x"}).status_code == 404

    def test_snippet_has_fields_hidden_utm_honeypot_and_consent(self, api, factory):
        headers = factory.headers(factory.user(role="admin"))
        form = make_form(api, headers, consent_text="Yes, e-mail me")
        html = api.get(f"/api/v1/lead-forms/{form['id']}/snippet", headers=headers).text
        assert f"/f/{form['key']}" in html and 'name="mail" required' in html
        assert 'name="utm_source"' in html and 'name="pw_website"' in html and "Yes, e-mail me" in html

    def test_form_setup_is_validated(self, api, factory):
        headers = factory.headers(factory.user(role="admin"))
        response = api.post("/api/v1/lead-forms", json={"name": "x", "field_map": {"a": "salary"}}, headers=headers)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "field_map.a"
        rep_headers = factory.headers(factory.user())
        assert api.post("/api/v1/lead-forms", json={"name": "x", "field_map": {"a": "email"}}, headers=rep_headers).status_code == 403


class TestCaptureApi:
    def test_capture_dedupes_by_email(self, api, factory):
        headers = factory.headers(factory.user())
        first = api.post("/api/v1/leads/capture", json={"full_name": "Grace Hopper", "email": "grace@navy.example"}, headers=headers)
        assert first.status_code == 201 and first.json()["lead"]["first_name"] == "Grace"
        again = api.post("/api/v1/leads/capture", json={"email": "GRACE@navy.example", "title": "Admiral"}, headers=headers)
        assert again.status_code == 200 and again.json()["is_new"] is False
        assert again.json()["lead"]["id"] == first.json()["lead"]["id"] and again.json()["lead"]["title"] == "Admiral"

