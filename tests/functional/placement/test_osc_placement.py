"""The real ``openstack`` CLI with the osc-placement plugin against nubo."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cloud import Cloud
from tests.conftest import SELECTED
from tests.functional.placement.conftest import new


@pytest.fixture(autouse=True)
def once(cloud: Cloud) -> None:
    """The CLI's view does not depend on the database (the HTTP tests run on every
    back end); each ``openstack`` run costs a second of start-up, so run these on
    the first selected back end only."""
    first = SELECTED[0] if SELECTED else "sqlite"
    scheme = cloud.database_url.split(":", 1)[0]
    if not scheme.startswith({"sqlite": "sqlite", "postgresql": "postgres",
                              "mariadb": "mysql"}.get(first, first)):
        pytest.skip(f"CLI checks run once, on the {first} back end")


def osc(cloud: Cloud, version: str, *args: str) -> Any:
    return cloud.cli_json("--os-placement-api-version", version, *args)


def run(cloud: Cloud, version: str, *args: str) -> str:
    return cloud.cli("--os-placement-api-version", version, *args).stdout


def test_providers_inventories_usages_and_candidates(cloud: Cloud) -> None:
    name = f"cli-{new()[:8]}"
    rp = osc(cloud, "1.20", "resource", "provider", "create", name)
    assert rp["name"] == name and rp["generation"] == 0
    uuid = rp["uuid"]
    try:
        listed = osc(cloud, "1.14", "resource", "provider", "list", "--name", name)
        assert [p["uuid"] for p in listed] == [uuid]
        assert listed[0]["root_provider_uuid"] == uuid
        shown = osc(cloud, "1.14", "resource", "provider", "show", uuid)
        assert shown["name"] == name
        invs = osc(cloud, "1.26", "resource", "provider", "inventory", "set", uuid,
                   "--resource", "VCPU=4", "--resource", "VCPU:allocation_ratio=2.0",
                   "--resource", "MEMORY_MB=1024")
        assert {i["resource_class"] for i in invs} == {"VCPU", "MEMORY_MB"}
        listed_invs = {i["resource_class"]: i for i in osc(
            cloud, "1.26", "resource", "provider", "inventory", "list", uuid)}
        assert listed_invs["VCPU"]["total"] == 4
        assert listed_invs["VCPU"]["allocation_ratio"] == 2.0
        cands = osc(cloud, "1.29", "allocation", "candidate", "list", "--resource", "VCPU=7")
        mine = [c for c in cands if c["resource provider"] == uuid]
        assert mine and "VCPU=7" in mine[0]["allocation"]
        consumer, project, user = new(), new(), new()
        allocs = osc(cloud, "1.28", "resource", "provider", "allocation", "set", consumer,
                     "--allocation", f"rp={uuid},VCPU=3,MEMORY_MB=256",
                     "--project-id", project, "--user-id", user)
        assert allocs[0]["resource_provider"] == uuid
        assert allocs[0]["resources"] == {"VCPU": 3, "MEMORY_MB": 256}
        shown_alloc = osc(cloud, "1.28", "resource", "provider", "allocation", "show", consumer)
        assert shown_alloc[0]["resources"] == {"VCPU": 3, "MEMORY_MB": 256}
        usage = {u["resource_class"]: u["usage"] for u in osc(
            cloud, "1.0", "resource", "provider", "usage", "show", uuid)}
        assert usage == {"VCPU": 3, "MEMORY_MB": 256}
        cands = osc(cloud, "1.29", "allocation", "candidate", "list", "--resource", "VCPU=6")
        assert uuid not in [c["resource provider"] for c in cands]
        run(cloud, "1.28", "resource", "provider", "allocation", "delete", consumer)
        assert osc(cloud, "1.28", "resource", "provider", "allocation", "show",
                   consumer) == []
    finally:
        run(cloud, "1.0", "resource", "provider", "delete", uuid)
    result = cloud.cli("resource", "provider", "show", uuid, check=False)
    assert result.returncode != 0


def test_resource_classes_traits_and_aggregates(cloud: Cloud) -> None:
    rc = f"CUSTOM_CLI_{new()[:8].upper()}"
    run(cloud, "1.2", "resource", "class", "create", rc)
    assert rc in [c["name"] for c in osc(cloud, "1.2", "resource", "class", "list")]
    assert osc(cloud, "1.2", "resource", "class", "show", rc)["name"] == rc
    run(cloud, "1.2", "resource", "class", "delete", rc)
    trait = f"CUSTOM_CLI_{new()[:8].upper()}"
    run(cloud, "1.6", "trait", "create", trait)
    assert trait in [t["name"] for t in osc(cloud, "1.6", "trait", "list")]
    rp = osc(cloud, "1.20", "resource", "provider", "create", f"cli-{new()[:8]}")
    try:
        traits = osc(cloud, "1.6", "resource", "provider", "trait", "set", rp["uuid"],
                     "--trait", trait, "--trait", "COMPUTE_NODE")
        assert {t["name"] for t in traits} == {trait, "COMPUTE_NODE"}
        agg = new()
        aggs = osc(cloud, "1.19", "resource", "provider", "aggregate", "set", rp["uuid"],
                   "--aggregate", agg, "--generation", "1")
        assert [a["uuid"] for a in aggs] == [agg]
        stale = cloud.cli("--os-placement-api-version", "1.19", "resource", "provider",
                          "aggregate", "set", rp["uuid"], "--aggregate", agg,
                          "--generation", "1", check=False)
        assert stale.returncode != 0 and "409" in stale.stderr + stale.stdout
        listed = osc(cloud, "1.3", "resource", "provider", "list", "--member-of", agg)
        assert [p["uuid"] for p in listed] == [rp["uuid"]]
    finally:
        run(cloud, "1.0", "resource", "provider", "delete", rp["uuid"])
    run(cloud, "1.6", "trait", "delete", trait)
