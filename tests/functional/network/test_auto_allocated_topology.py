"""Auto-allocated topologies: a project's network, subnet and router made on first
use from the default external network and the default subnet pool; dry runs; who
may ask; removal; and the deployment errors when the defaults are missing."""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cloud import Cloud
from tests.functional.network.neutron import Neutron, error, unique


@pytest.fixture
def defaults(admin_neutron: Neutron) -> Iterator[dict[str, Any]]:
    """A default external network with a subnet, and a default IPv4 subnet pool."""
    octet = random.randint(1, 250)
    net = admin_neutron.post("/networks", {"network": {
        "name": unique("public"), "router:external": True, "is_default": True}})
    assert net.status_code == 201, net.text
    ext = net.json()["network"]
    sub = admin_neutron.post("/subnets", {"subnet": {
        "network_id": ext["id"], "ip_version": 4, "cidr": f"198.{octet}.0.0/24"}})
    assert sub.status_code == 201, sub.text
    pool = admin_neutron.post("/subnetpools", {"subnetpool": {
        "name": unique("pool"), "prefixes": [f"10.{octet}.0.0/16"], "default_prefixlen": 26,
        "is_default": True, "shared": True}})
    assert pool.status_code == 201, pool.text
    made = {"network": ext, "pool": pool.json()["subnetpool"], "projects": []}
    yield made
    for project_id in made["projects"]:
        r = admin_neutron.delete(f"/auto-allocated-topology/{project_id}")
        assert r.status_code == 204, r.text
    admin_neutron.put(f"/networks/{ext['id']}", {"network": {"is_default": False}})
    assert admin_neutron.delete(f"/networks/{ext['id']}").status_code == 204
    assert admin_neutron.delete(f"/subnetpools/{made['pool']['id']}").status_code == 204


def _topology(user: Neutron, project_id: str | None = None, **params: Any) -> Any:
    return user.get(f"/auto-allocated-topology/{project_id or user.project_id}",
                    params=params)


def test_made_on_first_use(defaults: dict[str, Any], make_user: Any) -> None:
    user = make_user()
    defaults["projects"].append(user.project_id)
    dry = _topology(user, fields="dry-run")
    assert dry.status_code == 200, dry.text
    assert dry.json()["auto_allocated_topology"]["id"] == "dry-run=pass"
    mine = {"project_id": user.project_id}
    assert user.get("/networks", params=mine).json()["networks"] == []   # nothing made
    r = _topology(user)
    assert r.status_code == 200, r.text
    topo = r.json()["auto_allocated_topology"]
    assert topo["project_id"] == user.project_id
    net = user.get(f"/networks/{topo['id']}").json()["network"]
    assert (net["name"], net["admin_state_up"]) == ("auto_allocated_network", True)
    subnet = user.get(f"/subnets/{net['subnets'][0]}").json()["subnet"]
    assert subnet["subnetpool_id"] == defaults["pool"]["id"]
    assert ipaddress.ip_network(subnet["cidr"]).subnet_of(
        ipaddress.ip_network(defaults["pool"]["prefixes"][0]))
    routers = user.get("/routers").json()["routers"]
    assert [r["name"] for r in routers] == ["auto_allocated_router"]
    gateway = routers[0]["external_gateway_info"]
    assert gateway["network_id"] == defaults["network"]["id"]
    ports = user.get("/ports", params={"device_id": routers[0]["id"],
                                       "network_id": net["id"]}).json()["ports"]
    assert [p["device_owner"] for p in ports] == ["network:router_interface"]
    # the same topology the next time, through the SDK too
    assert _topology(user).json()["auto_allocated_topology"]["id"] == topo["id"]
    assert user.conn.network.get_auto_allocated_topology(user.project_id).id == topo["id"]


def test_who_may_ask_and_removal(cloud: Cloud, defaults: dict[str, Any],
                                 admin_neutron: Neutron, make_user: Any) -> None:
    alice, bob = make_user(), make_user()
    defaults["projects"].append(alice.project_id)
    error(_topology(bob, alice.project_id), 403)
    made = cloud.cli_json("network", "auto", "allocated", "topology", "create",
                          "--project", alice.project_id)
    net_id = made["id"]
    assert alice.get(f"/networks/{net_id}").status_code == 200
    # an admin may ask for any project; it is the same topology
    assert _topology(admin_neutron, alice.project_id).json()[
        "auto_allocated_topology"]["id"] == net_id
    error(_topology(alice, fields="colour"), 400)
    error(bob.delete(f"/auto-allocated-topology/{alice.project_id}"), 403)
    assert alice.delete(f"/auto-allocated-topology/{alice.project_id}").status_code == 204
    error(alice.get(f"/networks/{net_id}"), 404)
    assert alice.get("/routers").json()["routers"] == []
    again = _topology(alice).json()["auto_allocated_topology"]
    assert again["id"] != net_id
    # a second default external network is refused
    r = admin_neutron.post("/networks", {"network": {
        "name": unique("public"), "router:external": True, "is_default": True}})
    assert error(r, 409, "DefaultExternalNetworkExists") == (
        f"A default external network already exists: {defaults['network']['id']}.")


def test_missing_defaults_are_deployment_errors(admin_neutron: Neutron,
                                                make_user: Any) -> None:
    user = make_user()
    defaults = admin_neutron.get("/networks", params={"is_default": "true",
                                                      "router:external": "true"}).json()
    if defaults["networks"]:
        pytest.skip("another test's default external network exists")
    msg = error(_topology(user), 409, "AutoAllocationFailure")
    assert msg == "Deployment error: No default router:external network."
    error(_topology(user, fields="dry-run"), 409, "AutoAllocationFailure")
    mine = {"project_id": user.project_id}
    assert user.get("/networks", params=mine).json()["networks"] == []
    assert user.get("/routers").json()["routers"] == []
