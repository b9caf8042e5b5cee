"""Ports: create, update, delete, and the functions other resources call inside their
own transactions (routers' interface and gateway ports, floating IPs' external ports,
compute's ports for servers).

A port is visible to its project and to the owner of its network (Neutron's
``network_owner`` rules). It gets a random MAC under ``[network] base_mac`` (unique per
network: the table's constraint, retried on a collision), its addresses as
:mod:`nubo.network.fixed_ips` plans them, and security as
:mod:`nubo.network.service.port_security` decides. ``status`` is DOWN until an agent
reports the port up (:mod:`nubo.network.service.port_status`). Binding to a host answers what the Linux
bridge driver answers; a change of host publishes ``network.port.bind`` /
``network.port.unbind`` for the hosts' agents.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.core.auth.context import RequestContext
from nubo.core.db.engine import Tx, is_duplicate
from nubo.core.db.prebuilt import insert_of, prebuilt
from nubo.core.errors import BadRequest, Conflict, NotFound
from nubo.core.runtime import Runtime
from nubo.network import fixed_ips as plan
from nubo.network import notifier
from nubo.network import port_attributes as attrs
from nubo.network import tables as t
from nubo.network.ipv6 import ROUTER_INTERFACE_OWNERS
from nubo.network.macs import random_mac
from nubo.network.service import (
    fip_associations,
    ip_allocation,
    networks,
    port_security,
    port_state,
    port_views,
    quotas,
    rbac,
    standard,
)
from nubo.network.service.port_views import find_port as find_port
from nubo.network.service.port_views import get_port as get_port
from nubo.network.service.port_views import not_found as not_found
from nubo.network.service.port_views import views as views
from nubo.network.service.port_views import visible_clauses as visible_clauses

log = logging.getLogger(__name__)
P, N = t.ports, t.networks
TYPE = "port"
TAGS = port_views.TAGS
UNPLUGGED = frozenset({"unbound", "binding_failed"})
# what changes the addresses a port gives its security groups (remote group members)
MEMBER_KEYS = frozenset({"fixed_ips", "allowed_address_pairs", "security_groups",
                         "port_security_enabled"})
SERVICE_OWNERS = frozenset({
    "network:router_interface", "network:router_gateway", "network:floatingip",
    "network:ha_router_replicated_interface", "network:router_interface_distributed",
    "network:router_centralized_snat"})
"""Ports made by routers and floating IPs: not deleted through the ports API."""
IP_UPDATE_NOT_ALLOWED = frozenset({
    "network:router_interface", "network:router_ha_interface",
    "network:ha_router_replicated_interface", "network:router_centralized_snat",
    "network:router_interface_distributed"})
"""Router ports whose IPv4 addresses only their router changes."""
MAC_ATTEMPTS = 16
T = TypeVar("T")


# -- create --------------------------------------------------------------------------

def _columns(rt: Runtime, body: Mapping[str, Any]) -> dict[str, Any]:
    """The columns a create sets from the request (besides MAC, security, addresses)."""
    host = attrs.parse_host(body.get("binding:host_id"))
    vnic = attrs.parse_vnic_type(body.get("binding:vnic_type") or "normal")
    vif_type, vif_details = attrs.binding(host, vnic)
    opts = attrs.parse_dhcp_opts(body.get("extra_dhcp_opts"))
    return {
        "name": body.get("name") or "", "status": "DOWN",
        "admin_state_up": body.get("admin_state_up", True) is not False,
        "device_id": body.get("device_id") or "", "device_owner": body.get("device_owner") or "",
        "dns_name": attrs.parse_dns_name(body.get("dns_name"), rt.settings.network.dns_domain),
        "extra_dhcp_opts": attrs.created_dhcp_opts(opts),
        "binding_host_id": host, "binding_vnic_type": vnic, "binding_vif_type": vif_type,
        "binding_vif_details": vif_details,
        "binding_profile": attrs.parse_profile(body.get("binding:profile")),
        "ip_allocation": "none" if body.get("fixed_ips") == [] else "immediate",
    }


async def _insert(tx: Tx, rt: Runtime, values: dict[str, Any], mac: str | None,
                  pairs: Sequence[Mapping[str, str]]) -> str:
    """Insert the port row with the asked MAC (409 MacAddressInUse when the network has
    it) or a random one (drawn again on a collision); the MAC it got. Address pairs
    without a MAC take the port's."""
    for _ in range(MAC_ATTEMPTS if mac is None else 1):
        chosen = mac or random_mac(rt.settings.network.base_mac)
        row = {**values, "mac_address": chosen,
               "allowed_address_pairs": attrs.with_port_mac(pairs, chosen)}
        try:
            async with tx.conn.begin_nested():
                await tx.execute(insert_of(P, row), row)
            values.update(row)
            return chosen
        except IntegrityError as exc:
            if not is_duplicate(exc):
                raise
    if mac is not None:
        raise mac_in_use(values["network_id"], mac)
    raise Conflict(f"Unable to generate unique mac on network {values['network_id']}.",
                   type="MacAddressGenerationFailure")


