"""Routers through openstacksdk, the `openstack` CLI and raw HTTP: create with the
standard attributes, gateways (enable_snat, external_fixed_ips), interfaces by subnet
and by port, static routes (extraroute and extraroute-atomic), isolation between
projects, and bad input answered with NeutronError bodies leaving nothing half-made."""

from __future__ import annotations

from typing import Any

from tests.cloud import Cloud
from tests.functional.network.l3 import External, external, ports_on, private_subnet
from tests.functional.network.neutron import Neutron, error, unique

__all__ = ["external"]
ZERO = "00000000-0000-0000-0000-000000000000"


def usage(cloud: Cloud, project_id: str, resource: str) -> int:
    rows = cloud.sql("SELECT in_use FROM network_quota_usages WHERE project_id = :p "
                     "AND resource = :r", p=project_id, r=resource)
    return int(rows[0][0]) if rows else 0


def test_sdk_router_with_an_interface(make_user: Any, admin_neutron: Neutron) -> None:
    user = make_user()
    conn = user.conn
    subnet = private_subnet(user, "10.10.0.0/24")
    router = conn.network.create_router(name=unique("r"), description="first")
    assert router.project_id == user.project_id and router.status == "ACTIVE"
    assert router.is_admin_state_up is True and router.external_gateway_info is None
    assert router.routes == [] and router.revision_number == 0
    raw = user.get(f"/routers/{router.id}").json()["router"]
    assert "distributed" not in raw and "ha" not in raw      # admins only
    assert raw["availability_zones"] == ["nova"] and raw["created_at"].endswith("Z")
    reply = conn.network.add_interface_to_router(router, subnet_id=subnet["id"])
    assert set(reply) == {"id", "tenant_id", "project_id", "port_id", "network_id",
                          "subnet_id", "subnet_ids"}
    assert reply["id"] == router.id and reply["subnet_ids"] == [subnet["id"]]
    port = conn.network.get_port(reply["port_id"])
    assert port.device_owner == "network:router_interface" and port.device_id == router.id
    assert port.fixed_ips == [{"subnet_id": subnet["id"], "ip_address": "10.10.0.1"}]
    assert port.project_id == user.project_id
    assert conn.network.get_router(router.id).revision_number == 1
    # a router with interfaces is in use; its interface ports are the router's to delete
    error(user.delete(f"/routers/{router.id}"), 409, "RouterInUse")
    error(user.delete(f"/ports/{port.id}"), 409, "ServicePortInUse")
    error(user.delete(f"/subnets/{subnet['id']}"), 409, "SubnetInUse")
    error(user.delete(f"/networks/{subnet['network_id']}"), 409, "NetworkInUse")
    conn.network.remove_interface_from_router(router, subnet_id=subnet["id"])
    assert conn.network.find_port(port.id) is None
    conn.network.delete_router(router)
    assert conn.network.find_router(router.id) is None
    error(user.get(f"/routers/{router.id}"), 404, "RouterNotFound")


def test_cli_gateway_and_subnet(cloud: Cloud, admin_neutron: Neutron,
                                external: External) -> None:
    net = cloud.cli_json("network", "create", unique("cli-net"))
    sub = cloud.cli_json("subnet", "create", unique("cli-sub"), "--network", net["id"],
                         "--subnet-range", "10.11.0.0/24")
    name = unique("cli-router")
    made = cloud.cli_json("router", "create", name, "--external-gateway", external.network_id)
    try:
        info = made["external_gateway_info"]
        assert info["network_id"] == external.network_id and info["enable_snat"] is True
        [fixed] = info["external_fixed_ips"]
        assert fixed["subnet_id"] == external.subnet_id
        [gw] = ports_on(admin_neutron, device_id=made["id"],
                        device_owner="network:router_gateway")
        assert gw["project_id"] == "" and gw["network_id"] == external.network_id
        assert gw["fixed_ips"] == [fixed]
        cloud.cli("router", "add", "subnet", name, sub["id"])
        shown = cloud.cli_json("router", "show", name)
        assert shown["interfaces_info"][0]["ip_address"] == "10.11.0.1"
        cloud.cli("router", "set", name, "--external-gateway", external.network_id,
                  "--disable-snat")
        assert cloud.cli_json("router", "show", name)["external_gateway_info"][
            "enable_snat"] is False
        cloud.cli("router", "unset", "--external-gateway", name)
        assert cloud.cli_json("router", "show", name)["external_gateway_info"] is None
        assert ports_on(admin_neutron, device_id=made["id"],
                        device_owner="network:router_gateway") == []
        cloud.cli("router", "remove", "subnet", name, sub["id"])
    finally:
        cloud.cli("router", "delete", made["id"])
        cloud.cli("network", "delete", net["id"])
    assert cloud.cli_json("router", "list", "--name", name) == []


