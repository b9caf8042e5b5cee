"""Security groups through openstacksdk, the `openstack` CLI and raw HTTP: the
`default` group made on a project's first request (exactly once, however many
requests race), create/update/delete with standard attributes and tags, Neutron's
refusals around `default`, quotas, and isolation between projects."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.cloud import Cloud
from tests.functional.network.neutron import Neutron, error, unique


def _groups(user: Neutron, **params: Any) -> list[dict[str, Any]]:
    r = user.get("/security-groups", params=params)
    assert r.status_code == 200, r.text
    return list(r.json()["security_groups"])


def _usage(cloud: Cloud, project_id: str, resource: str) -> int:
    rows = cloud.sql("SELECT in_use FROM network_quota_usages WHERE project_id = :p "
                     "AND resource = :r", p=project_id, r=resource)
    return int(rows[0][0]) if rows else 0


def test_default_group_is_made_on_the_first_list(cloud: Cloud, make_user: Any) -> None:
    user = make_user()
    groups = list(user.conn.network.security_groups())
    assert [g.name for g in groups] == ["default"]
    default = groups[0]
    assert default.description == "Default security group"
    assert default.project_id == user.project_id and default.is_shared is False
    rules = {(r["direction"], r["ethertype"], r["remote_group_id"])
             for r in default.security_group_rules}
    assert rules == {("egress", "IPv4", None), ("egress", "IPv6", None),
                     ("ingress", "IPv4", default.id), ("ingress", "IPv6", default.id)}
    assert all(r["belongs_to_default_sg"] for r in default.security_group_rules)
    # made once: the next list shows the same group; the rules count in the quotas
    assert [g["id"] for g in _groups(user)] == [default.id]
    assert _usage(cloud, user.project_id, "security_group") == 1
    assert _usage(cloud, user.project_id, "security_group_rule") == 4


def test_default_group_exactly_once_under_concurrency(cloud: Cloud, make_user: Any) -> None:
    """20 first requests of a new project at once, of four kinds that each need the
    project's ``default`` group: one is made, and every port gets it."""
    user = make_user()
    net = user.post("/networks", {"network": {"name": unique("net")}}).json()["network"]

    def first_request(i: int) -> Any:
        if i % 4 == 0:
            return user.get("/security-groups")
        if i % 4 == 1:
            return user.get("/security-group-rules")
        if i % 4 == 2:
            return user.post("/security-groups", {"security_group": {"name": f"race-{i}"}})
        return user.post("/ports", {"port": {"network_id": net["id"]}})

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(first_request, range(20)))
    assert sorted({r.status_code for r in answers}) == [200, 201], \
        [r.text for r in answers if r.status_code >= 300]
    defaults = [g for g in _groups(user) if g["name"] == "default"]
    assert len(defaults) == 1
    assert cloud.sql("SELECT security_group_id FROM network_default_security_groups "
                     "WHERE project_id = :p", p=user.project_id) == [(defaults[0]["id"],)]
    ports = [r.json()["port"] for r in answers if "port" in r.json()]
    assert len(ports) == 5
    assert all(p["security_groups"] == [defaults[0]["id"]] for p in ports)
    made = len(_groups(user))
    assert made == 1 + 5                        # default + the five creates
    assert _usage(cloud, user.project_id, "security_group") == made
    assert _usage(cloud, user.project_id, "security_group_rule") == 4 + 5 * 2


def test_sdk_create_show_update_delete(cloud: Cloud, make_user: Any) -> None:
    user = make_user()
    conn = user.conn
    group = conn.network.create_security_group(name=unique("web"), description="for web")
    assert group.project_id == user.project_id and group.stateful is True
    assert group.revision_number == 0 and group.created_at.endswith("Z")
    # a new group only lets traffic out
    assert sorted((r["direction"], r["ethertype"]) for r in group.security_group_rules) == \
        [("egress", "IPv4"), ("egress", "IPv6")]
    assert not any(r["belongs_to_default_sg"] for r in group.security_group_rules)
    updated = conn.network.update_security_group(group, name="renamed", description="new")
    assert (updated.name, updated.description, updated.revision_number) == \
        ("renamed", "new", 1)
    assert conn.network.get_security_group(group.id).name == "renamed"
    raw = user.get(f"/security-groups/{group.id}", params={"fields": ["id", "name"]})
    assert raw.json()["security_group"] == {"id": group.id, "name": "renamed"}
    conn.network.delete_security_group(group)
    assert conn.network.find_security_group(group.id) is None
    assert cloud.sql("SELECT count(*) FROM network_security_group_rules "
                     "WHERE security_group_id = :g", g=group.id) == [(0,)]
    assert _usage(cloud, user.project_id, "security_group") == 1
    assert _usage(cloud, user.project_id, "security_group_rule") == 4


