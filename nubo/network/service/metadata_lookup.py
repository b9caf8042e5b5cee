"""Which instance asks the metadata proxy: the compute port holding the source
address on one of the networks the proxy serves (the DHCP port's network, or a
router's interface networks), as Neutron's metadata agent finds it."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select

from nubo.core.runtime import Runtime
from nubo.network import tables as t

P, IA = t.ports, t.ip_allocations


async def instance_for(rt: Runtime, network_ids: Collection[str], address: str
                       ) -> str | None:
    """The device id of the compute port with ``address`` on ``network_ids``."""
    if not network_ids:
        return None
    async with rt.db.read() as conn:
        found: str | None = (await conn.execute(
            select(P.c.device_id).join(IA, IA.c.port_id == P.c.id)
            .where(IA.c.network_id.in_(sorted(network_ids)), IA.c.ip_address == address,
                   P.c.device_owner.like("compute:%"), P.c.device_id != "")
            .limit(1))).scalar()
    return found
