"""A subnet create or update request read as Neutron reads it: which way the CIDR
is chosen, the gateway and allocation pools that follow from it, and the checks of
the attributes that only make sense together.

Pure: the service reads the network, the subnet pool and the other subnets, and
hands them in. The order of the checks is Neutron's (``_create_subnet_precommit``,
``_validate_subnet``, ``ipam_pluggable_backend.allocate_subnet``), so the first
refusal a client sees is the one Neutron gives.

One departure, from :mod:`nubo.network.ipam`: a gateway outside the subnet's CIDR
is refused (400) where Neutron stores it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nubo.core.errors import BadRequest
from nubo.network import ipam, ipv6, pools, subnetpools
from nubo.network.errors import bad_request, bad_resource_request, conflict
from nubo.network.ipam import IPAddress, IPNetwork
from nubo.network.pools import IpRange

SERVICE_TYPE_PREFIXES = ("network:", "neutron:", "compute:")


@dataclass(frozen=True)
class Layout:
    """A subnet's addresses: its CIDR, gateway (None: none) and allocation pools."""

    cidr: IPNetwork
    gateway: IPAddress | None
    pools: list[IpRange]

    def values(self) -> dict[str, Any]:
        return {"cidr": str(self.cidr),
                "gateway_ip": None if self.gateway is None else str(self.gateway),
                "allocation_pools": [p.as_dict() for p in self.pools]}


def _subnets_request(msg: str) -> BadRequest:
    return bad_resource_request("subnets", msg)


# -- create: which way ------------------------------------------------------------------

def check_create_shape(body: Mapping[str, Any]) -> None:
    """The combinations of ``cidr``, ``prefixlen``, ``subnetpool_id`` and
    ``use_default_subnetpool`` Neutron refuses, before anything is looked up."""
    if body.get("cidr") is not None and body.get("prefixlen") is not None:
        raise _subnets_request("cidr and prefixlen must not be supplied together")
    if body.get("subnetpool_id") and body.get("use_default_subnetpool"):
        raise _subnets_request(
            "subnetpool_id and use_default_subnetpool cannot both be specified")
    from_pool = bool(body.get("subnetpool_id") or body.get("use_default_subnetpool"))
    if not from_pool and body.get("cidr") is None:
        raise _subnets_request("a subnetpool must be specified in the absence of a cidr")
    if from_pool and body.get("cidr") is None and body.get("allocation_pools") is not None:
        raise _subnets_request("allocation_pools allowed only for specific subnet requests.")


def requested_cidr(body: Mapping[str, Any], ip_version: int, *, enable_dhcp: bool
                   ) -> IPNetwork | None:
    """The ``cidr`` asked for (None: the pool chooses), with Neutron's checks."""
    if body.get("cidr") is None:
        return None
    return ipam.subnet_cidr(body["cidr"], ip_version, enable_dhcp=enable_dhcp)


def check_gateway_form(body: Mapping[str, Any], ip_version: int,
                       cidr: IPNetwork | None) -> None:
    """A requested ``gateway_ip``: an address of the subnet's version; with a known
    CIDR, inside it and neither its network nor (IPv4) broadcast address."""
    data = body.get("gateway_ip")
    if data is None:
        return
    gateway = ipam.parse_address(data, "gateway_ip")
    ipam.check_version(ip_version, gateway, "gateway_ip")
    if cidr is not None:
        ipam.check_gateway(cidr, gateway)


def modes(body: Mapping[str, Any], ip_version: int, cidr: IPNetwork | None, *,
          enable_dhcp: bool) -> tuple[ipv6.Ipv6Mode | None, ipv6.Ipv6Mode | None]:
    """``ipv6_ra_mode`` and ``ipv6_address_mode``, checked together."""
    ra = ipv6.parse_mode(body.get("ipv6_ra_mode"), "ipv6_ra_mode")
    address = ipv6.parse_mode(body.get("ipv6_address_mode"), "ipv6_address_mode")
    ipv6.check_modes(ip_version, ra, address, enable_dhcp=enable_dhcp, cidr=cidr)
    return ra, address