def test_gateway_rules(make_user: Any, admin_neutron: Neutron, external: External) -> None:
    user = make_user()
    router = user.post("/routers", {"router": {"name": unique("r")}}).json()["router"]
    path = f"/routers/{router['id']}"
    # SNAT and the gateway's addresses are the admin's to choose
    gateway = {"network_id": external.network_id}
    error(user.put(path, {"router": {"external_gateway_info": {**gateway,
                                                               "enable_snat": False}}}), 403)
    error(user.put(path, {"router": {"external_gateway_info": {
        **gateway, "external_fixed_ips": [{"subnet_id": external.subnet_id}]}}}), 403)
    error(user.put(path, {"router": {"external_gateway_info": {"network_id": ZERO}}}), 404,
          "NetworkNotFound")
    own = private_subnet(user, "10.12.0.0/24")
    msg = error(user.put(path, {"router": {"external_gateway_info": {
        "network_id": own["network_id"]}}}), 400, "BadRequest")
    assert msg == f"Bad router request: Network {own['network_id']} is not an external network."
    error(user.put(path, {"router": {"external_gateway_info": {"enable_snat": True}}}), 400,
          "HTTPBadRequest")
    assert user.get(path).json()["router"]["external_gateway_info"] is None
    # the admin picks an address: a taken one is refused, the subnet's gateway too
    r = admin_neutron.put(path, {"router": {"external_gateway_info": {
        **gateway, "enable_snat": False,
        "external_fixed_ips": [{"subnet_id": external.subnet_id, "ip_address": "198.51.100.50"}]}}})
    assert r.status_code == 200, r.text
    info = r.json()["router"]["external_gateway_info"]
    assert info["enable_snat"] is False
    assert info["external_fixed_ips"] == [{"subnet_id": external.subnet_id,
                                           "ip_address": "198.51.100.50"}]
    other = admin_neutron.post("/routers", {"router": {"name": unique("r")}}).json()["router"]
    taken = {"external_gateway_info": {**gateway, "external_fixed_ips": [
        {"subnet_id": external.subnet_id, "ip_address": "198.51.100.50"}]}}
    error(admin_neutron.put(f"/routers/{other['id']}", {"router": taken}), 409)
    error(admin_neutron.post("/routers", {"router": taken}), 409)
    same = {"external_gateway_info": {**gateway, "external_fixed_ips": [
        {"ip_address": external.gateway_ip}]}}
    msg = error(admin_neutron.put(f"/routers/{other['id']}", {"router": same}), 400)
    assert msg.endswith(f"External IP {external.gateway_ip} is the same as the gateway IP.")
    assert admin_neutron.get(f"/routers/{other['id']}").json()["router"][
        "external_gateway_info"] is None
    # the admin moves the gateway to another address of the same network
    r = admin_neutron.put(path, {"router": {"external_gateway_info": {
        **gateway, "external_fixed_ips": [{"ip_address": "198.51.100.60"}]}}})
    assert r.json()["router"]["external_gateway_info"]["external_fixed_ips"][0][
        "ip_address"] == "198.51.100.60"
    # deleting the router deletes its gateway port
    assert len(ports_on(admin_neutron, device_id=router["id"])) == 1
    assert user.delete(path).status_code == 204
    assert ports_on(admin_neutron, device_id=router["id"]) == []
    assert admin_neutron.delete(f"/routers/{other['id']}").status_code == 204


