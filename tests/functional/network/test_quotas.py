"""Networking quotas through the quotas API, openstacksdk and `openstack quota`:
defaults, a project's own view, admin changes checked against usage (unless
forced), details with usage, who may do what, bad input, concurrent creates."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.cloud import Cloud
from tests.functional.network.neutron import Neutron, error, unique

DEFAULTS = {"network": 100, "subnet": 100, "port": 500, "router": 10, "floatingip": 50,
            "security_group": 10, "security_group_rule": 100, "rbac_policy": 10,
            "subnetpool": -1, "address_scope": -1}


def _net(user: Neutron) -> Any:
    return user.post("/networks", {"network": {"name": unique("q")}})


def test_own_quota_defaults_and_details(make_user: Any) -> None:
    user = make_user()
    mine = user.get(f"/quotas/{user.project_id}").json()["quota"]
    assert mine == DEFAULTS
    assert user.get(f"/quotas/{user.project_id}/default").json()["quota"] == DEFAULTS
    for _ in range(2):
        assert _net(user).status_code == 201
    details = user.get(f"/quotas/{user.project_id}/details").json()["quota"]
    assert details["network"] == {"limit": 100, "used": 2, "reserved": 0}
    assert details["rbac_policy"] == {"limit": 10, "used": 0, "reserved": 0}
    assert set(details) == set(DEFAULTS)
    assert user.get("/quotas/project").json() == {"project": {"project_id": user.project_id}}
    # a reader of the project reads it too
    reader = make_user("reader", project_id=user.project_id)
    assert reader.get(f"/quotas/{user.project_id}").json()["quota"] == DEFAULTS


def test_only_admins_see_and_change_others(make_user: Any) -> None:
    alice, bob = make_user(), make_user()
    path = f"/quotas/{bob.project_id}"
    error(alice.get(path), 403)
    error(alice.get(f"{path}/default"), 403)
    error(alice.get(f"{path}/details"), 403, "AdminRequired")
    error(alice.get("/quotas"), 403, "AdminRequired")
    error(alice.put(path, {"quota": {"network": 1000}}), 403)
    error(alice.put(f"/quotas/{alice.project_id}", {"quota": {"network": 1000}}), 403)
    error(alice.delete(path), 403)
    assert bob.get(path).json()["quota"]["network"] == 100


def test_admin_sets_lists_and_resets(admin_neutron: Neutron, make_user: Any) -> None:
    user = make_user()
    path = f"/quotas/{user.project_id}"
    r = admin_neutron.put(path, {"quota": {"network": 3, "port": "7"}})
    assert r.status_code == 200, r.text
    assert r.json()["quota"] == {**DEFAULTS, "network": 3, "port": 7}
    listed = admin_neutron.get("/quotas").json()["quotas"]
    ours = [q for q in listed if q["project_id"] == user.project_id]
    assert ours == [{**DEFAULTS, "network": 3, "port": 7, "project_id": user.project_id,
                     "tenant_id": user.project_id}]
    assert user.get(path).json()["quota"]["network"] == 3
    details = admin_neutron.get(f"{path}/details").json()["quota"]
    assert details["port"] == {"limit": 7, "used": 0, "reserved": 0}
    assert admin_neutron.delete(path).status_code == 204
    assert user.get(path).json()["quota"] == DEFAULTS
    assert user.project_id not in {q["project_id"] for q in
                                   admin_neutron.get("/quotas").json()["quotas"]}
    error(admin_neutron.delete(path), 404, "TenantQuotaNotFound")


def test_limits_are_enforced_and_checked_against_usage(admin_neutron: Neutron,
                                                       make_user: Any) -> None:
    user = make_user()
    path = f"/quotas/{user.project_id}"
    assert admin_neutron.put(path, {"quota": {"network": 1}}).status_code == 200
    assert _net(user).status_code == 201
    assert error(_net(user), 409, "OverQuota") == "Quota exceeded for resources: ['network']."
    msg = error(admin_neutron.put(path, {"quota": {"network": 0}}), 400)
    assert msg == "Quota limit 0 for network must be greater than or equal to already used 1"
    assert user.get(path).json()["quota"]["network"] == 1
    forced = admin_neutron.put(path, {"quota": {"network": 0, "force": True}})
    assert forced.status_code == 200 and forced.json()["quota"]["network"] == 0
    checked = admin_neutron.put(path, {"quota": {"network": -1, "check_limit": True}})
    assert checked.json()["quota"]["network"] == -1          # unlimited
    assert _net(user).status_code == 201


def test_bad_input_changes_nothing(admin_neutron: Neutron, make_user: Any) -> None:
    user = make_user()
    path = f"/quotas/{user.project_id}"
    cases = [({"network": -2}, "HTTPBadRequest"), ({"network": "many"}, "InvalidInput"),
             ({"network": 2**31}, "HTTPBadRequest"), ({"volumes": 3}, "HTTPBadRequest"),
             ({"network": 5, "force": "sideways"}, "HTTPBadRequest")]
    for body, kind in cases:
        error(admin_neutron.put(path, {"quota": body}), 400, kind)
    error(admin_neutron.put(path, {"quotas": {"network": 5}}), 400)
    error(admin_neutron.post("/quotas", {"quota": {"network": 5}}), 501)
    assert user.get(path).json()["quota"] == DEFAULTS
    assert user.project_id not in {q["project_id"] for q in
                                   admin_neutron.get("/quotas").json()["quotas"]}


def test_sdk(admin_conn: Any, make_user: Any) -> None:
    user = make_user()
    admin_conn.network.update_quota(user.project_id, networks=9, security_group_rules=50)
    quota = admin_conn.network.get_quota(user.project_id)
    assert (quota.networks, quota.security_group_rules, quota.ports) == (9, 50, 500)
    detailed = user.conn.network.get_quota(user.project_id, details=True)
    assert detailed.networks == {"limit": 9, "used": 0, "reserved": 0}
    assert admin_conn.network.get_quota_default(user.project_id).networks == 100
    assert user.project_id in {q.project_id for q in admin_conn.network.quotas()}
    admin_conn.network.delete_quota(user.project_id)
    assert admin_conn.network.get_quota(user.project_id).networks == 100


def test_cli_quota_set_and_show(cloud: Cloud, make_user: Any) -> None:
    user = make_user()
    cloud.cli("quota", "set", "--networks", "7", "--ports", "11", "--rbac-policies", "4",
              "--instances", "6", user.project_id)
    shown = cloud.cli_json("quota", "show", "--network", user.project_id)
    limits = {row["Resource"]: row["Limit"] for row in shown} if isinstance(
        shown, list) else shown
    assert (limits["networks"], limits["ports"], limits["rbac_policies"]) == (7, 11, 4)
    # without a service: compute's and networking's quotas together
    every = cloud.cli_json("quota", "show", user.project_id)
    both = {row["Resource"]: row["Limit"] for row in every} if isinstance(
        every, list) else every
    assert (both["networks"], both["instances"]) == (7, 6)
    usage = cloud.cli_json("quota", "show", "--network", "--usage", user.project_id)
    rows = {row["Resource"]: row for row in usage} if isinstance(usage, list) else {}
    assert rows["networks"]["In Use"] == 0 and rows["networks"]["Limit"] == 7
    listed = cloud.cli_json("quota", "list", "--network")
    assert user.project_id in {row["Project ID"] for row in listed}


def test_concurrent_creates_stop_at_the_limit(admin_neutron: Neutron,
                                              make_user: Any) -> None:
    user = make_user()
    assert admin_neutron.put(f"/quotas/{user.project_id}",
                             {"quota": {"network": 4}}).status_code == 200
    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(lambda _: _net(user), range(12)))
    assert sorted(r.status_code for r in results) == [201] * 4 + [409] * 8
    listed = user.get("/networks", params={"project_id": user.project_id}).json()
    assert len(listed["networks"]) == 4
    used = user.get(f"/quotas/{user.project_id}/details").json()["quota"]["network"]
    assert used["used"] == 4
