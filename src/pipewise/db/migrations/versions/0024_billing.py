"""orders with their lines and delivery notes, stock locations, levels and moves,
invoices with their lines and payments, and the gap-free number counters

Revision ID: 0024
Revises: 0023
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pipewise.db.base

revision: str = '0024'
down_revision: str | Sequence[str] | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('number_counter',
    sa.Column('series', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('series', 'year', name=op.f('pk_number_counter'))
    )
    op.create_table('stock_location',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_location')),
    sa.UniqueConstraint('name', name=op.f('uq_stock_location_name'))
    )
    with op.batch_alter_table('stock_location', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_location_created_at'), ['created_at'], unique=False)

    op.create_table('stock_level',
    sa.Column('product_id', sa.Uuid(), nullable=False),
    sa.Column('location_id', sa.Uuid(), nullable=False),
    sa.Column('on_hand', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('reserved', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('low_threshold', sa.Numeric(precision=14, scale=4), nullable=True),
    sa.Column('manager_id', sa.Uuid(), nullable=True),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['stock_location.id'], name=op.f('fk_stock_level_location_id_stock_location'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['manager_id'], ['user.id'], name=op.f('fk_stock_level_manager_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_stock_level_product_id_product'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_level')),
    sa.UniqueConstraint('product_id', 'location_id', name=op.f('uq_stock_level_product_id'))
    )
    with op.batch_alter_table('stock_level', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_level_location_id'), ['location_id'], unique=False)

    op.create_table('sales_order',
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('deal_id', sa.Uuid(), nullable=False),
    sa.Column('quote_id', sa.Uuid(), nullable=True),
    sa.Column('account_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('confirmed_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('tax_mode', sa.String(length=12), nullable=False),
    sa.Column('rounding_mode', sa.String(length=12), nullable=False),
    sa.Column('net_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tax_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_sales_order_account_id_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['deal_id'], ['deal.id'], name=op.f('fk_sales_order_deal_id_deal'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['quote_id'], ['quote.id'], name=op.f('fk_sales_order_quote_id_quote'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_order')),
    sa.UniqueConstraint('number', name=op.f('uq_sales_order_number')),
    sa.UniqueConstraint('quote_id', name=op.f('uq_sales_order_quote_id'))
    )
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_order_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_order_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_order_deal_id'), ['deal_id'], unique=False)
        batch_op.create_index('ix_sales_order_status_created', ['status', 'created_at'], unique=False)

    op.create_table('delivery_note',
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('location_id', sa.Uuid(), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['stock_location.id'], name=op.f('fk_delivery_note_location_id_stock_location'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_delivery_note_order_id_sales_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_note')),
    sa.UniqueConstraint('number', name=op.f('uq_delivery_note_number'))
    )
    with op.batch_alter_table('delivery_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_note_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_note_order_id'), ['order_id'], unique=False)

    op.create_table('invoice',
    sa.Column('number', sa.String(length=40), nullable=True),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('credit_of_id', sa.Uuid(), nullable=True),
    sa.Column('deal_id', sa.Uuid(), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=True),
    sa.Column('account_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('posted_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paid_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('overdue_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('payment_terms', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('tax_mode', sa.String(length=12), nullable=False),
    sa.Column('rounding_mode', sa.String(length=12), nullable=False),
    sa.Column('net_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tax_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_invoice_account_id_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['credit_of_id'], ['invoice.id'], name=op.f('fk_invoice_credit_of_id_invoice')),
    sa.ForeignKeyConstraint(['deal_id'], ['deal.id'], name=op.f('fk_invoice_deal_id_deal'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_invoice_order_id_sales_order'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice')),
    sa.UniqueConstraint('number', name=op.f('uq_invoice_number'))
    )
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_credit_of_id'), ['credit_of_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_deal_id'), ['deal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_invoice_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index('ix_invoice_status_due', ['status', 'due_date'], unique=False)

    op.create_table('sales_order_line',
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('net_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('reserved_quantity', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('delivered_quantity', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('invoiced_quantity', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('unit', sa.String(length=3), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('discount_percent', sa.Numeric(precision=7, scale=4), nullable=False),
    sa.Column('tax_rate', sa.Numeric(precision=7, scale=4), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_sales_order_line_order_id_sales_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_sales_order_line_product_id_product'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_order_line'))
    )
    with op.batch_alter_table('sales_order_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_order_line_order_id'), ['order_id'], unique=False)

    op.create_table('delivery_note_line',
    sa.Column('delivery_note_id', sa.Uuid(), nullable=False),
    sa.Column('order_line_id', sa.Uuid(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_note_id'], ['delivery_note.id'], name=op.f('fk_delivery_note_line_delivery_note_id_delivery_note'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_line_id'], ['sales_order_line.id'], name=op.f('fk_delivery_note_line_order_line_id_sales_order_line'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_note_line'))
    )
    with op.batch_alter_table('delivery_note_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_note_line_delivery_note_id'), ['delivery_note_id'], unique=False)

    op.create_table('invoice_line',
    sa.Column('invoice_id', sa.Uuid(), nullable=False),
    sa.Column('order_line_id', sa.Uuid(), nullable=True),
    sa.Column('net_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('unit', sa.String(length=3), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('discount_percent', sa.Numeric(precision=7, scale=4), nullable=False),
    sa.Column('tax_rate', sa.Numeric(precision=7, scale=4), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_invoice_line_invoice_id_invoice'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_line_id'], ['sales_order_line.id'], name=op.f('fk_invoice_line_order_line_id_sales_order_line'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_invoice_line_product_id_product'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_line'))
    )
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_line_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('payment',
    sa.Column('invoice_id', sa.Uuid(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=30), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_payment_invoice_id_invoice'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment'))
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('stock_move',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=False),
    sa.Column('location_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('balance_after', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('order_id', sa.Uuid(), nullable=True),
    sa.Column('delivery_note_id', sa.Uuid(), nullable=True),
    sa.Column('at', pipewise.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['delivery_note_id'], ['delivery_note.id'], name=op.f('fk_stock_move_delivery_note_id_delivery_note'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['location_id'], ['stock_location.id'], name=op.f('fk_stock_move_location_id_stock_location'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_stock_move_order_id_sales_order'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_stock_move_product_id_product'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_move'))
    )
    with op.batch_alter_table('stock_move', schema=None) as batch_op:
        batch_op.create_index('ix_stock_move_product_at', ['product_id', 'at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('stock_move', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_move_product_at')

    op.drop_table('stock_move')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_payment_created_at'))

    op.drop_table('payment')
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_line_invoice_id'))

    op.drop_table('invoice_line')
    with op.batch_alter_table('delivery_note_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_note_line_delivery_note_id'))

    op.drop_table('delivery_note_line')
    with op.batch_alter_table('sales_order_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_order_line_order_id'))

    op.drop_table('sales_order_line')
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_index('ix_invoice_status_due')
        batch_op.drop_index('ix_invoice_status_created')
        batch_op.drop_index(batch_op.f('ix_invoice_order_id'))
        batch_op.drop_index(batch_op.f('ix_invoice_deal_id'))
        batch_op.drop_index(batch_op.f('ix_invoice_credit_of_id'))
        batch_op.drop_index(batch_op.f('ix_invoice_created_at'))
        batch_op.drop_index(batch_op.f('ix_invoice_account_id'))

    op.drop_table('invoice')
    with op.batch_alter_table('delivery_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_note_order_id'))
        batch_op.drop_index(batch_op.f('ix_delivery_note_created_at'))

    op.drop_table('delivery_note')
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_order_status_created')
        batch_op.drop_index(batch_op.f('ix_sales_order_deal_id'))
        batch_op.drop_index(batch_op.f('ix_sales_order_created_at'))
        batch_op.drop_index(batch_op.f('ix_sales_order_account_id'))

    op.drop_table('sales_order')
    with op.batch_alter_table('stock_level', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_level_location_id'))

    op.drop_table('stock_level')
    with op.batch_alter_table('stock_location', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_location_created_at'))

    op.drop_table('stock_location')
    op.drop_table('number_counter')
