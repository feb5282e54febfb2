"""Settings › Users, Teams, API tokens over HTTP: each form saves through its service,
bad input comes back as a message under the field, and only admins change people."""

import re

from sqlalchemy import select

from pipewise.auth.models import ApiToken, Team, User
from pipewise.mail.models import EmailMessage
from tests.web.test_board import logged_in

LINK = re.compile(r"https?://[^\s]+(/welcome/[A-Za-z0-9_.\-]+)")


def post(web, url, data=None, **kw):
    """A form post as the browser sends it, without following the redirect."""
    return web.post(url, data, follow_redirects=False, **kw)


def fresh(session):
    session.rollback()
    session.expire_all()
    return session


def invite_link(session, email: str) -> str:
    message = fresh(session).scalars(
        select(EmailMessage).where(EmailMessage.to_address == email).order_by(EmailMessage.created_at.desc())
    ).first()
    assert message is not None, f"no e-mail to {email}"
    return LINK.search(message.body_text).group(1)


class TestRights:
    def test_a_rep_is_refused_and_sees_only_the_personal_sections(self, web, factory, session):
        logged_in(web, factory, session, role="rep")
        for page in ("/settings/users", "/settings/teams", "/settings/pipelines", "/settings/fields", "/settings/lead-forms"):
            assert web.get(page).status_code == 403, page
        index = web.get("/settings")
        assert index.status_code == 200
        assert "/settings/tokens" in index.text and "/settings/pipelines" not in index.text
        assert post(web, "/settings/users/invite", {"email": "x@example.com", "name": "X", "role": "admin"}).status_code == 403

    def test_a_manager_sees_their_team_but_changes_nothing(self, web, factory, session):
        east, west = factory.team("East"), factory.team("West")
        manager = logged_in(web, factory, session, role="manager", team=east)
        factory.user(team=east, name="Erin East")
        factory.user(team=west, name="Walt West")
        session.commit()
        page = web.get("/settings/users")
        assert page.status_code == 200
        assert "Erin East" in page.text and manager.name in page.text and "Walt West" not in page.text
        assert "/settings/users/invite" not in page.text
        assert web.get("/settings/teams").status_code == 200
        assert post(web, "/settings/teams", {"name": "Mine"}).status_code == 403


class TestInvite:
    def test_invite_then_choose_a_password_then_log_in(self, web, factory, session):
        team = factory.team("North")
        logged_in(web, factory, session, role="admin")
        r = post(web, "/settings/users/invite", {"name": "Nia New", "email": "Nia@Example.com", "role": "manager", "team_id": str(team.id)})
        assert r.status_code == 303
        user = fresh(session).scalar(select(User).where(User.email == "nia@example.com"))
        assert (user.role, user.team_id, user.password_hash) == ("manager", team.id, None)
        assert "Invited" in web.get("/settings/users").text
        link = invite_link(session, "nia@example.com")

        web.client.cookies.clear()
        assert "nia@example.com" in web.get(link).text
        token = web.csrf(link)
        short = web.client.post(link, data={"password": "short", "password_again": "short", "csrf_token": token})
        assert short.status_code == 422 and "at least 8 characters" in short.text
        done = web.client.post(link, data={"password": "long-enough-1", "password_again": "long-enough-1", "csrf_token": token},
                               follow_redirects=False)
        assert done.status_code == 303
        assert "Nia New" in web.get("/").text  # logged in
        assert web.get(link).status_code == 410  # the link is spent
        assert web.get(link[:-3] + "abc").status_code == 410  # and a forged one never worked
        web.client.cookies.clear()
        assert web.login(fresh(session).get(User, user.id), "long-enough-1").status_code == 303

    def test_bad_input_stays_on_the_form_with_messages(self, web, factory, session):
        admin = logged_in(web, factory, session, role="admin")
        r = post(web, "/settings/users/invite", {"name": "", "email": "not-an-address", "role": "rep"})
        assert r.status_code == 422
        assert 'id="invite-name-msg"' in r.text and "is required" in r.text
        taken = post(web, "/settings/users/invite", {"name": "Twin", "email": admin.email, "role": "rep"})
        assert taken.status_code == 422 and "exists" in taken.text and 'id="invite-email-msg"' in taken.text
        assert fresh(session).scalar(select(User).where(User.name == "Twin")) is None

    def test_role_team_deactivation_and_reset(self, web, factory, session):
        team = factory.team("South")
        logged_in(web, factory, session, role="admin")
        rep = factory.user(name="Rae Rep")
        session.commit()
        r = post(web, f"/settings/users/{rep.id}", {"role": "manager", "team_id": str(team.id), "is_active": "on",
                                                    "is_away": "on", "capacity": "40"})
        assert r.status_code == 303
        saved = fresh(session).get(User, rep.id)
        assert (saved.role, saved.team_id, saved.is_away, saved.capacity) == ("manager", team.id, True, 40)
        bad = post(web, f"/settings/users/{rep.id}", {"role": "chief", "capacity": "-1", "is_active": "on"})
        assert bad.status_code == 422 and f'id="role-{rep.id}-msg"' in bad.text and f'id="capacity-{rep.id}-msg"' in bad.text
        assert post(web, f"/settings/users/{rep.id}/send-link").status_code == 303
        assert "/welcome/" in invite_link(session, rep.email)
        assert post(web, f"/settings/users/{rep.id}", {"role": "manager"}).status_code == 303  # no is_active: deactivated
        assert fresh(session).get(User, rep.id).is_active is False

    def test_the_last_admin_cannot_deactivate_themselves(self, web, factory, session):
        admin = logged_in(web, factory, session, role="admin")
        r = post(web, f"/settings/users/{admin.id}", {"role": "rep", "is_active": "on"})
        assert r.status_code == 422 and "last active admin" in r.text
        assert fresh(session).get(User, admin.id).role == "admin"


