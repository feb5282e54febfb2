"""A person's consent on their page, in a real browser: a rep records a withdrawal from
the contact page (the address is suppressed at once), an admin exports everything held
about the contact and downloads the ZIP from the job page, and the page fits a desktop
and a phone screen without a console error."""

import json
import re
import zipfile

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from pipewise.config import get_settings
from pipewise.mail.models import Suppression
from pipewise.privacy.models import ConsentEntry
from tests.e2e.support import SCREENS, fits, log_in, logged_in_on_screen
from tests.sequences.support import run_worker

pytestmark = pytest.mark.e2e


@pytest.fixture
def data_dir(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PIPEWISE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_a_rep_records_a_withdrawal_on_the_contact_page(page: Page, factory, session):  # type: ignore[no-untyped-def]
    rep = factory.user(name="Rita Rep")
    contact = factory.contact(rep, first_name="Cora", last_name="Consent", email="cora@consent.example")
    session.commit()
    log_in(page, rep.email)
    page.goto(f"/contacts/{contact.id}")
    card = page.locator("#consent")
    expect(card.locator('[data-consent-purpose="marketing_email"]')).to_contain_text("not recorded")
    expect(card.locator("[data-subject-export]")).to_have_count(0)  # exports are for admins

    card.get_by_text("Record consent").click()
    page.select_option("#consent-purpose", "marketing_email")
    page.select_option("#consent-action", "withdrawn")
    page.fill("#consent-note", "Asked on the phone")
    card.get_by_role("button", name="Record").click()

    expect(page.locator(".flash-success")).to_contain_text("Marketing email consent withdrawn")
    expect(page.locator('#consent [data-consent-purpose="marketing_email"]')).to_contain_text("withdrawn")
    page.locator("#consent").get_by_text("Ledger (1)").click()
    expect(page.locator("#consent [data-consent-entry]")).to_contain_text("Asked on the phone")
    session.commit()
    session.expire_all()
    assert session.scalar(select(Suppression.reason).where(Suppression.address == "cora@consent.example")) == "consent"


def test_consent_given_without_its_text_is_refused_with_the_reason(page: Page, factory, session):  # type: ignore[no-untyped-def]
    rep = factory.user()
    contact = factory.contact(rep)
    session.commit()
    log_in(page, rep.email)
    page.goto(f"/contacts/{contact.id}")
    page.locator("#consent").get_by_text("Record consent").click()
    page.locator("#consent").get_by_role("button", name="Record").click()
    expect(page.locator(".flash-error")).to_contain_text("text: consent given must say what the person agreed to")
    session.commit()
    session.expire_all()
    assert session.scalars(select(ConsentEntry)).all() == []


def test_an_admin_exports_a_contact_and_downloads_it(page: Page, factory, session, data_dir):  # type: ignore[no-untyped-def]
    admin = factory.user(role="admin")
    contact = factory.contact(admin, last_name="Exported", email="ex@ported.example")
    factory.activity(admin, subject="First call", type="call", contact_id=contact.id)
    session.commit()
    log_in(page, admin.email)
    page.goto(f"/contacts/{contact.id}")
    page.locator("[data-subject-export]").click()
    expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f-]+$"))
    run_worker()  # the worker hands the export to a background thread; the page polls its progress
    result = page.get_by_role("link", name="See the result")
    expect(result).to_be_visible(timeout=20_000)
    with page.expect_download() as download:
        result.click()
    archive = zipfile.ZipFile(download.value.path())
    assert [a["subject"] for a in json.loads(archive.read("activities.json"))] == ["First call"]
    assert "manifest.json" in archive.namelist()


def test_the_contact_page_with_its_consent_card_fits_desktop_and_phone(browser, live_server, factory, session):  # type: ignore[no-untyped-def]
    admin = factory.user(role="admin")
    contact = factory.contact(admin, last_name="Wide", email="a-rather-long-address-for-a-phone@consent.example")
    lead = factory.lead(admin, last_name="Lead", email="lead@consent.example")
    session.commit()
    for screen in SCREENS:
        with logged_in_on_screen(browser, live_server, screen, admin.email) as (page, problems):
            for path in (f"/contacts/{contact.id}", f"/leads/{lead.id}"):
                page.goto(path)
                expect(page.locator("#consent .consent-state")).to_be_visible()
                page.locator("#consent").get_by_text("Record consent").click()
                fits(page, screen, path)
                assert problems == [], f"{path}: {problems}"
