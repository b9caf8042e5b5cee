"""Who may see and touch ports: a port is its project's and its network owner's;
another project attaches only to shared networks, and there Neutron's rules keep
addresses, MACs, address pairs and network-owned device owners to the owner."""

from __future__ import annotations

from typing import Any

from tests.functional.network.neutron import Neutron, error, unique
from tests.functional.network.test_ports import lan, port


def test_projects_do_not_see_each_others_ports(make_user: Any) -> None:
    alice, bob = make_user(), make_user()
    net, _ = lan(alice, "10.200.0.0/24")
    mine = port(alice, net)
    error(bob.get(f"/ports/{mine['id']}"), 404, "PortNotFound")
    error(bob.put(f"/ports/{mine['id']}", {"port": {"name": "x"}}), 404, "PortNotFound")
    error(bob.delete(f"/ports/{mine['id']}"), 404, "PortNotFound")
    assert mine["id"] not in {p["id"] for p in bob.get("/ports").json()["ports"]}
    assert bob.conn.network.find_port(mine["id"]) is None
    # nor attach to its private network
    r = bob.post("/ports", {"port": {"network_id": net["id"]}})
    error(r, 404, "NetworkNotFound")
    error(bob.get(f"/ports/{mine['id']}/tags"), 404)
    assert len(alice.get("/ports", params={"network_id": net["id"]}).json()["ports"]) == 1


def test_shared_network(make_user: Any, admin_neutron: Neutron) -> None:
    alice, bob = make_user(), make_user()
    net, subnet = lan(alice, "10.201.0.0/24")
    admin_neutron.put(f"/networks/{net['id']}", {"network": {"shared": True}})
    theirs = port(bob, net, fixed_ips=[{"subnet_id": subnet["id"]}])
    assert theirs["project_id"] == bob.project_id
    # the network's owner sees the port on its network and may delete it, not change it
    assert alice.get(f"/ports/{theirs['id']}").status_code == 200
    assert theirs["id"] in {p["id"] for p in alice.get("/ports").json()["ports"]}
    error(alice.put(f"/ports/{theirs['id']}", {"port": {"name": "x"}}), 403)
    # on someone else's network, only its owner picks addresses, MACs, pairs, and the
    # network's own device owners
    for attrs in ({"fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "10.201.0.50"}]},
                  {"fixed_ips": [{"ip_address": "10.201.0.50"}]},
                  {"mac_address": "fa:16:3e:00:00:aa"},
                  {"allowed_address_pairs": [{"ip_address": "10.201.0.51"}]},
                  {"device_owner": "network:dhcp"},
                  {"port_security_enabled": False},
                  {"binding:host_id": "node-1"}):
        r = bob.post("/ports", {"port": {"network_id": net["id"], **attrs}})
        error(r, 403)
    r = bob.put(f"/ports/{theirs['id']}", {"port": {"fixed_ips": [{"ip_address": "10.201.0.52"}]}})
    error(r, 403)
    assert port(alice, net, fixed_ips=[{"ip_address": "10.201.0.50"}],
                device_owner="network:dhcp")
    assert alice.delete(f"/ports/{theirs['id']}").status_code == 204
    # a port for another project is for admins
    r = bob.post("/ports", {"port": {"network_id": net["id"], "project_id": alice.project_id}})
    error(r, 400)


def test_external_network_is_not_for_ports_of_others(make_user: Any,
                                                      admin_neutron: Neutron) -> None:
    user = make_user()
    r = admin_neutron.post("/networks", {"network": {"name": unique("ext"),
                                                     "router:external": True}})
    ext = r.json()["network"]
    assert user.get(f"/networks/{ext['id']}").status_code == 200
    error(user.post("/ports", {"port": {"network_id": ext["id"]}}), 404)
    # an admin may make one there, for any project
    made = port(admin_neutron, ext, project_id=user.project_id)
    assert made["project_id"] == user.project_id
    assert user.get(f"/ports/{made['id']}").status_code == 200


def test_reader_and_members(make_user: Any) -> None:
    member = make_user()
    reader = make_user("reader", project_id=member.project_id)
    net, _ = lan(member, "10.202.0.0/24")
    made = port(member, net)
    assert reader.get(f"/ports/{made['id']}").status_code == 200
    assert [p["id"] for p in reader.get("/ports").json()["ports"]] == [made["id"]]
    error(reader.post("/ports", {"port": {"network_id": net["id"]}}), 403)
    error(reader.put(f"/ports/{made['id']}", {"port": {"name": "x"}}), 403)
    error(reader.delete(f"/ports/{made['id']}"), 403)
    error(reader.put(f"/ports/{made['id']}/tags/x", None), 403)
    # a member cannot plug ports into hosts nor see where they are
    error(member.put(f"/ports/{made['id']}", {"port": {"binding:host_id": "node-1"}}), 403)
    assert "binding:host_id" not in member.get(f"/ports/{made['id']}").json()["port"]


def test_router_interface_of_another_projects_router(make_user: Any,
                                                      admin_neutron: Neutron) -> None:
    user = make_user()
    net, _ = lan(user, "10.203.0.0/24")
    r = admin_neutron.post("/routers", {"router": {"name": unique("r")}})
    assert r.status_code == 201, r.text
    router = r.json()["router"]
    r = user.post("/ports", {"port": {"network_id": net["id"],
                                      "device_owner": "network:router_interface",
                                      "device_id": router["id"]}})
    error(r, 409, "DeviceIDNotOwnedByTenant")
