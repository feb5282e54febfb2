"""leads: lifecycle, scores and routing on leads; forms, submissions, imports, duplicates,
scoring and assignment tables

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-23 10:39:55.363705
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import pipewise.db.base

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('duplicate_candidate',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('record_type', sa.String(length=20), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('candidate_type', sa.String(length=20), nullable=False),
    sa.Column('candidate_id', sa.Uuid(), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('detected_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_candidate')),
    sa.UniqueConstraint('record_type', 'record_id', 'candidate_type', 'candidate_id', name=op.f('uq_duplicate_candidate_record_type'))
    )
    with op.batch_alter_table('duplicate_candidate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duplicate_candidate_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_duplicate_candidate_record_id'), ['record_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_duplicate_candidate_status'), ['status'], unique=False)

    op.create_table('lead_form',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('field_map', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('required_fields', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('hidden_fields', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('source', sa.String(length=60), nullable=False),
    sa.Column('consent_text', sa.Text(), nullable=True),
    sa.Column('consent_required', sa.Boolean(), nullable=False),
    sa.Column('success_message', sa.String(length=300), nullable=False),
    sa.Column('redirect_url', sa.String(length=500), nullable=True),
    sa.Column('rate_limit_per_minute', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_form')),
    sa.UniqueConstraint('key', name=op.f('uq_lead_form_key'))
    )
    with op.batch_alter_table('lead_form', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lead_form_created_at'), ['created_at'], unique=False)

    op.create_table('lead_import',
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('mapping', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('on_duplicate', sa.String(length=10), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('created_count', sa.Integer(), nullable=False),
    sa.Column('updated_count', sa.Integer(), nullable=False),
    sa.Column('skipped_count', sa.Integer(), nullable=False),
    sa.Column('rejected_count', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('started_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_import'))
    )
    with op.batch_alter_table('lead_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lead_import_created_at'), ['created_at'], unique=False)

    op.create_table('routing_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sla_minutes', sa.Integer(), nullable=True),
    sa.Column('work_start', sa.String(length=5), nullable=False),
    sa.Column('work_end', sa.String(length=5), nullable=False),
    sa.Column('workdays', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('reassign_on_breach', sa.Boolean(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_policy'))
    )
    with op.batch_alter_table('routing_policy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_policy_created_at'), ['created_at'], unique=False)

    op.create_table('scoring_config',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fit_rules', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('engagement_points', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('half_life_days', sa.Double(), nullable=False),
    sa.Column('mql_threshold', sa.Integer(), nullable=False),
    sa.Column('predictive_weight', sa.Double(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scoring_config'))
    )
    with op.batch_alter_table('scoring_config', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scoring_config_created_at'), ['created_at'], unique=False)

    op.create_table('scoring_model',
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('algorithm', sa.String(length=120), nullable=False),
    sa.Column('features', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('metrics', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('trained_on', sa.Integer(), nullable=False),
    sa.Column('artifact', sa.LargeBinary(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scoring_model'))
    )
    with op.batch_alter_table('scoring_model', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scoring_model_created_at'), ['created_at'], unique=False)

    op.create_table('lead_import_row',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('import_id', sa.Uuid(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('excerpt', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['lead_import.id'], name=op.f('fk_lead_import_row_import_id_lead_import'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_import_row'))
    )
    with op.batch_alter_table('lead_import_row', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lead_import_row_import_id'), ['import_id'], unique=False)

    op.create_table('assignment_rule',
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('conditions', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('target_type', sa.String(length=10), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    sa.Column('queue', sa.String(length=60), nullable=True),
    sa.Column('prefer_account_owner', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_assignment_rule_team_id_team'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_assignment_rule_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment_rule'))
    )
    with op.batch_alter_table('assignment_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignment_rule_created_at'), ['created_at'], unique=False)

    op.create_table('round_robin_slot',
    sa.Column('team_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('assigned_count', sa.Integer(), nullable=False),
    sa.Column('last_assigned_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_round_robin_slot_team_id_team'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_round_robin_slot_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'user_id', name=op.f('pk_round_robin_slot'))
    )
    op.create_table('engagement_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('lead_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('occurred_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], name=op.f('fk_engagement_event_lead_id_lead'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engagement_event'))
    )
    with op.batch_alter_table('engagement_event', schema=None) as batch_op:
        batch_op.create_index('ix_engagement_event_lead', ['lead_id', 'occurred_at'], unique=False)

    op.create_table('form_submission',
    sa.Column('form_id', sa.Uuid(), nullable=False),
    sa.Column('lead_id', sa.Uuid(), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('consent_given', sa.Boolean(), nullable=False),
    sa.Column('consent_text', sa.Text(), nullable=True),
    sa.Column('consented_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('received_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('assigned_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('notified_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('speed_to_lead_ms', sa.Integer(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['form_id'], ['lead_form.id'], name=op.f('fk_form_submission_form_id_lead_form'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], name=op.f('fk_form_submission_lead_id_lead'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_submission'))
    )
    with op.batch_alter_table('form_submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_submission_form_id'), ['form_id'], unique=False)
        batch_op.create_index('ix_form_submission_ip_received', ['ip', 'received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_form_submission_lead_id'), ['lead_id'], unique=False)

    op.create_table('lead_assignment',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('lead_id', sa.Uuid(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=True),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    sa.Column('queue', sa.String(length=60), nullable=True),
    sa.Column('rule_id', sa.Uuid(), nullable=True),
    sa.Column('rule_name', sa.String(length=120), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('assigned_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sla_due_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_touch_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('breached_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], name=op.f('fk_lead_assignment_lead_id_lead'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], name=op.f('fk_lead_assignment_owner_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['rule_id'], ['assignment_rule.id'], name=op.f('fk_lead_assignment_rule_id_assignment_rule'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_lead_assignment_team_id_team'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_assignment'))
    )
    with op.batch_alter_table('lead_assignment', schema=None) as batch_op:
        batch_op.create_index('ix_lead_assignment_lead', ['lead_id', 'assigned_at'], unique=False)

    op.create_table('score_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('lead_id', sa.Uuid(), nullable=False),
    sa.Column('at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('fit_score', sa.Integer(), nullable=False),
    sa.Column('engagement_score', sa.Integer(), nullable=False),
    sa.Column('predicted_probability', sa.Double(), nullable=True),
    sa.Column('cause', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], name=op.f('fk_score_history_lead_id_lead'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_history'))
    )
    with op.batch_alter_table('score_history', schema=None) as batch_op:
        batch_op.create_index('ix_score_history_lead', ['lead_id', 'at'], unique=False)

    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region', sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column('lifecycle_stage', sa.String(length=20), nullable=False, server_default='lead'))
        batch_op.add_column(sa.Column('queue', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('attribution', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column('consent_state', sa.String(length=20), nullable=False, server_default='unknown'))
        batch_op.add_column(sa.Column('score', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('fit_score', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('engagement_score', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('predicted_probability', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('score_reasons', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('scored_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('assigned_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_touched_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_lead_lifecycle_stage'), ['lifecycle_stage'], unique=False)
        batch_op.create_index('ix_lead_owner_score', ['owner_id', 'score'], unique=False)
        batch_op.create_index(batch_op.f('ix_lead_queue'), ['queue'], unique=False)
        batch_op.create_index(batch_op.f('ix_lead_score'), ['score'], unique=False)

    op.execute(
        "UPDATE lead SET lifecycle_stage = CASE status WHEN 'converted' THEN 'opportunity' "
        "WHEN 'disqualified' THEN 'disqualified' WHEN 'qualified' THEN 'sql' ELSE 'lead' END"
    )



def downgrade() -> None:
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lead_score'))
        batch_op.drop_index(batch_op.f('ix_lead_queue'))
        batch_op.drop_index('ix_lead_owner_score')
        batch_op.drop_index(batch_op.f('ix_lead_lifecycle_stage'))
        batch_op.drop_column('first_touched_at')
        batch_op.drop_column('assigned_at')
        batch_op.drop_column('scored_at')
        batch_op.drop_column('score_reasons')
        batch_op.drop_column('predicted_probability')
        batch_op.drop_column('engagement_score')
        batch_op.drop_column('fit_score')
        batch_op.drop_column('score')
        batch_op.drop_column('consent_state')
        batch_op.drop_column('attribution')
        batch_op.drop_column('queue')
        batch_op.drop_column('lifecycle_stage')
        batch_op.drop_column('region')

    with op.batch_alter_table('score_history', schema=None) as batch_op:
        batch_op.drop_index('ix_score_history_lead')

    op.drop_table('score_history')
    with op.batch_alter_table('lead_assignment', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_assignment_lead')

    op.drop_table('lead_assignment')
    with op.batch_alter_table('form_submission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_submission_lead_id'))
        batch_op.drop_index('ix_form_submission_ip_received')
        batch_op.drop_index(batch_op.f('ix_form_submission_form_id'))

    op.drop_table('form_submission')
    with op.batch_alter_table('engagement_event', schema=None) as batch_op:
        batch_op.drop_index('ix_engagement_event_lead')

    op.drop_table('engagement_event')
    op.drop_table('round_robin_slot')
    with op.batch_alter_table('assignment_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignment_rule_created_at'))

    op.drop_table('assignment_rule')
    with op.batch_alter_table('lead_import_row', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lead_import_row_import_id'))

    op.drop_table('lead_import_row')
    with op.batch_alter_table('scoring_model', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scoring_model_created_at'))

    op.drop_table('scoring_model')
    with op.batch_alter_table('scoring_config', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scoring_config_created_at'))

    op.drop_table('scoring_config')
    with op.batch_alter_table('routing_policy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routing_policy_created_at'))

    op.drop_table('routing_policy')
    with op.batch_alter_table('lead_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lead_import_created_at'))

    op.drop_table('lead_import')
    with op.batch_alter_table('lead_form', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lead_form_created_at'))

    op.drop_table('lead_form')
    with op.batch_alter_table('duplicate_candidate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duplicate_candidate_status'))
        batch_op.drop_index(batch_op.f('ix_duplicate_candidate_record_id'))
        batch_op.drop_index(batch_op.f('ix_duplicate_candidate_candidate_id'))

    op.drop_table('duplicate_candidate')
