"""Helpers of the compute networking tests: a project member with a raw Nova and a raw
Neutron client on one token, networks with a subnet, the ports of a server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.cloud import Cloud
from tests.functional.compute.nova import Nova, unique
from tests.functional.compute.servers import boot, wait_gone
from tests.functional.network.neutron import Neutron


@dataclass
class Tenant:
    nova: Nova
    neutron: Neutron

    @property
    def project_id(self) -> str:
        return self.nova.project_id

    def network(self, cidr: str = "10.20.0.0/24", **extra: Any) -> dict[str, Any]:
        """A network with one IPv4 subnet; the network (with ``subnet``)."""
        r = self.neutron.post("/networks", {"network": {"name": unique("net"), **extra}})
        assert r.status_code == 201, r.text
        net: dict[str, Any] = r.json()["network"]
        r = self.neutron.post("/subnets", {"subnet": {
            "network_id": net["id"], "ip_version": 4, "cidr": cidr, "name": unique("sub")}})
        assert r.status_code == 201, r.text
        net["subnet"] = r.json()["subnet"]
        return net

    def port(self, network_id: str, **extra: Any) -> dict[str, Any]:
        r = self.neutron.post("/ports", {"port": {"network_id": network_id, **extra}})
        assert r.status_code == 201, r.text
        port: dict[str, Any] = r.json()["port"]
        return port

    def sdk(self) -> Any:
        """An openstacksdk connection on the same token."""
        import openstack

        cloud = self.nova.cloud
        return openstack.connect(auth_url=cloud.auth_url, auth_type="v3token",
                                 token=self.nova.token, project_id=self.project_id)

    def boot(self, image: str, networks: Any, **extra: Any) -> dict[str, Any]:
        return boot(self.nova, image, networks=networks, **extra)

    def delete_server(self, server_id: str) -> None:
        self.nova.delete(f"/servers/{server_id}")
        wait_gone(self.nova, server_id)


def ports_of(neutron: Neutron, device_id: str) -> list[dict[str, Any]]:
    r = neutron.get("/ports", params={"device_id": device_id})
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["ports"]
    return found


def neutron_of(cloud: Cloud, nova: Nova) -> Neutron:
    return Neutron(cloud, nova.token, nova.user_id, nova.project_id)


@pytest.fixture
def tenant(cloud: Cloud, make_user: Callable[..., Nova]) -> Iterator[Tenant]:
    """A member of a fresh project; its servers are deleted afterwards."""
    nova = make_user("member")
    made = Tenant(nova, neutron_of(cloud, nova))
    yield made
    for server in nova.get("/servers").json().get("servers", []):
        made.delete_server(server["id"])


@pytest.fixture(scope="session")
def admin_neutron(cloud: Cloud, admin_nova: Nova) -> Neutron:
    return neutron_of(cloud, admin_nova)
