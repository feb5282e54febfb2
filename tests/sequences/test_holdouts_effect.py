"""The effect report of a sequence's holdout, over HTTP: its counts match the outcomes
worked out by hand, a deal that closed before the contact was assigned does not count,
and each reader sees only the contacts and deals their rights reach (the API and the
panel on the sequence's page)."""

from decimal import Decimal

import pytest

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.db.base import utcnow
from pipewise.deals.service import deal_service
from pipewise.runs.holdout import HoldoutAssignment
from pipewise.sequences.service import sequence_service
from tests.sequences.support import email_step
from tests.web.conftest import WebClient


@pytest.fixture
def world(session, factory):  # type: ignore[no-untyped-def]
    """East's rep and West's rep, a sequence holding out 20 %, and contacts whose group is
    set by hand (the hash is tested elsewhere) with deals around their assignment."""
    east, west = factory.team("East"), factory.team("West")
    admin = factory.user(role="admin", name="Ada Admin")
    east_rep, west_rep = factory.user(team=east, name="Erin East"), factory.user(team=west, name="Walt West")
    _pipeline, stages = factory.pipeline()
    first, demo, won = stages[0], stages[1], stages[4]
    sequence = sequence_service.create(session, data={"name": "Intro", "holdout_percent": 20,
                                                      "steps": [email_step("Hi", "<p>Hi</p>")]}, actor=SYSTEM_ACTOR)
    contacts = {name: factory.contact(owner, last_name=name) for name, owner in (
        ("Treated-won", east_rep), ("Treated-moved", east_rep), ("Treated-quiet", east_rep),
        ("Held-won-before", east_rep), ("Held-new-deal", east_rep), ("Held-quiet", east_rep), ("Held-west-won", west_rep),
    )}

    def deal(owner, contact, stage, amount):  # type: ignore[no-untyped-def]
        row = factory.deal(owner, stage_id=stage.id, amount=Decimal(amount), close_date=utcnow().date())
        deal_service.add_contact(session, row.id, contacts[contact].id, role=None, actor=SYSTEM_ACTOR)
        return row

    old_win = deal(east_rep, "Held-won-before", won, "400.00")
    moving = deal(east_rep, "Treated-moved", first, "700.00")
    session.flush()
    for name, contact in contacts.items():
        session.add(HoldoutAssignment(scope="sequence", subject_id=sequence.id, record_id=contact.id, record_type="contact",
                                      held_out=name.startswith("Held"), share=20, assigned_at=utcnow()))
    session.flush()
    deal(east_rep, "Treated-won", won, "1000.00")
    deal_service.move_to_stage(session, moving.id, demo.id, actor=SYSTEM_ACTOR)
    deal(east_rep, "Held-new-deal", first, "300.00")
    deal(west_rep, "Held-west-won", won, "5000.00")
    session.commit()
    assert old_win.closed_at is not None
    return {"sequence": sequence, "admin": admin, "east_rep": east_rep, "west_rep": west_rep}


def metric(report: dict, key: str) -> dict:  # type: ignore[type-arg]
    return next(m for m in report["metrics"] if m["key"] == key)


def test_the_report_matches_the_outcomes_worked_out_by_hand(api, factory, world):
    response = api.get(f"/api/v1/sequences/{world['sequence'].id}/holdout-effect", headers=factory.headers(world["admin"]))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["enrolled"] == {"records": 3, "progressed": 2, "won": 1, "revenue": 1000.0}
    # The deal won before assignment counts for nothing; the new deal is progress.
    assert report["held_out"] == {"records": 4, "progressed": 2, "won": 1, "revenue": 5000.0}
    win = metric(report, "win_rate")
    assert (win["enrolled"], win["held_out"]) == (pytest.approx(1 / 3), pytest.approx(1 / 4))
    assert win["difference"] == pytest.approx(1 / 3 - 1 / 4) and win["low"] < 0 < win["high"]
    revenue = metric(report, "revenue")
    assert (revenue["enrolled"], revenue["held_out"]) == (pytest.approx(1000 / 3), pytest.approx(5000 / 4))
    assert metric(report, "cycle_length")["difference"] is None  # one winner a group: too few to compare
    assert report["verdict"]["state"] == "no_effect_yet"
    assert report["verdict"]["text"].startswith("No measurable effect yet; need about ")


def test_each_reader_sees_only_what_their_rights_reach(api, factory, world):
    url = f"/api/v1/sequences/{world['sequence'].id}/holdout-effect"
    east = api.get(url, headers=factory.headers(world["east_rep"])).json()
    assert east["enrolled"]["records"] == 3
    assert east["held_out"] == {"records": 3, "progressed": 1, "won": 0, "revenue": 0.0}
    west = api.get(url, headers=factory.headers(world["west_rep"])).json()
    assert west["enrolled"]["records"] == 0
    assert west["held_out"] == {"records": 1, "progressed": 1, "won": 1, "revenue": 5000.0}
    assert west["verdict"]["state"] == "too_early"


def test_the_panel_on_the_sequence_page(api, world):
    web = WebClient(api)
    assert web.login(world["east_rep"]).status_code in (302, 303)
    page = web.get(f"/sequences/{world['sequence'].id}")
    assert f'hx-get="/sequences/{world["sequence"].id}/holdout-effect"' in page.text
    panel = web.get(f"/sequences/{world['sequence'].id}/holdout-effect")
    assert panel.status_code == 200
    assert "No measurable effect yet; need about" in panel.text
    assert "3 enrolled, 3 held out" in panel.text and "5,000" not in panel.text
