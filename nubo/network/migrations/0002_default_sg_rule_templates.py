"""network: Neutron's built-in default security group rule templates

Every new security group lets all traffic out (IPv4 and IPv6); a project's
``default`` group also lets in what its own members send (remote group
``PARENT``). Neutron seeds the same four templates in a migration; an operator
changes them through ``/v2.0/default-security-group-rules``, and deleting them
all means new groups start empty (they are not seeded again).

Revision ID: network_0002
Revises: network_0001
"""

import sqlalchemy as sa
from alembic import op

revision = 'network_0002'
down_revision = 'network_0001'
branch_labels = None
depends_on = None

_EGRESS = "Legacy default SG rule for egress traffic"
_INGRESS = "Legacy default SG rule for ingress traffic"
# (id, direction, ethertype, remote_group_id, description, for default groups, for others);
# the keys are ``sg_templates.Template.default_key``/``non_default_key`` of each
_TEMPLATES = (
    ("6b0a6a1c-0e5c-4a55-9a3e-3a0d7d0f4e01", "egress", "IPv4", None, _EGRESS, True, True),
    ("6b0a6a1c-0e5c-4a55-9a3e-3a0d7d0f4e02", "egress", "IPv6", None, _EGRESS, True, True),
    ("6b0a6a1c-0e5c-4a55-9a3e-3a0d7d0f4e03", "ingress", "IPv4", "PARENT", _INGRESS, True,
     False),
    ("6b0a6a1c-0e5c-4a55-9a3e-3a0d7d0f4e04", "ingress", "IPv6", "PARENT", _INGRESS, True,
     False),
)


def _key(direction: str, ethertype: str, remote_group: str | None) -> str:
    return f"{direction}|{ethertype}|+|+|+|{remote_group or '+'}|+|+"


def upgrade() -> None:
    table = sa.table(
        'network_default_security_group_rules',
        sa.column('id', sa.String), sa.column('description', sa.String),
        sa.column('direction', sa.String), sa.column('ethertype', sa.String),
        sa.column('remote_group_id', sa.String),
        sa.column('used_in_default_sg', sa.Boolean),
        sa.column('used_in_non_default_sg', sa.Boolean),
        sa.column('default_key', sa.String), sa.column('non_default_key', sa.String))
    op.bulk_insert(table, [
        {"id": ident, "description": description, "direction": direction,
         "ethertype": ethertype, "remote_group_id": remote, "used_in_default_sg": default,
         "used_in_non_default_sg": other,
         "default_key": _key(direction, ethertype, remote) if default else None,
         "non_default_key": _key(direction, ethertype, remote) if other else None}
        for ident, direction, ethertype, remote, description, default, other in _TEMPLATES])


def downgrade() -> None:
    ids = ", ".join(f"'{row[0]}'" for row in _TEMPLATES)
    op.execute(f"DELETE FROM network_default_security_group_rules WHERE id IN ({ids})")
