"""The lead-import pages show a viewer only the imports they may see: their own and
their teams' (admins: every one); another team's import is a 404."""

from pipewise.leads.models import LeadImport


def an_import(session, user, name):  # type: ignore[no-untyped-def]
    job = LeadImport(filename=name, status="done", actor_id=user.id if user else None)
    session.add(job)
    session.flush()
    return job


def test_the_list_and_the_result_page_follow_team_visibility(web, factory, session):  # type: ignore[no-untyped-def]
    north, south = factory.team(), factory.team()
    rep = factory.user(team=north)
    teammate = factory.user(team=north)
    stranger = factory.user(team=south)
    admin = factory.user(role="admin", team=south)
    mine = an_import(session, rep, "mine.csv")
    ours = an_import(session, teammate, "teammate.csv")
    theirs = an_import(session, stranger, "stranger.csv")
    system = an_import(session, None, "from-the-cli.csv")
    session.commit()

    web.login(rep)
    listed = web.get("/lead-import").text
    assert "mine.csv" in listed and "teammate.csv" in listed
    assert "stranger.csv" not in listed and "from-the-cli.csv" not in listed
    assert web.get(f"/lead-import/{mine.id}").status_code == 200
    assert web.get(f"/lead-import/{ours.id}").status_code == 200
    for hidden in (theirs, system):
        page = web.get(f"/lead-import/{hidden.id}")
        assert page.status_code == 404
        assert hidden.filename not in page.text
    assert web.get("/lead-import/0191e8f2-0000-7000-8000-000000000000").status_code == 404

    web.post("/logout")
    web.login(admin)
    listed = web.get("/lead-import").text
    assert all(name in listed for name in ("mine.csv", "teammate.csv", "stranger.csv", "from-the-cli.csv"))
    assert web.get(f"/lead-import/{theirs.id}").status_code == 200
