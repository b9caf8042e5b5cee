"""``/v2/images/{image_id}/members``: sharing an image with other projects."""

from __future__ import annotations

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.image.service import members

router = Router()
MEMBER = "service/image/member"


@router.post("/v2/images/{image_id}/members", target=MEMBER)
async def create_member(req: ApiRequest) -> Reply:
    body = await req.json()
    member = body.get("member") if isinstance(body, dict) else None
    return await members.create_member(req.rt, req.ctx, req.params["image_id"], member)


@router.get("/v2/images/{image_id}/members")
async def list_members(req: ApiRequest) -> Reply:
    found = await members.list_members(req.rt, req.ctx, req.params["image_id"])
    return {"members": found, "schema": "/v2/schemas/members"}


@router.get("/v2/images/{image_id}/members/{member_id}")
async def show_member(req: ApiRequest) -> Reply:
    return await members.get_member(req.rt, req.ctx, req.params["image_id"],
                                    req.params["member_id"])


@router.put("/v2/images/{image_id}/members/{member_id}", target=MEMBER)
async def update_member(req: ApiRequest) -> Reply:
    body = await req.json()
    status = body.get("status") if isinstance(body, dict) else None
    return await members.update_member(req.rt, req.ctx, req.params["image_id"],
                                       req.params["member_id"], status)


@router.delete("/v2/images/{image_id}/members/{member_id}", status=204, target=MEMBER)
async def delete_member(req: ApiRequest) -> Reply:
    await members.delete_member(req.rt, req.ctx, req.params["image_id"],
                                req.params["member_id"])
    return None
