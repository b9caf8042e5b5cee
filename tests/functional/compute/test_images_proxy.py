"""Nova's 2.1 ``/images`` proxy (up to 2.35) and ``/images/{id}/metadata`` (up to
2.38): Nova's view of the image service's images (status, progress, minDisk,
minRam, metadata, server link of a snapshot, size), its filters and pages, image
metadata with the metadata_items quota, 404 above the microversions that removed
them; the image service decides visibility (404) and ownership (403)."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import requests

from tests.cloud import Cloud
from tests.functional.compute.nova import Nova, fault, unique
from tests.functional.compute.servers import boot, poll

V = "2.35"


def glance(nova: Nova, method: str, path: str, body: Any = None, **kw: Any) -> Any:
    headers = {"X-Auth-Token": nova.token, **kw.pop("headers", {})}
    return requests.request(method, f"{nova.cloud.url}/image/v2{path}", json=body,
                            headers=headers, timeout=30, **kw)


def upload(nova: Nova, visibility: str = "private", data: bytes = b"*" * 1024,
           **props: Any) -> str:
    """An image made and filled through the image API; its id."""
    r = glance(nova, "POST", "/images", {"name": unique("img"), "disk_format": "raw",
                                         "container_format": "bare",
                                         "visibility": visibility, **props})
    assert r.status_code == 201, r.text
    image_id = str(r.json()["id"])
    if data:
        r = requests.put(f"{nova.cloud.url}/image/v2/images/{image_id}/file",
                         data=io.BytesIO(data), timeout=30,
                         headers={"X-Auth-Token": nova.token,
                                  "Content-Type": "application/octet-stream"})
        assert r.status_code == 204, r.text
    return image_id


def show(nova: Nova, image_id: str, version: str = V) -> dict[str, Any]:
    r = nova.get(f"/images/{image_id}", version=version)
    assert r.status_code == 200, r.text
    image: dict[str, Any] = r.json()["image"]
    return image


def ids(nova: Nova, path: str = "/images", **params: Any) -> list[str]:
    r = nova.get(path, params=params, version=V)
    assert r.status_code == 200, r.text
    return [i["id"] for i in r.json()["images"]]


def test_show_gives_novas_view(member: Nova) -> None:
    image_id = upload(member, os_distro="cirros", auto_disk_config="true")
    image = show(member, image_id)
    assert image["status"] == "ACTIVE" and image["progress"] == 100
    assert (image["minDisk"], image["minRam"]) == (0, 0)
    assert image["OS-EXT-IMG-SIZE:size"] == 1024
    assert image["metadata"] == {"os_distro": "cirros", "auto_disk_config": "true"}
    assert image["OS-DCF:diskConfig"] == "AUTO"
    assert image["created"].endswith("Z") and image["updated"].endswith("Z")
    assert "server" not in image
    rels = {link["rel"]: link for link in image["links"]}
    assert rels["self"]["href"].endswith(f"/compute/v2.1/images/{image_id}")
    assert rels["bookmark"]["href"].endswith(f"/compute/images/{image_id}")
    assert rels["alternate"]["type"] == "application/vnd.openstack.image"
    # an image with no data yet is still being saved
    queued = upload(member, data=b"")
    shown = show(member, queued)
    assert (shown["status"], shown["progress"], shown["OS-EXT-IMG-SIZE:size"]) == \
        ("SAVING", 25, None)


def test_list_and_detail_with_filters(member: Nova) -> None:
    small = upload(member, min_ram=512, architecture="x86_64")
    time.sleep(1.1)                 # changes-since works on whole seconds
    since = show(member, small)["updated"]
    time.sleep(1.1)
    big = upload(member, min_ram=1024)
    brief = member.get("/images", version=V).json()["images"]
    mine = {i["id"]: i for i in brief}
    assert set(mine[small]) == {"id", "name", "links"}
    detailed = {i["id"]: i for i in member.get("/images/detail", version=V).json()["images"]}
    assert detailed[big]["minRam"] == 1024
    name = show(member, small)["name"]
    assert ids(member, name=name) == [small]
    assert ids(member, "/images/detail", minRam="1024") == [big]
    assert ids(member, **{"property-architecture": "x86_64"}) == [small]
    assert set(ids(member, status="ACTIVE")) >= {small, big}
    assert big in ids(member, **{"changes-since": since})
    later = show(member, big)["updated"]
    time.sleep(1.1)
    queued = upload(member, data=b"")
    assert small not in ids(member, "/images/detail", **{"changes-since": later})
    assert queued in ids(member) and queued not in ids(member, status="ACTIVE")


def test_pages_with_limit_and_marker(member: Nova) -> None:
    made = {upload(member) for _ in range(3)}
    r = member.get("/images", params={"limit": 2}, version=V)
    first = r.json()
    assert len(first["images"]) == 2
    (link,) = first["images_links"]
    assert link["rel"] == "next" and f"marker={first['images'][-1]['id']}" in link["href"]
    rest = ids(member, limit=1000, marker=first["images"][-1]["id"])
    seen = [i["id"] for i in first["images"]] + rest
    assert made <= set(seen) and len(seen) == len(set(seen))
    fault(member.get("/images", params={"marker": "nope"}, version=V), 400, "badRequest")
    fault(member.get("/images", params={"limit": "x"}, version=V), 400, "badRequest")


def test_snapshot_shows_server_and_filters(member: Nova, image_id: str) -> None:
    server = boot(member, image_id)
    r = member.post(f"/servers/{server['id']}/action", {"createImage": {"name": "snap"}},
                    version="2.45")
    assert r.status_code == 202, r.text
    snap = r.json()["image_id"]
    shown = poll(lambda: (lambda i: i if i["status"] == "ACTIVE" else None)(
        show(member, snap)), what="snapshot ACTIVE")
    assert shown["server"]["id"] == server["id"]
    assert [link["rel"] for link in shown["server"]["links"]] == ["self", "bookmark"]
    assert shown["metadata"]["image_type"] == "snapshot"
    for ref in [server["id"], *(link["href"] for link in server["links"])]:
        assert ids(member, server=ref) == [snap]
    assert snap in ids(member, type="snapshot") and image_id not in ids(member, type="snapshot")
    assert member.delete(f"/servers/{server['id']}").status_code == 204


def test_delete_and_isolation(member: Nova, make_user: Callable[..., Nova],
                              admin_nova: Nova) -> None:
    image_id = upload(member)
    other = make_user("member")
    fault(other.get(f"/images/{image_id}", version=V), 404, "itemNotFound")
    fault(other.delete(f"/images/{image_id}", version=V), 404, "itemNotFound")
    fault(other.get(f"/images/{image_id}/metadata", version=V), 404, "itemNotFound")
    assert image_id not in ids(other)
    public = upload(admin_nova, visibility="public")
    assert show(member, public)["id"] == public
    assert "not allowed" in fault(member.delete(f"/images/{public}", version=V), 403,
                                  "forbidden")
    msg = fault(member.post(f"/images/{public}/metadata", {"metadata": {"a": "b"}},
                            version=V), 403, "forbidden")
    assert public in msg
    assert show(admin_nova, public)["metadata"] == {}
    assert member.delete(f"/images/{image_id}", version=V).status_code == 204
    fault(member.get(f"/images/{image_id}", version=V), 404, "itemNotFound")
    assert glance(member, "GET", f"/images/{image_id}").status_code == 404
    fault(member.delete(f"/images/{image_id}", version=V), 404, "itemNotFound")
    fault(member.delete("/images/", version=V), 404, "itemNotFound")
    assert admin_nova.delete(f"/images/{public}", version=V).status_code == 204


def test_removed_above_their_microversions(member: Nova) -> None:
    image_id = upload(member, os_distro="cirros")
    fault(member.get("/images", version="2.36"), 404, "itemNotFound")
    fault(member.get("/images/detail", version="2.36"), 404, "itemNotFound")
    fault(member.get(f"/images/{image_id}", version="2.36"), 404, "itemNotFound")
    fault(member.delete(f"/images/{image_id}", version="2.36"), 404, "itemNotFound")
    r = member.get(f"/images/{image_id}/metadata", version="2.38")
    assert r.json() == {"metadata": {"os_distro": "cirros"}}
    fault(member.get(f"/images/{image_id}/metadata", version="2.39"), 404, "itemNotFound")
    fault(member.put(f"/images/{image_id}/metadata/a", {"meta": {"a": "b"}},
                     version="2.39"), 404, "itemNotFound")
    assert show(member, image_id, version="2.1")["id"] == image_id


def test_metadata_calls(member: Nova) -> None:
    image_id = upload(member, os_distro="cirros", os_version="1")
    path = f"/images/{image_id}/metadata"
    r = member.post(path, {"metadata": {"os_version": "2", "architecture": "arm"}}, version=V)
    assert r.status_code == 200, r.text
    assert r.json()["metadata"] == {"os_distro": "cirros", "os_version": "2",
                                    "architecture": "arm"}
    assert member.get(f"{path}/os_version", version=V).json() == {"meta": {"os_version": "2"}}
    fault(member.get(f"{path}/missing", version=V), 404, "itemNotFound")
    r = member.put(f"{path}/os_version", {"meta": {"os_version": "3"}}, version=V)
    assert r.status_code == 200 and r.json() == {"meta": {"os_version": "3"}}
    assert member.delete(f"{path}/architecture", version=V).status_code == 204
    assert "Invalid metadata key" in fault(member.delete(f"{path}/architecture", version=V),
                                           404, "itemNotFound")
    r = member.put(path, {"metadata": {"only": "this"}}, version=V)
    assert r.status_code == 200 and r.json() == {"metadata": {"only": "this"}}
    assert member.get(path, version=V).json() == {"metadata": {"only": "this"}}
    # the image service sees the same properties
    image = glance(member, "GET", f"/images/{image_id}").json()
    assert image["only"] == "this" and "os_distro" not in image


def test_metadata_bad_input_changes_nothing(member: Nova, admin_nova: Nova) -> None:
    image_id = upload(member, os_distro="cirros")
    path = f"/images/{image_id}/metadata"
    bad = [(path, "POST", {"metadata": {"a": 1}}), (path, "POST", {"meta": {"a": "b"}}),
           (path, "PUT", {"metadata": {"bad/key": "x"}}), (path, "POST", {"metadata": "x"}),
           (path, "PUT", {"metadata": {"a": "x" * 256}}),
           (f"{path}/a", "PUT", {"meta": {"b": "c"}}),
           (f"{path}/a", "PUT", {"meta": {"a": "c", "b": "d"}}),
           (path, "POST", {"metadata": {}, "extra": 1})]
    for url, method, body in bad:
        fault(member.call(method, url, body, version=V), 400, "badRequest")
    fault(member.post("/images/0c6e4c3e-0000-4000-8000-000000000000/metadata",
                      {"metadata": {"a": "b"}}, version=V), 404, "itemNotFound")
    r = admin_nova.put(f"/os-quota-sets/{member.project_id}",
                       {"quota_set": {"metadata_items": 2}})
    assert r.status_code == 200, r.text
    msg = fault(member.post(path, {"metadata": {"b": "1", "c": "2"}}, version=V), 403,
                "forbidden")
    assert msg == "Image metadata limit exceeded"
    fault(member.put(path, {"metadata": {"a": "1", "b": "2", "c": "3"}}, version=V), 403,
          "forbidden")
    assert member.get(path, version=V).json() == {"metadata": {"os_distro": "cirros"}}
    assert member.post(path, {"metadata": {"b": "1"}}, version=V).status_code == 200


def test_through_openstacksdk(member_conn: Any, cloud: Cloud) -> None:
    image = member_conn.image.create_image(name=unique("sdk"), disk_format="raw",
                                           container_format="bare", visibility="private",
                                           data=io.BytesIO(b"*" * 1024))
    member_conn.image.wait_for_status(image, "active", wait=30)
    found = {i.id: i for i in member_conn.compute.images(details=True)}
    assert found[image.id].status == "ACTIVE" and found[image.id].size == 1024
    shown = member_conn.compute.get_image(image.id)
    assert shown.min_disk == 0 and shown.progress == 100
    member_conn.compute.set_image_metadata(image.id, os_distro="cirros")
    assert member_conn.compute.get_image_metadata(image.id).metadata["os_distro"] == "cirros"
    assert member_conn.image.get_image(image.id).os_distro == "cirros"
    member_conn.compute.delete_image_metadata(image.id, ["os_distro"])
    assert "os_distro" not in member_conn.compute.get_image_metadata(image.id).metadata
    member_conn.compute.delete_image(image.id)
    assert member_conn.image.find_image(image.id) is None


def test_snapshot_metadata_wins_over_novas_properties(member: Nova, image_id: str) -> None:
    server = boot(member, image_id)
    r = member.post(f"/servers/{server['id']}/action",
                    {"createImage": {"name": "snap", "metadata": {"image_type": "test"}}},
                    version="2.45")
    assert r.status_code == 202, r.text
    shown = show(member, r.json()["image_id"])
    assert shown["metadata"]["image_type"] == "test"
    assert shown["server"]["id"] == server["id"]
    assert member.delete(f"/servers/{server['id']}").status_code == 204
