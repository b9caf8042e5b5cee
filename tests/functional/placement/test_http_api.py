"""The Placement API over raw HTTP: shapes, microversions, generations, errors."""

from __future__ import annotations

from typing import Any

from tests.cloud import Cloud
from tests.functional.placement.conftest import Placement, error, new

INV = {"VCPU": {"total": 8}, "MEMORY_MB": {"total": 2048, "reserved": 512,
                                           "allocation_ratio": 1.5}}


def test_version_document_and_headers(cloud: Cloud, placement: Placement) -> None:
    import requests

    doc = requests.get(f"{cloud.url}/placement/", timeout=10).json()
    assert doc["versions"][0]["max_version"] == "1.39"
    assert doc["versions"][0]["min_version"] == "1.0"
    r = placement.call("GET", "/resource_providers", version="1.14")
    assert r.status_code == 200
    assert r.headers["openstack-api-version"] == "placement 1.14"
    assert "last-modified" not in r.headers
    r = placement.call("GET", "/resource_providers", version="1.15")
    assert r.headers["cache-control"] == "no-cache" and "last-modified" in r.headers
    r = placement.call("GET", "/resource_providers", version=None)
    assert r.headers["openstack-api-version"] == "placement 1.0"
    r = placement.call("GET", "/resource_providers", version="1.40")
    assert r.status_code == 406
    r = placement.call("GET", "/traits", version="1.5")
    assert r.status_code == 404
    assert error(r)["code"] == "placement.undefined_code"


def test_provider_lifecycle_and_microversion_shapes(placement: Placement,
                                                   cleanup: list[str]) -> None:
    uuid = new()
    r = placement.call("POST", "/resource_providers", {"name": f"old-{uuid[:8]}", "uuid": uuid},
                       version="1.19")
    assert r.status_code == 201 and r.text == ""
    assert r.headers["location"].endswith(f"/placement/resource_providers/{uuid}")
    cleanup.append(uuid)
    r = placement.call("GET", f"/resource_providers/{uuid}", version="1.0")
    body = r.json()
    assert set(body) == {"uuid", "name", "generation", "links"}
    assert {link["rel"] for link in body["links"]} == {"self", "inventories", "usages"}
    body = placement.call("GET", f"/resource_providers/{uuid}").json()
    assert body["root_provider_uuid"] == uuid and body["parent_provider_uuid"] is None
    assert {link["rel"] for link in body["links"]} == {
        "self", "inventories", "usages", "aggregates", "traits", "allocations"}
    child = placement.provider(parent_provider_uuid=uuid)
    cleanup.insert(0, child["uuid"])
    assert child["root_provider_uuid"] == uuid
    tree = placement.call("GET", "/resource_providers", params={"in_tree": child["uuid"]})
    assert {p["uuid"] for p in tree.json()["resource_providers"]} == {uuid, child["uuid"]}
    r = placement.call("DELETE", f"/resource_providers/{uuid}")
    assert r.status_code == 409
    assert error(r)["code"] == "placement.resource_provider.cannot_delete_parent"
    r = placement.call("PUT", f"/resource_providers/{child['uuid']}",
                       {"name": child["name"], "parent_provider_uuid": None}, version="1.36")
    assert r.status_code == 400
    r = placement.call("PUT", f"/resource_providers/{child['uuid']}",
                       {"name": "renamed-" + child["uuid"][:8], "parent_provider_uuid": None})
    assert r.status_code == 200, r.text
    assert r.json()["root_provider_uuid"] == child["uuid"]
    assert r.json()["name"] == "renamed-" + child["uuid"][:8]


def test_duplicate_name_and_bad_input(placement: Placement, cleanup: list[str]) -> None:
    rp = placement.provider()
    cleanup.append(rp["uuid"])
    r = placement.call("POST", "/resource_providers", {"name": rp["name"]})
    assert r.status_code == 409 and error(r)["code"] == "placement.duplicate_name"
    for body in ({}, {"name": ""}, {"name": "x", "bogus": 1}, {"name": "x", "uuid": "nope"},
                 {"name": 5}):
        r = placement.call("POST", "/resource_providers", body)
        assert r.status_code == 400, (body, r.text)
        error(r)
    r = placement.call("GET", "/resource_providers", params={"bogus": "1"})
    assert r.status_code == 400
    r = placement.call("GET", f"/resource_providers/{new()}")
    assert r.status_code == 404
    r = placement.call("GET", "/resource_providers", params={"resources": "VCPU"})
    assert r.status_code == 400 and error(r)["code"] == "placement.query.bad_value"
    r = placement.call("GET", "/resource_providers", params={"resources": "CUSTOM_NOPE:1"})
    assert r.status_code == 400


