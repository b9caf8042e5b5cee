"""``GET /v3/OS-REVOKE/events``."""

from __future__ import annotations

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.identity.service import revoke_events

router = Router()


@router.get("/v3/OS-REVOKE/events")
async def list_revoke_events(req: ApiRequest) -> Reply:
    req.authorize("identity:list_revoke_events")
    raw = req.query.get("since")
    since = revoke_events.parse_since(raw) if raw else None
    events = await revoke_events.list_events(req.rt, since)
    self_url = f"{req.rt.settings.public_url}{req.path}"
    if req.query_string:
        self_url += f"?{req.query_string}"
    return {"events": events, "links": {"self": self_url, "previous": None, "next": None}}
