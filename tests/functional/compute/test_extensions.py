"""``/extensions``: the v2 extensions of what this cloud serves, under Nova's names
and aliases; an alias it does not serve is a 404; readers only (403 otherwise)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.cloud import Cloud
from tests.functional.compute.nova import Nova, fault, unique


def test_list_and_show(member: Nova) -> None:
    r = member.get("/extensions")
    assert r.status_code == 200, r.text
    listed = r.json()["extensions"]
    aliases = [e["alias"] for e in listed]
    assert aliases == sorted(aliases) and len(set(aliases)) == len(aliases)
    assert {"Hosts", "Keypairs", "ServerGroups", "Rescue"} <= {e["name"] for e in listed}
    for entry in listed:
        assert set(entry) == {"name", "alias", "description", "namespace", "updated",
                              "links"}
    r = member.get("/extensions/os-hosts")
    assert r.status_code == 200, r.text
    assert r.json()["extension"]["name"] == "Hosts"
    # what is not served is not listed: no remote consoles, no volumes (yet)
    fault(member.get("/extensions/os-consoles"), 404, "itemNotFound")
    fault(member.get("/extensions/os-volumes"), 404, "itemNotFound")


def test_the_sdk_lists_them(cloud: Cloud) -> None:
    conn = cloud.connect("nubo")
    assert "os-keypairs" in {e.alias for e in conn.compute.extensions()}


def test_a_reader_role_is_needed(cloud: Cloud, admin_conn: Any, make_user: Any) -> None:
    role = admin_conn.identity.create_role(name=unique("observer"))
    try:
        user = make_user(role.name)
        assert "extensions" in fault(user.get("/extensions"), 403, "forbidden")
        fault(user.get("/extensions/os-hosts"), 403, "forbidden")
    finally:
        admin_conn.identity.delete_role(role)
    assert httpx.get(f"{cloud.url}/compute/v2.1/extensions").status_code == 401