def test_inventories_generations_and_in_use(placement: Placement, cleanup: list[str]) -> None:
    rp = placement.provider(inventories=INV)
    cleanup.append(rp["uuid"])
    base = f"/resource_providers/{rp['uuid']}/inventories"
    body = placement.call("GET", base).json()
    assert body["resource_provider_generation"] == rp["generation"] == 1
    assert body["inventories"]["MEMORY_MB"] == {
        "total": 2048, "reserved": 512, "min_unit": 1, "max_unit": 2147483647,
        "step_size": 1, "allocation_ratio": 1.5}
    stale = {"resource_provider_generation": 0, "inventories": INV}
    r = placement.call("PUT", base, stale)
    assert r.status_code == 409 and error(r)["code"] == "placement.concurrent_update"
    r = placement.call("PUT", f"{base}/VCPU",
                       {"resource_provider_generation": 1, "total": 4, "max_unit": 2})
    assert r.status_code == 200 and r.json()["resource_provider_generation"] == 2
    consumer = new()
    r = placement.call("PUT", f"/allocations/{consumer}", {
        "allocations": {rp["uuid"]: {"resources": {"VCPU": 2}}}, "project_id": new(),
        "user_id": new(), "consumer_generation": None, "consumer_type": "INSTANCE"})
    assert r.status_code == 204, r.text
    r = placement.call("PUT", f"{base}/VCPU", {"resource_provider_generation": 3, "total": 1})
    assert r.status_code == 409 and error(r)["code"] == "placement.inventory.inuse"
    r = placement.call("DELETE", f"{base}/VCPU")
    assert r.status_code == 409 and error(r)["code"] == "placement.inventory.inuse"
    r = placement.call("DELETE", base)
    assert r.status_code == 409
    r = placement.call("DELETE", f"{base}/MEMORY_MB")
    assert r.status_code == 204
    assert set(placement.call("GET", base).json()["inventories"]) == {"VCPU"}
    for bad in ({"total": 0}, {"total": 4, "reserved": 5}, {"total": "x"},
                {"total": 4, "allocation_ratio": 0}, {"total": 4, "nope": 1}):
        r = placement.call("PUT", f"{base}/VCPU", {"resource_provider_generation": 4, **bad})
        assert r.status_code == 400, (bad, r.text)
    r = placement.call("PUT", f"{base}/VCPU", {"resource_provider_generation": 4,
                                               "total": 4, "reserved": 4}, version="1.25")
    assert r.status_code == 400
    r = placement.call("PUT", base, {"resource_provider_generation": 4,
                                     "inventories": {"CUSTOM_UNKNOWN": {"total": 1}}})
    assert r.status_code == 400
    r = placement.call("DELETE", f"/allocations/{consumer}")
    assert r.status_code == 204
    r = placement.call("DELETE", f"/allocations/{consumer}")
    assert r.status_code == 404


