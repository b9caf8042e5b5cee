"""``/servers/{id}/os-server-password``: openstacksdk and raw routes, a reader may
read but not clear, another project gets 404, an unknown server 404. A guest
posting its password through the metadata service is tested end to end in
``tests/e2e/network/test_metadata.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.functional.compute.nova import Nova, fault, unique
from tests.functional.compute.servers import TINY_FLAVOR, boot


def test_sdk_show_and_clear(member_conn: Any, image_id: str) -> None:
    server = member_conn.compute.create_server(name=unique("pw"), image_id=image_id,
                                               flavor_id=TINY_FLAVOR, networks="none")
    server = member_conn.compute.wait_for_server(server, status="ACTIVE", wait=30)
    assert member_conn.compute.get_server_password(server) == ""
    member_conn.compute.clear_server_password(server)
    assert member_conn.compute.get_server_password(server) == ""
    member_conn.compute.delete_server(server)


def test_routes_and_roles(member: Nova, make_user: Callable[..., Nova], image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    path = f"/servers/{sid}/os-server-password"
    r = member.get(path)
    assert r.status_code == 200 and r.json() == {"password": ""}
    assert member.delete(path).status_code == 204
    reader = make_user("reader", member.project_id)
    assert reader.get(path).json() == {"password": ""}
    fault(reader.delete(path), 403, "forbidden")
    other = make_user("member")
    fault(other.get(path), 404, "itemNotFound")
    fault(other.delete(path), 404, "itemNotFound")
    missing = "/servers/6b0f8c3e-2a36-4a0d-9c1e-0b6e1c0d9a55/os-server-password"
    fault(member.get(missing), 404, "itemNotFound")
    fault(member.delete(missing), 404, "itemNotFound")