def test_interface_by_port(make_user: Any) -> None:
    user = make_user()
    conn = user.conn
    subnet = private_subnet(user, "10.13.0.0/24")
    router = conn.network.create_router(name=unique("r"))
    port = conn.network.create_port(network_id=subnet["network_id"], name="mine")
    reply = conn.network.add_interface_to_router(router, port_id=port.id)
    assert reply["port_id"] == port.id and reply["subnet_id"] == subnet["id"]
    shown = conn.network.get_port(port.id)
    assert shown.device_owner == "network:router_interface" and shown.device_id == router.id
    # the port is taken now; a port without addresses or with two IPv4 subnets is refused
    other = conn.network.create_router(name=unique("r"))
    path = f"/routers/{other.id}"
    error(user.put(f"{path}/add_router_interface", {"port_id": port.id}), 409, "PortInUse")
    bare = conn.network.create_port(network_id=subnet["network_id"], fixed_ips=[])
    msg = error(user.put(f"{path}/add_router_interface", {"port_id": bare.id}), 400)
    assert msg == "Bad router request: Router port must have at least one fixed IP."
    second = user.post("/subnets", {"subnet": {"network_id": subnet["network_id"],
                                               "ip_version": 4, "cidr": "10.14.0.0/24"}})
    two = conn.network.create_port(network_id=subnet["network_id"], fixed_ips=[
        {"subnet_id": subnet["id"]}, {"subnet_id": second.json()["subnet"]["id"]}])
    msg = error(user.put(f"{path}/add_router_interface", {"port_id": two.id}), 400)
    assert msg == "Bad router request: Cannot have multiple IPv4 subnets on router port."
    assert conn.network.get_port(two.id).device_id == ""
    # removing: another router's port, a subnet that is not the port's
    error(user.put(f"{path}/remove_router_interface", {"port_id": port.id}), 404,
          "RouterInterfaceNotFound")
    error(user.put(f"/routers/{router.id}/remove_router_interface",
                   {"port_id": port.id, "subnet_id": second.json()["subnet"]["id"]}), 400,
          "SubnetMismatchForPort")
    error(user.put(f"/routers/{router.id}/remove_router_interface",
                   {"subnet_id": second.json()["subnet"]["id"]}), 404,
          "RouterInterfaceNotFoundForSubnet")
    # removing by port deletes the port, as Neutron does
    conn.network.remove_interface_from_router(router, port_id=port.id)
    assert conn.network.find_port(port.id) is None
    for item in (bare, two):
        conn.network.delete_port(item)
    for item in (router, other):
        conn.network.delete_router(item)


def test_bad_interfaces_leave_nothing(make_user: Any, admin_neutron: Neutron,
                                      external: External) -> None:
    user = make_user()
    first = private_subnet(user, "10.15.0.0/24")
    overlapping = private_subnet(user, "10.15.0.128/25")
    no_gateway = private_subnet(user, "10.16.0.0/24", gateway_ip=None)
    router = user.post("/routers", {"router": {"name": unique("r")}}).json()["router"]
    path = f"/routers/{router['id']}"
    assert user.put(f"{path}/add_router_interface", {"subnet_id": first["id"]}
                    ).status_code == 200
    msg = error(user.put(f"{path}/add_router_interface", {"subnet_id": overlapping["id"]}),
                400, "BadRequest")
    assert msg == (f"Bad router request: Cidr 10.15.0.128/25 of subnet {overlapping['id']} "
                   f"overlaps with cidr 10.15.0.0/24 of subnet {first['id']}.")
    msg = error(user.put(f"{path}/add_router_interface", {"subnet_id": first["id"]}), 400)
    assert msg == f"Bad router request: Router already has a port on subnet {first['id']}."
    msg = error(user.put(f"{path}/add_router_interface", {"subnet_id": no_gateway["id"]}), 400)
    assert msg == "Bad router request: Subnet for router interface must have a gateway IP."
    for sub in (overlapping, no_gateway):
        assert ports_on(admin_neutron, network_id=sub["network_id"]) == []
    assert len(ports_on(admin_neutron, network_id=first["network_id"])) == 1
    # request shapes
    error(user.put(f"{path}/add_router_interface", {}), 400)
    error(user.put(f"{path}/add_router_interface", {"subnet_id": "nope"}), 400)
    error(user.put(f"{path}/add_router_interface",
                   {"subnet_id": first["id"], "port_id": ZERO}), 400)
    error(user.put(f"{path}/add_router_interface", {"subnet_id": ZERO}), 404, "SubnetNotFound")
    error(user.put(f"{path}/add_router_interface", {"port_id": ZERO}), 404, "PortNotFound")
    error(user.put(f"/routers/{ZERO}/add_router_interface", {"subnet_id": first["id"]}), 404,
          "RouterNotFound")
    # the gateway network's subnet cannot also be an interface of the router
    r = admin_neutron.put(path, {"router": {"external_gateway_info": {
        "network_id": external.network_id}}})
    assert r.status_code == 200, r.text
    msg = error(admin_neutron.put(f"{path}/add_router_interface",
                                  {"subnet_id": external.subnet_id}), 400)
    assert msg.startswith("Bad router request: Router already has a port on subnet")
    # a subnet overlapping an interface's cannot be the gateway's
    ext2_net = admin_neutron.post("/networks", {"network": {"router:external": True}}
                                  ).json()["network"]
    admin_neutron.post("/subnets", {"subnet": {"network_id": ext2_net["id"], "ip_version": 4,
                                               "cidr": "10.15.0.0/16"}})
    error(admin_neutron.put(path, {"router": {"external_gateway_info": {
        "network_id": ext2_net["id"]}}}), 400, "BadRequest")
    assert admin_neutron.get(path).json()["router"]["external_gateway_info"][
        "network_id"] == external.network_id
    assert ports_on(admin_neutron, network_id=ext2_net["id"]) == []
    assert admin_neutron.delete(f"/networks/{ext2_net['id']}").status_code == 204
    user.put(f"{path}/remove_router_interface", {"subnet_id": first["id"]})
    assert user.delete(path).status_code == 204


