"""``/v3/domains/{domain_id}/config`` (whole, per group, per option) and
``/v3/domains/config/default``."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest
from nubo.identity.service import domain_config as dc

router = Router()
CONFIG = "service/identity/domain_config"
BASE = "/v3/domains/{domain_id}/config"


async def _config_body(req: ApiRequest) -> Any:
    body = await req.json()
    if not isinstance(body, dict) or not isinstance(body.get("config"), dict):
        raise BadRequest("Invalid input for field 'config': an object is required.")
    return body["config"]


def _where(req: ApiRequest) -> tuple[str, str | None, str | None]:
    p = req.params
    return p["domain_id"], p.get("group"), p.get("option")


@router.put(BASE, status=201, target=CONFIG)
async def create_domain_config(req: ApiRequest) -> Reply:
    config = await _config_body(req)
    req.authorize("identity:create_domain_config")
    stored, existed = await dc.create_config(req.rt, req.params["domain_id"], config)
    # Keystone: 201 for a new config, 200 when it replaced one.
    return JSONResponse({"config": stored}, status_code=200 if existed else 201)


async def _get(req: ApiRequest) -> Reply:
    req.authorize("identity:get_domain_config")
    return {"config": await dc.get_config(req.rt, *_where(req))}


async def _update(req: ApiRequest) -> Reply:
    config = await _config_body(req)
    req.authorize("identity:update_domain_config")
    domain_id, group, option = _where(req)
    return {"config": await dc.update_config(req.rt, domain_id, config, group, option)}


async def _delete(req: ApiRequest) -> Reply:
    req.authorize("identity:delete_domain_config")
    await dc.delete_config(req.rt, *_where(req))
    return None


async def _default(req: ApiRequest) -> Reply:
    req.authorize("identity:get_domain_config_default")
    return {"config": dc.default_config(req.params.get("group"), req.params.get("option"))}


for _path in (BASE, f"{BASE}/{{group}}", f"{BASE}/{{group}}/{{option}}"):
    router.get(_path)(_get)
    router.patch(_path, target=CONFIG)(_update)
    router.delete(_path, status=204, target=CONFIG)(_delete)

for _path in ("/v3/domains/config/default", "/v3/domains/config/{group}/default",
              "/v3/domains/config/{group}/{option}/default"):
    router.get(_path)(_default)
