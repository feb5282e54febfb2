from sqlalchemy import func, select

from pipewise.auth.models import Team, User
from pipewise.deals.models import Pipeline, Stage
from pipewise.demo.config import DEMO_ADMIN_EMAIL, demo_password
from pipewise.people.service import user_service


def count(session, model) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model))


class TestDbUpgrade:
    def test_upgrades_to_the_latest_schema(self, cli):  # type: ignore[no-untyped-def]
        result = cli("db", "upgrade")
        assert result.exit_code == 0, result.output
        assert "up to date" in result.stdout


class TestInit:
    def test_demo_admin_with_default_team_and_pipeline(self, cli, session):  # type: ignore[no-untyped-def]
        result = cli("init", "--demo-admin")
        assert result.exit_code == 0, result.output
        admin = user_service.by_email(session, DEMO_ADMIN_EMAIL)
        assert admin.role == "admin"
        assert user_service.authenticate(session, email=DEMO_ADMIN_EMAIL, password=demo_password()) is not None
        assert session.get(Team, admin.team_id).name == "Sales"
        pipeline = session.scalar(select(Pipeline))
        assert pipeline.is_default
        stages = {s.name: s for s in session.scalars(select(Stage).where(Stage.pipeline_id == pipeline.id))}
        assert stages["Proposal"].required_fields == ["amount"]
        assert stages["Negotiation"].required_fields == ["amount", "close_date"]
        assert (stages["Closed won"].kind, stages["Closed won"].probability) == ("won", 100)
        assert (stages["Closed lost"].kind, stages["Closed lost"].required_fields) == ("lost", ["lost_reason"])

    def test_second_run_changes_nothing(self, cli, session):  # type: ignore[no-untyped-def]
        assert cli("init", "--demo-admin").exit_code == 0
        result = cli("init", "--demo-admin")
        assert result.exit_code == 0, result.output
        assert "already has 1 user" in result.stderr
        assert (count(session, User), count(session, Team), count(session, Pipeline), count(session, Stage)) == (1, 1, 1, 7)

    def test_demo_admin_only_when_nobody_exists(self, cli, factory, session):  # type: ignore[no-untyped-def]
        factory.user(role="admin")
        session.commit()
        assert cli("init", "--demo-admin").exit_code == 0
        assert count(session, User) == 1
        assert count(session, Pipeline) == 1

    def test_admin_from_options(self, cli, session):  # type: ignore[no-untyped-def]
        result = cli("init", "--email", "Boss@Example.com", "--password", "a-long-secret", "--name", "Bo Ss")
        assert result.exit_code == 0, result.output
        admin = user_service.authenticate(session, email="boss@example.com", password="a-long-secret")
        assert (admin.name, admin.role) == ("Bo Ss", "admin")

    def test_admin_from_prompts(self, cli, session):  # type: ignore[no-untyped-def]
        result = cli("init", input="ada@example.com\nAda Lovelace\nanalytical-engine\nanalytical-engine\n")
        assert result.exit_code == 0, result.output
        admin = user_service.authenticate(session, email="ada@example.com", password="analytical-engine")
        assert admin.name == "Ada Lovelace"

    def test_bad_input_is_a_clear_error(self, cli, session):  # type: ignore[no-untyped-def]
        result = cli("init", "--email", "not-an-address", "--password", "short", "--name", "X")
        assert result.exit_code == 1
        assert "Error" in result.stderr
        assert "password: must be at least 8 characters" in result.stderr
        assert "Traceback" not in result.output
        assert count(session, User) == 0

    def test_demo_admin_does_not_mix_with_explicit_admin(self, cli):  # type: ignore[no-untyped-def]
        result = cli("init", "--demo-admin", "--email", "x@example.com")
        assert result.exit_code == 1
        assert "--demo-admin" in result.stderr