def test_allocations_shapes_and_consumer_generation(placement: Placement,
                                                   cleanup: list[str]) -> None:
    rp = placement.provider(inventories=INV)
    cleanup.append(rp["uuid"])
    consumer, project, user = new(), new(), new()
    # 1.0: the list form, no project/user
    r = placement.call("PUT", f"/allocations/{consumer}", {"allocations": [
        {"resource_provider": {"uuid": rp["uuid"]}, "resources": {"VCPU": 1}}]}, version="1.0")
    assert r.status_code == 204, r.text
    r = placement.call("PUT", f"/allocations/{consumer}", {"allocations": [
        {"resource_provider": {"uuid": rp["uuid"]}, "resources": {"VCPU": 1}}]}, version="1.8")
    assert r.status_code == 400
    body = placement.call("GET", f"/allocations/{consumer}", version="1.11").json()
    assert body == {"allocations": {rp["uuid"]: {"generation": 2, "resources": {"VCPU": 1}}}}
    body = placement.call("GET", f"/allocations/{consumer}").json()
    assert body["consumer_generation"] == 1 and body["consumer_type"] == "unknown"
    put: dict[str, Any] = {"allocations": {rp["uuid"]: {"resources": {"VCPU": 2}}},
                           "project_id": project, "user_id": user, "consumer_type": "INSTANCE"}
    r = placement.call("PUT", f"/allocations/{consumer}", {**put, "consumer_generation": None})
    assert r.status_code == 409 and error(r)["code"] == "placement.concurrent_update"
    r = placement.call("PUT", f"/allocations/{consumer}", put)
    assert r.status_code == 400
    r = placement.call("PUT", f"/allocations/{consumer}", {**put, "consumer_generation": 1})
    assert r.status_code == 204, r.text
    body = placement.call("GET", f"/allocations/{consumer}").json()
    assert body["project_id"] == project and body["consumer_generation"] == 2
    assert body["consumer_type"] == "INSTANCE"
    by_rp = placement.call("GET", f"/resource_providers/{rp['uuid']}/allocations").json()
    assert by_rp["allocations"] == {consumer: {"resources": {"VCPU": 2},
                                               "consumer_generation": 2}}
    usages = placement.call("GET", f"/resource_providers/{rp['uuid']}/usages").json()
    assert usages["usages"] == {"VCPU": 2, "MEMORY_MB": 0}
    r = placement.call("PUT", f"/allocations/{consumer}", {
        **put, "consumer_generation": 2,
        "allocations": {rp["uuid"]: {"resources": {"VCPU": 9}}}})
    assert r.status_code == 409
    assert error(r)["code"] == "placement.allocation.capacity_exceeded"
    r = placement.call("PUT", f"/allocations/{consumer}", {
        **put, "consumer_generation": 2, "allocations": {new(): {"resources": {"VCPU": 1}}}})
    assert r.status_code == 400
    # 1.13 POST moves the allocation to a migration consumer atomically
    migration = new()
    r = placement.call("POST", "/allocations", {
        consumer: {"allocations": {}, "project_id": project, "user_id": user,
                   "consumer_generation": 2, "consumer_type": "INSTANCE"},
        migration: {"allocations": {rp["uuid"]: {"resources": {"VCPU": 2}}},
                    "project_id": project, "user_id": user, "consumer_generation": None,
                    "consumer_type": "MIGRATION"}})
    assert r.status_code == 204, r.text
    assert placement.call("GET", f"/allocations/{consumer}").json() == {"allocations": {}}
    usage = placement.call("GET", "/usages", params={"project_id": project}).json()
    assert usage == {"usages": {"MIGRATION": {"VCPU": 2, "consumer_count": 1}}}
    usage = placement.call("GET", "/usages", params={"project_id": project},
                           version="1.9").json()
    assert usage == {"usages": {"VCPU": 2}}
    usage = placement.call("GET", "/usages", params={"project_id": project,
                                                     "consumer_type": "all"}).json()
    assert usage == {"usages": {"all": {"VCPU": 2, "consumer_count": 1}}}
    assert placement.call("DELETE", f"/allocations/{migration}").status_code == 204


