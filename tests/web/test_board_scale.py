"""The board at scale and its filters, over HTTP: paged columns, totals of every deal the
filters select, won/lost drop zones, the refusal toast, stale and next-activity marks;
and home's value and scope switch."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import update

from pipewise.crm.service import task_service
from pipewise.deals.models import Deal


def logged_in(web, factory, session, **kw):
    user = factory.user(**kw)
    session.commit()
    web.login(user)
    return user


def cards(html, stage_id):
    column = html.split(f'data-stage-id="{stage_id}"')[1].split("</ol>")[0]
    return re.findall(r'class="deal-card[^"]*" data-deal-id="([^"]+)"', column)


class TestPagedColumns:
    def test_first_page_then_more_and_totals_of_all(self, web, factory, session):
        user = logged_in(web, factory, session)
        pipeline, stages = factory.pipeline()
        for n in range(30):
            factory.deal(user, name=f"Bulk {n}", amount=Decimal(100 + n))
        session.commit()
        board = web.get(f"/pipelines/{pipeline.id}/board").text
        assert len(cards(board, stages[0].id)) == 25
        assert '<span class="count" title="Deals">30</span>' in board
        total = sum(100 + n for n in range(30))
        assert f"${total:,}" in board and f"${total * 10 // 100:,}" in board  # value, weighted at 10 %
        more = re.search(r'hx-get="([^"]+/board/more[^"]+)"', board).group(1).replace("&amp;", "&")
        rest = web.get(more, headers={"HX-Request": "true"})
        assert rest.status_code == 200
        assert len(re.findall(r'data-deal-id="', rest.text)) == 5 and "Show more deals" not in rest.text
        assert "Bulk 0" in rest.text  # largest first: the smallest come last

    def test_more_needs_a_stage_of_this_pipeline(self, web, factory, session):
        logged_in(web, factory, session)
        pipeline, _stages = factory.pipeline()
        _other, other_stages = factory.pipeline("Other")
        session.commit()
        assert web.get(f"/pipelines/{pipeline.id}/board/more?stage_id={other_stages[0].id}").status_code == 422
        assert web.get(f"/pipelines/{pipeline.id}/board/more").status_code == 404


class TestFilters:
    def test_owner_scope_and_close_month(self, web, factory, session):
        team = factory.team("East")
        manager = logged_in(web, factory, session, role="manager", team=team)
        rep = factory.user(team=team, name="Rita Rep")
        pipeline, stages = factory.pipeline()
        factory.deal(manager, name="Managers own", close_date=date(2031, 3, 5))
        factory.deal(rep, name="Ritas deal", close_date=date(2031, 4, 5))
        session.commit()
        url = f"/pipelines/{pipeline.id}/board"
        team_view = web.get(url).text  # a manager starts on the team
        assert "Managers own" in team_view and "Ritas deal" in team_view
        mine = web.get(url, params={"scope": "me"}).text
        assert "Managers own" in mine and "Ritas deal" not in mine
        assert "Ritas deal" not in web.get(url).text  # the choice is remembered
        by_owner = web.get(url, params={"scope": "team", "owner": str(rep.id)}).text
        assert "Ritas deal" in by_owner and "Managers own" not in by_owner
        march = web.get(url, params={"scope": "team", "close": "2031-03"}).text
        assert "Managers own" in march and "Ritas deal" not in march
        assert web.get(url, params={"close": "2031-13"}).status_code == 200  # a bad month is ignored


class TestMoves:
    def test_won_drop_zone(self, web, factory, session):
        user = logged_in(web, factory, session)
        pipeline, stages = factory.pipeline()
        won = stages[4]
        deal = factory.deal(user, name="Signed", amount=Decimal("4200"))
        session.commit()
        board = web.get(f"/pipelines/{pipeline.id}/board").text
        assert f'class="cards zone-cards" data-stage-id="{won.id}"' in board
        r = web.post(f"/pipelines/{pipeline.id}/board/move", {"deal_id": str(deal.id), "stage_id": str(won.id)}, htmx=True)
        assert r.status_code == 200 and "moved to Closed won" in r.text
        zone = r.text.split(f'id="zone-{won.id}"')[1]
        assert "$4,200" in zone.split("</section>")[0]

    def test_a_refused_move_toasts_and_points_at_the_card(self, web, factory, session):
        user = logged_in(web, factory, session)
        pipeline, stages = factory.pipeline()
        deal = factory.deal(user, name="No date")
        session.commit()
        r = web.post(f"/pipelines/{pipeline.id}/board/move?scope=me", {"deal_id": str(deal.id), "stage_id": str(stages[3].id)},
                     htmx=True)
        assert r.status_code == 422
        assert f'data-focus-deal="{deal.id}"' in r.text and 'class="board-toast flash flash-error" role="alert"' in r.text
        assert str(deal.id) in cards(r.text, stages[0].id)
        assert f'data-move-url="/pipelines/{pipeline.id}/board/move?scope=me"' in r.text


class TestCards:
    def test_next_activity_and_stale_mark(self, web, factory, session):
        user = logged_in(web, factory, session)
        pipeline, _stages = factory.pipeline()
        fresh = factory.deal(user, name="Fresh")
        old = factory.deal(user, name="Forgotten")
        task_service.create(session, data={"title": "Send the contract", "related_type": "deal", "related_id": fresh.id,
                                           "due_at": datetime.now(UTC) + timedelta(days=1)}, actor=factory.actor(user))
        session.commit()
        session.execute(update(Deal).where(Deal.id == old.id).values(updated_at=datetime.now(UTC) - timedelta(days=40)))
        session.commit()
        board = web.get(f"/pipelines/{pipeline.id}/board").text
        fresh_card = board.split(f'data-deal-id="{fresh.id}"')[1].split("</li>")[0]
        old_card = board.split(f'data-deal-id="{old.id}"')[1].split("</li>")[0]
        assert "Next: Send the contract" in fresh_card and "Stale" not in fresh_card
        assert "Stale" in old_card and "No next step planned" in old_card


class TestHomeValue:
    def test_value_overdue_first_and_the_scope_switch(self, web, factory, session):
        team = factory.team("East")
        manager = logged_in(web, factory, session, role="manager", team=team)
        rep = factory.user(team=team, name="Rita Rep")
        _pipeline, stages = factory.pipeline()
        factory.deal(rep, name="Ritas big one", amount=Decimal("10000"), close_date=date.today() + timedelta(days=3))
        factory.deal(manager, name="Won already", amount=Decimal("2500"), stage_id=stages[4].id)
        task_service.create(session, data={"title": "Late call", "due_at": datetime.now(UTC) - timedelta(days=2),
                                           "owner_id": rep.id}, actor=factory.actor(rep))
        factory.lead(rep, last_name="Fresh lead", company="Newco")
        session.commit()
        home = web.get("/").text
        assert "$10,000" in home and "$1,000" in home  # open value, weighted at 10 %
        assert "$2,500" in home  # won this month
        assert home.index("Late call") < home.index("Coming up")
        assert "Ritas big one" in home and "Newco" in home
        mine = web.get("/?scope=me").text
        assert "Late call" not in mine and "Ritas big one" not in mine and "$2,500" in mine
        assert "Late call" not in web.get("/").text  # remembered
