"""Flavors, os-extra_specs and os-flavor-access, through openstacksdk, the CLI and raw
HTTP (microversions, error bodies, policy)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cloud import Cloud
from tests.functional.compute.nova import Nova, fault, unique


def _flavor(admin_nova: Nova, **extra: Any) -> dict[str, Any]:
    body = {"name": unique("fl"), "ram": 256, "vcpus": 1, "disk": 1, **extra}
    version = "2.55" if "description" in body else None
    r = admin_nova.post("/flavors", {"flavor": body}, version=version)
    assert r.status_code == 200, r.text
    return dict(r.json()["flavor"])


def test_default_flavors_exist(admin_conn: Any) -> None:
    flavors = {f.name: f for f in admin_conn.compute.flavors()}
    assert flavors["m1.tiny"].ram == 512 and flavors["m1.tiny"].vcpus == 1
    assert flavors["m1.tiny"].disk == 1 and flavors["m1.tiny"].id == "1"
    assert {"m1.small", "m1.medium", "m1.large", "m1.xlarge"} <= set(flavors)


def test_sdk_create_show_delete(admin_conn: Any) -> None:
    name = unique("sdk")
    made = admin_conn.compute.create_flavor(name=name, ram=384, vcpus=2, disk=3, swap=64,
                                            ephemeral=1, rxtx_factor=2.0, is_public=True)
    try:
        got = admin_conn.compute.get_flavor(made.id)
        assert (got.name, got.ram, got.vcpus, got.disk, got.swap, got.ephemeral) == (
            name, 384, 2, 3, 64, 1)
        assert got.rxtx_factor == 2.0 and got.is_public is True
        assert name in {f.name for f in admin_conn.compute.flavors(details=True)}
    finally:
        admin_conn.compute.delete_flavor(made.id)
    assert admin_conn.compute.find_flavor(made.id) is None


def test_cli_create_set_property_show_delete(cloud: Cloud, admin_nova: Nova) -> None:
    name = unique("cli")
    made = cloud.cli_json("flavor", "create", "--ram", "300", "--vcpus", "1", "--disk", "2",
                          "--id", f"id-{name}", name)
    assert made["id"] == f"id-{name}" and made["ram"] == 300
    cloud.cli("flavor", "set", "--property", "hw:cpu_policy=dedicated", name)
    shown = cloud.cli_json("flavor", "show", name)
    assert shown["properties"] == {"hw:cpu_policy": "dedicated"}
    cloud.cli("flavor", "delete", name)
    # (each CLI call costs seconds: the rest is checked over HTTP)
    fault(admin_nova.get(f"/flavors/id-{name}"), 404, "itemNotFound")


@pytest.mark.parametrize("bad", [
    {"ram": 0}, {"vcpus": 0}, {"disk": -1}, {"swap": -1}, {"OS-FLV-EXT-DATA:ephemeral": -1},
    {"rxtx_factor": 0}, {"name": " lead"}, {"name": ""}, {"id": "bad/id"}, {"ram": "x"},
    {"os-flavor-access:is_public": "maybe"}, {"bogus": 1},
])
def test_create_validation(admin_nova: Nova, bad: dict[str, Any]) -> None:
    body = {"name": unique("bad"), "ram": 256, "vcpus": 1, "disk": 1, **bad}
    fault(admin_nova.post("/flavors", {"flavor": body}), 400, "badRequest")


def test_create_requires_fields_and_description_needs_2_55(admin_nova: Nova) -> None:
    fault(admin_nova.post("/flavors", {"flavor": {"name": unique(), "ram": 1, "vcpus": 1}}),
          400, "badRequest")
    body = {"name": unique(), "ram": 256, "vcpus": 1, "disk": 1, "description": "d"}
    fault(admin_nova.post("/flavors", {"flavor": body}, version="2.54"), 400, "badRequest")


def test_duplicate_name_or_id_conflicts(admin_nova: Nova) -> None:
    made = _flavor(admin_nova)
    again = {"name": made["name"], "ram": 256, "vcpus": 1, "disk": 1}
    assert "already exists" in fault(admin_nova.post("/flavors", {"flavor": again}), 409,
                                     "conflictingRequest")
    same_id = {"name": unique(), "ram": 256, "vcpus": 1, "disk": 1, "id": made["id"]}
    fault(admin_nova.post("/flavors", {"flavor": same_id}), 409, "conflictingRequest")
    assert admin_nova.delete(f"/flavors/{made['id']}").status_code == 202
    fault(admin_nova.get(f"/flavors/{made['id']}"), 404, "itemNotFound")


def test_list_filters_sorting_and_paging(admin_nova: Nova) -> None:
    big = _flavor(admin_nova, ram=900000, disk=9000)
    # (other tests' flavors may share the cloud: assert on what this one made)
    found = admin_nova.get("/flavors/detail", params={"minRam": 900000, "minDisk": 9000}
                           ).json()["flavors"]
    assert big["id"] in {f["id"] for f in found}
    assert all(f["ram"] >= 900000 and f["disk"] >= 9000 for f in found)
    above = admin_nova.get("/flavors/detail", params={"minRam": 900001}).json()["flavors"]
    assert big["id"] not in {f["id"] for f in above}
    for direction in ("asc", "desc"):
        found = admin_nova.get("/flavors/detail", params={
            "sort_key": "memory_mb", "sort_dir": direction}).json()["flavors"]
        rams = [f["ram"] for f in found]
        assert rams == sorted(rams, reverse=direction == "desc")
    page = admin_nova.get("/flavors", params={"limit": 2}).json()
    assert len(page["flavors"]) == 2
    nxt = page["flavors_links"][0]
    assert nxt["rel"] == "next" and f"marker={page['flavors'][1]['id']}" in nxt["href"]
    rest = admin_nova.get("/flavors", params={"marker": page["flavors"][1]["id"]}).json()
    assert page["flavors"][1]["id"] not in {f["id"] for f in rest["flavors"]}
    fault(admin_nova.get("/flavors", params={"sort_key": "bogus"}), 400, "badRequest")
    fault(admin_nova.get("/flavors", params={"marker": "nope"}), 400, "badRequest")
    fault(admin_nova.get("/flavors", params={"minRam": "x"}), 400, "badRequest")
    fault(admin_nova.get("/flavors", params={"limit": "-1"}), 400, "badRequest")
    admin_nova.delete(f"/flavors/{big['id']}")


def test_views_by_microversion(admin_nova: Nova) -> None:
    made = _flavor(admin_nova, description="small one")
    path = f"/flavors/{made['id']}"
    old = admin_nova.get(path).json()["flavor"]
    assert old["swap"] == "" and "description" not in old and "extra_specs" not in old
    assert old["links"][0]["href"].endswith(f"/compute/v2.1/flavors/{made['id']}")
    assert admin_nova.get(path, version="2.55").json()["flavor"]["description"] == "small one"
    assert admin_nova.get(path, version="2.61").json()["flavor"]["extra_specs"] == {}
    assert admin_nova.get(path, version="2.75").json()["flavor"]["swap"] == 0
    listed = admin_nova.get("/flavors", version="2.55").json()["flavors"]
    assert any(f.get("description") == "small one" for f in listed)
    r = admin_nova.put(path, {"flavor": {"description": "changed"}}, version="2.55")
    assert r.status_code == 200 and r.json()["flavor"]["description"] == "changed"
    fault(admin_nova.put(path, {"flavor": {"description": "x"}}, version="2.54"), 404,
          "itemNotFound")
    fault(admin_nova.put(path, {"flavor": {"name": "x"}}, version="2.55"), 400, "badRequest")
    admin_nova.delete(path)


def test_extra_specs_crud(admin_nova: Nova) -> None:
    made = _flavor(admin_nova)
    base = f"/flavors/{made['id']}/os-extra_specs"
    r = admin_nova.post(base, {"extra_specs": {"hw:cpu_policy": "dedicated", "k": "v"}})
    assert r.status_code == 200 and r.json()["extra_specs"]["k"] == "v"
    assert admin_nova.get(base).json()["extra_specs"] == {"hw:cpu_policy": "dedicated",
                                                           "k": "v"}
    assert admin_nova.get(f"{base}/k").json() == {"k": "v"}
    assert admin_nova.put(f"{base}/k", {"k": "w"}).json() == {"k": "w"}
    fault(admin_nova.put(f"{base}/k", {"other": "w"}), 400, "badRequest")
    fault(admin_nova.put(f"{base}/k", {"k": "w", "j": "x"}), 400, "badRequest")
    fault(admin_nova.post(base, {"extra_specs": {"bad/key": "v"}}), 400, "badRequest")
    assert admin_nova.delete(f"{base}/k").status_code == 200
    fault(admin_nova.get(f"{base}/k"), 404, "itemNotFound")
    fault(admin_nova.delete(f"{base}/k"), 404, "itemNotFound")
    shown = admin_nova.get(f"/flavors/{made['id']}", version="2.61").json()["flavor"]
    assert shown["extra_specs"] == {"hw:cpu_policy": "dedicated"}
    admin_nova.delete(f"/flavors/{made['id']}")


@pytest.mark.parametrize(("key", "value", "ok"), [
    ("hw:cpu_policy", "bogus", False),
    ("hw:no_such_thing", "1", False),
    ("hw_rng:allowed", "maybe", False),
    ("quota:cpu_shares", "-5", False),
    ("trait:HW_CPU_X86_AVX2", "sometimes", False),
    ("resources:VCPU", "two", False),
    ("hw:cpu_policy", "dedicated", True),
    ("hw:numa_nodes", "2", True),
    ("trait:HW_CPU_X86_AVX2", "required", True),
    ("resources1:CUSTOM_MAGIC", "1", True),
    ("aggregate_instance_extra_specs:ssd", "true", True),
    ("vendor:anything", "goes", True),
])
def test_extra_specs_validation_at_2_86(admin_nova: Nova, key: str, value: str,
                                        ok: bool) -> None:
    made = _flavor(admin_nova)
    base = f"/flavors/{made['id']}/os-extra_specs"
    # before 2.86 nothing is checked beyond the key's characters
    assert admin_nova.post(base, {"extra_specs": {key: value}}, version="2.85").ok
    r = admin_nova.post(base, {"extra_specs": {key: value}}, version="2.86")
    if ok:
        assert r.status_code == 200, r.text
    else:
        fault(r, 400, "badRequest")
    admin_nova.delete(f"/flavors/{made['id']}")


def test_private_flavor_access(admin_nova: Nova, make_user: Any) -> None:
    member = make_user("member")
    made = _flavor(admin_nova, **{"os-flavor-access:is_public": False})
    fid = made["id"]
    fault(member.get(f"/flavors/{fid}"), 404, "itemNotFound")
    assert fid not in {f["id"] for f in member.get("/flavors").json()["flavors"]}
    assert admin_nova.get(f"/flavors/{fid}/os-flavor-access").json() == {"flavor_access": []}
    r = admin_nova.post(f"/flavors/{fid}/action",
                        {"addTenantAccess": {"tenant": member.project_id}})
    assert r.json()["flavor_access"] == [{"flavor_id": fid, "tenant_id": member.project_id}]
    fault(admin_nova.post(f"/flavors/{fid}/action",
                          {"addTenantAccess": {"tenant": member.project_id}}), 409,
          "conflictingRequest")
    assert member.get(f"/flavors/{fid}").status_code == 200
    assert fid in {f["id"] for f in member.get("/flavors").json()["flavors"]}
    r = admin_nova.post(f"/flavors/{fid}/action",
                        {"removeTenantAccess": {"tenant": member.project_id}})
    assert r.json()["flavor_access"] == []
    fault(admin_nova.post(f"/flavors/{fid}/action",
                          {"removeTenantAccess": {"tenant": member.project_id}}), 404,
          "itemNotFound")
    fault(member.get(f"/flavors/{fid}"), 404, "itemNotFound")
    # admins list private flavors only when asking for them
    private = admin_nova.get("/flavors", params={"is_public": "false"}).json()["flavors"]
    assert fid in {f["id"] for f in private}
    every = admin_nova.get("/flavors", params={"is_public": "none"}).json()["flavors"]
    assert fid in {f["id"] for f in every} and "1" in {f["id"] for f in every}
    fault(admin_nova.get("/flavors", params={"is_public": "perhaps"}), 400, "badRequest")
    for spelling in ("f", "0", "no", "off", "False"):
        private = admin_nova.get("/flavors", params={"is_public": spelling}).json()["flavors"]
        assert fid in {f["id"] for f in private} and "1" not in {f["id"] for f in private}
    fault(admin_nova.get("/flavors/1/os-flavor-access"), 404, "itemNotFound")
    fault(admin_nova.post("/flavors/1/action", {"addTenantAccess": {"tenant": "x"}}), 409,
          "conflictingRequest")
    admin_nova.delete(f"/flavors/{fid}")


def test_sdk_flavor_access(admin_conn: Any, make_user: Any) -> None:
    member = make_user("member")
    made = admin_conn.compute.create_flavor(name=unique("priv"), ram=256, vcpus=1, disk=1,
                                            is_public=False)
    admin_conn.compute.flavor_add_tenant_access(made, member.project_id)
    assert [a["tenant_id"] for a in admin_conn.compute.get_flavor_access(made)] == [
        member.project_id]
    admin_conn.compute.flavor_remove_tenant_access(made, member.project_id)
    assert admin_conn.compute.get_flavor_access(made) == []
    admin_conn.compute.delete_flavor(made)


def test_policy_refusals(admin_nova: Nova, make_user: Any) -> None:
    member = make_user("member")
    made = _flavor(admin_nova)
    fid = made["id"]
    body = {"flavor": {"name": unique(), "ram": 256, "vcpus": 1, "disk": 1}}
    assert "os-flavor-manage:create" in fault(member.post("/flavors", body), 403, "forbidden")
    fault(member.delete(f"/flavors/{fid}"), 403, "forbidden")
    fault(member.put(f"/flavors/{fid}", {"flavor": {"description": "x"}}, version="2.55"),
          403, "forbidden")
    fault(member.post(f"/flavors/{fid}/os-extra_specs", {"extra_specs": {"a": "b"}}), 403,
          "forbidden")
    fault(member.put(f"/flavors/{fid}/os-extra_specs/a", {"a": "b"}), 403, "forbidden")
    fault(member.delete(f"/flavors/{fid}/os-extra_specs/a"), 403, "forbidden")
    fault(member.get(f"/flavors/{fid}/os-flavor-access"), 403, "forbidden")
    fault(member.post(f"/flavors/{fid}/action", {"addTenantAccess": {"tenant": "x"}}), 403,
          "forbidden")
    fault(member.post(f"/flavors/{fid}/action", {"removeTenantAccess": {"tenant": "x"}}),
          403, "forbidden")
    # members read flavors and their extra specs
    assert member.get(f"/flavors/{fid}/os-extra_specs").status_code == 200
    assert member.get(f"/flavors/{fid}", version="2.61").json()["flavor"]["extra_specs"] == {}
    assert admin_nova.get(f"/flavors/{fid}").status_code == 200
    admin_nova.delete(f"/flavors/{fid}")


def test_reading_needs_a_reader_role(admin_conn: Any, make_user: Any) -> None:
    """A role that implies no reader role reads no flavors, extra specs, limits, quotas,
    server groups or usage."""
    role = admin_conn.identity.create_role(name=unique("observer"))
    try:
        user = make_user(role.name)
        assert "flavors:index" in fault(user.get("/flavors"), 403, "forbidden")
        fault(user.get("/flavors/detail"), 403, "forbidden")
        fault(user.get("/flavors/1"), 403, "forbidden")
        fault(user.get("/limits"), 403, "forbidden")
        fault(user.get(f"/os-quota-sets/{user.project_id}/defaults"), 403, "forbidden")
        fault(user.get(f"/os-quota-sets/{user.project_id}"), 403, "forbidden")
        fault(user.get("/flavors/1/os-extra_specs"), 403, "forbidden")
        fault(user.get("/flavors/1/os-extra_specs/k"), 403, "forbidden")
        fault(user.get("/os-server-groups"), 403, "forbidden")
        fault(user.get(f"/os-simple-tenant-usage/{user.project_id}"), 403, "forbidden")
    finally:
        admin_conn.identity.delete_role(role)
