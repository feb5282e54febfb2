"""The notifications a worker batch gives (one per lead it routes) go out in one INSERT
right before its commit, each new one with its ``notification.created``; a key used
before writes nothing and tells no one twice; inside a savepoint that rolls back,
nothing is left."""

from sqlalchemy import event, func, select

from pipewise.db.plain_statement import PlainStatement
from pipewise.db.session import get_engine, session_scope
from pipewise.db.unit_of_work import unit_of_work
from pipewise.events.models import OutboxEvent
from pipewise.notifications.models import Notification
from pipewise.notifications.service import notify, notify_later
from pipewise.worker.runner import Worker
from tests.assignment.test_routing import TestSla as _Sla


def _count(session, model, *where):  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def _created_events(session):  # type: ignore[no-untyped-def]
    return _count(session, OutboxEvent, OutboxEvent.name == "notification.created")


class _Inserts:
    """The statements that insert into the notification table, as SQLAlchemy sends them
    or a ``PlainStatement`` on the driver's own cursor."""

    def __init__(self, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        self.count = 0
        rows = PlainStatement.rows

        def counted(plain, connection, parameters):  # type: ignore[no-untyped-def]
            self._seen(str(plain.statement.compile(dialect=connection.dialect)))
            return rows(plain, connection, parameters)

        monkeypatch.setattr(PlainStatement, "rows", counted)

    def _seen(self, statement: str) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO NOTIFICATION"):
            self.count += 1

    def __call__(self, _conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        self._seen(statement)


def test_a_batch_routing_many_leads_tells_each_owner_in_one_statement(session, factory, monkeypatch):
    manager, _members, _lead, _assignment = _Sla()._setup(session, factory)
    Worker().run_until_idle()
    before, events_before = _count(session, Notification), _created_events(session)
    leads = [factory.lead(manager, owner_id=None) for _ in range(12)]  # made by a person: routed by the worker
    session.commit()
    inserts = _Inserts(monkeypatch)
    event.listen(get_engine(), "before_cursor_execute", inserts)
    try:
        Worker().run_until_idle()
    finally:
        event.remove(get_engine(), "before_cursor_execute", inserts)
    session.expire_all()
    routed = session.scalars(select(Notification).where(Notification.kind == "lead_routed",
                                                        Notification.record_id.in_([lead.id for lead in leads]))).all()
    assert sorted(str(n.record_id) for n in routed) == sorted(str(lead.id) for lead in leads)
    owners = {lead.id: session.get(type(lead), lead.id).owner_id for lead in leads}
    assert all(n.user_id == owners[n.record_id] for n in routed), "each lead's owner is told of it"
    assert inserts.count == 1, "one INSERT for the batch's notifications, not one per lead"
    assert _count(session, Notification) == before + 12
    assert _created_events(session) == events_before + 12


def test_a_key_used_before_writes_nothing_and_records_no_event(session, factory):
    user = factory.user()
    session.commit()
    with session_scope() as s:
        notify(s, user.id, "workflow", "First", key="once")
    with session_scope() as s:
        unit_of_work(s).optimistic = True  # as in the worker's batch
        notify_later(s, user.id, "workflow", "Again", key="once")
        notify_later(s, user.id, "workflow", "New", key="twice")
        notify_later(s, user.id, "workflow", "New again", key="twice")
        assert _count(s, Notification, Notification.user_id == user.id) == 1, "nothing is written before the commit"
    titles = session.scalars(select(Notification.title).where(Notification.user_id == user.id).order_by(Notification.title)).all()
    assert titles == ["First", "New"]
    assert _created_events(session) == 2


def test_inside_a_savepoint_it_is_written_at_once_and_rolled_back_with_it(session, factory):
    user = factory.user()
    session.commit()
    with session_scope() as s:
        unit_of_work(s).optimistic = True
        nested = s.begin_nested()
        notify_later(s, user.id, "workflow", "Undone", key="undone")
        assert s.scalar(select(func.count()).select_from(Notification)) == 1
        nested.rollback()
        notify_later(s, user.id, "workflow", "Kept", key="kept")
    assert session.scalars(select(Notification.title).where(Notification.user_id == user.id)).all() == ["Kept"]
    assert _created_events(session) == 1
