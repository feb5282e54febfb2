from sqlalchemy import func, select

from pipewise.crm.models import Account
from pipewise.deals.models import Deal


def count(session, model) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model))


class TestDemo:
    def test_loads_with_progress_and_a_summary(self, cli, session):  # type: ignore[no-untyped-def]
        result = cli("demo", "--accounts", "25")
        assert result.exit_code == 0, result.output
        assert "Deals open / won / lost" in result.stdout
        assert "Accounts" in result.stderr  # the progress bar
        assert count(session, Account) >= 25
        assert count(session, Deal) >= 10

    def test_if_empty_leaves_a_filled_database_alone(self, cli, factory, session):  # type: ignore[no-untyped-def]
        factory.account()
        session.commit()
        result = cli("demo", "--accounts", "25", "--if-empty")
        assert result.exit_code == 0, result.output
        assert "no demo data loaded" in result.stderr
        assert count(session, Account) == 1

    def test_refuses_to_load_twice(self, cli, factory, session):  # type: ignore[no-untyped-def]
        factory.account()
        session.commit()
        result = cli("demo", "--accounts", "25")
        assert result.exit_code == 1
        assert "already has 1 accounts" in result.stderr
        assert "Traceback" not in result.output

    def test_bad_size_is_rejected(self, cli):  # type: ignore[no-untyped-def]
        result = cli("demo", "--accounts", "0")
        assert result.exit_code == 2
        assert "--accounts" in result.output
