"""RBAC policies: sharing a network (or a security group) with one project or with
everyone, as shared or as external; who may create, see, change and remove them;
grants a project still depends on; quotas; bad input."""

from __future__ import annotations

import uuid
from typing import Any

from tests.cloud import Cloud
from tests.functional.network.neutron import Neutron, error, unique


def _net(user: Neutron, **attrs: Any) -> dict[str, Any]:
    r = user.post("/networks", {"network": {"name": unique("rbac"), **attrs}})
    assert r.status_code == 201, r.text
    return dict(r.json()["network"])


def _share(user: Neutron, object_id: str, target: str, action: str = "access_as_shared",
           object_type: str = "network") -> Any:
    return user.post("/rbac-policies", {"rbac_policy": {
        "object_type": object_type, "object_id": object_id, "action": action,
        "target_tenant": target}})


def _port(user: Neutron, network_id: str) -> str:
    r = user.post("/ports", {"port": {"network_id": network_id}})
    assert r.status_code == 201, r.text
    return str(r.json()["port"]["id"])


def test_cli_share_with_one_project(cloud: Cloud, make_user: Any) -> None:
    alice, bob, carol = make_user(), make_user(), make_user()
    net = _net(alice)
    error(bob.get(f"/networks/{net['id']}"), 404, "NetworkNotFound")
    made = cloud.cli_json("network", "rbac", "create", "--target-project", bob.project_id,
                          "--action", "access_as_shared", "--type", "network",
                          "--project", alice.project_id, net["id"])
    assert (made["object_id"], made["target_project_id"]) == (net["id"], bob.project_id)
    seen = bob.conn.network.get_network(net["id"])
    assert seen.is_shared is True                  # shared with bob's project
    assert alice.get(f"/networks/{net['id']}").json()["network"]["shared"] is False
    error(carol.get(f"/networks/{net['id']}"), 404)
    assert net["id"] not in {n["id"] for n in carol.get("/networks").json()["networks"]}
    # the policy is alice's: bob neither sees nor removes it
    listed = alice.get("/rbac-policies", params={"object_id": net["id"]}).json()
    assert [p["id"] for p in listed["rbac_policies"]] == [made["id"]]
    assert bob.get("/rbac-policies", params={"object_id": net["id"]}).json()[
        "rbac_policies"] == []
    error(bob.get(f"/rbac-policies/{made['id']}"), 404, "RbacPolicyNotFound")
    error(bob.delete(f"/rbac-policies/{made['id']}"), 404)
    # sharing bumped the network's revision
    assert alice.get(f"/networks/{net['id']}").json()["network"]["revision_number"] >= 1
    cloud.cli("network", "rbac", "delete", made["id"])
    error(bob.get(f"/networks/{net['id']}"), 404, "NetworkNotFound")


def test_sdk_policy_lifecycle_and_target_update(admin_conn: Any, make_user: Any) -> None:
    alice, bob, carol = make_user(), make_user(), make_user()
    net = _net(alice)
    pol = alice.conn.network.create_rbac_policy(
        object_type="network", object_id=net["id"], action="access_as_shared",
        target_project_id=bob.project_id)
    assert pol.project_id == alice.project_id
    shown = alice.get(f"/rbac-policies/{pol.id}").json()["rbac_policy"]
    assert shown == {"id": pol.id, "project_id": alice.project_id,
                     "tenant_id": alice.project_id, "object_type": "network",
                     "object_id": net["id"], "action": "access_as_shared",
                     "target_tenant": bob.project_id}
    only = alice.get("/rbac-policies", params={"fields": ["id", "action"]}).json()
    assert only["rbac_policies"] == [{"id": pol.id, "action": "access_as_shared"}]
    moved = alice.conn.network.update_rbac_policy(pol, target_project_id=carol.project_id)
    assert moved.target_project_id == carol.project_id
    error(bob.get(f"/networks/{net['id']}"), 404)
    assert carol.get(f"/networks/{net['id']}").status_code == 200
    error(_share(alice, net["id"], carol.project_id), 409, "DuplicateRbacPolicy")
    # a reader of alice's project sees the policy, but cannot change it
    reader = make_user("reader", project_id=alice.project_id)
    assert reader.get(f"/rbac-policies/{pol.id}").status_code == 200
    error(reader.delete(f"/rbac-policies/{pol.id}"), 403)
    alice.conn.network.delete_rbac_policy(pol)
    error(carol.get(f"/networks/{net['id']}"), 404)


