import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.db.session import session_scope
from pipewise.errors import ValidationFailed
from pipewise.events.models import OutboxEvent
from pipewise.leads import importer
from pipewise.leads.models import Lead, LeadImport
from pipewise.records.models import RecordHistory

DATA = Path(__file__).resolve().parents[1] / "data"


def run_import(content: bytes, **options):
    opts = importer.ImportOptions(**options)
    with session_scope() as s:
        job = importer.start(s, filename="test.csv", options=opts, actor=SYSTEM_ACTOR)
    seen = []
    importer.run(session_scope, job.id, io.BytesIO(content), options=opts, actor=SYSTEM_ACTOR,
                 progress=lambda rows, size: seen.append((rows, size)))
    with session_scope(write=False) as s:
        job = s.get(LeadImport, job.id)
        report = [(r.line, r.outcome, r.reason) for r in importer.rows_of(s, job.id)]
        s.expunge(job)
    return job, report, seen


BROKEN = (
    b"First Name,Last Name,Email,Company\n"
    b"Ada,Lovelace,ada@engines.example,Engines\n"       # 2 good
    b"Bad,Mail,not-an-address,Nowhere\n"                # 3 bad e-mail
    b"Caf\xe9,Latin1,cafe@latin.example,Latin\n"        # 4 bad encoding
    b"Only,Three,fields@example.com\n"                  # 5 missing column
    b",,,NoName Corp\n"                                 # 6 required values empty
    b"Huge,Line,huge@example.com," + b"x" * 10_000_000 + b"\n"  # 7 a 10 MB line
    b'Multi,"Line\nName",multi@example.com,Two Lines\n'  # 8-9 one record on two lines
    b"Grace,Hopper,grace@navy.example,Navy\n"           # 10 good
)


class TestRowReport:
    def test_every_bad_row_is_named_and_the_good_ones_land(self, session):
        job, report, progress = run_import(BROKEN)
        reasons = {line: reason for line, outcome, reason in report if outcome == "rejected"}
        assert set(reasons) == {3, 4, 5, 6, 7}
        assert "email 'not-an-address'" in reasons[3]
        assert "not valid UTF-8" in reasons[4]
        assert "3 fields where the header has 4" in reasons[5]
        assert "neither a last name nor an e-mail" in reasons[6]
        assert "10.0 MB long" in reasons[7]
        assert (job.status, job.total_rows, job.created_count, job.rejected_count) == ("done", 8, 3, 5)
        emails = set(session.scalars(select(Lead.email)))
        assert emails == {"ada@engines.example", "multi@example.com", "grace@navy.example"}
        assert progress and progress[-1][0] == 8

    def test_created_leads_have_history_and_events(self, session):
        """One ``lead.imported`` event per batch; the worker turns it into a ``lead.created``
        per lead, and a workflow that starts on created leads starts on imported ones."""
        from pipewise import domains
        from pipewise.automation.models import Enrollment
        from pipewise.automation.service import workflow_service
        from pipewise.worker.runner import Worker

        domains.load()
        workflow = workflow_service.create(session, name="Welcome", actor=SYSTEM_ACTOR, definition={
            "trigger": {"type": "record_created", "record_type": "lead"},
            "steps": [{"id": "call", "type": "create_task", "title": "Call {{ record.last_name }}"}]})
        workflow_service.activate(session, workflow.id, actor=SYSTEM_ACTOR)
        session.commit()
        job, _, _ = run_import(b"Last Name,Email\nLovelace,ada@engines.example\nHopper,grace@navy.example\n")
        leads = {lead.last_name: lead for lead in session.scalars(select(Lead))}
        ada = leads["Lovelace"]
        history = session.scalar(select(RecordHistory).where(RecordHistory.record_id == ada.id))
        assert (history.action, history.changes) == ("created", {"import": [None, str(job.id)], "line": [None, 2]})
        batch = session.scalars(select(OutboxEvent).where(OutboxEvent.name == "lead.imported")).all()
        assert len(batch) == 1 and batch[0].record_id == job.id
        assert ada.scored_at is not None

        session.commit()  # end the test's read snapshot; the worker writes in its own
        Worker(name="test").run_until_idle()
        created = session.scalar(select(OutboxEvent).where(OutboxEvent.record_id == ada.id, OutboxEvent.name == "lead.created"))
        assert created.payload["changes"] == {"import": [None, str(job.id)], "line": [None, 2]}
        enrolled = set(session.scalars(select(Enrollment.record_id).where(Enrollment.workflow_id == workflow.id)))
        assert enrolled == {lead.id for lead in leads.values()}

    def test_a_failing_batch_leaves_nothing_behind(self, session, monkeypatch):
        from pipewise.leads import import_batches

        def broken(*args, **kwargs):
            raise RuntimeError("the disk is full")

        monkeypatch.setattr(import_batches.bus, "record", broken)
        with pytest.raises(RuntimeError):
            run_import(b"Last Name,Email\nLovelace,ada@engines.example\n")
        assert session.scalar(select(func.count()).select_from(Lead)) == 0
        assert session.scalar(select(func.count()).select_from(RecordHistory)) == 0

    def test_a_second_process_cleans_large_files_with_the_same_report(self, session, monkeypatch):
        from pipewise.leads import import_batches

        assert import_batches.worth_a_process(io.BytesIO(b"x" * 100), min_bytes=50)
        assert not import_batches.worth_a_process(io.BytesIO(b"x" * 100), min_bytes=500)
        monkeypatch.setattr(importer, "worth_a_process", lambda stream: True)
        job, report, progress = run_import(BROKEN)
        assert {line for line, outcome, _ in report if outcome == "rejected"} == {3, 4, 5, 6, 7}
        assert (job.status, job.total_rows, job.created_count) == ("done", 8, 3)
        assert progress[-1] == (8, len(BROKEN))

    def test_missing_required_mapping_stops_before_any_write(self, session):
        with pytest.raises(ValidationFailed) as exc:
            run_import(b"Company,Industry\nAcme,Software\n")
        assert exc.value.errors[0].field == "mapping"
        assert session.scalar(select(func.count()).select_from(Lead)) == 0
        assert session.scalar(select(LeadImport.status)) == "failed"


