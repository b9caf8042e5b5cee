"""``/os-hypervisors``: list, detail, show, statistics, uptime, search and servers,
with the 2.33 (paging), 2.53 (uuids, query filters) and 2.88 (fewer fields)
changes."""

from __future__ import annotations

import json
import re
import uuid as uuidlib
from typing import Any

from nubo.compute.api import paging
from nubo.compute.service import hosts
from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, NotFound

router = Router()


def _state(req: ApiRequest, node: dict[str, Any]) -> tuple[str, str]:
    up = hosts.is_up(req.rt, {**node, "created_at": node["service_created_at"]})
    return ("up" if up else "down"), ("disabled" if node["disabled"] else "enabled")


def _brief(req: ApiRequest, node: dict[str, Any]) -> dict[str, Any]:
    state, status = _state(req, node)
    return {"id": node["uuid"] if req.at_least("2.53") else node["id"],
            "hypervisor_hostname": node["hypervisor_hostname"], "state": state,
            "status": status}


def _servers(on_host: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"name": f"instance-{int(i['id']):08x}", "uuid": i["uuid"]} for i in on_host]


def _detail(req: ApiRequest, node: dict[str, Any], on_host: list[dict[str, Any]]
            ) -> dict[str, Any]:
    out = _brief(req, node)
    out.update({
        "host_ip": node["host_ip"], "hypervisor_type": node["hypervisor_type"],
        "hypervisor_version": node["hypervisor_version"],
        "service": {"host": node["host"],
                    "id": node["service_uuid"] if req.at_least("2.53") else node["service_id"],
                    "disabled_reason": node["disabled_reason"]},
    })
    if req.at_least("2.88"):
        out["uptime"] = None
        return out
    used = _used(node, on_host)
    used["memory_mb"] += req.rt.settings.compute.reserved_host_memory_mb
    out.update({
        "vcpus": node["vcpus"], "memory_mb": node["memory_mb"], "local_gb": node["local_gb"],
        "vcpus_used": used["vcpus"], "memory_mb_used": used["memory_mb"],
        "local_gb_used": used["local_gb"],
        "free_ram_mb": node["memory_mb"] - used["memory_mb"],
        "free_disk_gb": node["local_gb"] - used["local_gb"],
        "current_workload": 0, "running_vms": len(on_host),
        "disk_available_least": node["local_gb"] - used["local_gb"],
        "cpu_info": json.loads(node["cpu_info"] or "{}") if req.at_least("2.28")
        else node["cpu_info"],
    })
    return out


def _used(node: dict[str, Any], on_host: list[dict[str, Any]]) -> dict[str, int]:
    vcpus = sum(int(i["flavor"]["vcpus"]) for i in on_host)
    memory = sum(int(i["flavor"]["ram"]) for i in on_host)
    disk = sum(int(i["flavor"]["disk"]) + int(i["flavor"].get("ephemeral") or 0)
               for i in on_host)
    return {"vcpus": vcpus, "memory_mb": memory, "local_gb": disk}


async def _nodes(req: ApiRequest) -> tuple[list[dict[str, Any]], dict[str, list[Any]]]:
    return await hosts.list_nodes(req.rt), await hosts.instances_by_host(req.rt)