def test_wildcard_is_for_admins(admin_neutron: Neutron, make_user: Any) -> None:
    alice, bob = make_user(), make_user()
    net = _net(alice)
    error(_share(alice, net["id"], "*"), 403)
    pol = _share(alice, net["id"], bob.project_id).json()["rbac_policy"]
    error(alice.put(f"/rbac-policies/{pol['id']}", {"rbac_policy": {"target_tenant": "*"}}),
          403)
    wild = _share(admin_neutron, net["id"], "*")
    assert wild.status_code == 201, wild.text
    assert wild.json()["rbac_policy"]["project_id"] == admin_neutron.project_id
    # a wildcard grant is the network's shared flag
    assert alice.get(f"/networks/{net['id']}").json()["network"]["shared"] is True
    assert admin_neutron.delete(f"/rbac-policies/{wild.json()['rbac_policy']['id']}"
                                ).status_code == 204
    assert alice.get(f"/networks/{net['id']}").json()["network"]["shared"] is False


def test_grants_in_use_cannot_go(admin_neutron: Neutron, make_user: Any) -> None:
    alice, bob, carol = make_user(), make_user(), make_user()
    net = _net(alice)
    mine = _share(alice, net["id"], bob.project_id).json()["rbac_policy"]
    port = _port(bob, net["id"])
    msg = error(alice.delete(f"/rbac-policies/{mine['id']}"), 409, "RbacPolicyInUse")
    assert msg.startswith(f"RBAC policy on object {net['id']} cannot be removed because "
                          "other objects depend on it.")
    error(alice.put(f"/rbac-policies/{mine['id']}",
                    {"rbac_policy": {"target_tenant": carol.project_id}}), 409,
          "RbacPolicyInUse")
    # with everyone granted, bob's own grant is not needed; without it, the wildcard is
    wild = _share(admin_neutron, net["id"], "*").json()["rbac_policy"]
    assert alice.delete(f"/rbac-policies/{mine['id']}").status_code == 204
    error(admin_neutron.delete(f"/rbac-policies/{wild['id']}"), 409, "RbacPolicyInUse")
    error(admin_neutron.put(f"/networks/{net['id']}", {"network": {"shared": False}}), 409,
          "InvalidSharedSetting")
    # a grant of bob's own again lets the shared flag go
    assert _share(alice, net["id"], bob.project_id).status_code == 201
    r = admin_neutron.put(f"/networks/{net['id']}", {"network": {"shared": False}})
    assert r.status_code == 200 and r.json()["network"]["shared"] is False
    assert bob.delete(f"/ports/{port}").status_code == 204
    # a self-share never protects anything
    own = _share(alice, net["id"], alice.project_id).json()["rbac_policy"]
    assert alice.delete(f"/rbac-policies/{own['id']}").status_code == 204


