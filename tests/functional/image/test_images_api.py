"""Image records over raw HTTP: fields, custom properties, refusals, JSON patch."""

from __future__ import annotations

import uuid

from tests.functional.image.conftest import Caller, unique

FIELDS = {"id", "name", "status", "visibility", "protected", "os_hidden", "checksum",
          "os_hash_algo", "os_hash_value", "size", "virtual_size", "min_disk", "min_ram",
          "disk_format", "container_format", "owner", "created_at", "updated_at", "tags",
          "self", "file", "schema"}


def test_create_returns_every_standard_field_and_custom_properties(alice: Caller) -> None:
    image = alice.create(tags=["a", "b"], min_ram=64, hw_disk_bus="virtio")
    assert FIELDS <= set(image)
    assert "locations" not in image and "direct_url" not in image
    assert image["status"] == "queued"
    assert image["visibility"] == "shared"
    assert image["owner"] == alice.project_id
    assert image["self"] == f"/v2/images/{image['id']}"
    assert image["file"] == f"/v2/images/{image['id']}/file"
    assert image["hw_disk_bus"] == "virtio"
    assert sorted(image["tags"]) == ["a", "b"]
    assert alice.show(image["id"])["hw_disk_bus"] == "virtio"


def test_create_with_chosen_id_and_duplicate_is_409(alice: Caller) -> None:
    image_id = str(uuid.uuid4())
    assert alice.create(id=image_id)["id"] == image_id
    r = alice.call("POST", "/images", {"id": image_id, "name": "again"})
    assert r.status_code == 409


def test_readonly_and_reserved_attributes_are_refused(alice: Caller) -> None:
    for key, value in (("status", "active"), ("size", 3), ("checksum", "x")):
        r = alice.call("POST", "/images", {"name": "x", key: value})
        assert r.status_code == 403, r.text
        assert "read-only" in r.json()["message"]
    for key in ("deleted", "os_glance_import_task"):
        r = alice.call("POST", "/images", {"name": "x", key: "1"})
        assert r.status_code == 403
        assert "reserved" in r.json()["message"]


def test_bad_input_is_400(alice: Caller) -> None:
    for body in ({"disk_format": "floppy"}, {"container_format": "zip"},
                 {"visibility": "everyone"}, {"min_ram": -1}, {"protected": "yes"},
                 {"id": "not-a-uuid"}, {"custom": 5}, {"tags": "one"}):
        r = alice.call("POST", "/images", body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["code"] == "400 Bad Request"


def test_unknown_image_is_404(alice: Caller) -> None:
    assert alice.call("GET", f"/images/{uuid.uuid4()}").status_code == 404
    assert alice.call("GET", "/images/not-a-uuid").status_code == 404
    assert alice.call("DELETE", f"/images/{uuid.uuid4()}").status_code == 404


def test_json_patch_add_replace_remove(alice: Caller) -> None:
    image = alice.create(foo="1")
    r = alice.patch(image["id"], [
        {"op": "replace", "path": "/name", "value": "renamed"},
        {"op": "add", "path": "/bar", "value": "2"},
        {"op": "replace", "path": "/foo", "value": "3"},
        {"op": "add", "path": "/tags", "value": ["x"]},
        {"op": "replace", "path": "/min_disk", "value": 2}])
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["name"], body["bar"], body["foo"], body["tags"], body["min_disk"]) == (
        "renamed", "2", "3", ["x"], 2)
    r = alice.patch(image["id"], [{"op": "remove", "path": "/bar"}])
    assert r.status_code == 200
    assert "bar" not in alice.show(image["id"])


def test_json_patch_errors(alice: Caller) -> None:
    image_id = alice.create()["id"]
    ops = [{"op": "replace", "path": "/name", "value": "n"}]
    assert alice.patch(image_id, ops, "application/json").status_code == 415
    cases = [
        ([{"op": "move", "path": "/name", "value": "n"}], 400),
        ([{"op": "replace", "path": "name", "value": "n"}], 400),
        ([{"op": "replace", "path": "/a/b", "value": "n"}], 400),
        ([{"op": "add", "path": "/name"}], 400),
        ([{"op": "replace", "path": "/min_ram", "value": "lots"}], 400),
        ([{"op": "replace", "path": "/status", "value": "active"}], 403),
        ([{"op": "add", "path": "/os_glance_x", "value": "1"}], 403),
        ([{"op": "remove", "path": "/name"}], 403),
        ([{"op": "remove", "path": "/nope"}], 409),
        ([{"op": "replace", "path": "/nope", "value": "1"}], 409),
        ({"op": "replace"}, 400),
    ]
    for body, status in cases:
        r = alice.patch(image_id, body)  # type: ignore[arg-type]
        assert r.status_code == status, (body, r.text)
    assert alice.show(image_id)["name"] != "n"


