"""Migration 0026 moves the workflow notifications into the inbox (and back on downgrade),
on a scratch SQLite database of its own."""

import uuid

from alembic import command
from sqlalchemy import create_engine, text

from pipewise.db.migrate import alembic_config


def test_workflow_notifications_move_into_the_inbox_and_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrate.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0023")
    engine = create_engine(url)
    user, note = uuid.uuid4(), uuid.uuid4()
    stamp = "2026-01-05 09:00:00.000000"
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO \"user\" (id, email, name, role, timezone, is_active, is_away, capacity, created_at, updated_at) "
            "VALUES (:id, 'rep@example.com', 'Rep', 'rep', 'UTC', 1, 0, 100, :at, :at)"), {"id": user.hex, "at": stamp})
        conn.execute(text(
            "INSERT INTO automation_notification (id, user_id, key, title, body, record_type, record_id, created_at, read_at) "
            "VALUES (:id, :user, 'wf:1', 'Call Ada', 'Soon', 'contact', NULL, :at, NULL)"), {"id": note.hex, "user": user.hex, "at": stamp})

    command.upgrade(config, "0026")
    with engine.connect() as conn:
        row = conn.execute(text("SELECT id, user_id, kind, title, body, key, read_at FROM notification")).one()
        assert tuple(row) == (note.hex, user.hex, "workflow", "Call Ada", "Soon", "wf:1", None)
        assert "automation_notification" not in {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master"))}

    command.downgrade(config, "0023")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id, title, key FROM automation_notification")).one() == (note.hex, "Call Ada", "wf:1")
    engine.dispose()