def test_cli_create_rule_list_delete(cloud: Cloud) -> None:
    name = unique("cli-sg")
    made = cloud.cli_json("security", "group", "create", name, "--description", "cli")
    try:
        assert made["name"] == name and made["description"] == "cli"
        rule = cloud.cli_json("security", "group", "rule", "create", made["id"],
                              "--protocol", "tcp", "--dst-port", "22:23",
                              "--remote-ip", "10.0.0.0/8")
        assert (rule["port_range_min"], rule["port_range_max"]) == (22, 23)
        assert rule["remote_ip_prefix"] == "10.0.0.0/8" and rule["direction"] == "ingress"
        listed = cloud.cli_json("security", "group", "rule", "list", made["id"])
        assert rule["id"] in {r["ID"] for r in listed} and len(listed) == 3
        groups = cloud.cli_json("security", "group", "list")
        assert made["id"] in {g["ID"] for g in groups}
        cloud.cli("security", "group", "rule", "delete", rule["id"])
        assert len(cloud.cli_json("security", "group", "rule", "list", made["id"])) == 2
    finally:
        cloud.cli("security", "group", "delete", made["id"])
    assert made["id"] not in {g["ID"] for g in cloud.cli_json("security", "group", "list")}


def test_default_is_neutrons(make_user: Any, admin_neutron: Neutron) -> None:
    user = make_user()
    default = _groups(user)[0]
    for name in ("default", "Default"):
        error(user.post("/security-groups", {"security_group": {"name": name}}), 409,
              "SecurityGroupDefaultAlreadyExists")
    other = user.post("/security-groups", {"security_group": {"name": "x"}}).json()
    gid = other["security_group"]["id"]
    error(user.put(f"/security-groups/{gid}", {"security_group": {"name": "default"}}), 409,
          "SecurityGroupDefaultAlreadyExists")
    error(user.put(f"/security-groups/{default['id']}", {"security_group": {"name": "x"}}),
          409, "SecurityGroupCannotUpdateDefault")
    # its description may change; a member may not delete it, an admin may
    r = user.put(f"/security-groups/{default['id']}",
                 {"security_group": {"description": "ours"}})
    assert r.status_code == 200 and r.json()["security_group"]["name"] == "default"
    error(user.delete(f"/security-groups/{default['id']}"), 409,
          "SecurityGroupCannotRemoveDefault")
    assert admin_neutron.delete(f"/security-groups/{default['id']}").status_code == 204
    # Tempest's cleanup: the admin lists the project's default by name and deletes it
    again = admin_neutron.get("/security-groups", params={
        "project_id": user.project_id, "name": "default"}).json()["security_groups"]
    assert len(again) == 1 and again[0]["id"] != default["id"]
    assert admin_neutron.delete(f"/security-groups/{again[0]['id']}").status_code == 204


def test_stateful_tags_and_if_match(make_user: Any) -> None:
    user = make_user()
    r = user.post("/security-groups", {"security_group": {
        "name": unique("sg"), "stateful": False, "tags": ["b", "a"]}})
    assert r.status_code == 201, r.text
    group = r.json()["security_group"]
    assert group["stateful"] is False and group["tags"] == ["a", "b"]
    path = f"/security-groups/{group['id']}"
    assert user.put(f"{path}/tags/c", None).status_code == 201
    assert user.get(f"{path}/tags").json()["tags"] == ["a", "b", "c"]
    found = _groups(user, tags="a,c")
    assert [g["id"] for g in found] == [group["id"]]
    assert [g["id"] for g in _groups(user, stateful="false")] == [group["id"]]
    stale = user.put(path, {"security_group": {"stateful": True}},
                     headers={"If-Match": "revision_number=0"})
    error(stale, 412, "RevisionNumberConstraintFailed")
    rev = user.get(path).json()["security_group"]["revision_number"]
    r = user.put(path, {"security_group": {"stateful": True}},
                 headers={"If-Match": f"revision_number={rev}"})
    assert r.status_code == 200 and r.json()["security_group"]["stateful"] is True
    assert user.delete(path).status_code == 204
    error(user.get(f"{path}/tags"), 404, "SecurityGroupNotFound")