def mac_in_use(network_id: str, mac: str) -> Conflict:
    return Conflict(f"Unable to complete operation for network {network_id}. The mac "
                    f"address {mac} is in use.", type="MacAddressInUse")


async def _addresses(tx: Tx, port: Mapping[str, Any], requested: Any) -> list[plan.Held]:
    """Allocate a new port's fixed IPs (``requested``: the body's ``fixed_ips`` or None)."""
    network_id = port["network_id"]
    entries = None if requested is None else attrs.parse_fixed_ips(requested)
    subnets = await ip_allocation.network_subnets(tx, network_id)
    if entries:
        await ip_allocation.check_subnets_exist(
            tx, [e.subnet_id for e in entries if e.subnet_id is not None])
    eligible = plan.eligible(subnets, port["device_owner"], network_id)
    if entries is None:
        wants = plan.default_wants(eligible, port["device_owner"], port["mac_address"])
    else:
        wants = plan.requested_wants(entries, eligible, network_id, port["device_owner"],
                                     port["mac_address"])
    return await ip_allocation.allocate_tx(tx, network_id, port["id"], wants, eligible)


async def create_port_tx(tx: Tx, rt: Runtime, ctx: RequestContext, body: Mapping[str, Any],
                         *, project_id: str | None = None) -> dict[str, Any]:
    """Create a port in the caller's transaction; its view.

    ``body`` is a port request (Neutron's attributes, unchecked values are checked
    here). The network must be visible to ``ctx``; ``project_id`` (even ``""``: a
    port of no project, as routers' gateway ports) overrides the body's owner.
    """
    made = await add_port_tx(tx, rt, ctx, body, project_id=project_id)
    return await port_views.view_of(tx, rt, ctx, made["id"])


async def add_port_tx(tx: Tx, rt: Runtime, ctx: RequestContext, body: Mapping[str, Any],
                      *, project_id: str | None = None) -> dict[str, Any]:
    """``create_port_tx`` for the ports the service makes for itself (a router's,
    a floating IP's, DHCP's), which need no view: the new port's ``id``,
    ``project_id``, ``network_id`` and ``fixed_ips``."""
    network = await networks.find_network(tx, rt, ctx, str(body.get("network_id")))
    project = project_id if project_id is not None else standard.owner(ctx, body)
    await check_network_access(tx, rt, ctx, network, project)
    await quotas.consume(tx, rt.settings.network, project or None, "port")
    values = {**standard.new_values(project, body), **_columns(rt, body),
              "network_id": network.id}
    values["port_security_enabled"], pairs = port_security.new_port(body, network)
    await _insert(tx, rt, values, attrs.parse_optional_mac(body.get("mac_address")), pairs)
    await _check_router_device(tx, rt, ctx, values)
    held = await _addresses(tx, values, body.get("fixed_ips"))
    await port_security.bind_new_tx(tx, rt, ctx, values, body)
    await port_state.members_changed_tx(tx, values["id"])
    if body.get("tags"):
        await standard.replace_tags(tx, TAGS, values["id"], body["tags"])
    tx.publish("network.port.create", {"id": values["id"], "network_id": network.id})
    if values["binding_host_id"]:
        tx.publish("network.port.bind", {"id": values["id"],
                                         "host": values["binding_host_id"]})
    return {"id": values["id"], "project_id": values["project_id"],
            "network_id": network.id,
            "fixed_ips": [{"subnet_id": h.subnet_id, "ip_address": h.address}
                          for h in held]}


def privileged(rt: Runtime, ctx: RequestContext) -> bool:
    """Admins and the service role (Nova) act on any project's networks."""
    allowed: bool = rt.policy.enforce("service_api", {}, ctx.to_policy_values())
    return allowed or standard.is_admin(rt, ctx)


