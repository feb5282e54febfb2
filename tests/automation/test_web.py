"""The automation pages: list, builder form with field-level errors, the workflow page
with run history, and the controls people use."""

import pytest

from tests.automation.support import drain
from tests.web.conftest import WebClient


@pytest.fixture
def web(api):
    return WebClient(api)


STEPS = '- id: tag\n  type: add_tag\n  tag: vip\n'


def test_build_activate_and_read_the_history(web, session, factory):
    admin = factory.user(role="admin")
    session.commit()
    web.login(admin)
    assert "No workflows yet" in web.get("/automation").text
    r = web.post("/automation/new", {"name": "Tag CEOs", "trigger_type": "record_created", "record_type": "contact",
                                     "conditions": '{"field": "title", "op": "eq", "value": "CEO"}', "steps": STEPS},
                 follow_redirects=False)
    assert r.status_code == 303
    page = r.headers["location"]
    r = web.post(f"{page}/activate", follow_redirects=True)
    assert "Done: activate" in r.text and "v1 live" in r.text
    factory.contact(title="Intern")
    drain(session)
    history = web.get(page).text
    assert "Not enrolled: contact.title Intern is not CEO" in history
    assert "Tag CEOs" in web.get("/automation").text


def test_the_form_shows_every_problem_by_section(web, session, factory):
    admin = factory.user(role="admin")
    session.commit()
    web.login(admin)
    r = web.post("/automation/new", {"name": "Broken", "trigger_type": "field_changed", "record_type": "contact",
                                     "conditions": "{not json", "steps": STEPS})
    assert r.status_code == 422 and "could not be read: Expecting property name" in r.text
    r = web.post("/automation/new", {"name": "Broken", "trigger_type": "record_created", "record_type": "contact",
                                     "steps": "- id: w\n  type: wait\n  duration: soon\n"})
    assert r.status_code == 422 and "steps[0].duration" in r.text and 'value="Broken"' in r.text


def test_pause_needs_a_reason(web, session, factory):
    admin = factory.user(role="admin")
    session.commit()
    web.login(admin)
    page = web.post("/automation/new", {"name": "P", "trigger_type": "manual", "record_type": "contact", "steps": STEPS},
                    follow_redirects=False).headers["location"]
    web.post(f"{page}/activate")
    r = web.post(f"{page}/pause", {"reason": ""}, follow_redirects=True)
    assert "reason: say why" in r.text
    r = web.post(f"{page}/pause", {"reason": "wrong copy"}, follow_redirects=True)
    assert "paused" in r.text and "wrong copy" in r.text
