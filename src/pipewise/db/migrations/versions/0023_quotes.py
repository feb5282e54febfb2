"""the back half of the deal: catalogue units and tax rates, price books with tiers, line
items on deals, quotes with revisions, optional lines, approvals and the buyer's answer,
quote templates and the company settings documents are made with

Revision ID: 0023
Revises: 0022
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pipewise.db.base
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = '0023'
down_revision: str | Sequence[str] | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('quote_template',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('terms', sa.Text(), nullable=True),
    sa.Column('valid_days', sa.Integer(), nullable=False),
    sa.Column('lines', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quote_template')),
    sa.UniqueConstraint('name', name=op.f('uq_quote_template_name'))
    )
    with op.batch_alter_table('quote_template', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quote_template_created_at'), ['created_at'], unique=False)

    op.create_table('company_settings',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('legal_name', sa.String(length=200), nullable=True),
    sa.Column('street', sa.String(length=200), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('postcode', sa.String(length=20), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('vat_id', sa.String(length=30), nullable=True),
    sa.Column('company_id', sa.String(length=50), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('website', sa.String(length=200), nullable=True),
    sa.Column('iban', sa.String(length=34), nullable=True),
    sa.Column('bic', sa.String(length=11), nullable=True),
    sa.Column('brand_color', sa.String(length=7), nullable=False),
    sa.Column('logo_svg', sa.Text(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('tax_mode', sa.String(length=12), nullable=False),
    sa.Column('rounding_mode', sa.String(length=12), nullable=False),
    sa.Column('discount_limits', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('quote_valid_days', sa.Integer(), nullable=False),
    sa.Column('quote_link_days', sa.Integer(), nullable=False),
    sa.Column('accepted_stage_id', sa.Uuid(), nullable=True),
    sa.Column('allow_negative_stock', sa.Boolean(), nullable=False),
    sa.Column('invoice_prefix', sa.String(length=20), nullable=False),
    sa.Column('invoice_due_days', sa.Integer(), nullable=False),
    sa.Column('payment_terms', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.ForeignKeyConstraint(['accepted_stage_id'], ['stage.id'], name=op.f('fk_company_settings_accepted_stage_id_stage'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_company_settings'))
    )
    with op.batch_alter_table('company_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_company_settings_created_at'), ['created_at'], unique=False)

    op.create_table('price_book',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('segment', sa.String(length=100), nullable=True),
    sa.Column('account_id', sa.Uuid(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_price_book_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_book')),
    sa.UniqueConstraint('name', name=op.f('uq_price_book_name'))
    )
    with op.batch_alter_table('price_book', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_price_book_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_price_book_created_at'), ['created_at'], unique=False)

    op.create_table('deal_line_item',
    sa.Column('deal_id', sa.Uuid(), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('unit', sa.String(length=3), server_default='C62', nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('discount_percent', sa.Numeric(precision=7, scale=4), nullable=False),
    sa.Column('tax_rate', sa.Numeric(precision=7, scale=4), server_default='0', nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.ForeignKeyConstraint(['deal_id'], ['deal.id'], name=op.f('fk_deal_line_item_deal_id_deal'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_deal_line_item_product_id_product'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deal_line_item'))
    )
    with op.batch_alter_table('deal_line_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deal_line_item_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_deal_line_item_deal_id'), ['deal_id'], unique=False)

    op.create_table('price_book_entry',
    sa.Column('price_book_id', sa.Uuid(), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=False),
    sa.Column('min_quantity', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.ForeignKeyConstraint(['price_book_id'], ['price_book.id'], name=op.f('fk_price_book_entry_price_book_id_price_book'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_price_book_entry_product_id_product'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_book_entry')),
    sa.UniqueConstraint('price_book_id', 'product_id', 'min_quantity', name=op.f('uq_price_book_entry_price_book_id'))
    )
    with op.batch_alter_table('price_book_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_price_book_entry_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_price_book_entry_product_id'), ['product_id'], unique=False)

    op.create_table('quote',
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('previous_id', sa.Uuid(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('deal_id', sa.Uuid(), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=True),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('owner_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('terms', sa.Text(), nullable=True),
    sa.Column('tax_mode', sa.String(length=12), nullable=False),
    sa.Column('rounding_mode', sa.String(length=12), nullable=False),
    sa.Column('net_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tax_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('discount_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('max_discount_percent', sa.Numeric(precision=7, scale=4), nullable=False),
    sa.Column('sent_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_viewed_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_quote_account_id_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_quote_contact_id_contact'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['deal_id'], ['deal.id'], name=op.f('fk_quote_deal_id_deal'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], name=op.f('fk_quote_owner_id_user'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['previous_id'], ['quote.id'], name=op.f('fk_quote_previous_id_quote'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quote')),
    sa.UniqueConstraint('number', 'revision', name=op.f('uq_quote_number'))
    )
    with op.batch_alter_table('quote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quote_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quote_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quote_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_quote_deal_id'), ['deal_id'], unique=False)
        batch_op.create_index('ix_quote_owner_created', ['owner_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_quote_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index('ix_quote_status_created', ['status', 'created_at'], unique=False)

    op.create_table('quote_approval',
    sa.Column('quote_id', sa.Uuid(), nullable=False),
    sa.Column('requested_by_id', sa.Uuid(), nullable=True),
    sa.Column('approver_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('discount_percent', sa.Numeric(precision=7, scale=4), nullable=False),
    sa.Column('threshold_percent', sa.Numeric(precision=7, scale=4), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('decided_by_id', sa.Uuid(), nullable=True),
    sa.Column('decided_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approver_id'], ['user.id'], name=op.f('fk_quote_approval_approver_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_quote_approval_decided_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['quote_id'], ['quote.id'], name=op.f('fk_quote_approval_quote_id_quote'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], name=op.f('fk_quote_approval_requested_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quote_approval'))
    )
    with op.batch_alter_table('quote_approval', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quote_approval_approver_id'), ['approver_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quote_approval_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_quote_approval_quote_id'), ['quote_id'], unique=False)

    op.create_table('quote_line',
    sa.Column('quote_id', sa.Uuid(), nullable=False),
    sa.Column('optional', sa.Boolean(), nullable=False),
    sa.Column('selected', sa.Boolean(), nullable=False),
    sa.Column('net_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('unit', sa.String(length=3), server_default='C62', nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('discount_percent', sa.Numeric(precision=7, scale=4), nullable=False),
    sa.Column('tax_rate', sa.Numeric(precision=7, scale=4), server_default='0', nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_quote_line_product_id_product'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['quote_id'], ['quote.id'], name=op.f('fk_quote_line_quote_id_quote'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quote_line'))
    )
    with op.batch_alter_table('quote_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quote_line_quote_id'), ['quote_id'], unique=False)

    op.create_table('quote_response',
    sa.Column('quote_id', sa.Uuid(), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('signer_name', sa.String(length=200), nullable=True),
    sa.Column('signature_png', sa.LargeBinary(), nullable=True),
    sa.Column('selected_line_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('ip_address', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=400), nullable=True),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['quote_id'], ['quote.id'], name=op.f('fk_quote_response_quote_id_quote'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quote_response')),
    sa.UniqueConstraint('quote_id', name=op.f('uq_quote_response_quote_id'))
    )
    with op.batch_alter_table('quote_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quote_response_created_at'), ['created_at'], unique=False)

    with op.batch_alter_table('deal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('amount_from_lines', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit', sa.String(length=3), server_default='C62', nullable=False))
        batch_op.add_column(sa.Column('tax_rate', sa.Numeric(precision=7, scale=4), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('stocked', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_column('stocked')
        batch_op.drop_column('tax_rate')
        batch_op.drop_column('unit')

    with op.batch_alter_table('deal', schema=None) as batch_op:
        batch_op.drop_column('amount_from_lines')

    with op.batch_alter_table('quote_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quote_response_created_at'))

    op.drop_table('quote_response')
    with op.batch_alter_table('quote_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quote_line_quote_id'))

    op.drop_table('quote_line')
    with op.batch_alter_table('quote_approval', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quote_approval_quote_id'))
        batch_op.drop_index(batch_op.f('ix_quote_approval_created_at'))
        batch_op.drop_index(batch_op.f('ix_quote_approval_approver_id'))

    op.drop_table('quote_approval')
    with op.batch_alter_table('quote', schema=None) as batch_op:
        batch_op.drop_index('ix_quote_status_created')
        batch_op.drop_index(batch_op.f('ix_quote_owner_id'))
        batch_op.drop_index('ix_quote_owner_created')
        batch_op.drop_index(batch_op.f('ix_quote_deal_id'))
        batch_op.drop_index(batch_op.f('ix_quote_created_at'))
        batch_op.drop_index(batch_op.f('ix_quote_contact_id'))
        batch_op.drop_index(batch_op.f('ix_quote_account_id'))

    op.drop_table('quote')
    with op.batch_alter_table('price_book_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_price_book_entry_product_id'))
        batch_op.drop_index(batch_op.f('ix_price_book_entry_created_at'))

    op.drop_table('price_book_entry')
    with op.batch_alter_table('deal_line_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deal_line_item_deal_id'))
        batch_op.drop_index(batch_op.f('ix_deal_line_item_created_at'))

    op.drop_table('deal_line_item')
    with op.batch_alter_table('price_book', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_price_book_created_at'))
        batch_op.drop_index(batch_op.f('ix_price_book_account_id'))

    op.drop_table('price_book')
    with op.batch_alter_table('company_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_company_settings_created_at'))

    op.drop_table('company_settings')
    with op.batch_alter_table('quote_template', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quote_template_created_at'))

    op.drop_table('quote_template')
