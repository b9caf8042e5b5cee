"""Helpers of the router and floating IP tests: an external network made by the
admin, and a project's network with a subnet."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.functional.network.neutron import Neutron, unique


@dataclass
class External:
    network_id: str
    subnet_id: str
    cidr: str
    gateway_ip: str


def make_external(admin: Neutron, cidr: str) -> External:
    """An external network with one subnet (no DHCP), made by the admin."""
    r = admin.post("/networks", {"network": {"name": unique("ext"), "router:external": True}})
    assert r.status_code == 201, r.text
    net = r.json()["network"]
    r = admin.post("/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                           "cidr": cidr, "enable_dhcp": False}})
    assert r.status_code == 201, r.text
    sub = r.json()["subnet"]
    return External(net["id"], sub["id"], sub["cidr"], sub["gateway_ip"])


def delete_external(admin: Neutron, ext: External) -> None:
    """Delete the external network, after whatever still holds ports on it."""
    for port in admin.get("/ports", params={"network_id": ext.network_id}).json()["ports"]:
        if port["device_owner"] == "network:floatingip":
            admin.delete(f"/floatingips/{port['device_id']}")
        elif port["device_owner"] == "network:router_gateway":
            admin.put(f"/routers/{port['device_id']}",
                      {"router": {"external_gateway_info": None}})
        else:
            admin.delete(f"/ports/{port['id']}")
    admin.delete(f"/networks/{ext.network_id}")


@pytest.fixture
def external(admin_neutron: Neutron) -> Iterator[External]:
    ext = make_external(admin_neutron, "198.51.100.0/24")
    yield ext
    delete_external(admin_neutron, ext)


def private_subnet(user: Neutron, cidr: str, **extra: Any) -> dict[str, Any]:
    """A network of the user's project with one subnet; the subnet."""
    r = user.post("/networks", {"network": {"name": unique("net")}})
    assert r.status_code == 201, r.text
    net_id = r.json()["network"]["id"]
    r = user.post("/subnets", {"subnet": {"network_id": net_id, "ip_version": 4, "cidr": cidr,
                                          **extra}})
    assert r.status_code == 201, r.text
    subnet: dict[str, Any] = r.json()["subnet"]
    return subnet


def ports_on(admin: Neutron, **filters: str) -> list[dict[str, Any]]:
    ports: list[dict[str, Any]] = admin.get("/ports", params=filters).json()["ports"]
    return ports
