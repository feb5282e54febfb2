"""Deal health and next actions through HTTP: a stage's usual time comes from its stage
history; a deal is stale, slipping or fine against it; the board, the deal page and the
API show why; each rep's next actions rank what is at stake; managers see their team's."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, select, update

from pipewise.db.session import get_engine
from pipewise.deals import health
from pipewise.deals.models import Deal, DealStageChange
from pipewise.deals.service import deal_service
from pipewise.scoring import service as scoring
from tests.web.conftest import WebClient

NOW = datetime.now(UTC)
# Completed stays in Qualification, in days: median 7.5, p75 9.25, p90 10.6.
PAST_STAYS = (4, 5, 6, 7, 8, 9, 10, 12)


def backdate(session: Any, deal: Any, days: float) -> None:
    """The deal was created and entered its stage ``days`` ago."""
    when = NOW - timedelta(days=days)
    session.execute(update(Deal).where(Deal.id == deal.id).values(created_at=when, stage_entered_at=when))
    session.execute(update(DealStageChange).where(DealStageChange.deal_id == deal.id).values(at=when))
    session.refresh(deal)


def past_stays(session: Any, factory: Any, owner: Any, stages: list[Any]) -> None:
    """Deals that each spent ``PAST_STAYS`` days in the first stage and then moved on."""
    for days in PAST_STAYS:
        deal = factory.deal(owner)
        backdate(session, deal, 60)
        deal_service.move_to_stage(session, deal.id, stages[1].id, actor=factory.actor(owner))
        session.flush()
        moved = session.scalars(select(DealStageChange).where(DealStageChange.deal_id == deal.id,
                                                              DealStageChange.from_stage_id == stages[0].id)).one()
        moved.at = NOW - timedelta(days=60 - days)
    session.flush()


class Board:
    """A team with a manager and two reps, another team, and three open deals of Rosa's."""

    def __init__(self, session: Any, factory: Any) -> None:
        self.session, self.factory = session, factory
        self.pipeline, self.stages = factory.pipeline()
        east, west = factory.team("East"), factory.team("West")
        self.manager = factory.user(role="manager", team=east, name="Mia Manager")
        east.manager_id = self.manager.id
        self.rosa = factory.user(team=east, name="Rosa Rep")
        self.ravi = factory.user(team=east, name="Ravi Rep")
        self.west_rep = factory.user(team=west, name="Wes Rep")
        self.west_manager = factory.user(role="manager", team=west, name="Wanda Manager")
        west.manager_id = self.west_manager.id
        past_stays(session, factory, self.ravi, self.stages)
        self.stuck = factory.deal(self.rosa, name="Stuck rollout", amount=Decimal("50000"),
                                  close_date=(NOW - timedelta(days=3)).date())
        backdate(session, self.stuck, 30)
        self.fine = factory.deal(self.rosa, name="Fine renewal", amount=Decimal("80000"))
        backdate(session, self.fine, 2)
        factory.activity(self.rosa, deal_id=self.fine.id, occurred_at=NOW - timedelta(days=1))
        factory.task(self.rosa, related_type="deal", related_id=self.fine.id)
        self.slipping = factory.deal(self.rosa, name="Slow upsell", amount=Decimal("9000"))
        backdate(session, self.slipping, 10)
        factory.activity(self.rosa, deal_id=self.slipping.id, occurred_at=NOW - timedelta(days=1))
        factory.task(self.rosa, related_type="deal", related_id=self.slipping.id)
        session.commit()

    def headers(self, user: Any) -> dict[str, str]:
        return self.factory.headers(user)


@pytest.fixture
def board(session, factory) -> Board:
    return Board(session, factory)


def codes(found: dict[str, Any]) -> list[str]:
    return [r["code"] for r in found["reasons"]]


class TestStageNorms:
    def test_usual_time_and_percentiles_come_from_the_stage_history(self, session, board):
        norm = health.stage_norms(session, [board.stages[0].id])[board.stages[0].id]
        assert norm.stays == len(PAST_STAYS)
        assert norm.median == pytest.approx(7.5, abs=0.01)
        assert norm.p75 == pytest.approx(9.25, abs=0.01) and norm.p90 == pytest.approx(10.6, abs=0.01)

    def test_too_little_history_falls_back_to_the_pipeline_setting(self, session, factory):
        _pipeline, stages = factory.pipeline()
        deal = factory.deal()
        backdate(session, deal, 20)
        assert health.stage_norms(session, [stages[0].id]) == {}
        found = health.assess(session, [deal])[deal.id]
        assert found.usual_days == 14 and "stale after 14 days" in found.reasons[0].text


