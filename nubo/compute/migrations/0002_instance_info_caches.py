"""instance network info caches and virtual interfaces

Revision ID: compute_0002
Revises: compute_0001
Create Date: 2026-11-21 08:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
import nubo.core.db.base


revision = 'compute_0002'
down_revision = 'compute_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('instance_info_caches',
    sa.Column('instance_uuid', sa.String(length=36), nullable=False),
    sa.Column('network_info', sa.JSON(), nullable=False),
    sa.Column('updated_at', nubo.core.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['instance_uuid'], ['instances.uuid'], name=op.f('fk_instance_info_caches_instance_uuid_instances'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('instance_uuid', name=op.f('pk_instance_info_caches'))
    )
    op.create_table('virtual_interfaces',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('instance_uuid', sa.String(length=36), nullable=False),
    sa.Column('port_id', sa.String(length=36), nullable=False),
    sa.Column('preserve_on_delete', sa.Boolean(), nullable=False),
    sa.Column('tag', sa.String(length=60), nullable=True),
    sa.Column('created_at', nubo.core.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['instance_uuid'], ['instances.uuid'], name=op.f('fk_virtual_interfaces_instance_uuid_instances'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_virtual_interfaces')),
    sa.UniqueConstraint('instance_uuid', 'port_id', name=op.f('uq_virtual_interfaces_instance_uuid_port_id'))
    )


def downgrade() -> None:
    op.drop_table('virtual_interfaces')
    op.drop_table('instance_info_caches')