def test_external_grants(admin_neutron: Neutron, make_user: Any) -> None:
    bob = make_user()
    net = _net(admin_neutron)
    pol = _share(admin_neutron, net["id"], bob.project_id, "access_as_external")
    assert pol.status_code == 201, pol.text
    assert admin_neutron.get(f"/networks/{net['id']}").json()["network"][
        "router:external"] is True
    seen = bob.get(f"/networks/{net['id']}").json()["network"]
    assert (seen["router:external"], seen["shared"]) == (True, False)
    assert admin_neutron.delete(f"/rbac-policies/{pol.json()['rbac_policy']['id']}"
                                ).status_code == 204
    assert admin_neutron.get(f"/networks/{net['id']}").json()["network"][
        "router:external"] is False
    error(bob.get(f"/networks/{net['id']}"), 404)
    # router:external is a wildcard grant, and going non-external drops every grant
    admin_neutron.put(f"/networks/{net['id']}", {"network": {"router:external": True}})
    query = {"object_id": net["id"], "action": "access_as_external"}
    wild = admin_neutron.get("/rbac-policies", params=query).json()["rbac_policies"]
    assert [p["target_tenant"] for p in wild] == ["*"]
    _share(admin_neutron, net["id"], bob.project_id, "access_as_external")
    admin_neutron.put(f"/networks/{net['id']}", {"network": {"router:external": False}})
    assert admin_neutron.get("/rbac-policies", params=query).json()["rbac_policies"] == []
    error(_share(admin_neutron, net["id"], bob.project_id, "access_as_nothing"), 400,
          "InvalidActionForType")


def test_security_group_grants(make_user: Any) -> None:
    alice, bob = make_user(), make_user()
    group = alice.post("/security-groups", {"security_group": {"name": unique("sg")}})
    assert group.status_code == 201, group.text
    sg = group.json()["security_group"]["id"]
    error(bob.get(f"/security-groups/{sg}"), 404)
    pol = _share(alice, sg, bob.project_id, object_type="security_group")
    assert pol.status_code == 201, pol.text
    assert bob.get(f"/security-groups/{sg}").status_code == 200
    error(_share(alice, sg, bob.project_id, "access_as_external", "security_group"), 400,
          "InvalidActionForType")
    assert alice.delete(f"/rbac-policies/{pol.json()['rbac_policy']['id']}"
                        ).status_code == 204
    error(bob.get(f"/security-groups/{sg}"), 404)


def test_quota_of_policies(make_user: Any) -> None:
    alice = make_user()
    net = _net(alice)
    made = [_share(alice, net["id"], uuid.uuid4().hex) for _ in range(10)]
    assert all(r.status_code == 201 for r in made), [r.text for r in made]
    error(_share(alice, net["id"], uuid.uuid4().hex), 409, "OverQuota")
    assert alice.delete(f"/rbac-policies/{made[0].json()['rbac_policy']['id']}"
                        ).status_code == 204
    assert _share(alice, net["id"], uuid.uuid4().hex).status_code == 201
    # the network's policies go with it, and so does their count
    assert alice.delete(f"/networks/{net['id']}").status_code == 204
    again = _net(alice)
    assert _share(alice, again["id"], uuid.uuid4().hex).status_code == 201


def test_bad_input_and_other_projects_objects(admin_neutron: Neutron,
                                              make_user: Any) -> None:
    alice, bob = make_user(), make_user()
    net = _net(alice)
    admin_net = _net(admin_neutron)
    _share(admin_neutron, admin_net["id"], alice.project_id)
    before = len(admin_neutron.get("/rbac-policies").json()["rbac_policies"])
    body = {"object_type": "network", "object_id": net["id"],
            "action": "access_as_shared", "target_tenant": bob.project_id}
    cases = [
        ({**body, "object_type": "volume"}, 400, "InvalidInput"),
        ({**body, "action": "access_as_owner"}, 400, "InvalidActionForType"),
        ({**body, "target_tenant": "1234" * 100}, 400, "InvalidInput"),
        ({**body, "target_tenant": None}, 400, "InvalidInput"),
        ({**body, "object_id": "not-a-uuid"}, 400, "HTTPBadRequest"),
        ({k: v for k, v in body.items() if k != "action"}, 400, "HTTPBadRequest"),
        ({**body, "colour": "red"}, 400, "HTTPBadRequest"),
        ({**body, "object_id": str(uuid.uuid4())}, 404, "NetworkNotFound"),
    ]
    for sent, status, kind in cases:
        error(alice.post("/rbac-policies", {"rbac_policy": sent}), status, kind)
    # alice may use the admin's network but not share it on
    msg = error(_share(alice, admin_net["id"], bob.project_id), 400, "InvalidInput")
    assert "Only admins can manipulate policies on networks they do not own" in msg
    # nor share bob's things, nor make policies in bob's name
    error(_share(bob, net["id"], bob.project_id), 400, "InvalidInput")
    error(alice.post("/rbac-policies", {"rbac_policy": {**body,
                                                        "project_id": bob.project_id}}), 403)
    assert len(admin_neutron.get("/rbac-policies").json()["rbac_policies"]) == before
    error(admin_neutron.get(f"/rbac-policies/{uuid.uuid4()}"), 404, "RbacPolicyNotFound")
    error(alice.put("/rbac-policies/" + str(uuid.uuid4()),
                    {"rbac_policy": {"target_tenant": "*"}}), 404)