def test_bad_input(make_user: Any) -> None:
    user = make_user()
    before = len(_groups(user))
    error(user.post("/security-groups", {"security_group": {"name": "x", "colour": 1}}), 400)
    error(user.post("/security-groups", {"security_group": {"stateful": "sideways"}}), 400)
    error(user.post("/security-groups", {"security_group": {"name": "x" * 256}}), 400)
    error(user.post("/security-groups", {"security_group": {"name": 5}}), 400)
    error(user.post("/security-groups", {"security_group": {"tags": ["a/b"]}}), 400)
    error(user.post("/security-groups", {"group": {}}), 400)
    error(user.get("/security-groups", params={"colour": "blue"}), 400)
    error(user.get("/security-groups/00000000-0000-0000-0000-000000000000"), 404,
          "SecurityGroupNotFound")
    error(user.delete("/security-groups/00000000-0000-0000-0000-000000000000"), 404,
          "SecurityGroupNotFound")
    assert len(_groups(user)) == before


def test_quotas(cloud: Cloud, make_user: Any) -> None:
    """10 groups (the default one among them) and 100 rules per project."""
    user = make_user()
    _groups(user)
    made = [user.post("/security-groups", {"security_group": {"name": f"q{i}"}})
            for i in range(9)]
    assert [r.status_code for r in made] == [201] * 9
    error(user.post("/security-groups", {"security_group": {"name": "one-too-many"}}), 409,
          "OverQuota")
    assert len(_groups(user)) == 10
    # 4 + 9 * 2 rules exist: 78 more fit, in one bulk request, then no more
    gid = made[0].json()["security_group"]["id"]
    bulk = [{"security_group_id": gid, "direction": "ingress", "protocol": "tcp",
             "port_range_min": p, "port_range_max": p} for p in range(1000, 1078)]
    r = user.post("/security-group-rules", {"security_group_rules": bulk})
    assert r.status_code == 201 and len(r.json()["security_group_rules"]) == 78
    error(user.post("/security-group-rules", {"security_group_rule": {
        "security_group_id": gid, "direction": "ingress", "protocol": "udp"}}), 409, "OverQuota")
    assert _usage(cloud, user.project_id, "security_group_rule") == 100
    # deleting a group gives its groups and rules quota back
    assert user.delete(f"/security-groups/{gid}").status_code == 204
    assert _usage(cloud, user.project_id, "security_group_rule") == 100 - 80
    assert _usage(cloud, user.project_id, "security_group") == 9


def test_isolation(make_user: Any) -> None:
    alice, bob = make_user(), make_user()
    group = alice.post("/security-groups", {"security_group": {"name": unique("a")}}
                       ).json()["security_group"]
    path = f"/security-groups/{group['id']}"
    error(bob.get(path), 404, "SecurityGroupNotFound")
    error(bob.put(path, {"security_group": {"name": "mine"}}), 404)
    error(bob.delete(path), 404)
    error(bob.put(f"{path}/tags/x", None), 404)
    assert group["id"] not in {g["id"] for g in _groups(bob)}
    assert {g["project_id"] for g in _groups(bob)} == {bob.project_id}
    # a member cannot create a group for another project, nor list another's defaults
    error(bob.post("/security-groups", {"security_group": {
        "name": "x", "project_id": alice.project_id}}), 403)
    assert _groups(bob, project_id=alice.project_id) == []
    # a reader of alice's project sees, and cannot change
    reader = make_user("reader", project_id=alice.project_id)
    assert reader.get(path).status_code == 200
    error(reader.post("/security-groups", {"security_group": {"name": "x"}}), 403)
    error(reader.put(path, {"security_group": {"name": "x"}}), 403)
    error(reader.delete(path), 403)


