"""Version discovery (``/``, ``/v2.0``) and the extensions list."""

from __future__ import annotations

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import NotFound
from nubo.network.extensions import EXTENSIONS, by_alias

router = Router()

# the collections ``GET /v2.0`` lists, singular and plural
RESOURCES = (("network", "networks"), ("subnet", "subnets"), ("port", "ports"),
             ("subnetpool", "subnetpools"), ("segment", "segments"),
             ("rbac_policy", "rbac-policies"),
             ("security_group", "security-groups"),
             ("security_group_rule", "security-group-rules"),
             ("default_security_group_rule", "default-security-group-rules"),
             ("address_group", "address-groups"),
             ("router", "routers"), ("floatingip", "floatingips"))


def _base(req: ApiRequest) -> str:
    return f"{req.rt.settings.public_url}/network"


@router.get("/", public=True)
async def versions(req: ApiRequest) -> Reply:
    return {"versions": [{"id": "v2.0", "status": "CURRENT", "links": [
        {"rel": "self", "href": f"{_base(req)}/v2.0/"}]}]}


@router.get("/v2.0", public=True)
@router.get("/v2.0/", public=True)
async def resources(req: ApiRequest) -> Reply:
    base = f"{_base(req)}/v2.0"
    return {"resources": [
        {"name": name, "collection": collection,
         "links": [{"rel": "self", "href": f"{base}/{collection}"}]}
        for name, collection in RESOURCES]}


@router.get("/v2.0/extensions")
async def list_extensions(req: ApiRequest) -> Reply:
    return {"extensions": [e.view() for e in EXTENSIONS]}


@router.get("/v2.0/extensions/{alias}")
async def show_extension(req: ApiRequest) -> Reply:
    found = by_alias().get(req.params["alias"])
    if found is None:
        raise NotFound(f"Extension with alias {req.params['alias']} does not exist",
                       type="HTTPNotFound")
    return {"extension": found.view()}