def service_types(data: object) -> list[str]:
    """``service_types``: device owner prefixes (neutron-lib's validator)."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise bad_request("HTTPBadRequest", "Subnet service types must be a list.")
    for item in data:
        if not isinstance(item, str):
            raise bad_request("InvalidInputSubnetServiceType",
                              f"Subnet service type {item} is not a string.")
        if not item.startswith(SERVICE_TYPE_PREFIXES):
            raise bad_request("InvalidSubnetServiceType", f"Subnet service type {item} "
                              "does not correspond to a valid device owner.")
    return list(dict.fromkeys(data))


# -- create: the addresses ----------------------------------------------------------------

def specific_layout(cidr: IPNetwork, body: Mapping[str, Any]) -> Layout:
    """The gateway and pools of a subnet whose CIDR was asked for.

    No ``gateway_ip``: the first host (IPv4) or the network address (IPv6);
    ``null``: none. No ``allocation_pools``: the usable range around the gateway.
    """
    if "gateway_ip" not in body:
        gateway: IPAddress | None = ipam.default_gateway(cidr)
    else:
        gateway = ipam.parse_gateway(body["gateway_ip"], cidr)
    if body.get("allocation_pools") is None:
        return Layout(cidr, gateway, pools.default_pools(cidr, gateway))
    ranges = pools.parse_pools(body["allocation_pools"], cidr)
    pools.check_gateway_outside_pools(gateway, ranges)
    return Layout(cidr, gateway, ranges)


def pool_layout(cidr: IPNetwork, body: Mapping[str, Any]) -> Layout:
    """The gateway and pools of a subnet a pool chose: the first host as gateway
    unless ``gateway_ip`` is ``null``, the rest of the subnet as its pool."""
    gateway = None if "gateway_ip" in body else subnetpools.pool_gateway(cidr)
    return Layout(cidr, gateway, pools.default_pools(cidr, gateway))


@dataclass(frozen=True)
class PoolRequest:
    """What a subnet asks of a subnet pool: a given CIDR, or a length to carve."""

    cidr: IPNetwork | None
    prefixlen: int

    @property
    def specific(self) -> bool:
        return self.cidr is not None


def pool_request(body: Mapping[str, Any], cidr: IPNetwork | None,
                 bounds: subnetpools.PrefixBounds) -> PoolRequest:
    """The request a subnet makes of its pool (Neutron's ``SubnetRequestFactory``):
    the asked CIDR; else a gateway's subnet of ``prefixlen`` (or the pool's default);
    else any subnet of that length."""
    prefixlen = body.get("prefixlen")
    length = bounds.default_prefixlen if prefixlen is None else int(prefixlen)
    if cidr is not None:
        length = cidr.prefixlen
    elif body.get("gateway_ip") is not None:
        gateway = ipam.parse_address(body["gateway_ip"], "gateway_ip")
        cidr = subnetpools.network_of(gateway, length)
    subnetpools.check_prefixlen(length, bounds)
    return PoolRequest(cidr, length)


# -- update ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Current:
    """The parts of a stored subnet an update is checked against."""

    id: str
    cidr: IPNetwork
    gateway: IPAddress | None
    pools: list[IpRange]
    enable_dhcp: bool
    ra_mode: ipv6.Ipv6Mode | None
    address_mode: ipv6.Ipv6Mode | None


def update_layout(current: Current, body: Mapping[str, Any]) -> dict[str, Any]:
    """The new ``gateway_ip`` and ``allocation_pools`` of an update (only those it
    changes), checked against the CIDR and each other as Neutron checks them."""
    out: dict[str, Any] = {}
    gateway = current.gateway
    if "gateway_ip" in body:
        gateway = ipam.parse_gateway(body["gateway_ip"], current.cidr)
        out["gateway_ip"] = None if gateway is None else str(gateway)
    ranges = current.pools
    if "allocation_pools" in body:
        ranges = pools.parse_pools(body["allocation_pools"], current.cidr)
        out["allocation_pools"] = [p.as_dict() for p in ranges]
    if gateway != current.gateway or "allocation_pools" in body:
        pools.check_gateway_outside_pools(gateway, ranges)
    return out


def check_dhcp_update(current: Current, body: Mapping[str, Any]) -> None:
    """``enable_dhcp`` turned on checks the CIDR as a create would; turned off, it
    must not leave IPv6 modes without DHCP."""
    if "enable_dhcp" not in body:
        return
    if body["enable_dhcp"] and not current.enable_dhcp:
        ipam.check_dhcp_cidr(current.cidr)
    if not body["enable_dhcp"] and current.cidr.version == 6:
        ipv6.check_dhcp_disable(current.ra_mode, current.address_mode)


def check_network_mtu(network_id: str, mtu: int, ip_version: int) -> None:
    """Neutron's ``NetworkMTUSubnetConflict``: IPv4 needs an MTU of 68, IPv6 1280."""
    needed = 1280 if ip_version == 6 else 68
    if mtu < needed:
        raise conflict("NetworkMTUSubnetConflict", f"MTU of {network_id} is not valid, "
                       f"subnet requires a minimum of {needed}")