class TestDuplicates:
    CSV = b"Last Name,Email,Title\nLovelace,ada@engines.example,CTO\n"

    @pytest.mark.parametrize(("mode", "leads", "title"), [("skip", 1, "Countess"), ("update", 1, "CTO"), ("create", 2, None)])
    def test_on_duplicate(self, session, factory, mode, leads, title):
        factory.lead(last_name="Lovelace", email="ada@engines.example", title="Countess")
        session.commit()
        job, report, _ = run_import(self.CSV, on_duplicate=mode)
        assert session.scalar(select(func.count()).select_from(Lead)) == leads
        if mode == "skip":
            assert report == [(2, "skipped", "a lead with the e-mail ada@engines.example exists")]
        if mode == "update":
            assert job.updated_count == 1
            assert session.scalar(select(Lead.title)) == title

    def test_same_email_twice_in_the_file(self, session):
        job, report, _ = run_import(b"Last Name,Email\nA,a@x.example\nB,a@x.example\n")
        assert report == [(3, "skipped", "same e-mail as line 2")]

    def test_fuzzy_duplicates_become_candidates(self, session, factory):
        from pipewise.leads.models import DuplicateCandidate

        factory.lead(first_name="Grace", last_name="Hopper", company="US Navy", email="grace@navy.example")
        session.commit()
        run_import(b"First Name,Last Name,Company\nGrace,Hopper,U.S. Navy\n")
        assert session.scalar(select(func.count()).select_from(DuplicateCandidate)) >= 1


class TestExportsOfOtherCrms:
    def test_hubspot_columns_map_themselves(self, session):
        job, report, _ = run_import((DATA / "hubspot_contacts_export.csv").read_bytes())
        assert report == [] and job.created_count == 3
        ada = session.scalar(select(Lead).where(Lead.email == "ada@engines.example"))
        assert (ada.last_name, ada.phone, ada.country, ada.region, ada.company_size, ada.source) == (
            "Lovelace", "+14155552671", "US", "US-CA", 120, "ORGANIC_SEARCH")
        assert session.scalar(select(Lead.status).where(Lead.last_name == "Turing")) == "disqualified"

    def test_salesforce_columns_map_themselves(self, session):
        job, report, _ = run_import((DATA / "salesforce_leads_export.csv").read_bytes())
        assert report == [] and job.created_count == 2
        kj = session.scalar(select(Lead).where(Lead.last_name == "Johnson"))
        assert (kj.company_size, kj.region, kj.status, kj.source) == (3000, "US-VA", "new", "Web")

    def test_preview_suggests_mapping_and_shows_errors(self):
        result = importer.preview(io.BytesIO(BROKEN))
        assert result.mapping == {"First Name": "first_name", "Last Name": "last_name", "Email": "email", "Company": "company"}
        assert result.rows[0]["values"]["email"] == "ada@engines.example"
        assert result.rows[1]["error"].startswith("email")

    def test_semicolon_files(self, session):
        job, report, _ = run_import(b"Nachname;E-Mail\nMeier;meier@firma.example\n",
                                    mapping={"Nachname": "last_name", "E-Mail": "email"}, delimiter=";")
        assert job.created_count == 1
