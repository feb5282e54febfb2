"""Record pages and lists over HTTP: a contact's deals, tasks and next activity; a deal's
stage bar, quotes and meetings; the timeline in words; list totals, the column picker and
bulk actions within the viewer's rights."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from pipewise.crm.models import Contact
from pipewise.crm.service import task_service
from pipewise.deals.models import Deal
from pipewise.deals.service import deal_service
from pipewise.quotes.service import quote_service


def logged_in(web, factory, session, **kw):
    user = factory.user(**kw)
    session.commit()
    web.login(user)
    return user


def fresh(session, model, record_id):
    session.rollback()
    session.expire_all()
    return session.get(model, record_id)


class TestContactPage:
    def test_deals_open_tasks_next_activity_and_tel_link(self, web, factory, session):
        user = logged_in(web, factory, session)
        factory.pipeline()
        contact = factory.contact(user, first_name="Ada", last_name="Lovelace", phone="+44 20 7946 0000")
        deal = factory.deal(user, name="Engine order", amount=Decimal("900"))
        deal_service.add_contact(session, deal.id, contact.id, role=None, actor=factory.actor(user))
        actor = factory.actor(user)
        task_service.create(session, data={"title": "Call Ada", "related_type": "contact", "related_id": contact.id,
                                           "due_at": datetime(2031, 3, 1, 9, 30, tzinfo=UTC)}, actor=actor)
        task_service.create(session, data={"title": "Later", "related_type": "contact", "related_id": contact.id,
                                           "due_at": datetime(2031, 4, 1, 9, 30, tzinfo=UTC)}, actor=actor)
        session.commit()
        page = web.get(f"/contacts/{contact.id}").text
        assert "Engine order" in page and "$900" in page
        assert "Open tasks" in page and "Later" in page
        next_activity = page.split("Next activity")[1].split("</dd>")[0]
        assert "Call Ada" in next_activity and "Mar 1, 2031" in next_activity
        assert 'href="tel:+442079460000"' in page


class TestDealPage:
    def test_stage_bar_quotes_and_moves(self, web, factory, session):
        user = logged_in(web, factory, session)
        _pipeline, stages = factory.pipeline()
        deal = factory.deal(user, name="Bar deal", amount=None)
        quote_service.create(session, data={"deal_id": deal.id, "title": "First offer"}, actor=factory.actor(user))
        session.commit()
        page = web.get(f"/deals/{deal.id}").text
        assert 'class="stage-bar card"' in page and ">Won</button>" in page and "Lost</summary>" in page
        assert "First offer" in page and "Meetings" in page
        # Won needs an amount: the form opens on that stage, saying why
        refused = web.post(f"/deals/{deal.id}/stage", {"stage_id": str(stages[4].id)}, follow_redirects=False)
        assert refused.status_code == 303 and refused.headers["location"] == f"/deals/{deal.id}/edit?stage_id={stages[4].id}"
        assert fresh(session, Deal, deal.id).stage_id == stages[0].id
        assert "Amount is required" in web.get(refused.headers["location"]).text
        moved = web.post(f"/deals/{deal.id}/stage", {"stage_id": str(stages[1].id)})
        assert moved.status_code == 200 and "is now in Demo" in moved.text
        lost = web.post(f"/deals/{deal.id}/stage", {"stage_id": str(stages[5].id), "lost_reason": "Budget cut"})
        assert lost.status_code == 200
        stored = fresh(session, Deal, deal.id)
        assert (stored.stage_id, stored.lost_reason) == (stages[5].id, "Budget cut")

    def test_another_teams_deal_cannot_be_moved(self, web, factory, session):
        east, west = factory.team("East"), factory.team("West")
        _pipeline, stages = factory.pipeline()
        theirs = factory.deal(factory.user(team=west), name="Theirs")
        logged_in(web, factory, session, team=east)
        assert web.post(f"/deals/{theirs.id}/stage", {"stage_id": str(stages[1].id)}).status_code == 404

    def test_timeline_in_words_and_by_kind(self, web, factory, session):
        user = logged_in(web, factory, session, timezone="Europe/Berlin")
        factory.pipeline()
        deal = factory.deal(user, name="Timeline deal", amount=Decimal("1000"), currency="EUR")
        actor = factory.actor(user)
        deal_service.update(session, deal, data={"amount": Decimal("2500"), "close_date": date(2031, 3, 1)}, actor=actor)
        task_service.create(session, data={"title": "Chase", "related_type": "deal", "related_id": deal.id}, actor=actor)
        session.commit()
        page = web.get(f"/deals/{deal.id}").text
        assert "€1,000 → €2,500" in page and "— → Mar 1, 2031" in page
        assert 'href="/deals/{}?kind=task#timeline"'.format(deal.id) in page
        only_tasks = web.get(f"/deals/{deal.id}?kind=task").text
        timeline = only_tasks.split('class="timeline"')[1]
        assert "Chase" in timeline and "€2,500" not in timeline


class TestListTools:
    def test_total_count_and_sum(self, web, factory, session):
        user = logged_in(web, factory, session)
        factory.pipeline()
        for amount in (100, 200, 300):
            factory.deal(user, amount=Decimal(amount))
        session.commit()
        page = web.get("/deals").text
        assert "<strong>3</strong> deals · $600 in all" in page
        assert "<strong>1</strong> deal" in web.get("/deals", params={"amount__gte": "300"}).text

    def test_column_picker_is_remembered(self, web, factory, session):
        user = logged_in(web, factory, session)
        factory.contact(user, last_name="Caller", phone="+44 20 7946 0001")
        session.commit()
        assert "tel:+442079460001" not in web.get("/contacts").text
        r = web.post("/contacts/columns", {"col": ["phone", "email"], "next": "/contacts?sort=last_name"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/contacts?sort=last_name"
        page = web.get("/contacts").text
        assert "tel:+442079460001" in page and ">Owner</th>" not in page and ">E-mail</th>" in page


class TestBulk:
    def test_assign_within_rights(self, web, factory, session):
        east, west = factory.team("East"), factory.team("West")
        user = logged_in(web, factory, session, team=east)
        colleague = factory.user(team=east, name="Colin")
        mine = [factory.contact(user, last_name=f"Mine{n}") for n in range(2)]
        theirs = factory.contact(factory.user(team=west), last_name="Theirs")
        session.commit()
        ids = [str(c.id) for c in (*mine, theirs)]
        r = web.post("/contacts/bulk", {"action": "assign", "owner_id": str(colleague.id), "contact_id": ids, "next": "/contacts"})
        assert r.status_code == 200
        assert "2 contacts assigned to Colin" in r.text and "1 left unchanged" in r.text
        session.rollback()
        session.expire_all()
        owners = {c.id: c.owner_id for c in session.scalars(select(Contact))}
        assert [owners[c.id] for c in mine] == [colleague.id, colleague.id] and owners[theirs.id] != colleague.id

    def test_edit_delete_export_and_enroll(self, web, factory, session):
        user = logged_in(web, factory, session)
        a, b = factory.contact(user, last_name="Alpha"), factory.contact(user, last_name="Beta", email="beta@x.example")
        session.commit()
        both = [str(a.id), str(b.id)]
        edited = web.post("/contacts/bulk", {"action": "edit", "field": "lifecycle_stage", "value": "customer", "contact_id": both})
        assert "2 contacts changed" in edited.text
        assert fresh(session, Contact, a.id).lifecycle_stage == "customer"
        bad = web.post("/contacts/bulk", {"action": "edit", "field": "lifecycle_stage", "value": "royalty", "contact_id": both})
        assert "flash-error" in bad.text and fresh(session, Contact, a.id).lifecycle_stage == "customer"
        export = web.post("/contacts/bulk", {"action": "export", "contact_id": both})
        assert export.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(export.text)))
        assert rows[0][:2] == ["id", "Name"] and {r[1] for r in rows[1:]} == {a.full_name, b.full_name}
        enroll = web.post("/contacts/bulk", {"action": "enroll", "contact_id": both}, follow_redirects=False)
        assert enroll.status_code == 303 and enroll.headers["location"].startswith("/sequence-enroll?contact_id=")
        deleted = web.post("/contacts/bulk", {"action": "delete", "contact_id": [str(a.id)]})
        assert "1 contact deleted" in deleted.text and fresh(session, Contact, a.id) is None
        nothing = web.post("/contacts/bulk", {"action": "delete"})
        assert "Tick some rows" in nothing.text
