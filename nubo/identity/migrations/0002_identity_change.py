"""identity change counter

Revision ID: identity_0002
Revises: a8ac53a7494d
Create Date: 2026-11-23 07:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = 'identity_0002'
down_revision = 'a8ac53a7494d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table('identity_change',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('counter', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_change'))
    )
    op.bulk_insert(table, [{'id': 1, 'counter': 0}])


def downgrade() -> None:
    op.drop_table('identity_change')
