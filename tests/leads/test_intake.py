"""What follows a lead's creation right after commit, in the worker (leads/intake.py): the
fuzzy duplicate check, the score and, for a lead nobody owns, routing. The request answers
first; what it promises (cleaned fields, the exact duplicates) is there at once."""

from dataclasses import replace

import pytest
from sqlalchemy import func, select, update

from pipewise.assignment import service as routing
from pipewise.assignment.models import LeadAssignment
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.db.base import utcnow
from pipewise.db.session import session_scope
from pipewise.events import bus
from pipewise.leads import dedup, intake, match_keys
from pipewise.leads.match_keys import keys_of, person_of
from pipewise.leads.models import DuplicateCandidate, Lead, MatchKey
from pipewise.leads.service import lead_service
from pipewise.scoring import service as scoring_service
from pipewise.worker import runner
from pipewise.scoring.models import ScoreHistory
from tests.leads.support import drain, settle

CSV = b"First Name,Last Name,Email,Job Title\nAda,Lovelace,ada@engines.example,CTO\n"


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


class TestAfterAnApiCreate:
    def test_the_answer_comes_first_then_the_worker_scores_compares_and_routes(self, api, session, factory):
        admin, rep = factory.user(role="admin"), factory.user(name="Rita")
        routing.create_rule(session, {"name": "Everyone", "target_type": "user", "user_id": rep.id}, actor=SYSTEM_ACTOR)
        first = factory.lead(first_name="Grace", last_name="Hopper", email="grace@navy.example", company="US Navy")
        session.commit()
        headers = factory.headers(admin)
        body = {"first_name": "Grace", "last_name": "Hopper", "email": "GRACE@navy.example", "title": "CEO", "owner_id": None}
        created = api.post("/api/v1/leads", json=body, headers=headers)
        assert created.status_code == 201, created.text
        lead = created.json()
        assert (lead["email"], lead["domain"], lead["owner_id"], lead["scored_at"]) == ("grace@navy.example", "navy.example", None, None)
        pairs = api.get(f"/api/v1/leads/{lead['id']}/duplicates", headers=headers).json()
        assert [(p["candidate_id"], p["reason"]) for p in pairs] == [(str(first.id), "same e-mail address")]

        drain(session)
        settled = api.get(f"/api/v1/leads/{lead['id']}", headers=headers).json()
        assert settled["scored_at"] is not None and settled["fit_score"] == 25 + 5
        assert settled["owner_id"] == str(rep.id) and settled["assigned_at"] is not None
        assert any(e["title"] == "Assigned to Rita by rule “Everyone”" for e in api.get(f"/api/v1/leads/{lead['id']}/timeline", headers=headers).json())
        assert len(api.get(f"/api/v1/leads/{lead['id']}/duplicates", headers=headers).json()) == 1

    def test_an_owned_lead_is_scored_and_compared_not_routed(self, session, factory):
        rep = factory.user()
        routing.create_rule(session, {"name": "Everyone", "target_type": "queue", "queue": "inbound"}, actor=SYSTEM_ACTOR)
        older = factory.lead(first_name="Katherine", last_name="Johnson", company="NASA Langley", email="kj@nasa.example")
        lead = factory.lead(owner=rep, first_name="Katherine", last_name="Jonson", company="NASA Langley", email="k.johnson@gmail.com")
        drain(session)
        lead = session.get(Lead, lead.id)
        assert lead.scored_at is not None and (lead.owner_id, lead.queue) == (rep.id, None)
        assert count(session, LeadAssignment, LeadAssignment.lead_id == lead.id) == 0
        pair = session.scalar(select(DuplicateCandidate).where(DuplicateCandidate.record_id == lead.id))
        assert pair.candidate_id == older.id and pair.score >= dedup.DEFAULT_THRESHOLD


