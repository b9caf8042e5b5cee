"""``POST /reshaper`` (1.30): inventory and its allocations move to a child provider."""

from __future__ import annotations

from tests.functional.placement.conftest import Placement, error, new


def test_reshape_moves_inventory_and_allocations(placement: Placement,
                                                 cleanup: list[str]) -> None:
    root = placement.provider(inventories={"VCPU": {"total": 4}, "VGPU": {"total": 2}})
    child = placement.provider(parent_provider_uuid=root["uuid"])
    cleanup.extend([child["uuid"], root["uuid"]])
    consumer, project, user = new(), new(), new()
    r = placement.call("PUT", f"/allocations/{consumer}", {
        "allocations": {root["uuid"]: {"resources": {"VCPU": 1, "VGPU": 2}}},
        "project_id": project, "user_id": user, "consumer_generation": None,
        "consumer_type": "INSTANCE"})
    assert r.status_code == 204, r.text
    root_gen = placement.call("GET", f"/resource_providers/{root['uuid']}").json()["generation"]
    body = {
        "inventories": {
            root["uuid"]: {"resource_provider_generation": root_gen,
                           "inventories": {"VCPU": {"total": 4}}},
            child["uuid"]: {"resource_provider_generation": child["generation"],
                            "inventories": {"VGPU": {"total": 2}}}},
        "allocations": {consumer: {
            "allocations": {root["uuid"]: {"resources": {"VCPU": 1}},
                            child["uuid"]: {"resources": {"VGPU": 2}}},
            "project_id": project, "user_id": user, "consumer_generation": 1,
            "consumer_type": "INSTANCE"}}}
    assert placement.call("POST", "/reshaper", body, version="1.29").status_code == 404
    # leaving the allocation behind on a provider that loses the inventory is refused
    broken = {**body, "allocations": {}}
    r = placement.call("POST", "/reshaper", broken)
    assert r.status_code == 409 and error(r)["code"] == "placement.inventory.inuse"
    r = placement.call("POST", "/reshaper", body)
    assert r.status_code == 204, r.text
    held = placement.call("GET", f"/allocations/{consumer}").json()["allocations"]
    assert held[child["uuid"]]["resources"] == {"VGPU": 2}
    assert held[root["uuid"]]["resources"] == {"VCPU": 1}
    r = placement.call("POST", "/reshaper", body)
    assert r.status_code == 409 and error(r)["code"] == "placement.concurrent_update"
    placement.call("DELETE", f"/allocations/{consumer}")
