"""Saved views on list pages: save what is on screen, open it again, share it (managers),
delete it; and offer it to the workflow builder as a starting condition."""

import html

from pipewise.records.saved_views import SavedView


def test_save_open_and_delete_a_view(web, factory, session):
    rep = factory.user(role="rep")
    teammate = factory.user(role="rep")
    factory.contact(owner=rep, title="CEO", last_name="Lovelace")
    factory.contact(owner=rep, title="Intern", last_name="Babbage")
    session.commit()
    web.login(rep)

    r = web.post("/saved-views", {"record_type": "contact", "name": "Chiefs", "query": "title=CEO&cursor=zzz"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/contacts?title=CEO"
    page = web.get("/contacts").text
    assert "Saved views (1)" in page and 'href="/contacts?title=CEO">Chiefs</a>' in page
    assert "Share with everyone" not in page  # reps keep views to themselves
    opened = web.get("/contacts?title=CEO").text
    assert "Lovelace" in opened and "Babbage" not in opened

    r = web.post("/saved-views", {"record_type": "contact", "name": "Chiefs", "query": "title=CTO"}, follow_redirects=True)
    assert "View not saved — name: you already have a contact view called 'Chiefs'" in html.unescape(r.text)
    r = web.post("/saved-views", {"record_type": "contact", "name": "Odd", "query": "shoe_size=9"}, follow_redirects=True)
    assert "filter.shoe_size: contact has no field 'shoe_size'" in html.unescape(r.text)

    view = session.query(SavedView).one()
    web.login(teammate)
    assert "Chiefs" not in web.get("/contacts").text
    assert web.post(f"/saved-views/{view.id}/delete").status_code == 404
    web.login(rep)
    r = web.post(f"/saved-views/{view.id}/delete", follow_redirects=True)
    session.rollback()
    assert "Deleted the view “Chiefs”" in r.text and session.query(SavedView).count() == 0


def test_a_managers_shared_view_reaches_the_team_and_the_workflow_builder(web, factory, session):
    manager = factory.user(role="manager")
    rep = factory.user(role="rep")
    session.commit()
    web.login(manager)
    web.post("/saved-views", {"record_type": "contact", "name": "Leaders", "query": "title__in=CEO,CTO", "shared": "on"})
    web.login(rep)
    page = web.get("/contacts").text
    assert "Leaders" in page and "shared" in page
    assert "Delete the view Leaders" not in page  # only its owner or an admin deletes it
    builder = web.get("/automation/new").text
    assert "Or start from a saved view" in builder and "contact: Leaders" in builder
    assert '{"all": [{"field": "title", "op": "in", "value": "CEO,CTO"}]}' in html.unescape(builder)