def test_allocation_candidates(placement: Placement, cleanup: list[str]) -> None:
    agg = new()
    fast = placement.provider(inventories=INV)
    slow = placement.provider(inventories={"VCPU": {"total": 1}})
    cleanup.extend([fast["uuid"], slow["uuid"]])
    r = placement.call("PUT", "/traits/CUSTOM_FAST")
    assert r.status_code in (201, 204)
    r = placement.call("PUT", f"/resource_providers/{fast['uuid']}/traits",
                       {"traits": ["CUSTOM_FAST", "HW_CPU_X86_AVX"],
                        "resource_provider_generation": fast["generation"]})
    assert r.status_code == 200, r.text
    r = placement.call("PUT", f"/resource_providers/{fast['uuid']}/aggregates",
                       {"aggregates": [agg], "resource_provider_generation": 2})
    assert r.status_code == 200, r.text
    mine = {"in_tree": fast["uuid"]}
    body = placement.call("GET", "/allocation_candidates",
                          params={"resources": "VCPU:2", **mine}).json()
    assert body["allocation_requests"] == [{
        "allocations": {fast["uuid"]: {"resources": {"VCPU": 2}}}, "mappings": {"": [fast["uuid"]]}}]
    summary = body["provider_summaries"][fast["uuid"]]
    assert summary["resources"]["MEMORY_MB"] == {"capacity": 2304, "used": 0}
    assert summary["traits"] == ["CUSTOM_FAST", "HW_CPU_X86_AVX"]
    assert summary["root_provider_uuid"] == fast["uuid"]
    old = placement.call("GET", "/allocation_candidates", version="1.10",
                         params={"resources": "VCPU:1"}).json()
    listed = [a["allocations"][0]["resource_provider"]["uuid"]
              for a in old["allocation_requests"]]
    assert fast["uuid"] in listed and slow["uuid"] in listed
    assert set(old["provider_summaries"][slow["uuid"]]) == {"resources"}

    def found(**params: str) -> set[str]:
        r = placement.call("GET", "/allocation_candidates", params=params)
        assert r.status_code == 200, r.text
        return {rp for a in r.json()["allocation_requests"] for rp in a["allocations"]}

    pair = {fast["uuid"], slow["uuid"]}
    assert found(resources="VCPU:1") >= pair
    assert found(resources="VCPU:2") & pair == {fast["uuid"]}
    assert found(resources="VCPU:1", required="!CUSTOM_FAST") & pair == {slow["uuid"]}
    assert found(resources="VCPU:1", required="in:CUSTOM_FAST,HW_CPU_X86_SSE") & pair == {
        fast["uuid"]}
    assert found(resources="VCPU:1", member_of=agg) == {fast["uuid"]}
    assert found(resources="VCPU:1", member_of=f"!{agg}") & pair == {slow["uuid"]}
    assert found(resources1="VCPU:1", required1="CUSTOM_FAST") == {fast["uuid"]}
    assert len(placement.call("GET", "/allocation_candidates", params={
        "resources": "VCPU:1", "limit": "1"}).json()["allocation_requests"]) == 1
    for bad in ({"resources": "VCPU:x"}, {}, {"resources": "VCPU:1", "required": "!!X"},
                {"resources": "VCPU:1", "required": "CUSTOM_NOT_A_TRAIT"},
                {"resources1": "VCPU:1", "resources2": "VCPU:1"},
                {"resources": "VCPU:1", "limit": "0"}, {"resources": "VCPU:1", "foo": "1"}):
        r = placement.call("GET", "/allocation_candidates", params=bad)
        assert r.status_code == 400, (bad, r.text)
        error(r)
    r = placement.call("GET", "/allocation_candidates", version="1.21",
                       params={"resources": "VCPU:1", "required": "!CUSTOM_FAST"})
    assert r.status_code == 400
    r = placement.call("GET", "/allocation_candidates", version="1.30",
                       params={"resources1": "VCPU:1", "in_tree1": fast["uuid"]})
    assert r.status_code == 400
    assert found(resources1="VCPU:1", in_tree1=fast["uuid"]) == {fast["uuid"]}
    assert placement.call("GET", "/usages").status_code == 400
    r = placement.call("PUT", f"/resource_providers/{fast['uuid']}/aggregates",
                       {"aggregates": [], "resource_provider_generation": 2})
    assert r.status_code == 409 and error(r)["code"] == "placement.concurrent_update"


def test_resource_classes_and_traits(placement: Placement) -> None:
    names = [c["name"] for c in placement.call("GET", "/resource_classes").json()[
        "resource_classes"]]
    assert {"VCPU", "MEMORY_MB", "DISK_GB"} <= set(names)
    name = f"CUSTOM_RC_{new()[:8].upper()}"
    assert placement.call("PUT", f"/resource_classes/{name}").status_code == 201
    assert placement.call("PUT", f"/resource_classes/{name}").status_code == 204
    assert placement.call("GET", f"/resource_classes/{name}").json()["name"] == name
    r = placement.call("POST", "/resource_classes", {"name": name})
    assert r.status_code == 409
    assert placement.call("POST", "/resource_classes", {"name": "lower"}).status_code == 400
    assert placement.call("DELETE", "/resource_classes/VCPU").status_code == 400
    assert placement.call("DELETE", f"/resource_classes/{name}").status_code == 204
    assert placement.call("GET", f"/resource_classes/{name}").status_code == 404
    trait = f"CUSTOM_T_{new()[:8].upper()}"
    assert placement.call("PUT", f"/traits/{trait}").status_code == 201
    assert placement.call("GET", f"/traits/{trait}").status_code == 204
    listed = placement.call("GET", "/traits", params={"name": "startswith:CUSTOM_T_"}).json()
    assert trait in listed["traits"]
    assert "COMPUTE_NODE" in placement.call("GET", "/traits").json()["traits"]
    assert placement.call("PUT", "/traits/NOT_CUSTOM").status_code == 400
    assert placement.call("PUT", "/traits/CUSTOM_" + "X" * 300).status_code == 400
    assert placement.call("PUT", "/resource_classes/CUSTOM_" + "X" * 300).status_code == 400
    assert placement.call("DELETE", "/traits/COMPUTE_NODE").status_code == 400
    assert placement.call("DELETE", f"/traits/{trait}").status_code == 204