async def check_network_access(tx: Tx | AsyncConnection, rt: Runtime, ctx: RequestContext,
                               network: Row[Any], project: str) -> None:
    """Another project's network takes ports only when shared with the caller
    (Neutron's ``_validate_network_project_ownership``: 404, hiding the network)."""
    if network.project_id == project or privileged(rt, ctx):
        return
    if not await rbac.granted(tx, networks.TYPE, [network.id], rbac.SHARED, ctx.project_id):
        raise NotFound("The resource could not be found.", type="HTTPNotFound")


async def create_ports(rt: Runtime, ctx: RequestContext, bodies: Sequence[Mapping[str, Any]]
                       ) -> list[dict[str, Any]]:
    """Create ports (one, or a bulk request's all or none) in one transaction."""

    async def attempt() -> list[dict[str, Any]]:
        async with rt.db.transaction() as tx:
            return [await create_port_tx(tx, rt, ctx, body) for body in bodies]

    return await with_retries(attempt)


_ROUTER_OWNER = prebuilt(select(t.routers.c.project_id).where(t.routers.c.id == bindparam("b_id")))


async def _check_router_device(tx: Tx, rt: Runtime, ctx: RequestContext,
                               port: Mapping[str, Any]) -> None:
    """A project may not make its port a router interface of another project's router
    (Neutron's ``_enforce_device_owner_not_router_intf_or_device_id``)."""
    if port["device_owner"] not in ROUTER_INTERFACE_OWNERS or not port["device_id"] \
            or standard.is_admin(rt, ctx):
        return
    owner = (await tx.execute(_ROUTER_OWNER, {"b_id": port["device_id"]})).first()
    if owner is not None and owner[0] != port["project_id"]:
        raise Conflict(f"The following device_id {port['device_id']} is not owned by your "
                       "project or matches another project router.",
                       type="DeviceIDNotOwnedByTenant")


# -- retries ---------------------------------------------------------------------------

