"""Subnets: create, update, delete.

Creating a subnet bumps its network's revision first (as Neutron does when a
network's subnets change); that update locks the network's row, so subnets of one
network are created one at a time and the overlap check holds under concurrency.
A subnet carved from a pool also locks the pool's row before choosing its CIDR.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from nubo.core.auth.context import RequestContext
from nubo.core.config import NetworkSettings
from nubo.core.db.base import utcnow
from nubo.core.db.engine import Tx
from nubo.core.db.prebuilt import insert_of, prebuilt
from nubo.core.errors import Conflict
from nubo.core.runtime import Runtime
from nubo.network import ipam, ipv6, subnet_options
from nubo.network import subnet_request as req
from nubo.network import subnetpools as sp
from nubo.network import tables as t
from nubo.network.errors import bad_request
from nubo.network.service import (
    address_scopes,
    networks,
    quotas,
    standard,
    subnet_segments,
    subnetpools,
)
from nubo.network.service.subnets import cidr_of, find_subnet, pools_of, views

S, N, P, IPA = t.subnets, t.networks, t.ports, t.ip_allocations
TYPE = "subnet"
# ports whose addresses go with the subnet (Neutron's AUTO_DELETE_PORT_OWNERS)
AUTO_DELETE_OWNERS = ("network:dhcp", "network:distributed", "network:floatingip_agent_gateway")
ROUTER_INTERFACE_OWNERS = tuple(ipv6.ROUTER_INTERFACE_OWNERS)
ROUTER_SNAT_OWNERS = (*ROUTER_INTERFACE_OWNERS, "network:router_centralized_snat")


# -- create --------------------------------------------------------------------------

async def create_subnet(rt: Runtime, ctx: RequestContext, body: Mapping[str, Any]
                        ) -> dict[str, Any]:
    return (await create_subnets(rt, ctx, [body]))[0]


async def create_subnets(rt: Runtime, ctx: RequestContext, bodies: Sequence[Mapping[str, Any]]
                         ) -> list[dict[str, Any]]:
    """Create subnets (one, or a bulk request's all or none) in one transaction."""
    async with rt.db.transaction() as tx:
        return [await create_subnet_tx(tx, rt, ctx, body) for body in bodies]


async def create_subnet_tx(tx: Tx, rt: Runtime, ctx: RequestContext, body: Mapping[str, Any]
                           ) -> dict[str, Any]:
    """A new subnet, in the caller's transaction. The project's quota usage row is
    locked first, then the network's row (its revision bumps), then the pool's."""
    project_id = standard.owner(ctx, body)
    asked = _read(rt.settings.network, body)
    net = await networks.find_network(tx, rt, ctx, body["network_id"])
    req.check_network_mtu(net.id, net.mtu, asked.ip_version)
    await quotas.consume(tx, rt.settings.network, project_id, TYPE)
    await standard.touch(tx, N, net.id)
    pool = await _pool_of(tx, rt, ctx, body, asked.ip_version)
    layout = await _layout(tx, body, asked.cidr, pool, project_id)
    if asked.cidr is None:
        ipv6.check_modes(asked.ip_version, asked.ra_mode, asked.address_mode,
                         enable_dhcp=asked.dhcp, cidr=layout.cidr)
    existing = await _locked_subnets(tx, net.id)
    ipam.check_network_overlap(layout.cidr, net.id, {r.id: cidr_of(r) for r in existing})
    await _check_pool_affinity(tx, net.id, existing, pool, asked.ip_version)
    await subnet_segments.check_create_tx(tx, net.id, body.get("segment_id"), existing)
    values = {**standard.new_values(project_id, body), **layout.values(), **asked.values}
    values.update(name=body.get("name", ""), network_id=net.id,
                  subnetpool_id=None if pool is None else pool.id,
                  segment_id=body.get("segment_id"),
                  dns_publish_fixed_ip=bool(body.get("dns_publish_fixed_ip", False)))
    await tx.execute(insert_of(S, values), values)
    if body.get("tags"):
        await standard.replace_tags(tx, "subnets", values["id"], body["tags"])
    if ipv6.is_auto_address(asked.ra_mode, asked.address_mode):
        await _add_auto_addresses(tx, values["id"], net.id, layout.cidr)
    tx.publish("network.subnet.create", {"id": values["id"], "network_id": net.id})
    row = await standard.row_of(tx, S, values["id"])
    return (await views(tx, [row]))[0]


@dataclass(frozen=True)
class _Asked:
    """What a create request says, checked before anything is looked up."""

    ip_version: int
    dhcp: bool
    cidr: ipam.IPNetwork | None
    ra_mode: ipv6.Ipv6Mode | None
    address_mode: ipv6.Ipv6Mode | None
    values: dict[str, Any]


def _read(settings: NetworkSettings, body: Mapping[str, Any]) -> _Asked:
    ip_version = int(body["ip_version"])
    dhcp = bool(body.get("enable_dhcp", True))
    req.check_create_shape(body)
    cidr = req.requested_cidr(body, ip_version, enable_dhcp=dhcp)
    req.check_gateway_form(body, ip_version, cidr)
    values = {
        "ip_version": ip_version, "enable_dhcp": dhcp,
        "dns_nameservers": subnet_options.dns_nameservers(
            body.get("dns_nameservers"), ip_version, limit=settings.max_dns_nameservers),
        "host_routes": subnet_options.host_routes(
            body.get("host_routes"), ip_version, limit=settings.max_subnet_host_routes),
        "service_types": req.service_types(body.get("service_types"))}
    ra, address = req.modes(body, ip_version, cidr, enable_dhcp=dhcp)
    values.update(ipv6_ra_mode=ra, ipv6_address_mode=address)
    return _Asked(ip_version, dhcp, cidr, ra, address, values)


async def _pool_of(tx: Tx, rt: Runtime, ctx: RequestContext, body: Mapping[str, Any],
                   ip_version: int) -> Row[Any] | None:
    """The subnet pool the subnet comes from, if any, as the caller may see it."""
    if body.get("subnetpool_id"):
        pool = await subnetpools.find_subnetpool(tx, rt, ctx, body["subnetpool_id"])
    elif body.get("use_default_subnetpool"):
        pool = await subnetpools.default_pool(tx, rt, ctx, ip_version)
    else:
        return None
    sp.check_pool_version(ip_version, pool.ip_version)
    return pool


async def _layout(tx: Tx, body: Mapping[str, Any], cidr: ipam.IPNetwork | None,
                  pool: Row[Any] | None, project_id: str) -> req.Layout:
    """The subnet's CIDR, gateway and pools; from a pool, chosen under its lock."""
    if pool is None:
        assert cidr is not None
        return req.specific_layout(cidr, body)
    await subnetpools.lock_for_allocation(tx, pool.id)
    request = req.pool_request(body, cidr, subnetpools.bounds_of(pool))
    sp.check_quota(pool.default_quota, await subnetpools.allocated(tx, pool.id, project_id),
                   request.prefixlen, pool.ip_version)
    prefixes = subnetpools.prefixes_of(pool)
    taken = await subnetpools.allocated(tx, pool.id)
    if request.cidr is not None:
        sp.check_specific(prefixes, taken, request.cidr)
        return req.specific_layout(request.cidr, body)
    return req.pool_layout(sp.allocate_any(prefixes, taken, request.prefixlen), body)


_LOCKED_SUBNETS = prebuilt(select(S).where(S.c.network_id == bindparam("b_network"))
                           .with_for_update(read=True))


async def _locked_subnets(tx: Tx, network_id: str) -> list[Row[Any]]:
    """The network's subnets, read with a lock (the newest committed rows whatever
    the isolation level)."""
    return list(await tx.execute(_LOCKED_SUBNETS, {"b_network": network_id}))


async def _check_pool_affinity(tx: Tx, network_id: str, existing: Sequence[Row[Any]],
                               pool: Row[Any] | None, ip_version: int) -> None:
    """Neutron's ``_validate_network_subnetpools``: a network's subnets of one IP
    version come from one pool, or from pools of one address scope."""
    scope = (await address_scopes.of_networks(tx, [network_id]))[network_id][ip_version]
    if scope is not None and (pool is None or pool.address_scope_id != scope):
        raise bad_request("NetworkAddressScopeAffinityError",
                          "Subnets of the same address family hosted on the same network "
                          "must all participate in the same address scope.")
    for other in existing:
        if other.ip_version != ip_version:
            continue
        mixed = (other.subnetpool_id != pool.id and scope is None if pool is not None
                 else other.subnetpool_id is not None)
        if mixed:
            raise bad_request("NetworkSubnetPoolAffinityError",
                              "Subnets hosted on the same network must be allocated from "
                              "the same subnet pool.")


async def _add_auto_addresses(tx: Tx, subnet_id: str, network_id: str,
                              prefix: ipam.IPNetwork) -> None:
    """A new SLAAC or DHCPv6-stateless subnet gives every port of the network (but
    router interfaces) its EUI-64 address, as Neutron does."""
    found = list(await tx.execute(select(P.c.id, P.c.mac_address).where(
        P.c.network_id == network_id, P.c.device_owner.notin_(ROUTER_SNAT_OWNERS))))
    for port_id, mac in found:
        address = str(ipv6.eui64_address(prefix, mac))
        try:
            async with tx.conn.begin_nested():
                await tx.execute(insert(IPA).values(subnet_id=subnet_id, ip_address=address,
                                                    port_id=port_id, network_id=network_id))
        except IntegrityError:
            continue  # the port went away, or got the address meanwhile
        await standard.touch(tx, P, port_id)
        tx.publish("network.port.update", {"id": port_id})


# -- update --------------------------------------------------------------------------

def _current(row: Row[Any]) -> req.Current:
    return req.Current(
        id=row.id, cidr=cidr_of(row),
        gateway=None if row.gateway_ip is None else ipam.to_address(row.gateway_ip),
        pools=pools_of(row), enable_dhcp=row.enable_dhcp,
        ra_mode=ipv6.parse_mode(row.ipv6_ra_mode, "ipv6_ra_mode"),
        address_mode=ipv6.parse_mode(row.ipv6_address_mode, "ipv6_address_mode"))


async def update_subnet(rt: Runtime, ctx: RequestContext, subnet_id: str,
                        body: Mapping[str, Any], *, if_match: int | None = None
                        ) -> dict[str, Any]:
    settings = rt.settings.network
    async with rt.db.transaction() as tx:
        row = await find_subnet(tx, rt, ctx, subnet_id)
        current = _current(row)
        req.check_dhcp_update(current, body)
        values = req.update_layout(current, body)
        if "gateway_ip" in values:
            await _check_gateway_change(tx, row, values["gateway_ip"])
        if "dns_nameservers" in body:
            values["dns_nameservers"] = subnet_options.dns_nameservers(
                body["dns_nameservers"], row.ip_version, limit=settings.max_dns_nameservers,
                subnet_id=subnet_id)
        if "host_routes" in body:
            values["host_routes"] = subnet_options.host_routes(
                body["host_routes"], row.ip_version, limit=settings.max_subnet_host_routes,
                subnet_id=subnet_id)
        if "service_types" in body:
            values["service_types"] = req.service_types(body["service_types"])
        if "segment_id" in body:
            await subnet_segments.check_update_tx(tx, row, body["segment_id"])
        values.update({k: body[k] for k in ("name", "enable_dhcp", "segment_id",
                                            "dns_publish_fixed_ip") if k in body})
        if "description" in body:
            values["description"] = standard.description(body)
        await standard.touch(tx, N, row.network_id)
        await standard.touch(tx, S, subnet_id, values, if_match=if_match)
        tx.publish("network.subnet.update", {"id": subnet_id, "network_id": row.network_id})
        row = await standard.row_of(tx, S, subnet_id)
        return (await views(tx, [row]))[0]


async def _check_gateway_change(tx: Tx, row: Row[Any], new: str | None) -> None:
    """A gateway held by a router interface cannot move (Neutron's
    ``GatewayIpInUse``); the new one must not be a port's address."""
    if new == row.gateway_ip:
        return
    if row.gateway_ip is not None:
        held = (await tx.execute(select(IPA.c.port_id).join(P, P.c.id == IPA.c.port_id).where(
            IPA.c.subnet_id == row.id, IPA.c.ip_address == row.gateway_ip,
            P.c.device_owner.in_(ROUTER_INTERFACE_OWNERS)).limit(1))).first()
        if held is not None:
            raise Conflict(f"Current gateway ip {row.gateway_ip} already in use by port "
                           f"{held.port_id}. Unable to update.", type="GatewayIpInUse")
    if new is not None:
        taken = (await tx.execute(select(IPA.c.port_id).where(
            IPA.c.subnet_id == row.id, IPA.c.ip_address == new).limit(1))).first()
        if taken is not None:
            raise Conflict(f"Unable to complete operation for network {row.network_id}. "
                           f"The IP address {new} is in use.", type="IpAddressInUse")


# -- delete --------------------------------------------------------------------------

def _in_use(subnet_id: str) -> Conflict:
    return Conflict(f"Unable to complete operation on subnet {subnet_id}: One or more "
                    "ports have an IP allocation from this subnet.", type="SubnetInUse")


async def delete_subnet(rt: Runtime, ctx: RequestContext, subnet_id: str, *,
                        if_match: int | None = None) -> None:
    async with rt.db.transaction() as tx:
        row = await find_subnet(tx, rt, ctx, subnet_id)
        if if_match is not None:
            await standard.touch(tx, S, subnet_id, if_match=if_match)
        await standard.touch(tx, N, row.network_id)
        held = select(IPA.c.port_id).join(P, P.c.id == IPA.c.port_id).where(
            IPA.c.subnet_id == subnet_id)
        if (await tx.execute(held.where(P.c.device_owner.in_(ROUTER_INTERFACE_OWNERS))
                             .limit(1))).first() is not None:
            raise _in_use(subnet_id)
        if not ipv6.is_auto_address(row.ipv6_ra_mode, row.ipv6_address_mode) and (
                await tx.execute(held.where(P.c.device_owner.notin_(AUTO_DELETE_OWNERS))
                                 .limit(1))).first() is not None:
            raise _in_use(subnet_id)
        await delete_tx(tx, [row])


async def delete_tx(tx: Tx, rows: Sequence[Row[Any]]) -> None:
    """Forget subnets: the addresses ports hold on them (those ports' revisions
    bump), their tags, their quota usage. The caller has checked they may go."""
    ids = [r.id for r in rows]
    if not ids:
        return
    holders = [r[0] for r in await tx.execute(
        select(IPA.c.port_id).where(IPA.c.subnet_id.in_(ids)).distinct())]
    await tx.execute(delete(IPA).where(IPA.c.subnet_id.in_(ids)))
    if holders:
        await tx.execute(update(P).where(P.c.id.in_(holders)).values(
            revision_number=P.c.revision_number + 1, updated_at=utcnow()))
        for port_id in holders:
            tx.publish("network.port.update", {"id": port_id})
    await standard.drop_tags(tx, "subnets", ids)
    await tx.execute(delete(S).where(S.c.id.in_(ids)))
    for row in rows:
        await quotas.release(tx, row.project_id, TYPE)
        tx.publish("network.subnet.delete", {"id": row.id, "network_id": row.network_id})