def test_routes(make_user: Any) -> None:
    user = make_user()
    conn = user.conn
    subnet = private_subnet(user, "10.17.0.0/24")
    router = conn.network.create_router(name=unique("r"))
    path = f"/routers/{router.id}"
    route = {"destination": "10.99.0.0/16", "nexthop": "10.17.0.5"}
    msg = error(user.put(path, {"router": {"routes": [route]}}), 400, "InvalidRoutes")
    assert msg == (f"Invalid format for routes: [{route}], the nexthop is not connected "
                   "with router")
    error(user.post("/routers", {"router": {"routes": [route]}}), 400)
    conn.network.add_interface_to_router(router, subnet_id=subnet["id"])
    error(user.put(path, {"router": {"routes": [
        {"destination": "10.99.0.0/16", "nexthop": "10.17.0.1"}]}}), 400, "InvalidRoutes")
    error(user.put(path, {"router": {"routes": [{"destination": "10.99.0.1/16",
                                                  "nexthop": "10.17.0.5"}]}}), 400)
    updated = conn.network.update_router(router, routes=[route])
    assert updated.routes == [route]
    # extraroute-atomic: add merges, remove takes away, both keep the rest
    other = {"destination": "10.98.0.0/16", "nexthop": "10.17.0.6"}
    added = conn.network.add_extra_routes_to_router(router, body={"router": {"routes": [
        other, route]}})
    assert sorted(added.routes, key=str) == sorted([route, other], key=str)
    bad = {"router": {"routes": [{"destination": "10.97.0.0/16", "nexthop": "192.0.2.1"}]}}
    error(user.put(f"{path}/add_extraroutes", bad), 400, "InvalidRoutes")
    removed = conn.network.remove_extra_routes_from_router(router, body={"router": {
        "routes": [route, {"destination": "10.1.0.0/16", "nexthop": "10.17.0.9"}]}})
    assert removed.routes == [other]
    # the interface the routes go through stays while they do
    error(user.put(f"{path}/remove_router_interface", {"subnet_id": subnet["id"]}), 409,
          "RouterInterfaceInUseByRoute")
    too_many = [{"destination": f"10.{i}.0.0/16", "nexthop": "10.17.0.5"} for i in range(31)]
    error(user.put(path, {"router": {"routes": too_many}}), 400, "RoutesExhausted")
    assert conn.network.update_router(router, routes=[]).routes == []
    conn.network.remove_interface_from_router(router, subnet_id=subnet["id"])
    conn.network.delete_router(router)


