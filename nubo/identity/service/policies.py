"""Legacy ``/v3/policies`` (opaque blobs for other services) and their
OS-ENDPOINT-POLICY associations to an endpoint, a service, or a service in a region.

An endpoint's policy is found as Keystone finds it: its own association first,
then its service's in its region and that region's parents, then its service's.
Each target holds at most one policy: associating another replaces it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select, update

from nubo.core.db.base import new_id
from nubo.core.errors import NotFound, ValidationError
from nubo.core.runtime import Runtime
from nubo.identity import tables as t
from nubo.identity.service import catalog

PA = t.policy_association


# ---------------------------------------------------------------- policies


def _check(body: Mapping[str, Any], creating: bool) -> None:
    if not creating and not body:
        raise ValidationError("The policy update needs at least one property.")
    for key in ("blob", "type"):
        if creating and key not in body:
            raise ValidationError(f"'{key}' is a required property.")
        if key in body and not isinstance(body[key], str):
            raise ValidationError(f"Invalid input for field '{key}': {body[key]!r} is not of "
                                  f"type 'string'.")
    if len(body.get("type") or "") > 255:
        raise ValidationError("Invalid input for field 'type': at most 255 characters.")


def _render(row: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict(row["extra"] or {})
    out.update(id=row["id"], type=row["type"], blob=row["blob"])
    return out


def _extra(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("id", "type", "blob", "links")}


async def _row(conn: Any, policy_id: str) -> Mapping[Any, Any]:
    found = (await conn.execute(select(t.policy).where(t.policy.c.id == policy_id))).first()
    if found is None:
        raise NotFound(f"Could not find policy: {policy_id}.")
    row: Mapping[Any, Any] = found._mapping
    return row


async def create_policy(rt: Runtime, body: Mapping[str, Any]) -> dict[str, Any]:
    _check(body, True)
    row = {"id": new_id(), "type": body["type"], "blob": body["blob"], "extra": _extra(body)}
    async with rt.db.transaction() as tx:
        await tx.execute(insert(t.policy).values(**row))
    return _render(row)


async def get_policy(rt: Runtime, policy_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        return _render(await _row(conn, policy_id))


async def list_policies(rt: Runtime, filters: Mapping[str, str]) -> list[dict[str, Any]]:
    q = select(t.policy)
    if "type" in filters:
        q = q.where(t.policy.c.type == filters["type"])
    async with rt.db.read() as conn:
        return [_render(r._mapping) for r in await conn.execute(q.order_by(t.policy.c.id))]


async def update_policy(rt: Runtime, policy_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    _check(body, False)
    if "id" in body and body["id"] != policy_id:
        raise ValidationError("Cannot change ID")
    async with rt.db.transaction() as tx:
        row = await _row(tx.conn, policy_id)
        values: dict[str, Any] = {k: body[k] for k in ("type", "blob") if k in body}
        extra = _extra(body)
        if extra:
            values["extra"] = {**(row["extra"] or {}), **extra}
        if values:
            await tx.execute(update(t.policy).where(t.policy.c.id == policy_id).values(**values))
        new = await _row(tx.conn, policy_id)
    return _render(new)


async def delete_policy(rt: Runtime, policy_id: str) -> None:
    async with rt.db.transaction() as tx:
        await _row(tx.conn, policy_id)
        await tx.execute(delete(PA).where(PA.c.policy_id == policy_id))
        await tx.execute(delete(t.policy).where(t.policy.c.id == policy_id))


# ---------------------------------------------------------------- associations


def _where(endpoint_id: str | None, service_id: str | None, region_id: str | None) -> Any:
    return [c.is_(None) if v is None else c == v
            for c, v in ((PA.c.endpoint_id, endpoint_id), (PA.c.service_id, service_id),
                         (PA.c.region_id, region_id))]


async def _check_targets(conn: Any, policy_id: str, endpoint_id: str | None,
                         service_id: str | None, region_id: str | None) -> None:
    await _row(conn, policy_id)
    for table, value, kind in ((t.endpoint, endpoint_id, "endpoint"),
                               (t.service, service_id, "service"),
                               (t.region, region_id, "region")):
        if value is not None and (await conn.execute(select(table.c.id).where(
                table.c.id == value))).first() is None:
            raise NotFound(f"Could not find {kind}: {value}.")


async def create_association(rt: Runtime, policy_id: str, *, endpoint_id: str | None = None,
                             service_id: str | None = None, region_id: str | None = None
                             ) -> None:
    async with rt.db.transaction() as tx:
        await _check_targets(tx.conn, policy_id, endpoint_id, service_id, region_id)
        where = _where(endpoint_id, service_id, region_id)
        found = (await tx.execute(select(PA.c.id).where(*where))).first()
        if found:
            await tx.execute(update(PA).where(PA.c.id == found.id).values(policy_id=policy_id))
        else:
            await tx.execute(insert(PA).values(id=new_id(), policy_id=policy_id,
                                               endpoint_id=endpoint_id, service_id=service_id,
                                               region_id=region_id))


async def check_association(rt: Runtime, policy_id: str, *, endpoint_id: str | None = None,
                            service_id: str | None = None, region_id: str | None = None
                            ) -> None:
    async with rt.db.read() as conn:
        await _check_targets(conn, policy_id, endpoint_id, service_id, region_id)
        found = (await conn.execute(select(PA.c.id).where(
            PA.c.policy_id == policy_id, *_where(endpoint_id, service_id, region_id)))).first()
    if found is None:
        raise NotFound("Could not find policy association.")


async def delete_association(rt: Runtime, policy_id: str, *, endpoint_id: str | None = None,
                             service_id: str | None = None, region_id: str | None = None
                             ) -> None:
    async with rt.db.transaction() as tx:
        await _check_targets(tx.conn, policy_id, endpoint_id, service_id, region_id)
        await tx.execute(delete(PA).where(PA.c.policy_id == policy_id,
                                          *_where(endpoint_id, service_id, region_id)))


async def _region_chain(conn: Any, region_id: str | None) -> list[str]:
    chain: list[str] = []
    while region_id and region_id not in chain:
        chain.append(region_id)
        found = (await conn.execute(select(t.region.c.parent_region_id).where(
            t.region.c.id == region_id))).first()
        region_id = found.parent_region_id if found else None
    return chain


async def _policy_id_for(conn: Any, ep: Mapping[str, Any]) -> str | None:
    rows = [r._mapping for r in await conn.execute(select(PA).where(
        (PA.c.endpoint_id == ep["id"]) | (PA.c.service_id == ep["service_id"])))]
    for r in rows:
        if r["endpoint_id"] == ep["id"]:
            return str(r["policy_id"])
    for region in await _region_chain(conn, ep["region_id"]):
        for r in rows:
            if r["endpoint_id"] is None and r["region_id"] == region:
                return str(r["policy_id"])
    for r in rows:
        if r["endpoint_id"] is None and r["region_id"] is None:
            return str(r["policy_id"])
    return None


async def get_policy_for_endpoint(rt: Runtime, endpoint_id: str) -> dict[str, Any]:
    ep = await catalog.get_endpoint(rt, endpoint_id)
    async with rt.db.read() as conn:
        policy_id = await _policy_id_for(conn, ep)
        if policy_id is None:
            raise NotFound(f"No policy is associated with endpoint {endpoint_id}.")
        return _render(await _row(conn, policy_id))


async def list_endpoints_for_policy(rt: Runtime, policy_id: str) -> list[dict[str, Any]]:
    """Every endpoint one of the policy's associations reaches (as Keystone: whether
    or not a nearer association overrides it)."""
    async with rt.db.read() as conn:
        await _row(conn, policy_id)
        links = [r._mapping for r in await conn.execute(select(PA).where(
            PA.c.policy_id == policy_id))]
        endpoints = [catalog.to_endpoint(r._mapping)
                     for r in await conn.execute(select(t.endpoint))]
        out = []
        for ep in endpoints:
            chain = await _region_chain(conn, ep["region_id"])
            if any(a["endpoint_id"] == ep["id"]
                   or (a["endpoint_id"] is None and a["service_id"] == ep["service_id"]
                       and (a["region_id"] is None or a["region_id"] in chain))
                   for a in links):
                out.append(ep)
        return out
