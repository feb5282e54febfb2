"""The migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from pipewise.db.base import Base
from pipewise.db.migrate import alembic_config
from pipewise.db.session import get_engine


def test_models_and_migrations_agree(database):
    with get_engine().connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], "models differ from migrations; add a migration:\n" + "\n".join(map(str, diff))


def test_one_head(database):
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"several migration heads {heads}: add a merge revision"
