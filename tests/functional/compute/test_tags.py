"""Server tags (2.26): openstacksdk and CLI, every route, the 50-tag limit, tag
characters, microversion gate, wrong role 403 and other project 404."""

from __future__ import annotations

from collections.abc import Callable

from tests.cloud import Cloud
from tests.functional.compute.nova import Nova, fault, unique
from tests.functional.compute.servers import TINY_FLAVOR, boot

V = "2.26"


def test_sdk_and_cli_tags(cloud: Cloud, image_id: str) -> None:
    conn = cloud.connect("nubo-admin")
    server = conn.compute.create_server(name=unique("tg"), image_id=image_id,
                                        flavor_id=TINY_FLAVOR, networks="none")
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=30)
    server.add_tag(conn.compute, "red")
    server.add_tag(conn.compute, "blue")
    assert sorted(conn.compute.get_server(server.id).tags) == ["blue", "red"]
    server.remove_tag(conn.compute, "red")
    cloud.cli("--os-compute-api-version", "2.26", "server", "set", "--tag", "green",
              server.id)
    assert sorted(conn.compute.get_server(server.id).tags) == ["blue", "green"]
    server.remove_all_tags(conn.compute)
    assert conn.compute.get_server(server.id).tags == []
    conn.compute.delete_server(server)


def test_routes(member: Nova, image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    base = f"/servers/{sid}/tags"
    assert member.get(base, version=V).json() == {"tags": []}
    r = member.put(f"{base}/one", None, version=V)
    assert r.status_code == 201, r.text
    assert r.headers["Location"].endswith(f"/compute/v2.1/servers/{sid}/tags/one")
    assert member.put(f"{base}/one", None, version=V).status_code == 204
    assert member.get(f"{base}/one", version=V).status_code == 204
    fault(member.get(f"{base}/two", version=V), 404, "itemNotFound")
    r = member.put(base, {"tags": ["b", "a", "b"]}, version=V)
    assert r.status_code == 200 and r.json() == {"tags": ["a", "b"]}
    assert member.get(base, version=V).json() == {"tags": ["a", "b"]}
    assert member.delete(f"{base}/a", version=V).status_code == 204
    fault(member.delete(f"{base}/a", version=V), 404, "itemNotFound")
    assert member.delete(base, version=V).status_code == 204
    assert member.get(base, version=V).json() == {"tags": []}
    # before 2.26 there are no tag routes
    assert member.get(base, version="2.25").status_code == 404


def test_limits_and_characters(member: Nova, image_id: str) -> None:
    sid = boot(member, image_id)["id"]
    base = f"/servers/{sid}/tags"
    msg = fault(member.put(base, {"tags": [f"t{n}" for n in range(51)]}, version=V), 400,
                "badRequest")
    assert "50" in msg
    fault(member.put(base, {"tags": ["a,b"]}, version=V), 400, "badRequest")
    fault(member.put(base, {"tags": ["x" * 61]}, version=V), 400, "badRequest")
    fault(member.put(base, {"tags": [""]}, version=V), 400, "badRequest")
    fault(member.put(base, {"tags": "a"}, version=V), 400, "badRequest")
    fault(member.put(f"{base}/a,b", None, version=V), 400, "badRequest")
    assert member.put(base, {"tags": [f"t{n}" for n in range(50)]},
                      version=V).status_code == 200
    fault(member.put(f"{base}/more", None, version=V), 400, "badRequest")
    assert len(member.get(base, version=V).json()["tags"]) == 50


def test_reader_403_other_project_404(member: Nova, make_user: Callable[..., Nova],
                                      image_id: str) -> None:
    sid = boot(member, image_id, tags=["keep"])["id"]
    base = f"/servers/{sid}/tags"
    reader = make_user("reader", member.project_id)
    assert reader.get(base, version=V).json() == {"tags": ["keep"]}
    assert reader.get(f"{base}/keep", version=V).status_code == 204
    fault(reader.put(f"{base}/x", None, version=V), 403, "forbidden")
    fault(reader.put(base, {"tags": []}, version=V), 403, "forbidden")
    fault(reader.delete(f"{base}/keep", version=V), 403, "forbidden")
    fault(reader.delete(base, version=V), 403, "forbidden")
    other = make_user("member")
    fault(other.get(base, version=V), 404, "itemNotFound")
    fault(other.put(f"{base}/x", None, version=V), 404, "itemNotFound")
    fault(other.delete(base, version=V), 404, "itemNotFound")
    assert member.get(base, version=V).json() == {"tags": ["keep"]}
