"""The pages a visitor without an account sees: a hosted lead form (a bad e-mail is
answered next to its field, a good post lands on the thank-you page), the styled 404 for
an unknown address, the favicon, and the API docs, which load nothing from another site."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.leads import capture
from tests.e2e.axe import blocking_violations

pytestmark = pytest.mark.e2e


@pytest.fixture
def form_key(session) -> str:  # type: ignore[no-untyped-def]
    form = capture.create_form(session, {
        "name": "Ask for a demo", "field_map": {"name": "full_name", "mail": "email", "org": "company"},
        "required_fields": ["mail"], "success_message": "Thank you: we will call you within a day.",
    }, actor=SYSTEM_ACTOR)
    session.commit()
    return form.key


def test_a_hosted_form_answers_a_person_with_pages(page: Page, form_key):  # type: ignore[no-untyped-def]
    page.goto(f"/f/{form_key}")
    expect(page.get_by_role("heading", name="Ask for a demo")).to_be_visible()
    page.get_by_label("Name").fill("Pat Buyer")
    page.get_by_label("E-mail").fill("pat at example")
    assert blocking_violations(page) == []
    page.get_by_role("button", name="Send").click()

    mail = page.get_by_label("E-mail")
    expect(mail).to_have_attribute("aria-invalid", "true")
    message = page.locator(f"#{mail.get_attribute('aria-describedby')}")
    expect(message).to_be_visible()
    assert "e-mail" in message.inner_text().lower() or "address" in message.inner_text().lower()
    expect(page.get_by_label("Name")).to_have_value("Pat Buyer")  # what was typed is kept
    assert blocking_violations(page) == []

    mail.fill("pat@buyer.example")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.get_by_text("we will call you within a day")).to_be_visible()
    assert page.url.endswith(f"/f/{form_key}/thanks")
    assert blocking_violations(page) == []


def test_an_unknown_address_gets_the_styled_404(page: Page):
    response = page.goto("/no-such-page/here")
    assert response is not None and response.status == 404
    assert "text/html" in response.headers["content-type"]
    expect(page.locator(".empty-code")).to_have_text("404")
    expect(page.get_by_role("link", name="Go to your home page")).to_be_visible()
    assert blocking_violations(page) == []
    background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert background == "rgb(245, 246, 250)"  # app.css applied
    assert page.locator("link[rel=icon]").get_attribute("href") == "/static/favicon.svg"
    api = page.request.get("/api/v1/no-such-thing")
    assert api.status == 404 and api.headers["content-type"].startswith("application/problem+json")
    favicon = page.request.get("/favicon.ico")
    assert favicon.status == 200 and favicon.headers["content-type"].startswith("image/svg+xml")


def test_the_api_docs_work_offline(page: Page, live_server):  # type: ignore[no-untyped-def]
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto("/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Pipewise", timeout=60_000)  # a large document
    expect(page.locator(".opblock").first).to_be_visible()
    here = urlsplit(live_server).netloc
    elsewhere = [url for url in requested if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != here]
    assert elsewhere == [] and errors == []
