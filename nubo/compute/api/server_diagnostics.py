"""``GET /servers/{id}/diagnostics`` (admin): the host's agent reads the guest
from its hypervisor (``agent_calls``); from 2.48 the standard document, before it
the libvirt driver's flat keys (``nubo.compute.diagnostics``)."""

from __future__ import annotations

from nubo.compute import agent_calls, diagnostics
from nubo.compute.api.servers import load
from nubo.compute.states import VmState
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import Conflict

router = Router()
STANDARD = "2.48"
# a guest the hypervisor has: not while building, shelved away or in error
READY = {VmState.ACTIVE, VmState.PAUSED, VmState.SUSPENDED, VmState.STOPPED,
         VmState.RESCUED, VmState.RESIZED, VmState.SHELVED}


@router.get("/v2.1/servers/{server_id}/diagnostics")
async def show_diagnostics(req: ApiRequest) -> Reply:
    server = await load(req, "os_compute_api:os-server-diagnostics")
    if not server["host"] or server["vm_state"] not in READY:
        raise Conflict(f"Instance {server['uuid']} is not ready")
    answer = await agent_calls.call(req.rt, server["host"], "diagnostics",
                                    {"instance_uuid": server["uuid"]})
    reading = diagnostics.Reading.from_dict(answer["reading"])
    if req.at_least(STANDARD):
        return diagnostics.standard(reading, config_drive=bool(server.get("config_drive")))
    return diagnostics.legacy(reading)