def test_member_and_reader_are_refused(placement: Placement, member_factory: Any) -> None:
    member = member_factory("member")
    for method, path in (("GET", "/resource_providers"), ("POST", "/resource_providers"),
                         ("GET", "/traits"), ("GET", "/allocation_candidates?resources=VCPU:1"),
                         ("PUT", f"/allocations/{new()}"), ("GET", "/resource_classes")):
        r = placement.call(method, path, {"name": "x"}, token=member.token)
        assert r.status_code == 403, (method, path, r.text)
        assert error(r)["title"] == "Forbidden"
    other = placement.call("GET", "/usages", params={"project_id": new()}, token=member.token)
    assert other.status_code == 403
    own = placement.call("GET", "/usages", params={"project_id": member.project_id},
                         token=member.token)
    assert own.status_code == 200 and own.json() == {"usages": {}}
    r = placement.call("GET", "/resource_providers", token="not-a-token")
    assert r.status_code == 401


def test_reader_is_refused(placement: Placement, member_factory: Any) -> None:
    reader = member_factory("reader")
    for method, path in (("GET", "/resource_providers"), ("GET", f"/allocations/{new()}"),
                         ("DELETE", f"/resource_providers/{new()}")):
        r = placement.call(method, path, token=reader.token)
        assert r.status_code == 403, (method, path, r.text)
    own = placement.call("GET", "/usages", params={"project_id": reader.project_id},
                         token=reader.token)
    assert own.status_code == 200


def test_provider_list_filters(placement: Placement, cleanup: list[str]) -> None:
    agg = new()
    big = placement.provider(inventories={"VCPU": {"total": 16}})
    small = placement.provider(inventories={"VCPU": {"total": 2}})
    cleanup.extend([big["uuid"], small["uuid"]])
    r = placement.call("PUT", f"/resource_providers/{big['uuid']}/traits", {
        "traits": ["HW_CPU_X86_AVX2"], "resource_provider_generation": big["generation"]})
    assert r.status_code == 200
    r = placement.call("PUT", f"/resource_providers/{small['uuid']}/aggregates", [agg],
                       version="1.1")
    assert r.status_code == 200 and r.json() == {"aggregates": [agg]}
    pair = {big["uuid"], small["uuid"]}

    def listed(version: str = "1.39", **params: str) -> set[str]:
        r = placement.call("GET", "/resource_providers", params=params, version=version)
        assert r.status_code == 200, r.text
        return {p["uuid"] for p in r.json()["resource_providers"]} & pair

    assert listed(resources="VCPU:4") == {big["uuid"]}
    r = placement.call("PUT", f"/resource_providers/{big['uuid']}/inventories/VCPU",
                       {"resource_provider_generation": 1 + big["generation"], "total": 16,
                        "max_unit": 2})
    assert r.status_code == 200, r.text
    assert listed(resources="VCPU:4") == set()
    assert listed(resources="VCPU:2") == {big["uuid"], small["uuid"]}
    assert listed(required="HW_CPU_X86_AVX2") == {big["uuid"]}
    assert listed(required="!HW_CPU_X86_AVX2") == {small["uuid"]}
    assert listed(member_of=f"in:{agg},{new()}") == {small["uuid"]}
    assert listed(uuid=big["uuid"]) == {big["uuid"]}
    assert listed(name=small["name"]) == {small["uuid"]}
    r = placement.call("GET", "/resource_providers", params={"required": "HW_CPU_X86_AVX2"},
                       version="1.17")
    assert r.status_code == 400
    r = placement.call("GET", "/resource_providers", params={"required": "!HW_CPU_X86_AVX2"},
                       version="1.21")
    assert r.status_code == 400
    r = placement.call("GET", "/resource_providers", params={"uuid": "not-a-uuid"})
    assert r.status_code == 400


def test_nested_candidates_from_1_29(placement: Placement, cleanup: list[str]) -> None:
    root = placement.provider(inventories={"VCPU": {"total": 4}})
    gpu = placement.provider(parent_provider_uuid=root["uuid"],
                             inventories={"VGPU": {"total": 1}})
    cleanup.extend([gpu["uuid"], root["uuid"]])
    params = {"resources": "VCPU:1,VGPU:1", "in_tree": root["uuid"]}
    r = placement.call("GET", "/allocation_candidates", params=params, version="1.28")
    assert r.status_code == 400  # in_tree needs 1.31
    params_old = {"resources": "VCPU:1,VGPU:1"}
    old = placement.call("GET", "/allocation_candidates", params=params_old, version="1.28")
    assert all(root["uuid"] not in a["allocations"] for a in old.json()["allocation_requests"])
    body = placement.call("GET", "/allocation_candidates", params=params).json()
    assert body["allocation_requests"] == [{
        "allocations": {root["uuid"]: {"resources": {"VCPU": 1}},
                        gpu["uuid"]: {"resources": {"VGPU": 1}}},
        "mappings": {"": [root["uuid"], gpu["uuid"]]}}]
    assert body["provider_summaries"][gpu["uuid"]]["parent_provider_uuid"] == root["uuid"]
