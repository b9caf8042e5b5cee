"""Quota sets, quota class sets and limits: defaults, updates (force, per user),
keys by microversion, usage, policy, and concurrent reservations."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.cloud import Cloud
from tests.functional.compute.nova import Nova, fault, unique

DEFAULTS = {"instances": 10, "cores": 20, "ram": 51200, "key_pairs": 100,
            "server_groups": 10, "server_group_members": 10, "metadata_items": 128}


def _group(user: Nova) -> Any:
    return user.post("/os-server-groups", {"server_group": {
        "name": unique("g"), "policies": ["affinity"]}})


def test_defaults_and_show(admin_nova: Nova, make_user: Any) -> None:
    user = make_user()
    shown = user.get(f"/os-quota-sets/{user.project_id}").json()["quota_set"]
    assert shown["id"] == user.project_id
    assert {k: shown[k] for k in DEFAULTS} == DEFAULTS
    defaults = user.get(f"/os-quota-sets/{user.project_id}/defaults").json()["quota_set"]
    assert {k: defaults[k] for k in DEFAULTS} == DEFAULTS


def test_sdk_and_cli(cloud: Cloud, admin_conn: Any, make_user: Any) -> None:
    user = make_user()
    quota = admin_conn.compute.get_quota_set(user.project_id)
    assert quota.cores == 20 and quota.instances == 10
    admin_conn.compute.update_quota_set(user.project_id, cores=33, ram=1024)
    assert admin_conn.compute.get_quota_set(user.project_id).cores == 33
    cloud.cli("quota", "set", "--instances", "7", "--key-pairs", "5", user.project_id)
    shown = user.get(f"/os-quota-sets/{user.project_id}").json()["quota_set"]
    assert (shown["instances"], shown["key_pairs"], shown["ram"]) == (7, 5, 1024)
    listed = cloud.cli_json("quota", "show", "--compute", user.project_id)
    as_dict = {row["Resource"]: row["Limit"] for row in listed} if isinstance(
        listed, list) else listed
    assert as_dict.get("instances") == 7 and as_dict.get("cores") == 33
    admin_conn.compute.revert_quota_set(user.project_id)
    assert admin_conn.compute.get_quota_set(user.project_id).cores == 20


def test_update_validation_and_keys_by_microversion(admin_nova: Nova, make_user: Any) -> None:
    pid = make_user().project_id
    path = f"/os-quota-sets/{pid}"
    fault(admin_nova.put(path, {"quota_set": {"cores": -2}}), 400, "badRequest")
    fault(admin_nova.put(path, {"quota_set": {"cores": "many"}}), 400, "badRequest")
    fault(admin_nova.put(path, {"quota_set": {"bogus": 1}}), 400, "badRequest")
    assert admin_nova.put(path, {"quota_set": {"cores": -1}}).json()["quota_set"]["cores"] == -1
    old = admin_nova.get(path, version="2.35").json()["quota_set"]
    assert "floating_ips" in old and "injected_files" in old
    assert admin_nova.put(path, {"quota_set": {"floating_ips": 3}}, version="2.35").ok
    mid = admin_nova.get(path, version="2.36").json()["quota_set"]
    assert "floating_ips" not in mid and "security_groups" not in mid
    assert "injected_files" in mid
    fault(admin_nova.put(path, {"quota_set": {"floating_ips": 3}}, version="2.36"), 400,
          "badRequest")
    new = admin_nova.get(path, version="2.57").json()["quota_set"]
    assert "injected_files" not in new and "injected_file_content_bytes" not in new
    fault(admin_nova.put(path, {"quota_set": {"injected_files": 3}}, version="2.57"), 400,
          "badRequest")
    assert admin_nova.delete(path).status_code == 202
    assert admin_nova.get(path).json()["quota_set"]["cores"] == 20


def test_detail_usage_and_limits_below_usage(admin_nova: Nova, make_user: Any) -> None:
    user = make_user()
    for _ in range(2):
        assert _group(user).status_code == 200
    detail = user.get(f"/os-quota-sets/{user.project_id}/detail").json()["quota_set"]
    assert detail["server_groups"] == {"in_use": 2, "limit": 10, "reserved": 0}
    path = f"/os-quota-sets/{user.project_id}"
    msg = fault(admin_nova.put(path, {"quota_set": {"server_groups": 1}}), 400, "badRequest")
    assert "already used" in msg
    r = admin_nova.put(path, {"quota_set": {"server_groups": 1, "force": True}})
    assert r.status_code == 200 and r.json()["quota_set"]["server_groups"] == 1
    assert "too many server groups" in fault(_group(user), 403, "forbidden")


def test_per_user_quota(admin_nova: Nova, make_user: Any) -> None:
    first = make_user()
    second = make_user(project_id=first.project_id)
    path = f"/os-quota-sets/{first.project_id}"
    params = {"user_id": first.user_id}
    fault(admin_nova.put(path, {"quota_set": {"server_groups": 11}}, params=params), 400,
          "badRequest")
    r = admin_nova.put(path, {"quota_set": {"server_groups": 1}}, params=params)
    assert r.status_code == 200 and r.json()["quota_set"]["server_groups"] == 1
    assert admin_nova.get(path, params=params).json()["quota_set"]["server_groups"] == 1
    assert admin_nova.get(path).json()["quota_set"]["server_groups"] == 10
    assert _group(first).status_code == 200
    fault(_group(first), 403, "forbidden")
    assert _group(second).status_code == 200
    assert admin_nova.delete(path, params=params).status_code == 202
    assert _group(first).status_code == 200


def test_quota_policy(admin_nova: Nova, make_user: Any) -> None:
    user = make_user()
    other = make_user()
    path = f"/os-quota-sets/{user.project_id}"
    assert "os-quota-sets:update" in fault(
        user.put(path, {"quota_set": {"cores": 100}}), 403, "forbidden")
    fault(user.delete(path), 403, "forbidden")
    fault(other.get(path), 403, "forbidden")
    fault(other.get(f"{path}/detail"), 403, "forbidden")
    fault(user.get("/os-quota-class-sets/default"), 403, "forbidden")
    fault(user.put("/os-quota-class-sets/default", {"quota_class_set": {"cores": 1}}), 403,
          "forbidden")
    assert admin_nova.get(path).status_code == 200


def test_quota_class_sets(admin_nova: Nova, make_user: Any) -> None:
    old = admin_nova.get("/os-quota-class-sets/default").json()["quota_class_set"]
    assert old["id"] == "default" and old["cores"] == 20
    assert "server_groups" not in old and "floating_ips" in old
    new = admin_nova.get("/os-quota-class-sets/default", version="2.50").json()[
        "quota_class_set"]
    assert new["server_groups"] == 10 and "floating_ips" not in new
    r = admin_nova.put("/os-quota-class-sets/default", {"quota_class_set": {"cores": 25}},
                       version="2.50")
    assert r.status_code == 200 and r.json()["quota_class_set"]["cores"] == 25
    assert "id" not in r.json()["quota_class_set"]
    try:
        # a project without its own limits takes the default class's
        user = make_user()
        assert user.get(f"/os-quota-sets/{user.project_id}").json()["quota_set"][
            "cores"] == 25
        fault(admin_nova.put("/os-quota-class-sets/default",
                             {"quota_class_set": {"server_groups": 1}}), 400, "badRequest")
    finally:
        admin_nova.put("/os-quota-class-sets/default", {"quota_class_set": {"cores": 20}})


def test_limits(cloud: Cloud, admin_nova: Nova, make_user: Any) -> None:
    user = make_user()
    assert _group(user).status_code == 200
    absolute = user.get("/limits").json()["limits"]["absolute"]
    assert absolute["maxTotalInstances"] == 10 and absolute["maxTotalCores"] == 20
    assert absolute["maxTotalRAMSize"] == 51200 and absolute["maxServerGroups"] == 10
    assert absolute["totalServerGroupsUsed"] == 1 and absolute["totalCoresUsed"] == 0
    assert "maxTotalFloatingIps" in absolute and "maxImageMeta" in absolute
    assert user.get("/limits").json()["limits"]["rate"] == []
    newer = user.get("/limits", version="2.57").json()["limits"]["absolute"]
    assert "maxTotalFloatingIps" not in newer and "maxImageMeta" not in newer
    assert "maxPersonality" not in newer and "maxServerMeta" in newer
    theirs = admin_nova.get("/limits", params={"tenant_id": user.project_id}).json()
    assert theirs["limits"]["absolute"]["totalServerGroupsUsed"] == 1
    other = make_user()
    fault(other.get("/limits", params={"tenant_id": user.project_id}), 403, "forbidden")
    shown = cloud.cli_json("limits", "show", "--absolute")
    assert {"Name": "instances", "Value": 10} in shown


def test_concurrent_reservations_never_exceed_the_limit(admin_nova: Nova,
                                                        make_user: Any) -> None:
    user = make_user()
    path = f"/os-quota-sets/{user.project_id}"
    assert admin_nova.put(path, {"quota_set": {"server_groups": 10}}).ok
    with ThreadPoolExecutor(max_workers=30) as pool:
        results = list(pool.map(lambda _: _group(user), range(30)))
    codes = sorted(r.status_code for r in results)
    assert codes.count(200) == 10, codes
    assert set(codes) == {200, 403}, [r.text for r in results if r.status_code not in (200,
                                                                                    403)]
    listed = user.get("/os-server-groups").json()["server_groups"]
    assert len(listed) == 10
    detail = user.get(f"{path}/detail").json()["quota_set"]
    assert detail["server_groups"]["in_use"] == 10
