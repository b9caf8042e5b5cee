"""A server's port bindings follow it: cold migration (and its revert), live
migration, shelve and unshelve on another host. Each time the port is bound to the
host the server runs on, and the network agent there reports it ACTIVE."""

from __future__ import annotations

from typing import Any

from tests.functional.compute.networks import Tenant, admin_neutron, ports_of, tenant
from tests.functional.compute.nova import Nova
from tests.functional.compute.servers import poll, wait_status
from tests.functional.network.neutron import Neutron

__all__ = ["admin_neutron", "tenant"]


def act(nova: Nova, server_id: str, body: dict[str, Any]) -> None:
    r = nova.post(f"/servers/{server_id}/action", body, version="2.90")
    assert r.status_code == 202, r.text


def host_of(admin: Nova, server_id: str) -> str:
    r = admin.get(f"/servers/{server_id}", version="2.90")
    return str(r.json()["server"]["OS-EXT-SRV-ATTR:host"])


def bound_where_it_runs(admin: Nova, neutron: Neutron, server_id: str) -> str:
    """The server's host, once its port is bound there and ACTIVE."""
    host = host_of(admin, server_id)

    def check() -> bool:
        (port,) = ports_of(neutron, server_id)
        return bool(port["binding:host_id"] == host and port["status"] == "ACTIVE")

    poll(check, what=f"the port of {server_id} bound to {host} and ACTIVE")
    return host


def test_bindings_follow_the_server(tenant: Tenant, admin_nova: Nova, admin_neutron: Neutron,
                                    image_id: str) -> None:
    net = tenant.network("10.45.0.0/24")
    server = tenant.boot(image_id, [{"uuid": net["id"]}])
    sid = server["id"]
    first = bound_where_it_runs(admin_nova, admin_neutron, sid)

    act(admin_nova, sid, {"migrate": None})
    wait_status(admin_nova, sid, "VERIFY_RESIZE")
    second = bound_where_it_runs(admin_nova, admin_neutron, sid)
    assert second != first
    act(admin_nova, sid, {"revertResize": None})
    wait_status(admin_nova, sid, "ACTIVE")
    assert bound_where_it_runs(admin_nova, admin_neutron, sid) == first

    act(admin_nova, sid, {"os-migrateLive": {"host": None, "block_migration": "auto"}})
    poll(lambda: host_of(admin_nova, sid) != first, what="the live migration")
    wait_status(admin_nova, sid, "ACTIVE")
    assert bound_where_it_runs(admin_nova, admin_neutron, sid) == second

    act(tenant.nova, sid, {"shelve": None})
    wait_status(tenant.nova, sid, "SHELVED_OFFLOADED")
    act(tenant.nova, sid, {"unshelve": None})
    wait_status(tenant.nova, sid, "ACTIVE")
    bound_where_it_runs(admin_nova, admin_neutron, sid)
    shown = tenant.nova.get(f"/servers/{sid}").json()["server"]
    assert list(shown["addresses"]) == [net["name"]]