def test_external_grants_routers_depend_on(admin_neutron: Neutron, make_user: Any) -> None:
    bob = make_user()
    net = _net(admin_neutron)
    sub = admin_neutron.post("/subnets", {"subnet": {
        "network_id": net["id"], "ip_version": 4,
        "cidr": f"100.{64 + uuid.uuid4().int % 60}.{uuid.uuid4().int % 250}.0/24"}})
    assert sub.status_code == 201, sub.text
    grant = _share(admin_neutron, net["id"], bob.project_id, "access_as_external")
    grant_id = grant.json()["rbac_policy"]["id"]
    r = bob.post("/routers", {"router": {"name": unique("r"), "external_gateway_info": {
        "network_id": net["id"]}}})
    assert r.status_code == 201, r.text
    router = r.json()["router"]
    msg = error(admin_neutron.delete(f"/rbac-policies/{grant_id}"), 409, "RbacPolicyInUse")
    assert msg.endswith("There are routers attached to this network that depend on this "
                        "policy for access.")
    # the wildcard covers bob; then the wildcard is what bob depends on
    wild = _share(admin_neutron, net["id"], "*", "access_as_external").json()["rbac_policy"]
    assert admin_neutron.delete(f"/rbac-policies/{grant_id}").status_code == 204
    error(admin_neutron.delete(f"/rbac-policies/{wild['id']}"), 409, "RbacPolicyInUse")
    # retargeting the wildcard to bob keeps bob's access
    moved = admin_neutron.put(f"/rbac-policies/{wild['id']}",
                              {"rbac_policy": {"target_tenant": bob.project_id}})
    assert moved.status_code == 200, moved.text
    assert bob.delete(f"/routers/{router['id']}").status_code == 204
    assert admin_neutron.delete(f"/rbac-policies/{wild['id']}").status_code == 204
    assert admin_neutron.get(f"/networks/{net['id']}").json()["network"][
        "router:external"] is False
    assert admin_neutron.delete(f"/networks/{net['id']}").status_code == 204


def test_shared_filter_is_the_callers_view(admin_neutron: Neutron, make_user: Any) -> None:
    alice, bob = make_user(), make_user()
    net = _net(alice)
    _share(alice, net["id"], bob.project_id)

    def listed(user: Neutron, shared: str) -> set[str]:
        found = user.get("/networks", params={"shared": shared}).json()["networks"]
        return {n["id"] for n in found}

    assert net["id"] in listed(bob, "true") and net["id"] not in listed(bob, "false")
    assert net["id"] in listed(alice, "false") and net["id"] not in listed(alice, "true")
    assert net["id"] in listed(admin_neutron, "false")
    _share(admin_neutron, net["id"], "*")
    assert net["id"] in listed(alice, "true") and net["id"] in listed(admin_neutron, "true")
    assert alice.delete(f"/networks/{net['id']}").status_code == 204   # shared with all
