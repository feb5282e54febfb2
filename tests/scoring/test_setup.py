"""The scoring configuration is read once per process and checked once per transaction by
its version (the row's updated_at and the active model): a change is seen by the next
transaction, in this process and in any other."""

from datetime import timedelta

from sqlalchemy import event, update

from pipewise.db.session import get_engine, get_sessionmaker
from pipewise.scoring import service as scoring
from pipewise.scoring.models import ScoringConfig


def statements_in(fn):
    seen = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(get_engine(), "before_cursor_execute", note)
    try:
        result = fn()
    finally:
        event.remove(get_engine(), "before_cursor_execute", note)
    return result, seen


def in_another_transaction(fn):
    session = get_sessionmaker()()
    try:
        return fn(session)
    finally:
        session.close()


class TestCurrent:
    def test_read_once_then_checked_by_its_version(self, session):
        scoring.update_config(session, {"mql_threshold": 40})
        session.commit()
        setup = in_another_transaction(scoring.current)
        same, statements = statements_in(lambda: in_another_transaction(lambda s: (scoring.current(s), scoring.current(s))[0]))
        assert same is setup and same.mql_threshold == 40
        queries = [s for s in statements if s.startswith("SELECT")]
        assert len(queries) == 1 and "updated_at" in queries[0] and "fit_rules" not in queries[0]

    def test_a_change_here_is_read_by_the_next_transaction(self, session):
        scoring.update_config(session, {"mql_threshold": 40})
        session.commit()
        assert in_another_transaction(scoring.current).mql_threshold == 40
        scoring.update_config(session, {"mql_threshold": 70, "fit_rules": []})
        assert scoring.current(session).mql_threshold == 70  # the changing transaction sees its change
        assert in_another_transaction(scoring.current).mql_threshold == 40  # the others once it commits
        session.commit()
        setup = in_another_transaction(scoring.current)
        assert (setup.mql_threshold, setup.fit_rules) == (70, [])

    def test_a_change_by_another_process_is_read_by_the_next_transaction(self, session):
        row = scoring.config(session)
        session.commit()
        assert in_another_transaction(scoring.current).mql_threshold == 60
        # Another process writes the row (no ORM here, so nothing in this process knows).
        with get_engine().begin() as conn:
            conn.execute(update(ScoringConfig).values(mql_threshold=55, updated_at=row.updated_at + timedelta(seconds=1)))
        assert in_another_transaction(scoring.current).mql_threshold == 55

    def test_no_configuration_stored_means_the_defaults(self, session):
        setup = scoring.current(session)
        assert setup.mql_threshold == 60 and setup.fit_rules and setup.model_id is None
