"""image tasks

Revision ID: image_0003
Revises: image_0002
Create Date: 2026-11-21 15:30:00.000000
"""

from alembic import op
import sqlalchemy as sa
import nubo.core.db.base


revision = 'image_0003'
down_revision = 'image_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('image_task',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('type', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=True),
    sa.Column('image_id', sa.String(length=36), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('user_id', sa.String(length=64), nullable=True),
    sa.Column('input', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('expires_at', nubo.core.db.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', nubo.core.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', nubo.core.db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_image_task'))
    )
    op.create_index('ix_image_task_image_id', 'image_task', ['image_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_image_task_image_id', table_name='image_task')
    op.drop_table('image_task')
