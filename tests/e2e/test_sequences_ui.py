"""Sequences in a real browser: build a sequence and preview its e-mail with a real
contact (a bad merge field flagged under its field first), enroll a contact from the
contacts list, read the enrollment's reason, and work the Today queue by sending a
manual e-mail that reaches an SMTP server on loopback."""

import re

import pytest
from playwright.sync_api import Page, expect

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.sequences.service import sequence_service
from pipewise.worker.runner import Worker
from tests.e2e.support import log_in
from tests.sequences.conftest import smtp  # noqa: F401 - the loopback SMTP server fixture
from tests.sequences.support import SmtpServer, mailbox

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def handlers() -> None:
    from pipewise import domains

    domains.load()


def test_build_a_sequence_and_preview_it_with_a_real_contact(page: Page, factory, session):
    user = factory.user(name="Rosa Rep")
    account = factory.account(user, name="Navy")
    factory.contact(user, first_name="Grace", last_name="Hopper", account_id=account.id)
    session.commit()
    log_in(page, user.email)

    page.get_by_role("link", name="Sequences").click()
    expect(page.locator(".empty")).to_contain_text("No sequences yet")
    page.get_by_role("link", name="Build the first sequence").click()
    page.fill("#name", "Compiler intro")
    page.select_option("#on_manual_touch", "exit")
    page.fill("#account_daily_cap", "many")
    page.get_by_role("button", name="Save").click()
    cap = page.locator("#account_daily_cap")
    expect(cap).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#rules-account_daily_cap-msg")).to_have_text("must be a whole number")
    expect(page.locator("#name")).to_have_value("Compiler intro")
    cap.fill("2")
    cap.press("Enter")
    expect(page.get_by_role("heading", name="Compiler intro")).to_be_visible()

    page.get_by_role("link", name="Automatic e-mail").click()
    page.fill("#variants-0-subject", "Ideas for {{ account.name }}")
    page.fill("#variants-0-body_html", "<p>Hi {{ contact.nickname }}</p>")
    page.fill("#preview-search", "Hopper")
    expect(page.locator("#preview-contact")).to_contain_text("Grace Hopper")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#variants-0-body_html-msg")).to_contain_text("unknown merge field {{ contact.nickname }}")
    expect(page.locator("#variants-0-subject-msg")).to_have_text("")

    # The picker puts a merge field where the cursor is.
    page.fill("#variants-0-body_html", "<p>Hi </p>")
    page.locator("#variants-0-body_html").evaluate("el => { el.focus(); el.setSelectionRange(6, 6); }")
    page.locator("#variant-0 select.merge-picker").first.select_option("{{ contact.first_name }}")
    expect(page.locator("#variants-0-body_html")).to_have_value("<p>Hi {{ contact.first_name }}</p>")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#variants-0-body_html-msg")).to_have_text("")
    expect(page.locator("#preview-0 .preview-subject")).to_have_text("Ideas for Navy")
    expect(page.frame_locator("#preview-0 iframe").locator("body")).to_contain_text("Hi Grace")

    page.get_by_role("button", name="Save step").click()
    expect(page.locator("#step-1")).to_contain_text("Ideas for {{ account.name }}")
    page.get_by_role("button", name="Activate").click()
    expect(page.locator("#sequence-status")).to_have_text("active")


def test_enroll_from_the_contacts_list_and_send_the_manual_email_from_today(page: Page, factory, session, smtp: SmtpServer):
    rep = factory.user(name="Rosa Rep")
    mailbox(session, rep, signature_text="Rosa, Pipewise")
    grace = factory.contact(rep, first_name="Grace", last_name="Hopper", email="grace@navy.example")
    factory.contact(rep, first_name="Alan", last_name="Turing")
    sequence = sequence_service.create(session, data={"name": "Personal touch", "steps": [{
        "kind": "manual_email", "delay_days": 0,
        "variants": [{"label": "A", "subject": "Compilers, {{ contact.first_name }}?", "body_html": "<p>Hi {{ contact.first_name }}</p>"}],
    }]}, actor=SYSTEM_ACTOR)
    sequence_service.activate(session, sequence.id, actor=SYSTEM_ACTOR)
    session.commit()
    log_in(page, rep.email)

    page.get_by_role("link", name="Contacts").click()
    page.get_by_role("checkbox", name="Tick Grace Hopper").check()
    page.select_option("select[data-bulk-action]", "enroll")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Grace Hopper · grace@navy.example")).to_be_visible()
    page.select_option("#sequence_id", label="Personal touch")
    page.fill("#reason", "met at the conference")
    page.get_by_role("button", name="Enroll").click()
    expect(page.locator("#enroll-result")).to_contain_text("1 enrolled in “Personal touch”")
    page.get_by_role("link", name="See the enrollments").click()
    row = page.locator("#enrollments tbody tr", has_text="Grace Hopper")
    expect(row).to_contain_text("active")
    expect(row).to_contain_text("enrolled by Rosa Rep: met at the conference")
    expect(page.locator("#enrollments")).not_to_contain_text("Alan Turing")

    Worker(name="e2e").run_until_idle()  # the step comes due: a task with the draft
    page.get_by_role("link", name="Today").click()
    item = page.locator("#queue-manual_email article", has_text="Grace Hopper")
    expect(item.get_by_label("Subject")).to_have_value("Compilers, Grace?")
    item.get_by_label("Subject").fill("")
    item.get_by_role("button", name="Send").click()
    expect(page.locator("#subject-msg")).to_have_text("is required")
    item = page.locator("#queue-manual_email article", has_text="Grace Hopper")
    item.get_by_label("Subject").fill("Compilers, Grace?")
    item.get_by_label(re.compile("Message")).fill("Hi Grace,\n\nwould Friday suit you for a demo?")
    item.get_by_role("button", name="Send").click()
    expect(page.locator(".flash")).to_contain_text("E-mail to Grace Hopper queued")
    expect(page.locator("#queue-manual_email")).to_contain_text("Nothing due")

    Worker(name="e2e").run_until_idle()
    received = smtp.handler.to("grace@navy.example")
    assert len(received) == 1
    assert received[0]["Subject"] == "Compilers, Grace?"
    assert "would Friday suit you for a demo?" in received[0].get_body(preferencelist=("plain",)).get_content()

    page.goto(f"/sequence-enrollments?sequence_id={sequence.id}")
    expect(page.locator("#enrollments tbody tr", has_text="Grace Hopper")).to_contain_text("every step of the sequence is done")
