"""Steps the browser tests share."""

from playwright.sync_api import Page, expect


def log_in(page: Page, email: str, password: str = "correct-horse") -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    expect(page.locator(".me")).to_be_visible()
