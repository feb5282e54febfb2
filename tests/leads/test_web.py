import re
import uuid

import pytest
from sqlalchemy import select

from pipewise.assignment import service as routing
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.jobs import service as jobs
from pipewise.leads.models import DuplicateCandidate, Lead
from tests.leads.support import drain
from tests.web.conftest import WebClient

CSV = b"First Name,Last Name,Email\nAda,Lovelace,ada@engines.example\nBad,Mail,nope\n"


@pytest.fixture
def desk(api, session, factory):
    manager = factory.user(role="manager", name="Mona")
    session.commit()
    client = WebClient(api)
    assert client.login(manager).status_code == 303
    return client, manager


class TestLeadDesk:
    def test_queue_sorted_by_score_with_reasons(self, desk, session, factory):
        client, manager = desk
        factory.lead(owner=manager, last_name="Low", title="Intern")
        factory.lead(owner=manager, last_name="High", title="CEO", company_size=200)
        drain(session)
        page = client.get("/lead-queue").text
        assert page.index("High") < page.index("Low")
        assert "C-level or founder" in page and "Lead desk" in page

    def test_import_wizard(self, desk, session):
        client, _ = desk
        token = client.csrf("/lead-import")
        preview = client.client.post("/lead-import/preview", data={"csrf_token": token, "delimiter": ","},
                                     files={"file": ("people.csv", CSV, "text/csv")})
        assert preview.status_code == 200 and 'option value="email" selected' in preview.text
        upload = re.search(r'name="token" value="([0-9a-f]+)"', preview.text).group(1)
        started = client.post("/lead-import/run", {"token": upload, "filename": "people.csv", "delimiter": ",",
                                                   "map:First Name": "first_name", "map:Last Name": "last_name",
                                                   "map:Email": "email", "on_duplicate": "skip"})
        assert started.status_code == 200 and "Import of people.csv" in started.text  # the job's progress page
        jobs.wait_for(uuid.UUID(started.url.path.rsplit("/", 1)[1]))
        result = re.search(r'href="(/lead-import/[0-9a-f-]+)"', client.get(started.url.path).text).group(1)
        done = client.get(result)
        assert done.status_code == 200 and "rejected" in done.text
        assert re.search(r"<dt>Created</dt><dd>1</dd>", done.text)
        assert "email &#39;nope&#39;" in done.text or "email 'nope'" in done.text
        assert session.scalar(select(Lead.email)) == "ada@engines.example"

    def test_duplicate_review_and_merge(self, desk, session, factory):
        client, manager = desk
        factory.lead(owner=manager, first_name="Grace", last_name="Hopper", email="grace@navy.example")
        factory.lead(owner=manager, first_name="Grace", last_name="Hopper", email="grace@navy.example")
        session.commit()
        page = client.get("/lead-duplicates").text
        assert "same e-mail address" in page
        pair = session.scalar(select(DuplicateCandidate))
        assert client.post(f"/lead-duplicates/{pair.id}", {"action": "merge", "keep": "left"}).status_code == 200
        session.rollback()
        assert len(session.scalars(select(Lead)).all()) == 1

    def test_a_rep_sees_the_same_pairs_in_the_api_and_on_the_page(self, api, session, factory):
        """A pair shows only to someone who can see both of its records, on every path."""
        ours, theirs = factory.team(), factory.team()
        rep, other_rep = factory.user(team=ours), factory.user(team=theirs)
        factory.lead(owner=rep, first_name="Grace", last_name="Hopper", email="grace@navy.example")
        factory.lead(owner=rep, first_name="Grace", last_name="Hopper", email="grace@navy.example")
        factory.lead(owner=rep, first_name="Alan", last_name="Turing", email="alan@bletchley.example")
        factory.lead(owner=other_rep, first_name="Alan", last_name="Turing", email="alan@bletchley.example")
        factory.lead(owner=other_rep, first_name="Ada", last_name="Lovelace", email="ada@engines.example")
        factory.lead(owner=other_rep, first_name="Ada", last_name="Lovelace", email="ada@engines.example")
        session.commit()
        mine = {p.id for p in session.scalars(select(DuplicateCandidate)) if p.reason == "same e-mail address"
                and session.get(Lead, p.record_id).owner_id == session.get(Lead, p.candidate_id).owner_id == rep.id}
        everything = {p.id for p in session.scalars(select(DuplicateCandidate))}
        assert len(mine) == 1 and len(everything) == 3

        listed = api.get("/api/v1/duplicates", headers=factory.headers(rep)).json()
        client = WebClient(api)
        assert client.login(rep).status_code == 303
        shown = {int(i) for i in re.findall(r'action="/lead-duplicates/(\d+)"', client.get("/lead-duplicates").text)}
        assert {p["id"] for p in listed} == shown == mine

        hidden = min(everything - mine)
        assert client.post(f"/lead-duplicates/{hidden}", {"action": "dismiss"}).status_code == 422
        admin = factory.headers(factory.user(role="admin"))
        assert {p["id"] for p in api.get("/api/v1/duplicates", headers=admin).json()} == everything

    def test_a_pair_does_not_name_the_domain_of_an_account_the_rep_cannot_see(self, api, session, factory):
        """Two contacts a rep owns at another team's account: the pair shows, and its reason
        does not reveal that account's domain."""
        from pipewise.leads import dedup

        ours, theirs = factory.team(), factory.team()
        rep, other_rep = factory.user(team=ours), factory.user(team=theirs)
        hidden = factory.account(owner=other_rep, name="Hidden Works", domain="hidden-works.example")
        for email in ("grace.h@mail.example", "g.hopper@post.example"):
            contact = factory.contact(owner=other_rep, first_name="Grace", last_name="Hopper", email=email, account_id=hidden.id)
            contact.owner_id = rep.id  # handed over to the rep; the account stays with its team
        session.commit()
        dedup.scan(session)
        session.commit()
        listed = api.get("/api/v1/duplicates", headers=factory.headers(rep)).json()
        client = WebClient(api)
        assert client.login(rep).status_code == 303
        assert len(listed) == 1 and "same company domain" in listed[0]["reason"]
        assert "hidden-works" not in str(listed) and "hidden-works" not in client.get("/lead-duplicates").text

    def test_scoring_page_and_bad_rules(self, desk):
        client, _ = desk
        assert "Fit rules" in client.get("/lead-scoring").text
        bad = client.post("/lead-scoring", {"fit_rules": "[{", "mql_threshold": "60", "half_life_days": "14"})
        assert bad.status_code == 422 and "is not JSON" in bad.text

    def test_training_from_the_page_is_a_job_for_the_worker(self, desk, session):
        from pipewise.scoring.models import ScoringTraining

        client, _ = desk
        assert client.post("/lead-scoring/train", {}).status_code == 200  # back on the page, nothing trained yet
        training = session.scalar(select(ScoringTraining))
        assert training is not None and training.status == "queued"
        assert "waiting for the worker" in client.get("/lead-scoring").text

    def test_routing_editor(self, desk, session, factory):
        client, _ = desk
        rep = factory.user(name="Rita")
        session.commit()
        added = client.post("/lead-routing", {"action": "add", "name": "US leads", "target_type": "user", "user_id": str(rep.id),
                                              "conditions": '{"field": "country", "op": "eq", "value": "US"}'})
        assert added.status_code == 200 and "US leads" in added.text and "Rita" in added.text
        bad = client.post("/lead-routing", {"action": "add", "name": "x", "target_type": "team"})
        assert bad.status_code == 422
        saved = client.post("/lead-routing", {"action": "policy", "sla_minutes": "15", "work_start": "09:00", "work_end": "17:00",
                                              "timezone": "Europe/Berlin", "workdays": ["0", "1", "2", "3", "4"]})
        assert saved.status_code == 200
        session.rollback()
        assert routing.policy(session).sla_minutes == 15
