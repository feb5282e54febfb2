"""per-day sums of leads for the lead source report, and the triggers that note the days a
lead (or the deal it converted into) changed (pipewise.analytics.lead_sums)

Revision ID: 0046
Revises: 0045
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pipewise.db import report_triggers


revision: str = '0046'
down_revision: str | Sequence[str] | None = '0045'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
LEAD_COLUMNS = 'created_at, source, attribution, owner_id, converted_deal_id'
DEAL_COLUMNS = 'stage_id, amount, owner_id, pipeline_id'
LEAD_DAYS_OF = "SELECT DISTINCT date(created_at) FROM lead WHERE converted_deal_id = {}"

SQLITE_TRIGGERS = [
    """CREATE TRIGGER report_lead_day_inserted AFTER INSERT ON lead BEGIN
         INSERT INTO report_stale_day (day) VALUES (date(NEW.created_at)); END""",
    f"""CREATE TRIGGER report_lead_day_updated AFTER UPDATE OF {LEAD_COLUMNS} ON lead BEGIN
         INSERT INTO report_stale_day (day) SELECT date(NEW.created_at) UNION SELECT date(OLD.created_at); END""",
    """CREATE TRIGGER report_lead_day_deleted AFTER DELETE ON lead BEGIN
         INSERT INTO report_stale_day (day) VALUES (date(OLD.created_at)); END""",
    # What a converted lead's deal is worth counts on the lead's day.
    f"""CREATE TRIGGER report_deal_lead_days AFTER UPDATE OF {DEAL_COLUMNS} ON deal
         WHEN NEW.amount IS NOT OLD.amount OR NEW.owner_id IS NOT OLD.owner_id OR NEW.pipeline_id IS NOT OLD.pipeline_id
           OR (SELECT kind FROM stage WHERE id = NEW.stage_id) IS NOT (SELECT kind FROM stage WHERE id = OLD.stage_id) BEGIN
         INSERT INTO report_stale_day (day) {LEAD_DAYS_OF.format('NEW.id')}; END""",
    f"""CREATE TRIGGER report_deal_lead_days_deleting BEFORE DELETE ON deal BEGIN
         INSERT INTO report_stale_day (day) {LEAD_DAYS_OF.format('OLD.id')}; END""",
]

UTC_DAY = "({}.created_at AT TIME ZONE 'UTC')::date"
PG_LEAD_DAYS_OF = f"INSERT INTO report_stale_day (day) SELECT DISTINCT {UTC_DAY.format('lead')} FROM lead WHERE converted_deal_id = {{}};"
POSTGRES_FUNCTIONS = {
    'report_note_lead_created_days': f"""
        IF TG_OP <> 'INSERT' THEN INSERT INTO report_stale_day (day) VALUES ({UTC_DAY.format('OLD')}); END IF;
        IF TG_OP <> 'DELETE' THEN INSERT INTO report_stale_day (day) VALUES ({UTC_DAY.format('NEW')}); END IF;
        RETURN NULL;""",
    'report_note_deal_lead_days': f"""
        IF TG_OP = 'DELETE' THEN {PG_LEAD_DAYS_OF.format('OLD.id')} RETURN OLD; END IF;
        IF NEW.amount IS DISTINCT FROM OLD.amount OR NEW.owner_id IS DISTINCT FROM OLD.owner_id
           OR NEW.pipeline_id IS DISTINCT FROM OLD.pipeline_id
           OR (SELECT kind FROM stage WHERE id = NEW.stage_id) IS DISTINCT FROM (SELECT kind FROM stage WHERE id = OLD.stage_id) THEN
          {PG_LEAD_DAYS_OF.format('NEW.id')}
        END IF;
        RETURN NULL;""",
}
POSTGRES_TRIGGERS = {
    'report_lead_day_days': (f"AFTER INSERT OR DELETE OR UPDATE OF {LEAD_COLUMNS} ON lead FOR EACH ROW "
                             "EXECUTE FUNCTION report_note_lead_created_days()"),
    'report_deal_lead_days': f"AFTER UPDATE OF {DEAL_COLUMNS} ON deal FOR EACH ROW EXECUTE FUNCTION report_note_deal_lead_days()",
    'report_deal_lead_days_deleting': "BEFORE DELETE ON deal FOR EACH ROW EXECUTE FUNCTION report_note_deal_lead_days()",
}
TRIGGER_TABLES = {'report_lead_day_days': 'lead', 'report_deal_lead_days': 'deal', 'report_deal_lead_days_deleting': 'deal'}


def upgrade() -> None:
    op.create_table('report_lead_day',
    sa.Column('id', BIGINT_PK, autoincrement=True, nullable=False),
    sa.Column('grain', sa.String(length=5), server_default='day', nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=True),
    sa.Column('source', sa.String(length=60), nullable=True),
    sa.Column('utm_source', sa.Text(), nullable=True),
    sa.Column('utm_campaign', sa.Text(), nullable=True),
    sa.Column('deal_owner_id', sa.Uuid(), nullable=True),
    sa.Column('pipeline_id', sa.Uuid(), nullable=True),
    sa.Column('leads', sa.Integer(), nullable=False),
    sa.Column('deals', sa.Integer(), nullable=False),
    sa.Column('open_amount', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('won_deals', sa.Integer(), nullable=False),
    sa.Column('won_amount', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_lead_day'))
    )
    op.create_index('ix_report_lead_day_day', 'report_lead_day', ['grain', 'day'], unique=False)
    report_triggers.install(SQLITE_TRIGGERS, POSTGRES_FUNCTIONS, POSTGRES_TRIGGERS)
    report_triggers.note_every_day()


def downgrade() -> None:
    report_triggers.remove(SQLITE_TRIGGERS, POSTGRES_FUNCTIONS, TRIGGER_TABLES)
    op.drop_index('ix_report_lead_day_day', table_name='report_lead_day')
    op.drop_table('report_lead_day')