class TestTeams:
    def test_create_rename_and_manager(self, web, factory, session):
        admin = logged_in(web, factory, session, role="admin")
        assert post(web, "/settings/teams", {"name": "Enterprise", "manager_id": str(admin.id)}).status_code == 303
        team = fresh(session).scalar(select(Team).where(Team.name == "Enterprise"))
        assert team.manager_id == admin.id
        assert post(web, f"/settings/teams/{team.id}", {"name": "Strategic", "manager_id": ""}).status_code == 303
        assert (fresh(session).get(Team, team.id).name, fresh(session).get(Team, team.id).manager_id) == ("Strategic", None)

    def test_a_duplicate_or_empty_name_is_refused(self, web, factory, session):
        factory.team("Taken")
        logged_in(web, factory, session, role="admin")
        empty = post(web, "/settings/teams", {"name": ""})
        assert empty.status_code == 422 and 'id="team-new-name-msg"' in empty.text
        duplicate = post(web, "/settings/teams", {"name": "Taken"})
        assert duplicate.status_code == 422 and "exists" in duplicate.text


class TestTokens:
    def test_created_once_shown_then_revoked(self, web, api, factory, session):
        user = logged_in(web, factory, session)
        r = post(web, "/settings/tokens", {"name": "Zapier"})
        assert r.status_code == 201
        secret = re.search(r'value="(pw_[^"]+)"', r.text).group(1)
        assert api.get("/api/v1/contacts", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
        assert secret not in web.get("/settings/tokens").text
        token = fresh(session).scalar(select(ApiToken).where(ApiToken.user_id == user.id))
        assert post(web, f"/settings/tokens/{token.id}/revoke").status_code == 303
        assert api.get("/api/v1/contacts", headers={"Authorization": f"Bearer {secret}"}).status_code == 401

    def test_a_name_is_required_and_others_tokens_stay_hidden(self, web, factory, session):
        other = factory.user(name="Olga Other")
        factory.token(other)
        logged_in(web, factory, session)
        r = post(web, "/settings/tokens", {"name": ""})
        assert r.status_code == 422 and 'id="token-name-msg"' in r.text
        assert "Olga Other" not in web.get("/settings/tokens").text
        token = fresh(session).scalar(select(ApiToken).where(ApiToken.user_id == other.id))
        assert post(web, f"/settings/tokens/{token.id}/revoke").status_code == 404
