"""``/v2.0/segments`` (the ``segment`` extension): how networks are carried on the
wire, for admins."""

from __future__ import annotations

from typing import Any

from nubo.core.api.responses import empty
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, NotFound
from nubo.network.api import bodies as b
from nubo.network.api import query as q
from nubo.network.service import segments

router = Router()
TARGET = "service/network/segment"
FIXED = ("network_id", "network_type", "physical_network", "segmentation_id")
UPDATABLE = ("name", "description")
CREATABLE = (*FIXED, *UPDATABLE, "tenant_id", "project_id")


def _check(body: dict[str, Any], *, create: bool) -> None:
    if create:
        b.only(body, CREATABLE)
        for key in ("network_id", "network_type"):
            if key not in body:
                raise BadRequest(f"Failed to parse request. Required attribute '{key}' not "
                                 "specified", type="HTTPBadRequest")
        b.uuid_value(body, "network_id")
        b.string(body, "network_type", max_len=32)
        b.string(body, "physical_network", max_len=64, nullable=True)
        b.integer(body, "segmentation_id", nullable=True)
    else:
        b.forbid_update(body, (*FIXED, "tenant_id", "project_id"), "segment")
        b.only(body, UPDATABLE)
    b.string(body, "name", nullable=True)
    b.string(body, "description", nullable=True)


def _hidden(req: ApiRequest, segment_id: str) -> NotFound:
    return NotFound(f"Segment {segment_id} could not be found.", type="SegmentNotFound")


@router.get("/v2.0/segments")
async def list_segments(req: ApiRequest) -> Reply:
    query = q.list_query(req)
    if not req.allowed("get_segment", {}):
        return q.page(req, "segments", [], False, query)
    found, more = await segments.list_segments(req.rt, query)
    return q.page(req, "segments", found, more, query)


@router.get("/v2.0/segments/{segment_id}")
async def show_segment(req: ApiRequest) -> Reply:
    segment_id = req.params["segment_id"]
    if not req.allowed("get_segment", {}):
        raise _hidden(req, segment_id)
    found = await segments.get_segment(req.rt, req.ctx, segment_id)
    return {"segment": q.project(found, q.fields(req))}


@router.post("/v2.0/segments", status=201, target=TARGET)
async def create_segment(req: ApiRequest) -> Reply:
    body = await b.resource_body(req, "segment")
    req.authorize("create_segment", {"project_id": req.ctx.project_id})
    _check(body, create=True)
    return {"segment": await segments.create_segment(req.rt, body)}


@router.put("/v2.0/segments/{segment_id}", target=TARGET)
async def update_segment(req: ApiRequest) -> Reply:
    segment_id = req.params["segment_id"]
    if not req.allowed("get_segment", {}):
        raise _hidden(req, segment_id)
    req.authorize("update_segment", {})
    body = await b.resource_body(req, "segment")
    _check(body, create=False)
    found = await segments.update_segment(req.rt, segment_id, body, if_match=q.if_match(req))
    return {"segment": found}


@router.delete("/v2.0/segments/{segment_id}", status=204, target=TARGET)
async def delete_segment(req: ApiRequest) -> Reply:
    segment_id = req.params["segment_id"]
    if not req.allowed("get_segment", {}):
        raise _hidden(req, segment_id)
    req.authorize("delete_segment", {})
    await segments.delete_segment(req.rt, segment_id, if_match=q.if_match(req))
    return empty()