def test_groups_of_ports(cloud: Cloud, make_user: Any) -> None:
    user = make_user()
    net = user.post("/networks", {"network": {"name": unique("net")}}).json()["network"]
    stateful = user.post("/security-groups", {"security_group": {"name": unique("a")}}
                         ).json()["security_group"]
    stateless = user.post("/security-groups", {"security_group": {
        "name": unique("b"), "stateful": False}}).json()["security_group"]
    # a port without groups gets the project's default one
    plain = user.post("/ports", {"port": {"network_id": net["id"]}})
    assert plain.status_code == 201, plain.text
    default = [g for g in _groups(user) if g["name"] == "default"]
    assert plain.json()["port"]["security_groups"] == [default[0]["id"]]
    # stateful and stateless together are refused, another project's group is not found
    error(user.post("/ports", {"port": {"network_id": net["id"], "security_groups": [
        stateful["id"], stateless["id"]]}}), 409, "SecurityGroupConflict")
    other = make_user()
    theirs = other.post("/security-groups", {"security_group": {"name": unique("c")}}
                        ).json()["security_group"]
    message = error(user.post("/ports", {"port": {"network_id": net["id"],
                                                  "security_groups": [theirs["id"]]}}),
                    404, "SecurityGroupNotFound")
    assert message == f"Security group {theirs['id']} does not exist"
    port = user.post("/ports", {"port": {"network_id": net["id"],
                                         "security_groups": [stateful["id"]]}})
    assert port.status_code == 201, port.text
    # a group in use can be neither deleted nor made stateless
    path = f"/security-groups/{stateful['id']}"
    message = error(user.delete(path), 409, "SecurityGroupInUse")
    assert message == f"Security Group {stateful['id']} in use."
    error(user.put(path, {"security_group": {"stateful": False}}), 409, "SecurityGroupInUse")
    assert user.put(path, {"security_group": {"name": "still-used"}}).status_code == 200
    assert user.delete(f"/ports/{port.json()['port']['id']}").status_code == 204
    assert user.delete(path).status_code == 204
    assert cloud.sql("SELECT count(*) FROM network_port_security_groups WHERE "
                     "security_group_id = :g", g=stateful["id"]) == [(0,)]


def test_sharing(make_user: Any) -> None:
    """A group shared with another project (RBAC): it sees and uses it, and cannot change it."""
    alice, bob = make_user(), make_user()
    group = alice.post("/security-groups", {"security_group": {"name": unique("shared")}}
                       ).json()["security_group"]
    r = alice.post("/rbac-policies", {"rbac_policy": {
        "object_type": "security_group", "object_id": group["id"],
        "action": "access_as_shared", "target_tenant": bob.project_id}})
    assert r.status_code == 201, r.text
    seen = bob.get(f"/security-groups/{group['id']}").json()["security_group"]
    assert seen["shared"] is True and len(seen["security_group_rules"]) == 2
    assert [g["id"] for g in _groups(bob, shared="true")] == [group["id"]]
    assert group["id"] not in {g["id"] for g in _groups(bob, shared="false")}
    # bob may use it as a remote group and on his ports, not change it
    mine = bob.post("/security-groups", {"security_group": {"name": unique("b")}}
                    ).json()["security_group"]
    assert bob.post("/security-group-rules", {"security_group_rule": {
        "security_group_id": mine["id"], "direction": "ingress",
        "remote_group_id": group["id"]}}).status_code == 201
    net = bob.post("/networks", {"network": {"name": unique("net")}}).json()["network"]
    port = bob.post("/ports", {"port": {"network_id": net["id"],
                                        "security_groups": [group["id"]]}})
    assert port.status_code == 201, port.text
    error(bob.put(f"/security-groups/{group['id']}", {"security_group": {"name": "x"}}), 403)
    error(bob.post("/security-group-rules", {"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress"}}), 403)
    error(bob.delete(f"/security-groups/{group['id']}"), 403)
    # ``shared`` says whether the group is shared with the caller (not with someone)
    assert alice.get(f"/security-groups/{group['id']}").json()["security_group"][
        "shared"] is False