def test_protected_image_cannot_be_deleted(alice: Caller) -> None:
    image_id = alice.create(protected=True)["id"]
    assert alice.call("DELETE", f"/images/{image_id}").status_code == 403
    alice.patch(image_id, [{"op": "replace", "path": "/protected", "value": False}])
    assert alice.call("DELETE", f"/images/{image_id}").status_code == 204
    assert alice.call("GET", f"/images/{image_id}").status_code == 404


def test_tags(alice: Caller) -> None:
    image_id = alice.create()["id"]
    assert alice.call("PUT", f"/images/{image_id}/tags/blue").status_code == 204
    assert alice.call("PUT", f"/images/{image_id}/tags/blue").status_code == 204
    assert alice.show(image_id)["tags"] == ["blue"]
    assert alice.call("DELETE", f"/images/{image_id}/tags/blue").status_code == 204
    assert alice.call("DELETE", f"/images/{image_id}/tags/blue").status_code == 404
    assert alice.call("PUT", f"/images/{image_id}/tags/{'x' * 256}").status_code == 400


def test_schemas(alice: Caller) -> None:
    for name in ("image", "images", "member", "members"):
        r = alice.call("GET", f"/schemas/{name}")
        assert r.status_code == 200
        assert r.json()["name"] == name
    assert "disk_format" in alice.call("GET", "/schemas/image").json()["properties"]


def test_info_import_advertises_glance_direct_only(alice: Caller) -> None:
    r = alice.call("GET", "/info/import")
    assert r.json()["import-methods"]["value"] == ["glance-direct"]
    assert alice.call("GET", "/info/stores").json()["stores"][0]["id"] == "file"


def test_tasks_are_for_admins(alice: Caller, admin: Caller) -> None:
    assert alice.call("GET", "/tasks").status_code == 403
    assert admin.call("GET", "/tasks").status_code == 200
    r = admin.call("POST", "/tasks", {"type": "import", "input": {
        "import_from": "http://example.invalid/x.qcow2", "import_from_format": "qcow2",
        "image_properties": {"disk_format": "qcow2", "container_format": "bare"}}})
    assert r.status_code == 400, r.text
    assert alice.call("POST", "/tasks", {"type": "import", "input": {}}).status_code == 403


def test_reader_cannot_write(make_caller: object, alice: Caller) -> None:
    reader: Caller = make_caller("reader", alice.project_id)  # type: ignore[operator]
    image_id = alice.create(name=unique("r"))["id"]
    assert reader.show(image_id)["id"] == image_id
    assert reader.call("POST", "/images", {"name": "x"}).status_code == 403
    assert reader.patch(image_id, [{"op": "replace", "path": "/name", "value": "y"}]
                        ).status_code == 403
    assert reader.call("DELETE", f"/images/{image_id}").status_code == 403
    assert reader.upload(image_id, b"data").status_code == 403


def test_per_image_limits_are_413(alice: Caller) -> None:
    many = {f"p{i}": "v" for i in range(129)}
    assert alice.call("POST", "/images", {"name": "x", **many}).status_code == 413
    image_id = alice.create(tags=[f"t{i}" for i in range(128)])["id"]
    assert alice.call("PUT", f"/images/{image_id}/tags/one-more").status_code == 413
    r = alice.patch(image_id, [{"op": "add", "path": f"/p{i}", "value": "v"}
                               for i in range(129)])
    assert r.status_code == 413
    assert len(alice.show(image_id)["tags"]) == 128


def test_v2_0_patch_add_refuses_what_exists(alice: Caller) -> None:
    image_id = alice.create(foo="1")["id"]
    old = "application/openstack-images-v2.0-json-patch"
    for path in ("/foo", "/name"):
        r = alice.patch(image_id, [{"op": "add", "path": path, "value": "2"}], old)
        assert r.status_code == 409, r.text
    r = alice.patch(image_id, [{"op": "add", "path": "/bar", "value": "2"}], old)
    assert r.status_code == 200 and r.json()["bar"] == "2"
    r = alice.patch(image_id, [{"op": "add", "path": "/foo", "value": "3"}])
    assert r.status_code == 200 and r.json()["foo"] == "3"
