"""The settings area in a real browser: an admin invites someone who then logs in from the
e-mail a real SMTP server received; a stage added with a required field makes the board
refuse a move; an API token is shown once and stops working when revoked; a lead form is
built with its live preview; and every settings page fits a desktop and a phone screen,
styled and without a console error."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import SCREENS, fits, log_in, logged_in_on_screen
from tests.sequences.support import run_worker, smtp  # noqa: F401 - the SMTP server fixture

pytestmark = pytest.mark.e2e

WELCOME_LINK = re.compile(r"https?://[^\s]+(/welcome/[A-Za-z0-9_.\-]+)")


def test_invite_someone_who_then_logs_in(page: Page, factory, session, smtp):  # type: ignore[no-untyped-def]  # noqa: F811
    admin = factory.user(role="admin", name="Ada Admin")
    factory.team("Field sales")
    session.commit()
    log_in(page, admin.email)
    page.goto("/settings/users")
    page.fill("#invite-name", "Ivy Invitee")
    page.fill("#invite-email", "ivy@example.com")
    page.select_option("#invite-team_id", label="Field sales")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".flash-success")).to_contain_text("Invitation sent to ivy@example.com")
    expect(page.locator('#people [data-email="ivy@example.com"]')).to_contain_text("Invited")
    page.get_by_role("button", name="Log out").click()

    run_worker()  # the invitation leaves through the mail path
    [mail] = smtp.handler.to("ivy@example.com")
    link = WELCOME_LINK.search(mail.get_body(("plain",)).get_content()).group(1)
    page.goto(link)
    page.fill("#password", "ivy-strong-pass")
    page.fill("#password_again", "ivy-strong-pass")
    page.get_by_role("button", name="Set password and log in").click()
    expect(page.locator(".me")).to_contain_text("Ivy Invitee")
    page.get_by_role("button", name="Log out").click()
    log_in(page, "ivy@example.com", "ivy-strong-pass")
    expect(page.locator(".me")).to_contain_text("Ivy Invitee")


def test_a_stage_with_a_required_field_refuses_a_board_move(page: Page, factory, session):  # type: ignore[no-untyped-def]
    admin = factory.user(role="admin")
    pipeline, stages = factory.pipeline()
    factory.deal(admin, name="Quiet deal", next_step=None)
    session.commit()
    log_in(page, admin.email)
    page.goto(f"/settings/pipelines?pipeline={pipeline.id}")
    page.fill("#new-stage-name", "Legal review")
    page.fill("#new-stage-probability", "70")
    page.locator(".required-picks", has=page.locator("input")).last.get_by_label("Next step").check()
    page.get_by_role("button", name="Add stage").click()
    expect(page.locator(".flash-success")).to_contain_text("Stage Legal review added")
    expect(page.locator("#stage-list .stage-item").last).to_have_attribute("data-stage-id", re.compile(".+"))

    page.goto(f"/pipelines/{pipeline.id}/board")
    card = page.locator(".deal-card", has_text="Quiet deal")
    card.locator("select").select_option(label="Legal review")
    expect(page.locator("#board [role=alert]")).to_contain_text("Next step is required to enter Legal review")
    expect(page.locator(f'[data-stage-id="{stages[0].id}"] .deal-card', has_text="Quiet deal")).to_have_count(1)


def test_an_api_token_is_shown_once_and_revoked(page: Page, factory, session):  # type: ignore[no-untyped-def]
    user = factory.user()
    session.commit()
    log_in(page, user.email)
    page.goto("/settings/tokens")
    page.fill("#token-name", "Nightly export")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#new-token").input_value()
    assert secret.startswith("pw_")
    bearer = {"Authorization": f"Bearer {secret}"}
    assert page.request.get("/api/v1/contacts", headers=bearer).status == 200

    page.goto("/settings/tokens")
    expect(page.locator("#new-token")).to_have_count(0)
    assert secret not in page.content()
    page.get_by_role("button", name="Revoke Nightly export").click()
    expect(page.locator("#tokens")).to_contain_text("Revoked")
    assert page.request.get("/api/v1/contacts", headers=bearer).status == 401


def test_build_a_lead_form_with_its_live_preview(page: Page, factory, session):  # type: ignore[no-untyped-def]
    manager = factory.user(role="manager")
    session.commit()
    log_in(page, manager.email)
    page.goto("/settings/lead-forms")
    page.get_by_role("link", name="New form").click()
    page.fill("#lf-name", "Request a demo")
    page.fill("#lf-consent", "I agree to hear from the sales team")
    expect(page.locator("#form-preview")).to_contain_text("I agree to hear from the sales team")
    page.get_by_role("button", name="Add a field").click()
    expect(page.locator("#row4-name")).to_be_focused()
    page.select_option("#row4-target", "phone")
    expect(page.locator("#form-preview input[type=tel]")).to_have_count(1)
    expect(page.locator("#form-preview")).to_contain_text("Phone")
    page.get_by_role("button", name="Save form").click()
    expect(page.locator(".flash-success")).to_contain_text("Form Request a demo saved")
    expect(page.locator("#lf-snippet")).to_contain_text('name="phone"')


def test_every_settings_page_fits_desktop_and_phone(browser, live_server, factory, session):  # type: ignore[no-untyped-def]
    admin = factory.user(role="admin", name="Ada Admin")
    factory.team("Inside sales")
    pipeline, _stages = factory.pipeline()
    session.commit()
    pages = ["/settings", "/settings/users", "/settings/teams", f"/settings/pipelines?pipeline={pipeline.id}",
             "/settings/fields", "/settings/lead-forms", "/settings/lead-forms/edit", "/settings/tokens",
             "/settings/scoring", "/settings/routing", "/settings/products", "/settings/price-books"]
    for screen in SCREENS:
        with logged_in_on_screen(browser, live_server, screen, admin.email) as (page, problems):
            for path in pages:
                response = page.goto(path)
                assert response is not None and response.status == 200, path
                fits(page, screen, path)
                # settings.css applied: the area's layout is a grid, its menu styled as links in a list
                assert page.evaluate("getComputedStyle(document.querySelector('.settings-layout')).display") == "grid", path
                assert problems == [], f"{path}: {problems}"