class TestDealHealth:
    def test_stale_deal_with_every_reason(self, api, board):
        found = api.get(f"/api/v1/deals/{board.stuck.id}/health", headers=board.headers(board.rosa)).json()
        assert found["status"] == "at_risk" and found["stale"] and found["label"] == "Stale"
        assert codes(found) == ["no_activity", "close_date_passed", "well_past_usual", "no_next_step"]
        assert "No activity for 30 days; deals usually spend 7 days in Qualification" in found["reasons"][0]["text"]
        assert "9 in 10 deals moved on within 11 days" in found["reasons"][2]["text"]

    def test_worked_deal_with_a_next_step_is_healthy(self, api, board):
        found = api.get(f"/api/v1/deals/{board.fine.id}/health", headers=board.headers(board.rosa)).json()
        assert (found["status"], found["stale"], found["reasons"]) == ("healthy", False, [])

    def test_slipping_past_three_in_four_is_watched(self, api, board):
        found = api.get(f"/api/v1/deals/{board.slipping.id}/health", headers=board.headers(board.rosa)).json()
        assert found["status"] == "watch" and codes(found) == ["slipping"]

    def test_closed_deal_has_no_health(self, api, board):
        deal_service.move_to_stage(board.session, board.fine.id, board.stages[4].id, actor=board.factory.actor(board.rosa))
        board.session.commit()
        found = api.get(f"/api/v1/deals/{board.fine.id}/health", headers=board.headers(board.rosa)).json()
        assert found["status"] == "closed"

    def test_another_teams_deal_is_not_found(self, api, board):
        assert api.get(f"/api/v1/deals/{board.stuck.id}/health", headers=board.headers(board.west_rep)).status_code == 404

    def test_a_whole_board_costs_the_same_statements_as_one_deal(self, session, board):
        deals = [board.stuck, board.fine, board.slipping]
        seen: list[str] = []

        def note(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
            if not statement.startswith("BEGIN"):  # whether a transaction was open already is not the board's cost
                seen.append(statement)

        event.listen(get_engine(), "before_cursor_execute", note)
        try:
            health.assess(session, deals[:1])
            one = len(seen)
            seen.clear()
            health.assess(session, deals)
        finally:
            event.remove(get_engine(), "before_cursor_execute", note)
        assert len(seen) == one == 4


class TestOnThePages:
    def test_board_cards_carry_the_marker_and_the_deal_page_the_reasons(self, api, board):
        web = WebClient(api)
        web.login(board.rosa)
        page = web.get(f"/pipelines/{board.pipeline.id}/board").text
        card = page[page.index("Stuck rollout"):]
        assert 'class="health-mark health-at_risk"' in card[:card.index("</li>")]
        fine = page[page.index("Fine renewal"):]
        assert "health-mark" not in fine[:fine.index("</li>")]
        assert f'hx-get="/deals/{board.stuck.id}/health"' in web.get(f"/deals/{board.stuck.id}").text
        panel = web.get(f"/deals/{board.stuck.id}/health")
        assert panel.status_code == 200 and "Close date" in panel.text and "No next step" in panel.text
        web.login(board.west_rep)
        assert web.get(f"/deals/{board.stuck.id}/health").status_code == 404


class TestNextActions:
    def hot_lead(self, board: Board) -> Any:
        scoring.update_config(board.session, {"mql_threshold": 30})
        lead = board.factory.lead(board.rosa, first_name="Hana", last_name="Hot", company="Acme")
        lead.score = 85
        board.session.commit()
        return lead

    def test_ranked_by_what_is_at_stake_with_reasons(self, api, board):
        self.hot_lead(board)
        listed = api.get("/api/v1/next-actions", headers=board.headers(board.rosa)).json()
        names = [a["name"] for a in listed["actions"]]
        assert listed["user_name"] == "Rosa Rep"
        assert names[0] == "Stuck rollout" and "Slow upsell" in names and "Fine renewal" not in names
        stuck = listed["actions"][0]
        assert stuck["action"] == "Get back in touch" and stuck["url"] == f"/deals/{board.stuck.id}"
        # 50,000 × 10 % × the risk of four findings, 1 − 0.65 × 0.7 × 0.7 × 0.8
        assert Decimal(stuck["stake"]) == Decimal("3726.00")
        lead = next(a for a in listed["actions"] if a["kind"] == "lead")
        assert lead["name"] == "Hana Hot (Acme)" and lead["action"] == "Contact now"
        assert "Hot lead: score 85 (MQL at 30)" in lead["reasons"][0] and "Not contacted yet" in lead["reasons"][1]

    def test_managers_switch_to_a_rep_of_their_team(self, api, board):
        mine = api.get("/api/v1/next-actions", params={"user_id": str(board.rosa.id)}, headers=board.headers(board.manager))
        assert mine.status_code == 200 and mine.json()["actions"][0]["name"] == "Stuck rollout"
        other = api.get("/api/v1/next-actions", params={"user_id": str(board.rosa.id)},
                        headers=board.headers(board.west_manager))
        assert other.status_code == 404 and "Stuck" not in other.text
        peer = api.get("/api/v1/next-actions", params={"user_id": str(board.rosa.id)}, headers=board.headers(board.ravi))
        assert peer.status_code == 403 and "Stuck" not in peer.text
        assert api.get("/api/v1/next-actions", params={"user_id": "nope"}, headers=board.headers(board.ravi)).status_code == 422

    def test_the_next_page_for_a_manager(self, api, board):
        web = WebClient(api)
        web.login(board.manager)
        own = web.get("/next")
        assert own.status_code == 200 and "Nothing needs your attention" in own.text and "Rosa Rep" in own.text
        rosa = web.get(f"/next?user_id={board.rosa.id}").text
        assert "Stuck rollout" in rosa and "Get back in touch" in rosa and "Wes Rep" not in rosa
        web.login(board.west_manager)
        assert web.get(f"/next?user_id={board.rosa.id}").status_code == 404
