"""Settings › Scoring and Routing over HTTP: rules built from condition rows become the
filter trees the services store; a bad value is refused by its rule and field."""

from pipewise.assignment import service as routing
from pipewise.scoring import service as scoring
from tests.web.test_board import logged_in
from tests.web.test_settings_people import fresh, post

ONE_RULE = {"mql_threshold": "55", "half_life_days": "10", "rule0-label": "Germany", "rule0-points": "12",
            "rule0-when-match": "all", "rule0-when-0-field": "country", "rule0-when-0-op": "in", "rule0-when-0-value": "DE, AT",
            "rule0-when-1-field": "company_size", "rule0-when-1-op": "gte", "rule0-when-1-value": "50",
            "rule1-label": "", "rule1-points": "", "rule1-when-match": "all", "rule1-when-0-field": "", "rule1-when-0-op": "eq",
            "rule1-when-0-value": ""}


class TestScoring:
    def test_rules_from_rows(self, web, factory, session):
        logged_in(web, factory, session, role="manager")
        page = web.get("/settings/scoring")
        assert page.status_code == 200 and "C-level or founder" in page.text
        assert post(web, "/settings/scoring", ONE_RULE).status_code == 303
        cfg = scoring.config(fresh(session))
        assert (cfg.mql_threshold, cfg.half_life_days) == (55, 10)
        assert cfg.fit_rules == [{"label": "Germany", "points": 12, "when": {"all": [
            {"field": "country", "op": "in", "value": ["DE", "AT"]}, {"field": "company_size", "op": "gte", "value": "50"}]}}]

    def test_bad_points_and_an_unknown_field_are_shown_on_the_rule(self, web, factory, session):
        logged_in(web, factory, session, role="admin")
        r = post(web, "/settings/scoring", {**ONE_RULE, "rule0-points": "lots", "mql_threshold": "0"})
        assert r.status_code == 422 and 'id="rule0-points-msg"' in r.text
        r = post(web, "/settings/scoring", {**ONE_RULE, "rule0-when-0-field": "shoe_size", "mql_threshold": "500"})
        assert r.status_code == 422 and "shoe_size" in r.text and 'id="scoring-mql-msg"' in r.text
        assert scoring.config(fresh(session)).mql_threshold != 500

    def test_a_rep_may_not(self, web, factory, session):
        logged_in(web, factory, session)
        assert web.get("/settings/scoring").status_code == 403
        assert post(web, "/settings/scoring", ONE_RULE).status_code == 403


class TestRouting:
    def test_add_move_toggle_and_delete_rules(self, web, factory, session):
        team = factory.team("DACH")
        manager = logged_in(web, factory, session, role="manager", team=team)
        rule = {"name": "DACH leads", "target_type": "team", "team_id": str(team.id), "prefer_account_owner": "on",
                "when-match": "any", "when-0-field": "country", "when-0-op": "in", "when-0-value": "DE, AT, CH"}
        assert post(web, "/settings/routing/rules", rule).status_code == 303
        assert post(web, "/settings/routing/rules", {**rule, "name": "Mine", "target_type": "user", "user_id": str(manager.id),
                                                    "when-0-field": ""}).status_code == 303
        first, second = routing.rules(fresh(session))
        assert first.conditions == {"field": "country", "op": "in", "value": ["DE", "AT", "CH"]} and second.conditions == {"all": []}
        assert "round-robin in DACH" in web.get("/settings/routing").text
        assert post(web, f"/settings/routing/rules/{second.id}", {"action": "up"}).status_code == 303
        assert [r.name for r in routing.rules(fresh(session))] == ["Mine", "DACH leads"]
        assert post(web, f"/settings/routing/rules/{first.id}", {"action": "toggle"}).status_code == 303
        assert routing.get_rule(fresh(session), first.id).is_active is False
        assert post(web, f"/settings/routing/rules/{first.id}", {"action": "delete"}).status_code == 303
        assert [r.name for r in routing.rules(fresh(session))] == ["Mine"]

    def test_a_rule_without_its_target_or_name(self, web, factory, session):
        logged_in(web, factory, session, role="admin")
        r = post(web, "/settings/routing/rules", {"name": "", "target_type": "team", "team_id": ""})
        assert r.status_code == 422 and 'id="rule-name-msg"' in r.text and 'id="rule-team-msg"' in r.text
        assert routing.rules(fresh(session)) == []

    def test_the_sla(self, web, factory, session):
        logged_in(web, factory, session, role="manager")
        ok = {"sla_minutes": "30", "work_start": "08:00", "work_end": "18:00", "timezone": "Europe/Berlin", "workdays": ["0", "1", "2"],
              "reassign_on_breach": "on"}
        assert post(web, "/settings/routing/sla", ok).status_code == 303
        policy = routing.policy(fresh(session))
        assert (policy.sla_minutes, policy.work_start, policy.timezone, policy.workdays) == (30, "08:00", "Europe/Berlin", [0, 1, 2])
        bad = post(web, "/settings/routing/sla", {**ok, "work_end": "07:00", "sla_minutes": "soon"})
        assert bad.status_code == 422 and 'id="sla-minutes-msg"' in bad.text
        late = post(web, "/settings/routing/sla", {**ok, "work_end": "07:00"})
        assert late.status_code == 422 and 'id="sla-end-msg"' in late.text
