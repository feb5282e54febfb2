"""per-day sums of activities for the activities report, and the triggers that note the
days an activity (or its deal's outcome, owner or pipeline) changed
(pipewise.analytics.activity_sums); leads by source, owner and creation for speed to lead

Revision ID: 0045
Revises: 0044
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pipewise.db import report_triggers


revision: str = '0045'
down_revision: str | Sequence[str] | None = '0044'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
ACTIVITY_COLUMNS = 'occurred_at, owner_id, type, deal_id'

SQLITE_TRIGGERS = [
    """CREATE TRIGGER report_activity_inserted AFTER INSERT ON activity BEGIN
         INSERT INTO report_stale_day (day) VALUES (date(NEW.occurred_at)); END""",
    f"""CREATE TRIGGER report_activity_updated AFTER UPDATE OF {ACTIVITY_COLUMNS} ON activity BEGIN
         INSERT INTO report_stale_day (day) SELECT date(NEW.occurred_at) UNION SELECT date(OLD.occurred_at); END""",
    """CREATE TRIGGER report_activity_deleted AFTER DELETE ON activity BEGIN
         INSERT INTO report_stale_day (day) VALUES (date(OLD.occurred_at)); END""",
    # A deal that is won, lost or opened again, or changes owner or pipeline, moves its
    # activities to other rows on every day they happened.
    """CREATE TRIGGER report_deal_activity_days AFTER UPDATE OF stage_id, owner_id, pipeline_id ON deal
         WHEN NEW.owner_id IS NOT OLD.owner_id OR NEW.pipeline_id IS NOT OLD.pipeline_id
           OR (SELECT kind FROM stage WHERE id = NEW.stage_id) IS NOT (SELECT kind FROM stage WHERE id = OLD.stage_id) BEGIN
         INSERT INTO report_stale_day (day) SELECT DISTINCT date(occurred_at) FROM activity WHERE deal_id = NEW.id; END""",
]

UTC_DAY = "({}.occurred_at AT TIME ZONE 'UTC')::date"
POSTGRES_FUNCTIONS = {
    'report_note_activity_days': f"""
        IF TG_OP <> 'INSERT' THEN INSERT INTO report_stale_day (day) VALUES ({UTC_DAY.format('OLD')}); END IF;
        IF TG_OP <> 'DELETE' THEN INSERT INTO report_stale_day (day) VALUES ({UTC_DAY.format('NEW')}); END IF;""",
    'report_note_deal_activity_days': f"""
        IF NEW.owner_id IS DISTINCT FROM OLD.owner_id OR NEW.pipeline_id IS DISTINCT FROM OLD.pipeline_id
           OR (SELECT kind FROM stage WHERE id = NEW.stage_id) IS DISTINCT FROM (SELECT kind FROM stage WHERE id = OLD.stage_id) THEN
          INSERT INTO report_stale_day (day) SELECT DISTINCT {UTC_DAY.format('activity')} FROM activity WHERE deal_id = NEW.id;
        END IF;""",
}
POSTGRES_TRIGGERS = {
    'report_activity_days': (f"AFTER INSERT OR DELETE OR UPDATE OF {ACTIVITY_COLUMNS} ON activity FOR EACH ROW "
                             "EXECUTE FUNCTION report_note_activity_days()"),
    'report_deal_activity_days': ("AFTER UPDATE OF stage_id, owner_id, pipeline_id ON deal FOR EACH ROW "
                                  "EXECUTE FUNCTION report_note_deal_activity_days()"),
}
TRIGGER_TABLES = {'report_activity_days': 'activity', 'report_deal_activity_days': 'deal'}


def upgrade() -> None:
    op.create_table('report_activity_day',
    sa.Column('id', BIGINT_PK, autoincrement=True, nullable=False),
    sa.Column('grain', sa.String(length=5), server_default='day', nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('every_owner', sa.Boolean(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=True),
    sa.Column('deal_owner_id', sa.Uuid(), nullable=True),
    sa.Column('pipeline_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.String(length=4), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('activities', sa.Integer(), nullable=False),
    sa.Column('deal_keys', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_activity_day'))
    )
    op.create_index('ix_report_activity_day_day', 'report_activity_day', ['every_owner', 'grain', 'owner_id', 'day'], unique=False)
    op.create_index('ix_lead_source_owner_created', 'lead', ['source', 'owner_id', 'created_at', 'first_touched_at', 'id'],
                    unique=False)
    report_triggers.install(SQLITE_TRIGGERS, POSTGRES_FUNCTIONS, POSTGRES_TRIGGERS)
    report_triggers.note_every_day()


def downgrade() -> None:
    report_triggers.remove(SQLITE_TRIGGERS, POSTGRES_FUNCTIONS, TRIGGER_TABLES)
    op.drop_index('ix_lead_source_owner_created', table_name='lead')
    op.drop_index('ix_report_activity_day_day', table_name='report_activity_day')
    op.drop_table('report_activity_day')
