"""Metadata definitions: namespaces and what they hold; admins write, others read
what is public."""

from __future__ import annotations

from tests.functional.image.conftest import Caller, unique


def _namespace(admin: Caller, **body: object) -> str:
    name = unique("ns")
    r = admin.call("POST", "/metadefs/namespaces", {"namespace": name, **body})
    assert r.status_code == 201, r.text
    return name


def test_namespace_lifecycle(admin: Caller, alice: Caller) -> None:
    name = _namespace(admin, visibility="public", protected=True, display_name="N",
                      resource_type_associations=[{"name": "OS::Glance::Image"}])
    assert admin.call("POST", "/metadefs/namespaces", {"namespace": name}).status_code == 409
    listed = alice.call("GET", "/metadefs/namespaces").json()["namespaces"]
    assert name in [n["namespace"] for n in listed]
    shown = alice.call("GET", f"/metadefs/namespaces/{name}").json()
    assert shown["visibility"] == "public" and shown["display_name"] == "N"
    assert shown["resource_type_associations"][0]["name"] == "OS::Glance::Image"
    assert admin.call("DELETE", f"/metadefs/namespaces/{name}").status_code == 403
    r = admin.call("PUT", f"/metadefs/namespaces/{name}",
                   {"namespace": name, "visibility": "private", "protected": False})
    assert r.status_code == 200 and r.json()["visibility"] == "private"
    assert alice.call("GET", f"/metadefs/namespaces/{name}").status_code == 404
    assert admin.call("DELETE", f"/metadefs/namespaces/{name}").status_code == 204
    assert admin.call("GET", f"/metadefs/namespaces/{name}").status_code == 404


def test_members_cannot_write(admin: Caller, alice: Caller) -> None:
    assert alice.call("POST", "/metadefs/namespaces", {"namespace": unique("ns")}
                      ).status_code == 403
    name = _namespace(admin, visibility="public")
    assert alice.call("POST", f"/metadefs/namespaces/{name}/objects", {"name": "o"}
                      ).status_code == 403
    assert alice.call("DELETE", f"/metadefs/namespaces/{name}").status_code == 403


def test_objects_properties_tags(admin: Caller) -> None:
    ns = _namespace(admin)
    base = f"/metadefs/namespaces/{ns}"
    assert admin.call("POST", f"{base}/objects", {"name": "obj"}).status_code == 201
    assert admin.call("POST", f"{base}/objects", {"name": "obj"}).status_code == 409
    r = admin.call("PUT", f"{base}/objects/obj", {"name": "obj2", "description": "d"})
    assert r.json()["name"] == "obj2"
    assert [o["name"] for o in admin.call("GET", f"{base}/objects").json()["objects"]] == [
        "obj2"]
    assert admin.call("GET", f"{base}/objects/obj").status_code == 404
    prop = {"name": "hw_x", "title": "X", "type": "string", "enum": ["a", "b"]}
    assert admin.call("POST", f"{base}/properties", prop).status_code == 201
    assert admin.call("POST", f"{base}/properties", {"name": "bad"}).status_code == 400
    assert admin.call("GET", f"{base}/properties/hw_x").json()["enum"] == ["a", "b"]
    assert list(admin.call("GET", f"{base}/properties").json()["properties"]) == ["hw_x"]
    assert admin.call("DELETE", f"{base}/properties/hw_x").status_code == 204
    r = admin.call("POST", f"{base}/tags", {"tags": [{"name": "t1"}, {"name": "t2"}]})
    assert r.status_code == 201 and len(r.json()["tags"]) == 2
    assert admin.call("POST", f"{base}/tags/t3").status_code == 201
    assert admin.call("PUT", f"{base}/tags/t3", {"name": "t4"}).json()["name"] == "t4"
    names = {t["name"] for t in admin.call("GET", f"{base}/tags").json()["tags"]}
    assert names == {"t1", "t2", "t4"}
    assert admin.call("DELETE", f"{base}/tags").status_code == 204
    assert admin.call("GET", f"{base}/tags").json()["tags"] == []


def test_resource_types(admin: Caller, alice: Caller) -> None:
    types = [t["name"] for t in alice.call("GET", "/metadefs/resource_types").json()[
        "resource_types"]]
    assert "OS::Glance::Image" in types
    ns = _namespace(admin)
    base = f"/metadefs/namespaces/{ns}/resource_types"
    r = admin.call("POST", base, {"name": "OS::Nova::Flavor", "prefix": "hw:"})
    assert r.status_code == 201 and r.json()["prefix"] == "hw:"
    assert [a["name"] for a in admin.call("GET", base).json()[
        "resource_type_associations"]] == ["OS::Nova::Flavor"]
    assert admin.call("DELETE", f"{base}/OS::Nova::Flavor").status_code == 204
    assert admin.call("GET", base).json()["resource_type_associations"] == []


def test_metadef_schemas(alice: Caller) -> None:
    expected = {"namespace": "namespace", "namespaces": "namespaces",
                "resource_type": "resource_type_association",
                "resource_types": "resource_type_associations", "object": "object",
                "objects": "objects", "property": "property", "properties": "properties",
                "tag": "tag", "tags": "tags"}
    for path, name in expected.items():
        assert alice.call("GET", f"/schemas/metadefs/{path}").json()["name"] == name
    assert alice.call("GET", "/schemas/metadefs/nothing").status_code == 404
