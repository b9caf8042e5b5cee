"""``os-interface``: attaching and detaching a running server's ports (a new port on a
network, the user's own port), with the fake hypervisor plugging them, and the
instance actions they leave."""

from __future__ import annotations

import json
from typing import Any

from tests.cloud import Cloud
from tests.functional.compute.networks import Tenant, admin_neutron, ports_of, tenant
from tests.functional.compute.nova import Nova, fault
from tests.functional.compute.servers import poll
from tests.functional.network.neutron import Neutron

__all__ = ["admin_neutron", "tenant"]


def plugged(cloud: Cloud, admin_nova: Nova, server_id: str) -> list[str]:
    """The ports the fake hypervisor has plugged into the server's guest."""
    host = admin_nova.get(f"/servers/{server_id}", version="2.90").json()["server"][
        "OS-EXT-SRV-ATTR:host"]
    domain = json.loads((cloud.state_dir / "fake-hosts" / host / f"{server_id}.json").read_text())
    return sorted(i["id"] for i in domain.get("interfaces", []))


def attachments(nova: Nova, server_id: str) -> list[dict[str, Any]]:
    r = nova.get(f"/servers/{server_id}/os-interface", version="2.70")
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["interfaceAttachments"]
    return found


def test_attach_and_detach_a_network(cloud: Cloud, tenant: Tenant, admin_nova: Nova,
                                     admin_neutron: Neutron, image_id: str) -> None:
    one, two = tenant.network("10.51.0.0/24"), tenant.network("10.52.0.0/24")
    server = tenant.boot(image_id, [{"uuid": one["id"]}])
    (first,) = ports_of(admin_neutron, server["id"])
    assert plugged(cloud, admin_nova, server["id"]) == [first["id"]]
    r = tenant.nova.post(f"/servers/{server['id']}/os-interface", {"interfaceAttachment": {
        "net_id": two["id"], "fixed_ips": [{"ip_address": "10.52.0.40"}], "tag": "data"}},
        version="2.70")
    assert r.status_code == 200, r.text
    made = r.json()["interfaceAttachment"]
    assert made["net_id"] == two["id"] and made["tag"] == "data"
    assert made["fixed_ips"][0]["ip_address"] == "10.52.0.40"
    assert {a["port_id"] for a in attachments(tenant.nova, server["id"])} == {
        first["id"], made["port_id"]}
    poll(lambda: plugged(cloud, admin_nova, server["id"]) == sorted(
        [first["id"], made["port_id"]]), what="the new port plugged")
    shown = tenant.nova.get(f"/servers/{server['id']}").json()["server"]
    assert [a["addr"] for a in shown["addresses"][two["name"]]] == ["10.52.0.40"]
    one_port = tenant.nova.get(f"/servers/{server['id']}/os-interface/{made['port_id']}",
                               version="2.70").json()["interfaceAttachment"]
    assert one_port == made | {"port_state": one_port["port_state"]}
    r = tenant.nova.delete(f"/servers/{server['id']}/os-interface/{made['port_id']}")
    assert r.status_code == 202, r.text
    poll(lambda: ports_of(admin_neutron, server["id"]) == [first] or
         [p["id"] for p in ports_of(admin_neutron, server["id"])] == [first["id"]],
         what="the attached port deleted")
    assert admin_neutron.get(f"/ports/{made['port_id']}").status_code == 404
    poll(lambda: plugged(cloud, admin_nova, server["id"]) == [first["id"]],
         what="the port unplugged")
    shown = tenant.nova.get(f"/servers/{server['id']}").json()["server"]
    assert list(shown["addresses"]) == [one["name"]]
    inject = {"injectNetworkInfo": None}
    fault(tenant.nova.post(f"/servers/{server['id']}/action", inject), 403, "forbidden")
    r = admin_nova.post(f"/servers/{server['id']}/action", inject)
    assert r.status_code == 202, r.text
    actions = tenant.nova.get(f"/servers/{server['id']}/os-instance-actions").json()
    assert {"attach_interface", "detach_interface"} <= {
        a["action"] for a in actions["instanceActions"]}


def test_attach_the_users_port_with_the_sdk(tenant: Tenant, admin_neutron: Neutron,
                                            image_id: str) -> None:
    net = tenant.network("10.53.0.0/24")
    server = tenant.boot(image_id, [{"uuid": net["id"]}])
    mine = tenant.port(net["id"], name="spare")
    conn = tenant.sdk()
    made = conn.compute.create_server_interface(server["id"], port_id=mine["id"])
    assert made.port_id == mine["id"]
    listed = {i.port_id for i in conn.compute.server_interfaces(server["id"])}
    assert mine["id"] in listed and len(listed) == 2
    bound = admin_neutron.get(f"/ports/{mine['id']}").json()["port"]
    assert bound["device_id"] == server["id"] and bound["binding:host_id"]
    conn.compute.delete_server_interface(mine["id"], server=server["id"])
    poll(lambda: admin_neutron.get(f"/ports/{mine['id']}").json()["port"]["device_id"] == "",
         what="the user's port given back")
    kept = admin_neutron.get(f"/ports/{mine['id']}").json()["port"]
    assert kept["device_owner"] == "" and kept["binding:host_id"] == ""
    tenant.delete_server(server["id"])
    assert admin_neutron.get(f"/ports/{mine['id']}").status_code == 200


def test_bad_attachments(tenant: Tenant, make_user: Any, image_id: str) -> None:
    net = tenant.network("10.54.0.0/24")
    server = tenant.boot(image_id, [{"uuid": net["id"]}])
    (port,) = [p for p in tenant.neutron.get("/ports").json()["ports"]
               if p["device_id"] == server["id"]]
    path = f"/servers/{server['id']}/os-interface"
    cases = [
        ({"net_id": net["id"], "port_id": port["id"]}, 400, "badRequest"),
        ({"fixed_ips": [{"ip_address": "10.54.0.9"}]}, 400, "badRequest"),
        ({"net_id": "6f1c7cd5-0d2a-4c5a-8a4e-6b2b3d7c9e10"}, 404, "itemNotFound"),
        ({"port_id": "6f1c7cd5-0d2a-4c5a-8a4e-6b2b3d7c9e10"}, 404, "itemNotFound"),
        ({"port_id": port["id"]}, 409, "conflictingRequest"),
        ({"net_id": net["id"], "fixed_ips": [{"ip_address": "10.54.0.9"}], "bogus": 1},
         400, "badRequest"),
        ({"net_id": net["id"], "fixed_ips": [{"ip_address": "10.99.0.9"}]}, 400,
         "badRequest"),
    ]
    for body, status, key in cases:
        fault(tenant.nova.post(path, {"interfaceAttachment": body}, version="2.70"),
              status, key)
    fault(tenant.nova.post(path, {"interfaceAttachment": {"net_id": net["id"], "tag": "x"}},
                           version="2.48"), 400, "badRequest")
    reader = make_user("reader", project_id=tenant.project_id)
    fault(reader.post(path, {"interfaceAttachment": {"net_id": net["id"]}}), 403,
          "forbidden")
    assert len(attachments(reader, server["id"])) == 1
    fault(tenant.nova.delete(f"{path}/6f1c7cd5-0d2a-4c5a-8a4e-6b2b3d7c9e10"), 404,
          "itemNotFound")
    stranger = make_user("member")
    fault(stranger.get(path), 404, "itemNotFound")
    assert len(attachments(tenant.nova, server["id"])) == 1
    left = tenant.neutron.get("/ports", params={"network_id": net["id"]}).json()["ports"]
    assert [p["id"] for p in left] == [port["id"]]