class TestOnlyOnce:
    def test_running_the_step_again_changes_nothing(self, session, factory):
        rep = factory.user()
        routing.create_rule(session, {"name": "Everyone", "target_type": "user", "user_id": rep.id}, actor=SYSTEM_ACTOR)
        older = factory.lead(first_name="Ada", last_name="Lovelace", company="Engines", email="ada@engines.example")
        lead = factory.lead(first_name="Ada", last_name="Lovelace", company="Engines Ltd", email="ada@gmail.com", title="CTO", owner_id=None)
        settle(session, older, lead)
        settle(session, lead)
        assert count(session, ScoreHistory, ScoreHistory.lead_id == lead.id) == 1
        assert count(session, LeadAssignment, LeadAssignment.lead_id == lead.id) == 1
        assert count(session, DuplicateCandidate) == 1

    def test_two_alike_leads_in_one_batch_make_one_pair_from_the_newer(self, session, factory):
        older = factory.lead(first_name="Grace", last_name="Hopper", company="US Navy", email="grace@navy.example")
        newer = factory.lead(first_name="Grace", last_name="Hopper", company="U.S. Navy", email="ghopper@gmail.com")
        drain(session)
        pairs = session.execute(select(DuplicateCandidate.record_id, DuplicateCandidate.candidate_id)).all()
        assert pairs == [(newer.id, older.id)]
        for lead in (older, newer):  # the older's check passed the newer by, and kept its keys
            assert set(session.scalars(select(MatchKey.key).where(MatchKey.record_id == lead.id))) == keys_of(person_of(lead))

    def test_a_pair_is_found_whichever_lead_the_worker_reaches_first(self, session, factory):
        """Several workers may take two alike leads in either order: the one reached second
        finds the other by its keys, and the pair is stored once."""
        older = factory.lead(first_name="Grace", last_name="Hopper", company="US Navy", email="grace@navy.example")
        newer = factory.lead(first_name="Grace", last_name="Hopper", company="U.S. Navy", email="ghopper@gmail.com")
        settle(session, newer)
        assert session.scalar(select(func.count()).select_from(DuplicateCandidate)) == 0
        settle(session, older)
        settle(session, newer)
        pairs = session.execute(select(DuplicateCandidate.record_id, DuplicateCandidate.candidate_id)).all()
        assert pairs == [(older.id, newer.id)]


class TestAfterAChange:
    def test_a_change_that_moves_the_score_or_the_match_is_worked_after_commit(self, session, factory):
        other = factory.lead(first_name="Alan", last_name="Turing", company="Bletchley Park", email="alan@bletchley.example")
        lead = factory.lead(first_name="Alan", last_name="Smith", company="Bletchley Park", email="a@gchq.example", title="Analyst")
        drain(session)
        before = session.get(Lead, lead.id).fit_score
        lead_service.update(session, session.get(Lead, lead.id), data={"title": "CEO", "last_name": "Turing"}, actor=SYSTEM_ACTOR)
        session.commit()
        assert session.get(Lead, lead.id).fit_score == before
        drain(session)
        lead = session.get(Lead, lead.id)
        assert lead.fit_score == before + 25
        assert [p.candidate_id for p in dedup.review_list(session, SYSTEM_ACTOR, involving=("lead", lead.id))] == [other.id]


class TestImports:
    def test_imported_leads_are_scored_by_their_import_and_not_routed(self, api, session, factory):
        rep = factory.user()
        routing.create_rule(session, {"name": "Everyone", "target_type": "user", "user_id": rep.id}, actor=SYSTEM_ACTOR)
        headers = factory.headers(factory.user(role="admin"))
        done = api.post("/api/v1/lead-imports", files={"file": ("leads.csv", CSV)}, data={"on_duplicate": "skip"}, headers=headers)
        assert done.status_code == 201, done.text
        drain(session)
        lead = session.scalar(select(Lead).where(Lead.email == "ada@engines.example"))
        assert lead.scored_at is not None and lead.fit_score >= 25 and lead.owner_id is None
        assert count(session, LeadAssignment) == 0 and count(session, ScoreHistory, ScoreHistory.lead_id == lead.id) == 1


