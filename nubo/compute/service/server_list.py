"""Listing servers with Nova's filters, sorting and marker pagination.

The database narrows by project, user, host, deletion and time; the rest of the
filters (name regex, status, tags…) are applied to the rows in Python so they
behave the same on every database back end. In the default order (newest first)
the database also pages: rows are read in (created_at, id) order after the marker,
in batches, until the page is full, so a page costs the same with 100 servers or
100,000. Other sort keys sort every matching row here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select

from nubo.compute import network_info
from nubo.compute.service import instances as records
from nubo.compute.states import VmState, api_status
from nubo.compute.tables import instances
from nubo.core.errors import BadRequest
from nubo.core.runtime import Runtime

SORT_KEYS = {
    "access_ip_v4", "access_ip_v6", "auto_disk_config", "availability_zone",
    "config_drive", "created_at", "display_description", "display_name", "host",
    "hostname", "image_ref", "instance_type_id", "kernel_id", "key_name", "launch_index",
    "launched_at", "locked", "locked_by", "node", "power_state", "progress", "project_id",
    "ramdisk_id", "root_device_name", "task_state", "terminated_at", "updated_at",
    "user_id", "uuid", "vm_state",
}
UNSORTABLE = {"auto_disk_config", "instance_type_id", "kernel_id", "ramdisk_id",
              "root_device_name"}


@dataclass
class ServerQuery:
    project_id: str | None = None          # None: every project (admin all_tenants)
    user_id: str | None = None
    name: str | None = None                # a regular expression
    status: str | None = None
    image: str | None = None
    flavor: str | None = None
    host: str | None = None
    node: str | None = None
    reservation_id: str | None = None
    changes_since: dt.datetime | None = None
    changes_before: dt.datetime | None = None
    deleted: bool = False
    locked: bool | None = None
    tags: list[str] = field(default_factory=list)
    tags_any: list[str] = field(default_factory=list)
    not_tags: list[str] = field(default_factory=list)
    not_tags_any: list[str] = field(default_factory=list)
    # regular expressions over the server's IPv4 / IPv6 addresses
    ip: str | None = None
    ip6: str | None = None
    availability_zone: str | None = None
    key_name: str | None = None
    description: str | None = None
    # exact matches on columns (values as query strings): vm_state, power_state…
    states: dict[str, str] = field(default_factory=dict)
    # column -> the earliest time it may have
    times: dict[str, dt.datetime | None] = field(default_factory=dict)
    sort: list[tuple[str, str]] = field(default_factory=list)
    limit: int | None = None
    marker: str | None = None


async def list_servers(rt: Runtime, q: ServerQuery, *, batch: int = 1000
                       ) -> list[dict[str, Any]]:
    """The page of servers ``q`` asks for; ``batch`` is how many rows at most the
    database is asked for at a time when it pages (at least the page size)."""
    query = _narrowed(q)
    if _keyset_order(q.sort) is not None:
        return await _page_in_order(rt, q, query, batch)
    async with rt.db.read() as conn:
        rows = (await conn.execute(query)).mappings().all()
        found = await records.attach(conn, rows)
    found = [s for s in found if _matches(s, q)]
    found = sort_servers(found, q.sort)
    return paginate(found, q.marker, q.limit)


def _narrowed(q: ServerQuery) -> Any:
    """The instances the database can pick out (project, host, deletion, time)."""
    query = select(instances)
    if q.project_id is not None:
        query = query.where(instances.c.project_id == q.project_id)
    if q.user_id:
        query = query.where(instances.c.user_id == q.user_id)
    if q.host:
        query = query.where(instances.c.host == q.host)
    if q.node:
        query = query.where(instances.c.node == q.node)
    if q.changes_since is not None:
        query = query.where(instances.c.updated_at >= q.changes_since)
    if q.changes_before is not None:
        query = query.where(instances.c.updated_at <= q.changes_before)
    if not q.deleted and q.changes_since is None and q.changes_before is None:
        # as Nova, a plain list leaves soft-deleted servers out too
        query = query.where(instances.c.deleted.is_(False),
                            instances.c.vm_state != VmState.SOFT_DELETED.value)
    elif q.deleted:
        query = query.where(or_(instances.c.deleted.is_(True),
                                instances.c.vm_state == VmState.SOFT_DELETED.value))
    return query


# ------------------------------------------------ pages in the database's order


def _keyset_order(sort: Sequence[tuple[str, str]]) -> str | None:
    """The direction of a sort the database can page through by (created_at, id)
    (the default, newest first), or None when the rows must be sorted here."""
    if not sort:
        return "desc"
    if len(sort) == 1 and sort[0][0] == "created_at":
        return sort[0][1]
    return None


async def _page_in_order(rt: Runtime, q: ServerQuery, query: Any, most: int
                         ) -> list[dict[str, Any]]:
    """One page in (created_at, id) order, read in batches from the database: only
    the rows up to the page's end are loaded, however many servers there are.
    The filters the database cannot apply are applied to each batch."""
    direction = _keyset_order(q.sort)
    created, ident = instances.c.created_at, instances.c.id
    descending = direction == "desc"
    ordered = query.order_by(*((created.desc(), ident.desc()) if descending
                               else (created.asc(), ident.asc())))
    wanted = q.limit
    batch = most if wanted is None or _filters_in_python(q) else max(wanted, 1)
    found: list[dict[str, Any]] = []
    async with rt.db.read() as conn:
        after = await _marker_position(conn, query, q.marker) if q.marker else None
        while wanted is None or len(found) < wanted:
            step = ordered if after is None else ordered.where(_beyond(after, descending))
            rows = (await conn.execute(step.limit(batch))).mappings().all()
            found += [s for s in await records.attach(conn, rows) if _matches(s, q)]
            if len(rows) < batch:
                break
            after = (rows[-1]["created_at"], rows[-1]["id"])
    return found if wanted is None else found[:wanted]


async def _marker_position(conn: Any, query: Any, marker: str) -> tuple[Any, int]:
    """(created_at, id) of the marker among the servers the query can see."""
    row = (await conn.execute(query.with_only_columns(
        instances.c.created_at, instances.c.id).where(instances.c.uuid == marker))).first()
    if row is None:
        raise BadRequest(f"marker [{marker}] not found")
    return row[0], row[1]


def _beyond(after: tuple[Any, int], descending: bool) -> Any:
    created, ident = instances.c.created_at, instances.c.id
    if descending:
        return or_(created < after[0], and_(created == after[0], ident < after[1]))
    return or_(created > after[0], and_(created == after[0], ident > after[1]))


def _filters_in_python(q: ServerQuery) -> bool:
    """Whether any filter of ``_matches`` is set (so a batch may yield fewer rows)."""
    return any((q.name, q.status, q.image, q.flavor, q.reservation_id, q.locked is not None,
                q.availability_zone, q.key_name, q.description, q.tags, q.tags_any,
                q.not_tags, q.not_tags_any, q.states, q.ip, q.ip6,
                any(t is not None for t in q.times.values())))


def _matches(s: Mapping[str, Any], q: ServerQuery) -> bool:
    checks = [
        q.name is None or _regex(q.name).search(s["display_name"] or "") is not None,
        q.status is None or api_status(s["vm_state"], s["task_state"]) == q.status.upper()
        or (q.status.upper() == "DELETED" and s["deleted"]),
        q.image is None or s["image_ref"] == q.image.rstrip("/").rsplit("/", 1)[-1],
        q.flavor is None or str(s["flavor"]["id"]) == q.flavor.rstrip("/").rsplit("/", 1)[-1],
        q.reservation_id is None or s["reservation_id"] == q.reservation_id,
        q.locked is None or bool(s["locked"]) == q.locked,
        q.availability_zone is None or s["availability_zone"] == q.availability_zone,
        q.key_name is None or s["key_name"] == q.key_name,
        q.description is None or s["display_description"] == q.description,
        not q.tags or set(q.tags) <= set(s["tags"]),
        not q.tags_any or bool(set(q.tags_any) & set(s["tags"])),
        not q.not_tags or not set(q.not_tags) <= set(s["tags"]),
        not q.not_tags_any or not set(q.not_tags_any) & set(s["tags"]),
        all(_text(s.get(k)) == v for k, v in q.states.items()),
        q.ip is None or any(_regex(q.ip).search(a) for a in _addresses(s, 4)),
        q.ip6 is None or any(_regex(q.ip6).search(a) for a in _addresses(s, 6)),
        all(t is None or (s.get(k) is not None and s[k] >= t) for k, t in q.times.items()),
    ]
    return all(checks)


def _addresses(server: Mapping[str, Any], version: int) -> list[str]:
    """The server's fixed and floating addresses of one IP version."""
    found = network_info.addresses(server.get("network_info") or [])
    return [a["addr"] for net in found.values() for a in net if a.get("version") == version]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error:
        return re.compile(re.escape(pattern))


