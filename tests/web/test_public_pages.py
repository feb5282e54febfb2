"""A browser gets pages, a program gets JSON: the hosted form's answers, the 404 page,
the favicon and the API docs' assets."""

import re

import pytest
from sqlalchemy import func, select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.leads import capture
from pipewise.leads.models import Lead

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def form(session):  # type: ignore[no-untyped-def]
    made = capture.create_form(session, {
        "name": "Demo request", "field_map": {"name": "full_name", "mail": "email"}, "required_fields": ["mail"],
        "consent_text": "You may e-mail me", "consent_required": True, "success_message": "Thanks, talk soon.",
    }, actor=SYSTEM_ACTOR)
    session.commit()
    return made


def test_the_hosted_form_is_a_page_that_keeps_its_campaign(api, form):  # type: ignore[no-untyped-def]
    page = api.get(f"/f/{form.key}?utm_source=flyer", headers=BROWSER)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'name="mail"' in page.text and 'name="utm_source" value="flyer"' in page.text
    assert f'action="/f/{form.key}"' in page.text and "You may e-mail me" in page.text


def test_a_browser_post_with_mistakes_comes_back_with_them_beside_the_fields(api, form, session):  # type: ignore[no-untyped-def]
    answer = api.post(f"/f/{form.key}", data={"name": "Pat Buyer", "mail": "pat at example"}, headers=BROWSER)
    assert answer.status_code == 422 and "text/html" in answer.headers["content-type"]
    mail = re.search(r'<input id="(ff-\d+)" name="mail"[^>]*>', answer.text)
    assert mail and f'aria-invalid="true" aria-describedby="{mail[1]}-msg"' in mail[0] and f'id="{mail[1]}-msg"' in answer.text
    assert 'id="ff-consent-msg"' in answer.text and 'value="Pat Buyer"' in answer.text
    assert session.scalar(select(func.count()).select_from(Lead)) == 0

    landed = api.post(f"/f/{form.key}", data={"name": "Pat Buyer", "mail": "pat@buyer.example", "consent": "yes"},
                      headers=BROWSER, follow_redirects=False)
    assert landed.status_code == 303 and landed.headers["location"] == f"/f/{form.key}/thanks"
    thanks = api.get(landed.headers["location"], headers=BROWSER)
    assert thanks.status_code == 200 and "Thanks, talk soon." in thanks.text


def test_json_is_for_whoever_asks_for_it(api, form):  # type: ignore[no-untyped-def]
    refused = api.post(f"/f/{form.key}", data={"mail": "nope"}, headers={"accept": "application/json"})
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json")
    landed = api.post(f"/f/{form.key}", json={"mail": "pat@buyer.example", "consent": "yes"})
    assert landed.status_code == 201 and landed.json()["ok"] is True


def test_an_unknown_form_or_address_gets_the_styled_page(api):  # type: ignore[no-untyped-def]
    for answer in (api.post("/f/no-such-form", data={"mail": "a@b.example"}, headers=BROWSER),
                   api.get("/no/such/page", headers=BROWSER), api.get("/f/no-such-form", headers=BROWSER)):
        assert answer.status_code == 404 and "text/html" in answer.headers["content-type"]
        assert 'class="empty-code">404' in answer.text and "/static/css/app.css" in answer.text
    api_answer = api.get("/api/v1/no-such-thing", headers=BROWSER)
    assert api_answer.status_code == 404 and api_answer.headers["content-type"].startswith("application/problem+json")
    assert api.get("/no/such/page", headers={"accept": "application/json"}).json()["status"] == 404


def test_the_favicon_and_the_docs_assets_are_served_here(api):  # type: ignore[no-untyped-def]
    icon = api.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js"):
        assert api.get(f"/api/docs/assets/{asset}").status_code == 200