def _a_stored_twin_and_a_pair_in_one_batch(session, factory) -> set:
    """A lead the worker has handled; then, for one batch, its twin and two leads that are
    each other's: the pairs the batch should find."""
    stored = factory.lead(first_name="Grace", last_name="Hopper", company="US Navy", email="grace@navy.example")
    drain(session)
    twin = factory.lead(first_name="Grace", last_name="Hoper", company="U.S. Navy", email="gh@gmail.com")
    first = factory.lead(first_name="Katherine", last_name="Johnson", company="NASA Langley", email="kj@nasa.example")
    second = factory.lead(first_name="Katherine", last_name="Jonson", company="NASA Langley", email="k.johnson@gmail.com")
    return {(twin.id, stored.id), (second.id, first.id)}


class TestOneReadOfKeysPerBatch:
    def test_a_batch_reads_who_shares_its_leads_keys_at_once_and_still_finds_every_pair(self, session, factory, monkeypatch):
        expected = _a_stored_twin_and_a_pair_in_one_batch(session, factory)
        per_lead, per_batch = [], []
        one_lead, driver_cursor = match_keys._lookup_statement, match_keys.driver_cursor
        monkeypatch.setattr(match_keys, "_lookup_statement", lambda count: per_lead.append(count) or one_lead(count))
        monkeypatch.setattr(match_keys, "driver_cursor", lambda *args, **kw: per_batch.append(args[1]) or driver_cursor(*args, **kw))
        drain(session)
        assert _pairs(session) == expected, "the stored lead's twin, and the batch's own pair"
        if session.get_bind().dialect.name == "postgresql":
            assert (len(per_batch), len(per_lead)) == (1, 0), "one statement for the batch's three leads"
        else:  # SQLite: a statement per lead costs no round trip
            assert (len(per_batch), len(per_lead)) == (0, 3)


def _foresee_with(monkeypatch, foresee) -> None:
    """The intake's look ahead replaced by ``foresee`` (which may call the real one)."""
    monkeypatch.setitem(bus._subscriptions, intake.SUBSCRIBER, replace(bus.subscription(intake.SUBSCRIBER), foresee=foresee))


def _pairs(session) -> set:
    return set(session.execute(select(DuplicateCandidate.record_id, DuplicateCandidate.candidate_id)).all())


