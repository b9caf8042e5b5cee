"""The capacity guarantee over HTTP: many concurrent claims never overcommit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from tests.functional.placement.conftest import Placement, error, new


def test_100_concurrent_claims_on_room_for_37(placement: Placement,
                                             cleanup: list[str]) -> None:
    rp = placement.provider(inventories={"VCPU": {"total": 37}})
    cleanup.append(rp["uuid"])
    project, user = new(), new()

    def claim(_: int) -> requests.Response:
        return placement.call("PUT", f"/allocations/{new()}", {
            "allocations": {rp["uuid"]: {"resources": {"VCPU": 1}}}, "project_id": project,
            "user_id": user, "consumer_generation": None, "consumer_type": "INSTANCE"})

    with ThreadPoolExecutor(max_workers=100) as pool:
        answers = list(pool.map(claim, range(100)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(204) == 37, statuses
    assert statuses.count(409) == 63, statuses
    codes = {error(r)["code"] for r in answers if r.status_code == 409}
    assert codes <= {"placement.allocation.capacity_exceeded", "placement.concurrent_update"}
    usages = placement.call("GET", f"/resource_providers/{rp['uuid']}/usages").json()
    assert usages["usages"] == {"VCPU": 37}
    held = placement.call("GET", f"/resource_providers/{rp['uuid']}/allocations").json()
    assert len(held["allocations"]) == 37
    assert placement.call("GET", "/usages", params={"project_id": project}).json() == {
        "usages": {"INSTANCE": {"VCPU": 37, "consumer_count": 37}}}