def test_isolation(make_user: Any, admin_neutron: Neutron) -> None:
    alice, bob = make_user(), make_user()
    subnet = private_subnet(alice, "10.18.0.0/24")
    router = alice.post("/routers", {"router": {"name": unique("r")}}).json()["router"]
    path = f"/routers/{router['id']}"
    error(bob.get(path), 404, "RouterNotFound")
    error(bob.put(path, {"router": {"name": "x"}}), 404)
    error(bob.delete(path), 404)
    error(bob.put(f"{path}/add_router_interface", {"subnet_id": subnet["id"]}), 404)
    assert router["id"] not in {r["id"] for r in bob.get("/routers").json()["routers"]}
    # bob's own router cannot take alice's subnet, nor her network's when it is
    # shared with everyone; shared with bob's project by name, it can
    mine = bob.post("/routers", {"router": {"name": unique("r")}}).json()["router"]
    error(bob.put(f"/routers/{mine['id']}/add_router_interface", {"subnet_id": subnet["id"]}),
          404, "SubnetNotFound")
    admin_neutron.put(f"/networks/{subnet['network_id']}", {"network": {"shared": True}})
    msg = error(bob.put(f"/routers/{mine['id']}/add_router_interface",
                        {"subnet_id": subnet["id"]}), 400)
    assert "is not owned by project making the request" in msg
    admin_neutron.put(f"/networks/{subnet['network_id']}", {"network": {"shared": False}})
    r = admin_neutron.post("/rbac-policies", {"rbac_policy": {
        "object_type": "network", "object_id": subnet["network_id"],
        "action": "access_as_shared", "target_tenant": bob.project_id}})
    assert r.status_code == 201, r.text
    reply = bob.put(f"/routers/{mine['id']}/add_router_interface", {"subnet_id": subnet["id"]})
    assert reply.status_code == 200, reply.text
    assert reply.json()["project_id"] == bob.project_id
    bob.put(f"/routers/{mine['id']}/remove_router_interface", {"subnet_id": subnet["id"]})
    admin_neutron.delete(f"/rbac-policies/{r.json()['rbac_policy']['id']}")
    # a reader of alice's project sees, and changes nothing
    reader = make_user("reader", project_id=alice.project_id)
    assert reader.get(path).status_code == 200
    error(reader.put(path, {"router": {"name": "x"}}), 403)
    error(reader.put(f"{path}/add_router_interface", {"subnet_id": subnet["id"]}), 403)
    error(reader.post("/routers", {"router": {"name": "x"}}), 403)
    error(reader.delete(path), 403)
    # a member creates for no other project; the admin may
    error(alice.post("/routers", {"router": {"project_id": bob.project_id}}), 403)
    made = admin_neutron.post("/routers", {"router": {"project_id": bob.project_id}})
    assert made.status_code == 201 and made.json()["router"]["project_id"] == bob.project_id
    assert made.json()["router"]["id"] in {r["id"] for r in bob.get("/routers").json()["routers"]}
    for item in (router, mine, made.json()["router"]):
        admin_neutron.delete(f"/routers/{item['id']}")


def test_admin_attributes_tags_filters_and_quota(make_user: Any, admin_neutron: Neutron,
                                                 cloud: Cloud) -> None:
    user = make_user()
    error(user.post("/routers", {"router": {"distributed": False}}), 403)
    error(user.post("/routers", {"router": {"ha": True}}), 403)
    error(admin_neutron.post("/routers", {"router": {"distributed": True}}), 400)
    tag = unique("tag")
    made = [user.post("/routers", {"router": {"name": f"{tag}-{i}", "tags": [tag],
                                              "admin_state_up": i == 0}}).json()["router"]
            for i in range(2)]
    shown = admin_neutron.get(f"/routers/{made[0]['id']}").json()["router"]
    assert shown["distributed"] is False and shown["ha"] is False
    assert shown["tags"] == [tag]
    down = user.get("/routers", params={"admin_state_up": "false", "tags": tag}).json()
    assert [r["name"] for r in down["routers"]] == [f"{tag}-1"]
    page = user.get("/routers", params={"sort_key": "name", "sort_dir": "desc", "limit": 1,
                                        "fields": ["id", "name"]}).json()
    assert page["routers"] == [{"id": made[1]["id"], "name": f"{tag}-1"}]
    assert "routers_links" in page
    assert user.put(f"/routers/{made[0]['id']}/tags/extra", None).status_code == 201
    assert user.get(f"/routers/{made[0]['id']}/tags").json()["tags"] == sorted([tag, "extra"])
    error(user.put(f"/routers/{made[0]['id']}", {"router": {"colour": "red"}}), 400)
    error(user.put(f"/routers/{made[0]['id']}", {"router": {"admin_state_up": "maybe"}}), 400)
    error(user.put(f"/routers/{made[0]['id']}", {"router": {"name": "a"}},
                   headers={"If-Match": "revision_number=0"}), 412)
    # the router quota counts what the project holds
    assert usage(cloud, user.project_id, "router") == 2
    for item in made:
        assert user.delete(f"/routers/{item['id']}").status_code == 204
    assert usage(cloud, user.project_id, "router") == 0
