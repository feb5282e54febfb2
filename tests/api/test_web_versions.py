"""A web edit form carries the version it was drawn from: a save after someone else's
change is refused with a message, and the other change is kept."""

import html
import re

from tests.web.conftest import WebClient


def current(api, factory, user, contact) -> tuple[str, str]:
    body = api.get(f"/api/v1/contacts/{contact.id}", headers=factory.headers(user)).json()
    return body["last_name"], body["title"]


def test_stale_web_save_is_refused(api, factory, session):
    user = factory.user(role="admin")
    contact = factory.contact(user, last_name="Original")
    session.commit()
    web = WebClient(api)
    web.login(user)
    page = web.get(f"/contacts/{contact.id}/edit").text
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    form = {"first_name": "", "last_name": "Mine", "email": "", "lifecycle_stage": "lead", "consent_state": "unknown",
            "version": version}

    theirs = api.patch(f"/api/v1/contacts/{contact.id}", json={"title": "CTO"}, headers=factory.headers(user))
    assert theirs.status_code == 200

    stale = web.post(f"/contacts/{contact.id}", form, follow_redirects=False)
    assert stale.status_code in (302, 303) and stale.headers["location"] == f"/contacts/{contact.id}/edit"
    assert "Someone else changed this contact" in html.unescape(web.get(stale.headers["location"]).text)
    assert current(api, factory, user, contact) == ("Original", "CTO")

    fresh = web.post(f"/contacts/{contact.id}", {**form, "title": "CTO", "version": theirs.json()["version"]}, follow_redirects=False)
    assert fresh.status_code in (302, 303) and fresh.headers["location"] == f"/contacts/{contact.id}", fresh.headers
    assert current(api, factory, user, contact) == ("Mine", "CTO")