def _retryable(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return any(w in text for w in ("deadlock", "serializ", "lock wait timeout"))


async def with_retries(op: Callable[[], Awaitable[T]], attempts: int = 8) -> T:
    """Run ``op`` (a whole transaction) again when the database broke a deadlock
    (concurrent inserts of neighbouring addresses on MariaDB, crossing locks)."""
    for attempt in range(attempts):
        try:
            return await op()
        except DBAPIError as exc:
            if attempt == attempts - 1 or not _retryable(exc):
                raise
            log.debug("port transaction lost a race (attempt %d): %s", attempt + 1, exc)
            await asyncio.sleep(random.uniform(0, 0.02 * (attempt + 1)))
    raise AssertionError("unreachable")


# -- update ----------------------------------------------------------------------------

async def _new_mac(tx: Tx, rt: Runtime, row: Row[Any], body: Mapping[str, Any]) -> str:
    """The port's MAC after the update (``mac_address: null`` draws a new one); only an
    unbound port not owned by the network service may change it."""
    if "mac_address" not in body:
        return str(row.mac_address)
    wanted = attrs.parse_optional_mac(body["mac_address"])
    if wanted == row.mac_address:
        return str(row.mac_address)
    if row.binding_vif_type not in UNPLUGGED:
        raise Conflict(f"Unable to complete operation on port {row.id}, port is already "
                       f"bound, port type: {row.binding_vif_type}, old_mac "
                       f"{row.mac_address}, new_mac {wanted}.", type="PortBound")
    owner = body.get("device_owner", row.device_owner) or ""
    if owner.startswith("network:"):
        raise Conflict(f"Operation mac address update is not supported for device_owner "
                       f"{owner} on port {row.id}.", type="UnsupportedPortDeviceOwner")
    for _ in range(MAC_ATTEMPTS if wanted is None else 1):
        chosen = wanted or random_mac(rt.settings.network.base_mac)
        try:
            async with tx.conn.begin_nested():
                await tx.execute(update(P).where(P.c.id == row.id).values(mac_address=chosen))
            return chosen
        except IntegrityError as exc:
            if not is_duplicate(exc):
                raise
    raise mac_in_use(row.network_id, str(wanted))


async def _update_addresses(tx: Tx, row: Row[Any], body: Mapping[str, Any], owner: str,
                            mac: str) -> None:
    """Apply an update's ``fixed_ips`` (and a new MAC's EUI-64 addresses)."""
    mac_changed = mac != row.mac_address
    if "fixed_ips" not in body and not mac_changed:
        return
    entries = None
    if "fixed_ips" in body:
        entries = attrs.parse_fixed_ips(body["fixed_ips"] or [])
        await fip_associations.check_fixed_ips_tx(tx, row.id, body["fixed_ips"] or [])
    if entries:
        await ip_allocation.check_subnets_exist(
            tx, [e.subnet_id for e in entries if e.subnet_id is not None])
    subnets = await ip_allocation.network_subnets(tx, row.network_id)
    eligible = plan.eligible(subnets, owner, row.network_id)
    held = (await ip_allocation.held(tx, [row.id]))[row.id]
    changes = plan.update_plan(held, entries, eligible, row.network_id, owner, mac,
                               mac_changed=mac_changed)
    await _check_router_addresses(tx, row, changes, eligible)
    await ip_allocation.release_tx(tx, row.id, changes.remove)
    await ip_allocation.allocate_tx(tx, row.network_id, row.id, changes.add, eligible)


async def _check_router_addresses(tx: Tx, row: Row[Any], changes: plan.Plan,
                                  subnets: Sequence[plan.Subnet]) -> None:
    """The IPv4 addresses of a router's interface change only through the router
    (Neutron's ``IPAddressChangeNotAllowed``)."""
    if row.device_owner not in IP_UPDATE_NOT_ALLOWED:
        return
    v4 = {s.id for s in subnets if s.version == 4}
    touched = any("." in h.address for h in changes.remove) or any(
        w.subnets[0] in v4 for w in changes.add)
    router = (await tx.execute(select(t.routers.c.id)
                               .where(t.routers.c.id == row.device_id))).first()
    if touched and router is not None:
        raise BadRequest(f"Bad ports request: IP updates for port {row.id} are not "
                         "allowed.", type="BadRequest")


def _binding_update(row: Row[Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """The binding columns an update changes; moving the port unplugs it (DOWN)."""
    if not any(k in body for k in ("binding:host_id", "binding:vnic_type", "binding:profile")):
        return {}
    values: dict[str, Any] = {}
    if "binding:profile" in body:
        values["binding_profile"] = attrs.parse_profile(body["binding:profile"])
    host = (attrs.parse_host(body["binding:host_id"]) if "binding:host_id" in body
            else row.binding_host_id)
    vnic = (attrs.parse_vnic_type(body["binding:vnic_type"]) if "binding:vnic_type" in body
            else row.binding_vnic_type)
    if vnic != row.binding_vnic_type and row.binding_vif_type != "unbound":
        raise Conflict(f"Unable to complete operation on port {row.id} for network "
                       f"{row.network_id}. Port already has an attached device "
                       f"{row.device_id}.", type="PortInUse")
    vif_type, vif_details = attrs.binding(host, vnic)
    values.update(binding_host_id=host, binding_vnic_type=vnic, binding_vif_type=vif_type,
                  binding_vif_details=vif_details)
    if host != row.binding_host_id:
        values["status"] = "DOWN"
    return values


def _columns_update(rt: Runtime, row: Row[Any], body: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {k: body[k] or "" for k in ("name", "device_id", "device_owner")
                              if k in body}
    if "admin_state_up" in body:
        values["admin_state_up"] = body["admin_state_up"] is not False
    if "description" in body:
        values["description"] = standard.description(body)
    if "dns_name" in body:
        values["dns_name"] = attrs.parse_dns_name(body["dns_name"],
                                                  rt.settings.network.dns_domain)
    if "extra_dhcp_opts" in body:
        values["extra_dhcp_opts"] = attrs.merge_dhcp_opts(
            row.extra_dhcp_opts or [], attrs.parse_dhcp_opts(body["extra_dhcp_opts"]))
    return values


async def update_port_tx(tx: Tx, rt: Runtime, ctx: RequestContext, port_id: str,
                         body: Mapping[str, Any], *, if_match: int | None = None
                         ) -> dict[str, Any]:
    """Update a port (visible to ``ctx``) in the caller's transaction; its view."""
    row = await find_port(tx, rt, ctx, port_id, lock=True)
    values = _columns_update(rt, row, body)
    mac = await _new_mac(tx, rt, row, body)
    owner = values.get("device_owner", row.device_owner)
    await _update_addresses(tx, row, body, owner, mac)
    members = bool(MEMBER_KEYS & set(body)) or mac != row.mac_address
    if members:     # the groups it leaves and the groups it joins
        await port_state.members_changed_tx(tx, port_id)
    values.update(await port_security.update_tx(tx, rt, ctx, row, body, mac))
    if members:
        await port_state.members_changed_tx(tx, port_id)
    values.update(_binding_update(row, body))
    if "device_owner" in body or "device_id" in body:
        await _check_router_device(tx, rt, ctx, {**row._mapping, **values})
    await standard.touch(tx, P, port_id, values, if_match=if_match)
    tx.publish("network.port.update", {"id": port_id, "network_id": row.network_id})
    _notify_compute(tx, row, values, body)
    host = values.get("binding_host_id", row.binding_host_id)
    if host != row.binding_host_id:
        if row.binding_host_id:
            tx.publish("network.port.unbind", {"id": port_id, "host": row.binding_host_id})
        if host:
            tx.publish("network.port.bind", {"id": port_id, "host": host})
    return await port_views.view_of(tx, rt, ctx, port_id)


def _notify_compute(tx: Tx, row: Row[Any], values: Mapping[str, Any],
                    body: Mapping[str, Any]) -> None:
    """Neutron's Nova notifier: addresses changed, or the port left its host."""
    port = {**row._mapping, **values}
    if "fixed_ips" in body or port["mac_address"] != row.mac_address:
        notifier.network_changed_tx(tx, port)
    if values.get("status", row.status) != row.status:
        notifier.status_changed_tx(tx, [dict(row._mapping)], str(values["status"]))


async def update_port(rt: Runtime, ctx: RequestContext, port_id: str, body: Mapping[str, Any],
                      *, if_match: int | None = None) -> dict[str, Any]:

    async def attempt() -> dict[str, Any]:
        async with rt.db.transaction() as tx:
            return await update_port_tx(tx, rt, ctx, port_id, body, if_match=if_match)

    return await with_retries(attempt)


# -- delete ----------------------------------------------------------------------------

async def delete_port_tx(tx: Tx, rt: Runtime, port_id: str) -> None:
    """Delete a port in the caller's transaction, with its addresses, security group
    bindings, tags and quota; floating IPs on it are disassociated (they stay with
    their project) and port forwardings to it go."""
    row = (await tx.execute(select(P).where(P.c.id == port_id).with_for_update())).first()
    if row is None:
        raise not_found(port_id)
    await ip_allocation.release_tx(tx, port_id)
    await port_state.members_changed_tx(tx, port_id)
    await port_security.unbind_tx(tx, port_id)
    await fip_associations.port_deleted_tx(tx, port_id)
    await standard.drop_tags(tx, TAGS, [port_id])
    await tx.execute(delete(P).where(P.c.id == port_id))
    await quotas.release(tx, row.project_id or None, "port")
    tx.publish("network.port.delete", {"id": port_id, "network_id": row.network_id,
                                       "device_id": row.device_id})
    notifier.port_deleted_tx(tx, dict(row._mapping))
    if row.binding_host_id:
        tx.publish("network.port.unbind", {"id": port_id, "host": row.binding_host_id})


async def _check_deletable(tx: Tx, row: Row[Any]) -> None:
    """Ports of routers and floating IPs go with them, not through the ports API
    (Neutron's ``prevent_l3_port_deletion``), unless their owner is gone."""
    if row.device_owner not in SERVICE_OWNERS:
        return
    owner = t.floating_ips if row.device_owner == "network:floatingip" else t.routers
    exists = (await tx.execute(select(owner.c.id).where(owner.c.id == row.device_id))).first()
    if exists is not None:
        raise Conflict(f"Port {row.id} cannot be deleted directly via the port API: has "
                       f"device owner {row.device_owner}.", type="ServicePortInUse")


async def delete_port(rt: Runtime, ctx: RequestContext, port_id: str, *,
                      if_match: int | None = None) -> None:

    async def attempt() -> None:
        async with rt.db.transaction() as tx:
            row = await find_port(tx, rt, ctx, port_id, lock=True)
            await _check_deletable(tx, row)
            if if_match is not None:
                await standard.touch(tx, P, port_id, if_match=if_match)
            await delete_port_tx(tx, rt, port_id)

    await with_retries(attempt)
