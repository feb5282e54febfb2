"""A worker's batch enrolls without a statement per record, and stays exactly-once when
another worker enrolls the same record between the batch's look and its write."""

from sqlalchemy import event, func, select

from pipewise.automation import batch
from pipewise.automation.models import Decision, Enrollment, RecordTag
from pipewise.automation.service import workflow_service
from pipewise.crm.service import contact_service
from tests.automation.support import MANAGER, drain, make_workflow

DEFINITION = {
    "trigger": {"type": "record_updated", "record_type": "contact"},
    "steps": [{"id": "tag", "type": "add_tag", "tag": "seen"}],
}


def count(session, model, *where) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_batch_enrolls_many_records_once_each(session, factory):
    make_workflow(session, DEFINITION)
    contacts = [factory.contact() for _ in range(30)]
    for contact in contacts:  # two updates each, one batch: the second finds the first's enrollment
        for title in ("CEO", "CTO"):
            contact_service.update(session, contact, data={"title": title}, actor=MANAGER)
    drain(session)
    assert count(session, Enrollment) == 30
    assert count(session, RecordTag, RecordTag.tag == "seen") == 30
    assert count(session, Decision, Decision.kind == "enrolled") == 30
    assert count(session, Decision, Decision.kind == "acted") == 30


def test_a_record_enrolled_by_another_worker_meanwhile_is_not_enrolled_twice(session, factory, monkeypatch, caplog):
    workflow = make_workflow(session, DEFINITION)
    contact = factory.contact()
    workflow_service.enroll_records(session, workflow.id, [contact.id], actor=MANAGER)
    drain(session)
    assert count(session, Enrollment) == 1

    def blind(session_, workflow_ids, record_ids):  # type: ignore[no-untyped-def]
        # As if the other worker's enrollment committed just after the batch looked.
        batch.worker_batch(session_).enrolled = (workflow_ids, record_ids, set())

    monkeypatch.setattr(batch, "prepare_enrolled", blind)
    contact_service.update(session, contact, data={"title": "CEO"}, actor=MANAGER)
    with caplog.at_level("INFO", logger="pipewise.worker"):
        drain(session)
    assert "running it again item by item" in caplog.text
    assert count(session, Enrollment) == 1, "the unique key failed the batch; item by item it found the enrollment"
    assert count(session, Decision, Decision.kind == "enrolled") == 1


def test_a_pass_reads_the_workflows_listening_to_all_its_kinds_of_event_at_once(session, factory):
    edited = factory.contact()
    drain(session)  # its creation is handled before any workflow listens
    created = make_workflow(session, {"trigger": {"type": "record_created", "record_type": "contact"},
                                      "steps": [{"id": "tag", "type": "add_tag", "tag": "new"}]}, name="On create")
    updated = make_workflow(session, DEFINITION, name="On update")
    fresh = factory.contact()
    contact_service.update(session, edited, data={"title": "CEO"}, actor=MANAGER)
    statements: list[str] = []

    def note(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", note)
    try:
        drain(session)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "FROM workflow JOIN workflow_version" in s]
    assert len(reads) == 1, reads
    tagged = {t.record_id: t.tag for t in session.scalars(select(RecordTag))}
    assert tagged == {fresh.id: "new", edited.id: "seen"}
    assert count(session, Enrollment, Enrollment.workflow_id == created.id) == 1
    assert count(session, Enrollment, Enrollment.workflow_id == updated.id) == 1