class TestWorkedOutAhead:
    """On SQLite the worker compares a batch's leads in a read transaction before it takes
    the write turn (``intake.foresee``), and the batch takes those comparisons where the
    lead and its block are as they were."""

    @pytest.fixture(autouse=True)
    def _one_writer(self, session, monkeypatch):
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("PostgreSQL has no write turn: its batches compare as they go")
        # As while the API's writes keep the worker waiting for the turn.
        monkeypatch.setattr(runner, "kept_waiting_lately", lambda within: True)

    def test_the_comparisons_are_made_before_the_batch_and_find_the_same_pairs(self, session, factory, monkeypatch):
        expected = _a_stored_twin_and_a_pair_in_one_batch(session, factory)
        phases, ahead = [], [False]
        compare, foresee_batch = dedup.compare, bus.foresee_batch

        def foreseeing(*args, **kwargs):
            ahead[0] = True
            try:
                return foresee_batch(*args, **kwargs)
            finally:
                ahead[0] = False

        monkeypatch.setattr(dedup, "compare", lambda a, b: phases.append("ahead" if ahead[0] else "batch") or compare(a, b))
        monkeypatch.setattr(bus, "foresee_batch", foreseeing)
        drain(session)
        assert _pairs(session) == expected, "the stored lead's twin, and the batch's own pair"
        assert phases and set(phases) == {"ahead"}, phases

    def test_a_lead_changed_after_it_was_worked_out_is_compared_again_in_the_batch(self, session, factory, monkeypatch):
        stored = factory.lead(first_name="Grace", last_name="Hopper", company="US Navy", email="grace@navy.example")
        drain(session)
        # In the stored lead's block (same sound of the name, same company), but someone else.
        lead = factory.lead(first_name="Zoe", last_name="Hopper", company="US Navy", email="zoe@fleet.example")
        session.commit()
        foresee, lead_id, stored_id = intake.foresee, lead.id, stored.id

        def then_renamed(read_session, events):
            found = foresee(read_session, events)
            assert stored_id in found.compared[lead_id].asked and not found.compared[lead_id].found
            with session_scope() as other:  # another writer, between the look ahead and the batch
                other.execute(update(Lead).where(Lead.id == lead_id).values(first_name="Grace", email="grace.h@navy.example"))
            return found

        _foresee_with(monkeypatch, then_renamed)
        drain(session)
        assert _pairs(session) == {(lead.id, stored.id)}, "compared as it is in the batch, not as it was read ahead"

    def test_a_record_that_joined_the_block_after_the_look_ahead_is_compared_in_the_batch(self, session, factory, monkeypatch):
        lead = factory.lead(first_name="Grace", last_name="Hopper", company="US Navy", email="grace@navy.example")
        session.commit()
        foresee = intake.foresee
        contact = factory.contact(first_name="Grace", last_name="Hopper", email="g.hopper@navy.example")
        session.commit()
        contact_id = contact.id

        def then_a_contact_joins(read_session, events):
            found = foresee(read_session, events)
            with session_scope() as other:  # an import or a merge writes keys of its own meanwhile
                match_keys.refresh(other, "contact", [contact_id])
            return found

        _foresee_with(monkeypatch, then_a_contact_joins)
        drain(session)
        assert (lead.id, contact.id) in _pairs(session)

    def test_the_batch_takes_the_scores_read_ahead_unless_the_lead_changed_since(self, session, factory, monkeypatch):
        kept = factory.lead(first_name="Ada", last_name="Lovelace", company="Analytical Engines", title="CEO")
        changed = factory.lead(first_name="Alan", last_name="Turing", company="Bletchley Park", title="Student")
        session.commit()
        foresee, changed_id = intake.foresee, changed.id
        in_batch: list[set] = []
        promoted_at: list = []
        assess = scoring_service.assess

        def then_promoted(read_session, events):
            found = foresee(read_session, events)
            with session_scope() as other:  # changed through the service: a new version
                lead_service.update(other, other.get(Lead, changed_id), data={"title": "CEO"}, actor=SYSTEM_ACTOR)
            promoted_at.append(utcnow())
            monkeypatch.setattr(scoring_service, "assess", lambda s, leads, **kw: in_batch.append({x.id for x in leads}) or assess(s, leads, **kw))
            return found

        _foresee_with(monkeypatch, then_promoted)
        drain(session)
        assert in_batch[0] == {changed_id}, "only the changed lead is assessed again in the batch"
        kept, changed = session.get(Lead, kept.id), session.get(Lead, changed_id)
        assert changed.fit_score == kept.fit_score > 0, "scored as a CEO, as it is in the batch"
        assert changed.scored_at > promoted_at[0], "scored as of the batch, not of the look ahead before the change"

    def test_a_look_ahead_that_tries_to_write_is_refused_and_the_batch_does_it_all(self, session, factory, monkeypatch, caplog):
        expected = _a_stored_twin_and_a_pair_in_one_batch(session, factory)
        foresee = intake.foresee

        def writing(read_session, events):
            read_session.execute(update(Lead).values(title="written ahead"))
            return foresee(read_session, events)

        _foresee_with(monkeypatch, writing)
        drain(session)
        assert _pairs(session) == expected
        assert session.scalar(select(func.count()).select_from(Lead).where(Lead.title == "written ahead")) == 0
        assert "working out a batch ahead failed" in caplog.text
