import re
from datetime import date

from pipewise.crm.service import task_service
from pipewise.deals.models import Deal


def logged_in(web, factory, session, **kw):
    user = factory.user(**kw)
    session.commit()
    web.login(user)
    return user


def stage_of(session, deal):
    session.rollback()  # a fresh snapshot of what the request committed
    session.expire_all()
    return session.get(Deal, deal.id).stage_id


class TestBoard:
    def test_columns_cards_and_totals(self, web, factory, session):
        user = logged_in(web, factory, session)
        pipeline, stages = factory.pipeline()
        account = factory.account(user, name="Massive Dynamic")
        factory.deal(user, name="Cortexiphan", amount=12000, account_id=account.id)
        factory.deal(user, name="Pattern study", amount=3500)
        session.commit()
        r = web.get("/pipeline")
        assert r.status_code == 200
        assert r.url.path == f"/pipelines/{pipeline.id}/board"
        for stage in stages:
            assert stage.name in r.text
        assert "Cortexiphan" in r.text and "Massive Dynamic" in r.text
        assert "$15,500" in r.text  # the Qualification column's total
        assert "Needs amount, close date" in r.text or "needs amount, close date" in r.text.lower()

    def test_moving_to_a_stage_without_requirements(self, web, factory, session):
        user = logged_in(web, factory, session)
        pipeline, stages = factory.pipeline()
        deal = factory.deal(user, name="Easy move", amount=None)
        session.commit()
        r = web.post(f"/pipelines/{pipeline.id}/board/move", {"deal_id": str(deal.id), "stage_id": str(stages[1].id)}, htmx=True)
        assert r.status_code == 200
        assert "moved to Demo" in r.text
        assert stage_of(session, deal) == stages[1].id

    def test_a_move_missing_required_fields_is_refused_with_the_reason(self, web, factory, session):
        user = logged_in(web, factory, session)
        pipeline, stages = factory.pipeline()
        deal = factory.deal(user, name="Needs a date")
        session.commit()
        negotiation = stages[3]
        r = web.post(f"/pipelines/{pipeline.id}/board/move", {"deal_id": str(deal.id), "stage_id": str(negotiation.id)}, htmx=True)
        assert r.status_code == 422
        assert "Close date is required to enter Negotiation" in r.text
        assert f"/deals/{deal.id}/edit?stage_id={negotiation.id}" in r.text
        assert stage_of(session, deal) == stages[0].id
        # the card is rendered back in its own column
        first_column = r.text.split(f'data-stage-id="{stages[0].id}"')[1].split("data-stage-id=")[0]
        assert "Needs a date" in first_column

    def test_fixing_the_deal_from_the_refusal_link_moves_it(self, web, factory, session):
        user = logged_in(web, factory, session)
        _pipeline, stages = factory.pipeline()
        deal = factory.deal(user, name="Fix me")
        session.commit()
        negotiation = stages[3]
        form = web.get(f"/deals/{deal.id}/edit?stage_id={negotiation.id}").text
        assert re.search(rf'<option value="{negotiation.id}" selected>', form)
        r = web.post(
            f"/deals/{deal.id}",
            {"name": "Fix me", "currency": "USD", "amount": "1000", "stage_id": str(negotiation.id), "close_date": "2031-03-01"},
        )
        assert r.status_code == 200
        session.rollback()
        session.expire_all()
        stored = session.get(Deal, deal.id)
        assert (stored.stage_id, stored.close_date) == (negotiation.id, date(2031, 3, 1))

    def test_a_rep_cannot_move_another_teams_deal(self, web, factory, session):
        east, west = factory.team("East"), factory.team("West")
        other = factory.user(team=west)
        pipeline, stages = factory.pipeline()
        theirs = factory.deal(other, name="Not yours")
        logged_in(web, factory, session, team=east)
        board = web.get(f"/pipelines/{pipeline.id}/board").text
        assert "Not yours" not in board
        r = web.post(f"/pipelines/{pipeline.id}/board/move", {"deal_id": str(theirs.id), "stage_id": str(stages[1].id)}, htmx=True)
        assert r.status_code == 404
        assert stage_of(session, theirs) == stages[0].id

    def test_a_move_needs_both_ids(self, web, factory, session):
        logged_in(web, factory, session)
        pipeline, _stages = factory.pipeline()
        session.commit()
        r = web.post(f"/pipelines/{pipeline.id}/board/move", {"deal_id": "nonsense"}, htmx=True)
        assert r.status_code == 422
        assert "choose a deal" in r.text

    def test_no_pipeline_yet(self, web, factory, session):
        logged_in(web, factory, session)
        assert "No pipeline yet" in web.get("/pipeline").text


class TestHome:
    def test_my_open_tasks_and_deals_by_stage(self, web, factory, session):
        user = logged_in(web, factory, session)
        factory.pipeline()
        someone = factory.user()
        factory.deal(user, name="Mine", amount=700)
        factory.deal(someone, name="Theirs", amount=900)
        task = task_service.create(session, data={"title": "Call back Ada"}, actor=factory.actor(user))
        session.commit()
        home = web.get("/").text
        assert "Call back Ada" in home
        assert "$700" in home and "$900" not in home
        r = web.post(f"/tasks/{task.id}/complete", htmx=True)
        assert r.status_code == 200 and "done" in r.text
        assert "Call back Ada" not in web.get("/").text