def _key(server: Mapping[str, Any], key: str) -> Any:
    if key in UNSORTABLE:
        return None
    return server.get(key)


def sort_servers(servers: list[dict[str, Any]], sort: Sequence[tuple[str, str]]
                 ) -> list[dict[str, Any]]:
    """Sort by each (key, dir) in turn; created_at desc then id desc by default.
    Missing values sort first ascending, as NULLs do in Nova's queries."""
    keys = list(sort) or [("created_at", "desc")]
    keys.append(("id", keys[0][1]))
    out = list(servers)
    for key, direction in reversed(keys):
        out.sort(key=_sort_key(key), reverse=direction == "desc")
    return out


def _sort_key(key: str) -> Callable[[Mapping[str, Any]], tuple[bool, Any]]:
    def value(server: Mapping[str, Any]) -> tuple[bool, Any]:
        v = _key(server, key)
        return (v is not None, v if v is not None else 0)

    return value


def paginate(servers: list[dict[str, Any]], marker: str | None, limit: int | None
             ) -> list[dict[str, Any]]:
    if marker is not None:
        index = next((i for i, s in enumerate(servers) if s["uuid"] == marker), None)
        if index is None:
            raise BadRequest(f"marker [{marker}] not found")
        servers = servers[index + 1:]
    return servers if limit is None else servers[:limit]
