from alembic import context
from sqlalchemy import pool

from pipewise import domains
from pipewise.config import get_settings
from pipewise.db.base import Base
from pipewise.db.session import make_engine

domains.load()  # every domain's tables into Base.metadata
config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _render_item(type_: str, obj, autogen_context):  # type: ignore[no-untyped-def]
    # JSONB renders as JSONB(astext_type=Text()); make the name resolvable in the script.
    if type_ == "type":
        autogen_context.imports.add("from sqlalchemy import Text")
    return False


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
