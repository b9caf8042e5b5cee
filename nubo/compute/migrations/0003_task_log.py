"""task log (instance usage audit)

Revision ID: compute_0003
Revises: compute_0002
Create Date: 2026-11-21 15:20:00.000000
"""

from alembic import op
import sqlalchemy as sa
import nubo.core.db.base


revision = 'compute_0003'
down_revision = 'compute_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('task_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('task_name', sa.String(length=255), nullable=False),
    sa.Column('state', sa.String(length=255), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('period_beginning', nubo.core.db.base.UTCDateTime(), nullable=False),
    sa.Column('period_ending', nubo.core.db.base.UTCDateTime(), nullable=False),
    sa.Column('message', sa.String(length=255), nullable=False),
    sa.Column('task_items', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Integer(), nullable=False),
    sa.Column('created_at', nubo.core.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', nubo.core.db.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_log')),
    sa.UniqueConstraint('task_name', 'host', 'period_beginning', 'period_ending', name=op.f('uq_task_log_task_name_host_period_beginning_period_ending'))
    )


def downgrade() -> None:
    op.drop_table('task_log')
