"""per-day sums of deals and histograms of stage and cycle lengths for the reports, and the
triggers that note which days a write changed (pipewise.analytics.rollups)

Revision ID: 0044
Revises: 0043
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pipewise.db import report_triggers


revision: str = '0044'
down_revision: str | Sequence[str] | None = '0043'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

# The days a row of each table counts on: a deal on the day it was created, the day it
# closed and its expected close date; a stage change, a lead converted into a deal and a lead's source on the deal's
# days. A stage that moves or changes kind changes what every day's funnel shows.
DEAL_DAYS_COLUMNS = 'pipeline_id, stage_id, amount, owner_id, created_at, closed_at, close_date'



def _sqlite_change_days(change: str) -> str:
    """The days a stage change counts on: its deal's creation (the funnel), the stay it
    ends, and the stay of the change after it (which it starts)."""
    return (f"SELECT date(created_at) FROM deal WHERE id = {change}.deal_id UNION SELECT date({change}.at) "
            f"UNION SELECT * FROM (SELECT date(at) FROM deal_stage_change WHERE deal_id = {change}.deal_id "
            f"AND (at > {change}.at OR (at = {change}.at AND id > {change}.id)) ORDER BY at, id LIMIT 1)")


def _sqlite_linked_deal_days(ids: str) -> str:
    """The days of the deals a lead is converted into (its source is theirs): the deal's
    own days and those of its stays."""
    return (f"SELECT d FROM (SELECT date(created_at) AS d FROM deal WHERE id IN ({ids}) UNION SELECT date(closed_at) FROM deal "
            f"WHERE id IN ({ids}) UNION SELECT date(close_date) FROM deal WHERE id IN ({ids}) UNION SELECT date(at) "
            f"FROM deal_stage_change WHERE deal_id IN ({ids})) WHERE d IS NOT NULL")


SQLITE_TRIGGERS = [
    """CREATE TRIGGER report_deal_inserted AFTER INSERT ON deal BEGIN
         INSERT INTO report_stale_day (day) SELECT d FROM (SELECT date(NEW.created_at) AS d UNION SELECT date(NEW.closed_at)
         UNION SELECT date(NEW.close_date)) WHERE d IS NOT NULL; END""",
    f"""CREATE TRIGGER report_deal_updated AFTER UPDATE OF {DEAL_DAYS_COLUMNS} ON deal BEGIN
         INSERT INTO report_stale_day (day) SELECT d FROM (SELECT date(NEW.created_at) AS d UNION SELECT date(NEW.closed_at)
         UNION SELECT date(NEW.close_date) UNION SELECT date(OLD.created_at) UNION SELECT date(OLD.closed_at)
         UNION SELECT date(OLD.close_date)) WHERE d IS NOT NULL; END""",
    """CREATE TRIGGER report_deal_deleted AFTER DELETE ON deal BEGIN
         INSERT INTO report_stale_day (day) SELECT d FROM (SELECT date(OLD.created_at) AS d UNION SELECT date(OLD.closed_at)
         UNION SELECT date(OLD.close_date)) WHERE d IS NOT NULL; END""",
    f"""CREATE TRIGGER report_stage_change_inserted AFTER INSERT ON deal_stage_change BEGIN
         INSERT INTO report_stale_day (day) {_sqlite_change_days('NEW')}; END""",
    f"""CREATE TRIGGER report_stage_change_updated AFTER UPDATE ON deal_stage_change BEGIN
         INSERT INTO report_stale_day (day) {_sqlite_change_days('NEW')} UNION {_sqlite_change_days('OLD')}; END""",
    f"""CREATE TRIGGER report_stage_change_deleted AFTER DELETE ON deal_stage_change BEGIN
         INSERT INTO report_stale_day (day) {_sqlite_change_days('OLD')}; END""",
    """CREATE TRIGGER report_deal_reowned AFTER UPDATE OF owner_id, pipeline_id ON deal BEGIN
         INSERT INTO report_stale_day (day) SELECT DISTINCT date(at) FROM deal_stage_change WHERE deal_id = NEW.id; END""",
    """CREATE TRIGGER report_deal_deleting BEFORE DELETE ON deal BEGIN
         INSERT INTO report_stale_day (day) SELECT DISTINCT date(at) FROM deal_stage_change WHERE deal_id = OLD.id; END""",
    f"""CREATE TRIGGER report_lead_inserted AFTER INSERT ON lead WHEN NEW.converted_deal_id IS NOT NULL BEGIN
         INSERT INTO report_stale_day (day) {_sqlite_linked_deal_days('NEW.converted_deal_id')}; END""",
    f"""CREATE TRIGGER report_lead_updated AFTER UPDATE OF converted_deal_id, source ON lead
         WHEN NEW.converted_deal_id IS NOT NULL OR OLD.converted_deal_id IS NOT NULL BEGIN
         INSERT INTO report_stale_day (day) {_sqlite_linked_deal_days('NEW.converted_deal_id, OLD.converted_deal_id')}; END""",
    f"""CREATE TRIGGER report_lead_deleted AFTER DELETE ON lead WHEN OLD.converted_deal_id IS NOT NULL BEGIN
         INSERT INTO report_stale_day (day) {_sqlite_linked_deal_days('OLD.converted_deal_id')}; END""",
    """CREATE TRIGGER report_stage_updated AFTER UPDATE OF position, kind, pipeline_id ON stage BEGIN
         INSERT INTO report_stale_day (day) VALUES (NULL); END""",
]

UTC_DAY = "({}.{} AT TIME ZONE 'UTC')::date"


def _deal_days(record: str) -> str:
    return f"({UTC_DAY.format(record, 'created_at')}), ({UTC_DAY.format(record, 'closed_at')}), ({record}.close_date)"


def _linked_deal_days(ids: str) -> str:
    return (f"INSERT INTO report_stale_day (day) SELECT DISTINCT d FROM deal, LATERAL (VALUES {_deal_days('deal')}) v(d) "
            f"WHERE deal.id IN ({ids}) AND d IS NOT NULL UNION SELECT {UTC_DAY.format('deal_stage_change', 'at')} "
            f"FROM deal_stage_change WHERE deal_id IN ({ids});")


def _postgres_change_days(change: str) -> str:
    return (f"INSERT INTO report_stale_day (day) SELECT DISTINCT d FROM (SELECT {UTC_DAY.format('deal', 'created_at')} AS d "
            f"FROM deal WHERE id = {change}.deal_id UNION SELECT {UTC_DAY.format(change, 'at')} UNION (SELECT "
            f"{UTC_DAY.format('c', 'at')} FROM deal_stage_change c WHERE c.deal_id = {change}.deal_id "
            f"AND (c.at, c.id) > ({change}.at, {change}.id) ORDER BY c.at, c.id LIMIT 1)) v;")


POSTGRES_FUNCTIONS = {
    'report_note_deal_days': f"""
        IF TG_OP <> 'INSERT' THEN
          INSERT INTO report_stale_day (day) SELECT DISTINCT d FROM (VALUES {_deal_days('OLD')}) v(d) WHERE d IS NOT NULL;
        END IF;
        IF TG_OP <> 'DELETE' THEN
          INSERT INTO report_stale_day (day) SELECT DISTINCT d FROM (VALUES {_deal_days('NEW')}) v(d) WHERE d IS NOT NULL;
        END IF;""",
    'report_note_stage_change_days': f"""
        IF TG_OP <> 'INSERT' THEN {_postgres_change_days('OLD')} END IF;
        IF TG_OP <> 'DELETE' THEN {_postgres_change_days('NEW')} END IF;""",
    'report_note_deal_change_days': f"""
        INSERT INTO report_stale_day (day) SELECT DISTINCT {UTC_DAY.format('deal_stage_change', 'at')} FROM deal_stage_change
        WHERE deal_id = OLD.id;
        RETURN OLD;""",
    'report_note_lead_days': f"""
        IF TG_OP <> 'INSERT' THEN {_linked_deal_days('OLD.converted_deal_id')} END IF;
        IF TG_OP <> 'DELETE' THEN {_linked_deal_days('NEW.converted_deal_id')} END IF;""",
    'report_note_every_day': "INSERT INTO report_stale_day (day) VALUES (NULL);",
}
POSTGRES_TRIGGERS = {
    'report_deal_days': f"AFTER INSERT OR DELETE OR UPDATE OF {DEAL_DAYS_COLUMNS} ON deal FOR EACH ROW "
                        "EXECUTE FUNCTION report_note_deal_days()",
    'report_stage_change_days': "AFTER INSERT OR UPDATE OR DELETE ON deal_stage_change FOR EACH ROW "
                                "EXECUTE FUNCTION report_note_stage_change_days()",
    'report_deal_reowned': "AFTER UPDATE OF owner_id, pipeline_id ON deal FOR EACH ROW "
                           "EXECUTE FUNCTION report_note_deal_change_days()",
    'report_deal_deleting': "BEFORE DELETE ON deal FOR EACH ROW EXECUTE FUNCTION report_note_deal_change_days()",
    'report_lead_inserted': "AFTER INSERT ON lead FOR EACH ROW WHEN (NEW.converted_deal_id IS NOT NULL) "
                            "EXECUTE FUNCTION report_note_lead_days()",
    'report_lead_updated': "AFTER UPDATE OF converted_deal_id, source ON lead FOR EACH ROW "
                           "WHEN (NEW.converted_deal_id IS NOT NULL OR OLD.converted_deal_id IS NOT NULL) "
                           "EXECUTE FUNCTION report_note_lead_days()",
    'report_lead_deleted': "AFTER DELETE ON lead FOR EACH ROW WHEN (OLD.converted_deal_id IS NOT NULL) "
                           "EXECUTE FUNCTION report_note_lead_days()",
    'report_stage_updated': "AFTER UPDATE OF position, kind, pipeline_id ON stage FOR EACH ROW "
                            "EXECUTE FUNCTION report_note_every_day()",
}
TRIGGER_TABLES = {'report_deal_days': 'deal', 'report_deal_reowned': 'deal', 'report_deal_deleting': 'deal', 'report_stage_change_days': 'deal_stage_change', 'report_lead_inserted': 'lead',
                  'report_lead_updated': 'lead', 'report_lead_deleted': 'lead', 'report_stage_updated': 'stage'}


def upgrade() -> None:
    op.create_table('report_deal_day',
    sa.Column('id', BIGINT_PK, autoincrement=True, nullable=False),
    sa.Column('basis', sa.String(length=7), nullable=False),
    sa.Column('grain', sa.String(length=5), server_default='day', nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('pipeline_id', sa.Uuid(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=True),
    sa.Column('stage_id', sa.Uuid(), nullable=False),
    sa.Column('furthest', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=60), nullable=False),
    sa.Column('deals', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('cycle_days', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_deal_day'))
    )
    op.create_index('ix_report_deal_day_basis_day', 'report_deal_day', ['basis', 'source', 'grain', 'day'], unique=False)
    op.create_table('report_stale_day',
    sa.Column('id', BIGINT_PK, autoincrement=True, nullable=False),
    sa.Column('day', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_stale_day'))
    )
    op.create_index(op.f('ix_report_stale_day_day'), 'report_stale_day', ['day'], unique=False)
    op.create_table('report_duration_day',
    sa.Column('id', BIGINT_PK, autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=5), nullable=False),
    sa.Column('grain', sa.String(length=5), server_default='day', nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('stage_id', sa.Uuid(), nullable=False),
    sa.Column('pipeline_id', sa.Uuid(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=True),
    sa.Column('every_owner', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=60), nullable=False),
    sa.Column('bucket', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_duration_day'))
    )
    op.create_index('ix_report_duration_day_kind_day', 'report_duration_day', ['kind', 'every_owner', 'source', 'grain', 'owner_id', 'day'], unique=False)
    op.create_index('ix_deal_stage_change_at', 'deal_stage_change', ['at'], unique=False)
    op.create_index('ix_deal_stage_change_deal_at', 'deal_stage_change', ['deal_id', 'at'], unique=False)
    op.create_index('ix_deal_closed_at', 'deal', ['closed_at'], unique=False)
    op.create_index('ix_lead_converted_deal_id', 'lead', ['converted_deal_id'], unique=False)
    report_triggers.install(SQLITE_TRIGGERS, POSTGRES_FUNCTIONS, POSTGRES_TRIGGERS)
    report_triggers.note_every_day()


def downgrade() -> None:
    report_triggers.remove(SQLITE_TRIGGERS, POSTGRES_FUNCTIONS, TRIGGER_TABLES)
    op.drop_index('ix_lead_converted_deal_id', table_name='lead')
    op.drop_index('ix_deal_closed_at', table_name='deal')
    op.drop_index('ix_deal_stage_change_deal_at', table_name='deal_stage_change')
    op.drop_index('ix_deal_stage_change_at', table_name='deal_stage_change')
    op.drop_index('ix_report_duration_day_kind_day', table_name='report_duration_day')
    op.drop_table('report_duration_day')
    op.drop_index(op.f('ix_report_stale_day_day'), table_name='report_stale_day')
    op.drop_table('report_stale_day')
    op.drop_index('ix_report_deal_day_basis_day', table_name='report_deal_day')
    op.drop_table('report_deal_day')