def _filter(req: ApiRequest, nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not req.at_least("2.53"):
        return nodes
    pattern = req.query.get("hypervisor_hostname_pattern")
    if pattern is not None:
        if "limit" in req.query or "marker" in req.query:
            raise BadRequest("Paging over a list of hypervisors using the "
                             "hypervisor_hostname_pattern parameter is not supported.")
        nodes = [n for n in nodes if re.search(re.escape(pattern), n["hypervisor_hostname"])]
        if not nodes:
            raise NotFound(f"No hypervisor matching '{pattern}' could be found.")
    return nodes


def _page(req: ApiRequest, nodes: list[dict[str, Any]]) -> tuple[list[dict[str, Any]],
                                                                 dict[str, Any]]:
    if not req.at_least("2.33"):
        return nodes, {}
    marker = paging.marker(req)
    if marker is not None:
        key = "uuid" if req.at_least("2.53") else "id"
        index = next((i for i, n in enumerate(nodes) if str(n[key]) == marker), None)
        if index is None:
            raise BadRequest(f"marker [{marker}] not found")
        nodes = nodes[index + 1:]
    limit = paging.limit(req)
    nodes = nodes[:limit]
    last = str(nodes[-1]["uuid" if req.at_least("2.53") else "id"]) if nodes else ""
    links = paging.next_links(req, nodes, limit, last) if "limit" in req.query else []
    return nodes, ({"hypervisors_links": links} if links else {})


async def _list(req: ApiRequest, rule: str, detail: bool) -> Reply:
    req.authorize(rule, {})
    with_servers = req.at_least("2.53") and paging.bool_param(req, "with_servers")
    nodes, on_host = await _nodes(req)
    nodes, links = _page(req, _filter(req, nodes))
    out = []
    for node in nodes:
        mine = on_host.get(node["host"], [])
        item = _detail(req, node, mine) if detail else _brief(req, node)
        if with_servers and mine:
            item["servers"] = _servers(mine)
        out.append(item)
    return {"hypervisors": out, **links}


@router.get("/v2.1/os-hypervisors")
async def list_hypervisors(req: ApiRequest) -> Reply:
    return await _list(req, "os_compute_api:os-hypervisors:list", False)


@router.get("/v2.1/os-hypervisors/detail")
async def list_hypervisors_detail(req: ApiRequest) -> Reply:
    return await _list(req, "os_compute_api:os-hypervisors:list-detail", True)


@router.get("/v2.1/os-hypervisors/statistics", max_version="2.87")
async def hypervisor_statistics(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-hypervisors:statistics", {})
    nodes, on_host = await _nodes(req)
    stats = {"count": len(nodes), "vcpus": 0, "memory_mb": 0, "local_gb": 0, "vcpus_used": 0,
             "memory_mb_used": 0, "local_gb_used": 0, "free_ram_mb": 0, "free_disk_gb": 0,
             "current_workload": 0, "running_vms": 0, "disk_available_least": 0}
    for node in nodes:
        d = _detail(req, node, on_host.get(node["host"], []))
        for key in stats:
            if key != "count":
                stats[key] += int(d[key])
    return {"hypervisor_statistics": stats}


async def _find(req: ApiRequest, ident: str) -> dict[str, Any]:
    nodes = await hosts.list_nodes(req.rt)
    if req.at_least("2.53"):
        try:
            uuidlib.UUID(ident)
        except ValueError:
            raise BadRequest(f"Invalid uuid {ident}") from None
        found = next((n for n in nodes if n["uuid"] == ident), None)
    else:
        found = next((n for n in nodes if str(n["id"]) == ident), None)
    if found is None:
        raise NotFound(f"Hypervisor with ID {ident} could not be found.")
    return found


@router.get("/v2.1/os-hypervisors/{hypervisor_id}")
async def show_hypervisor(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-hypervisors:show", {})
    node = await _find(req, req.params["hypervisor_id"])
    mine = (await hosts.instances_by_host(req.rt)).get(node["host"], [])
    out = _detail(req, node, mine)
    if req.at_least("2.53") and paging.bool_param(req, "with_servers") and mine:
        out["servers"] = _servers(mine)
    return {"hypervisor": out}


@router.get("/v2.1/os-hypervisors/{hypervisor_id}/uptime", max_version="2.87")
async def hypervisor_uptime(req: ApiRequest) -> Reply:
    req.authorize("os_compute_api:os-hypervisors:uptime", {})
    node = await _find(req, req.params["hypervisor_id"])
    return {"hypervisor": {**_brief(req, node),
                           "uptime": " 00:00:00 up 0 min,  0 users,  load average: 0.00"}}


async def _search(req: ApiRequest, rule: str, with_servers: bool) -> Reply:
    req.authorize(rule, {})
    pattern = req.params["pattern"]
    nodes, on_host = await _nodes(req)
    found = [n for n in nodes if pattern in n["hypervisor_hostname"]]
    if not found:
        raise NotFound(f"No hypervisor matching '{pattern}' could be found.")
    out = []
    for node in found:
        item = _brief(req, node)
        if with_servers and on_host.get(node["host"]):
            item["servers"] = _servers(on_host[node["host"]])
        out.append(item)
    return {"hypervisors": out}


@router.get("/v2.1/os-hypervisors/{pattern}/search", max_version="2.52")
async def search_hypervisors(req: ApiRequest) -> Reply:
    return await _search(req, "os_compute_api:os-hypervisors:search", False)


@router.get("/v2.1/os-hypervisors/{pattern}/servers", max_version="2.52")
async def hypervisor_servers(req: ApiRequest) -> Reply:
    return await _search(req, "os_compute_api:os-hypervisors:servers", True)
