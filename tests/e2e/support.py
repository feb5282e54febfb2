"""Steps the browser tests share."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import Browser, Page, expect

SCREENS = ({"width": 1440, "height": 900}, {"width": 390, "height": 844})


def log_in(page: Page, email: str, password: str = "correct-horse") -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    expect(page.locator(".me")).to_be_visible()


@contextmanager
def logged_in_on_screen(browser: Browser, base_url: str, screen: dict[str, int], email: str) -> Iterator[tuple[Page, list[str]]]:
    """A fresh page of ``screen``'s size, logged in as ``email`` (at phone width the menu with
    the user's name is folded, so the logged-in shell is what is awaited), and the console
    errors and page errors it collects."""
    context = browser.new_context(base_url=base_url, viewport=screen)  # type: ignore[arg-type]
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        page.goto("/login")
        page.fill("#email", email)
        page.fill("#password", "correct-horse")
        page.click("button[type=submit]")
        expect(page.locator("#main")).to_be_visible()
        yield page, problems
    finally:
        context.close()


def fits(page: Page, screen: dict[str, Any], what: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= screen["width"], f"{what} is {width}px wide at {screen['width']}px"
