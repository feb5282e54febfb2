"""meetings: availability, booking pages with their hosts, meetings with attendees, and the
calendar object an invitation e-mail carries

Revision ID: 0028
Revises: 0027
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pipewise.db.base
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = '0028'
down_revision: str | Sequence[str] | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('booking_page',
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=True),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('slot_step_minutes', sa.Integer(), nullable=False),
    sa.Column('location', sa.String(length=500), nullable=True),
    sa.Column('questions', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('equal_distribution', sa.Boolean(), nullable=False),
    sa.Column('contact_owner_first', sa.Boolean(), nullable=False),
    sa.Column('rate_limit_per_hour', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], name=op.f('fk_booking_page_owner_id_user'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_page')),
    sa.UniqueConstraint('slug', name=op.f('uq_booking_page_slug'))
    )
    with op.batch_alter_table('booking_page', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_page_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_booking_page_owner_id'), ['owner_id'], unique=False)

    op.create_table('meeting_availability',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('weekly_hours', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('holiday_country', sa.String(length=2), nullable=True),
    sa.Column('buffer_before_minutes', sa.Integer(), nullable=False),
    sa.Column('buffer_after_minutes', sa.Integer(), nullable=False),
    sa.Column('min_notice_minutes', sa.Integer(), nullable=False),
    sa.Column('horizon_days', sa.Integer(), nullable=False),
    sa.Column('daily_limit', sa.Integer(), nullable=True),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_meeting_availability_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_meeting_availability'))
    )
    with op.batch_alter_table('meeting_availability', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_availability_created_at'), ['created_at'], unique=False)

    op.create_table('booking_host',
    sa.Column('page_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['page_id'], ['booking_page.id'], name=op.f('fk_booking_host_page_id_booking_page'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_booking_host_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('page_id', 'user_id', name=op.f('pk_booking_host'))
    )
    with op.batch_alter_table('booking_host', schema=None) as batch_op:
        batch_op.create_index('ix_booking_host_user', ['user_id'], unique=False)

    op.create_table('meeting',
    sa.Column('host_id', sa.Uuid(), nullable=False),
    sa.Column('page_id', sa.Uuid(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('location', sa.String(length=500), nullable=True),
    sa.Column('start_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('end_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('uid', sa.String(length=255), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('lead_id', sa.Uuid(), nullable=True),
    sa.Column('deal_id', sa.Uuid(), nullable=True),
    sa.Column('activity_id', sa.Uuid(), nullable=True),
    sa.Column('answers', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('booker_ip', sa.String(length=64), nullable=True),
    sa.Column('cancel_reason', sa.String(length=500), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_meeting_activity_id_activity'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_meeting_contact_id_contact'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['deal_id'], ['deal.id'], name=op.f('fk_meeting_deal_id_deal'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['host_id'], ['user.id'], name=op.f('fk_meeting_host_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], name=op.f('fk_meeting_lead_id_lead'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['page_id'], ['booking_page.id'], name=op.f('fk_meeting_page_id_booking_page'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting')),
    sa.UniqueConstraint('uid', name=op.f('uq_meeting_uid'))
    )
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_deal_id'), ['deal_id'], unique=False)
        batch_op.create_index('ix_meeting_host_time', ['host_id', 'start_at', 'end_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_lead_id'), ['lead_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_page_id'), ['page_id'], unique=False)
        batch_op.create_index('uq_meeting_host_start_active', ['host_id', 'start_at'], unique=True, sqlite_where=sa.text("status IN ('scheduled', 'rescheduled')"), postgresql_where=sa.text("status IN ('scheduled', 'rescheduled')"))

    op.create_table('meeting_attendee',
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('partstat', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_attendee_meeting_id_meeting'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_meeting_attendee_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('meeting_id', 'email', name=op.f('pk_meeting_attendee'))
    )
    with op.batch_alter_table('meeting_attendee', schema=None) as batch_op:
        batch_op.create_index('ix_meeting_attendee_email', ['email'], unique=False)
        batch_op.create_index('ix_meeting_attendee_user', ['user_id'], unique=False)

    with op.batch_alter_table('email_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ical', sa.Text(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('email_message', schema=None) as batch_op:
        batch_op.drop_column('ical')

    with op.batch_alter_table('meeting_attendee', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_attendee_user')
        batch_op.drop_index('ix_meeting_attendee_email')

    op.drop_table('meeting_attendee')
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_index('uq_meeting_host_start_active', sqlite_where=sa.text("status IN ('scheduled', 'rescheduled')"), postgresql_where=sa.text("status IN ('scheduled', 'rescheduled')"))
        batch_op.drop_index(batch_op.f('ix_meeting_page_id'))
        batch_op.drop_index(batch_op.f('ix_meeting_lead_id'))
        batch_op.drop_index('ix_meeting_host_time')
        batch_op.drop_index(batch_op.f('ix_meeting_deal_id'))
        batch_op.drop_index(batch_op.f('ix_meeting_created_at'))
        batch_op.drop_index(batch_op.f('ix_meeting_contact_id'))

    op.drop_table('meeting')
    with op.batch_alter_table('booking_host', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_host_user')

    op.drop_table('booking_host')
    with op.batch_alter_table('meeting_availability', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_availability_created_at'))

    op.drop_table('meeting_availability')
    with op.batch_alter_table('booking_page', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_page_owner_id'))
        batch_op.drop_index(batch_op.f('ix_booking_page_created_at'))

    op.drop_table('booking_page')
