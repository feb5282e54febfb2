from sqlalchemy import select

from pipewise.auth.models import User
from pipewise.crm.models import Contact
from pipewise.people.service import user_service


class TestTokenCreate:
    def test_prints_a_token_that_works_against_the_api(self, cli, factory, session, api):  # type: ignore[no-untyped-def]
        user = factory.user(email="rep@example.com", role="rep")
        session.commit()
        result = cli("token", "create", "rep@example.com", "--name", "laptop")
        assert result.exit_code == 0, result.output
        token = result.stdout.strip()
        assert token.startswith("pw_")
        assert "not shown again" in result.stderr
        me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200, me.text
        assert me.json()["id"] == str(user.id)

    def test_unknown_email_is_a_clear_error(self, cli):  # type: ignore[no-untyped-def]
        result = cli("token", "create", "nobody@example.com")
        assert result.exit_code == 1
        assert "Error: no user with e-mail nobody@example.com" in result.stderr
        assert result.stdout == ""
        assert "Traceback" not in result.output

    def test_deactivated_user_gets_no_token(self, cli, factory, session):  # type: ignore[no-untyped-def]
        factory.user(email="gone@example.com", is_active=False)
        session.commit()
        result = cli("token", "create", "gone@example.com")
        assert result.exit_code == 1
        assert "deactivated" in result.stderr


class TestUsersCreate:
    def test_creates_a_user_in_a_team(self, cli, factory, session):  # type: ignore[no-untyped-def]
        team = factory.team("EMEA")
        session.commit()
        result = cli(
            "users", "create", "Mia@Example.com", "--name", "Mia Wong", "--role", "manager", "--team", "EMEA",
            "--password", "s3cret-enough",
        )
        assert result.exit_code == 0, result.output
        mia = user_service.authenticate(session, email="mia@example.com", password="s3cret-enough")
        assert (mia.role, mia.team_id) == ("manager", team.id)

    def test_unknown_team_names_the_known_ones(self, cli, factory, session):  # type: ignore[no-untyped-def]
        factory.team("EMEA")
        session.commit()
        result = cli("users", "create", "x@example.com", "--name", "X", "--team", "APAC", "--password", "long-enough")
        assert result.exit_code == 1
        assert "no team named 'APAC' (teams: EMEA)" in result.stderr

    def test_list_shows_everyone(self, cli, factory, session):  # type: ignore[no-untyped-def]
        factory.user(email="one@example.com")
        session.commit()
        result = cli("users", "list")
        assert result.exit_code == 0, result.output
        assert "one@example.com" in result.stdout


class TestUsersLeaving:
    def test_deactivate_keeps_records_and_stops_the_token(self, cli, factory, session, api):  # type: ignore[no-untyped-def]
        rep = factory.user(email="rep@example.com")
        factory.contact(rep)
        headers = factory.headers(rep)
        result = cli("users", "deactivate", "rep@example.com")
        assert result.exit_code == 0, result.output
        assert "deactivated" in result.stdout
        assert api.get("/api/v1/me", headers=headers).status_code == 401
        session.expire_all()
        assert session.scalar(select(Contact.owner_id)) == rep.id
        session.rollback()  # end this test's read transaction: see the command's commit
        assert cli("users", "activate", "rep@example.com").exit_code == 0
        assert session.get(User, rep.id).is_active

    def test_delete_is_refused_while_the_user_owns_records(self, cli, factory, session):  # type: ignore[no-untyped-def]
        rep = factory.user(email="rep@example.com")
        factory.contact(rep)
        session.commit()
        result = cli("users", "delete", "rep@example.com")
        assert result.exit_code == 1
        assert "owns 1 contact" in result.stderr and "deactivate" in result.stderr
        assert "Traceback" not in result.output

    def test_delete_with_reassign_to_hands_the_records_over(self, cli, factory, session):  # type: ignore[no-untyped-def]
        rep = factory.user(email="rep@example.com")
        heir = factory.user(email="heir@example.com")
        factory.contact(rep)
        session.commit()
        rep_id = rep.id
        result = cli("users", "delete", "rep@example.com", "--reassign-to", "heir@example.com")
        assert result.exit_code == 0, result.output
        session.expire_all()
        assert session.get(User, rep_id) is None
        assert session.scalar(select(Contact.owner_id)) == heir.id

    def test_the_last_admin_stays(self, cli, factory, session):  # type: ignore[no-untyped-def]
        factory.user(email="boss@example.com", role="admin")
        session.commit()
        for command in (("users", "deactivate", "boss@example.com"), ("users", "delete", "boss@example.com")):
            result = cli(*command)
            assert result.exit_code == 1
            assert "last active admin" in result.stderr

    def test_set_password(self, cli, factory, session):  # type: ignore[no-untyped-def]
        rep = factory.user(email="rep@example.com")
        session.commit()
        result = cli("users", "set-password", "rep@example.com", "--password", "battery-staple")
        assert result.exit_code == 0, result.output
        session.expire_all()
        assert user_service.authenticate(session, email="rep@example.com", password="battery-staple") is not None
        short = cli("users", "set-password", "rep@example.com", "--password", "short")
        assert short.exit_code == 1 and "at least 8 characters" in short.stderr


def test_unmigrated_database_error_is_readable(cli, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    from pipewise.config import get_settings
    from pipewise.db.session import reset_engine

    monkeypatch.setenv("PIPEWISE_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    reset_engine()
    try:
        result = cli("token", "create", "x@example.com")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        reset_engine()
    assert result.exit_code == 1
    assert "pipewise db upgrade" in result.stderr
    assert "Traceback" not in result.output
