"""Networking's narrow client of compute, for the metadata proxy: which instance
a guest's address belongs to (networking's own ports) and what compute's metadata
service answers it (``nubo.compute.service.metadata``, in-process today; Neutron's
metadata agent asks Nova's metadata API the same over HTTP), and where a guest's
password post goes."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from nubo.core.runtime import Runtime
from nubo.network.service import metadata_lookup


@dataclass
class CloudMetadata:
    """A ``linuxbridge.metadata.MetadataSource`` over the cloud's services."""

    rt: Runtime

    async def instance_for(self, network_ids: Collection[str], address: str) -> str | None:
        return await metadata_lookup.instance_for(self.rt, network_ids, address)

    async def answer(self, instance_id: str, path: str) -> tuple[int, str, bytes]:
        if "compute" not in self.rt.settings.core.enabled_services:
            return 404, "text/plain", b"Not Found"
        from nubo.compute.service import metadata

        reply = await metadata.answer(self.rt, instance_id, path)
        return reply.status, reply.content_type, reply.body

    async def post(self, instance_id: str, path: str, body: bytes
                   ) -> tuple[int, str, bytes]:
        if "compute" not in self.rt.settings.core.enabled_services:
            return 404, "text/plain", b"Not Found"
        from nubo.compute.service import metadata

        reply = await metadata.post(self.rt, instance_id, path, body)
        return reply.status, reply.content_type, reply.body
