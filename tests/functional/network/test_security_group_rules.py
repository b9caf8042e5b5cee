"""Security group rules over raw HTTP and openstacksdk: what Neutron stores and shows
back, duplicates (also sent at once), bad input refused with nothing stored, 50
concurrent creates in one group, remote groups, and isolation between projects."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.cloud import Cloud
from tests.functional.network.neutron import Neutron, error, unique


def _group(user: Neutron) -> dict[str, Any]:
    r = user.post("/security-groups", {"security_group": {"name": unique("sg")}})
    assert r.status_code == 201, r.text
    return dict(r.json()["security_group"])


def _rule(user: Neutron, group_id: str, **attrs: Any) -> Any:
    attrs.setdefault("direction", "ingress")
    return user.post("/security-group-rules",
                     {"security_group_rule": {"security_group_id": group_id, **attrs}})


def _rules_of(user: Neutron, group_id: str) -> list[dict[str, Any]]:
    r = user.get("/security-group-rules", params={"security_group_id": group_id})
    assert r.status_code == 200, r.text
    return list(r.json()["security_group_rules"])


def test_rules_show_what_was_sent(make_user: Any) -> None:
    user = make_user()
    gid = _group(user)["id"]
    cases: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({"protocol": "tcp", "port_range_min": 77, "port_range_max": 77},
         {"protocol": "tcp", "port_range_min": 77, "port_range_max": 77, "ethertype": "IPv4"}),
        ({"protocol": "icmp", "port_range_min": 11}, {"port_range_min": 11,
                                                       "port_range_max": None}),
        ({"protocol": 17}, {"protocol": "17"}),
        ({"protocol": "TCP", "port_range_min": 1, "port_range_max": 65535},
         {"protocol": "tcp", "port_range_min": None, "port_range_max": None}),
        ({"protocol": "udp", "remote_ip_prefix": "10.100.0.1/16"},
         {"remote_ip_prefix": "10.100.0.1/16", "normalized_cidr": "10.100.0.0/16"}),
        ({"ethertype": "ipv6", "protocol": "icmpv6", "remote_ip_prefix": "2001:db8::/48"},
         {"ethertype": "IPv6", "protocol": "ipv6-icmp", "remote_ip_prefix": "2001:db8::/48"}),
        ({"protocol": "sctp", "remote_ip_prefix": "192.168.1.5", "description": "one host"},
         {"remote_ip_prefix": "192.168.1.5/32", "description": "one host"}),
    ]
    for sent, shown in cases:
        r = _rule(user, gid, **sent)
        assert r.status_code == 201, (sent, r.text)
        rule = r.json()["security_group_rule"]
        assert {k: rule[k] for k in shown} == shown, sent
        assert rule["security_group_id"] == gid and rule["project_id"] == user.project_id
        assert rule["belongs_to_default_sg"] is False and rule["revision_number"] == 0
        # the show body is the create body, key by key (Tempest compares them)
        assert user.get(f"/security-group-rules/{rule['id']}").json()[
            "security_group_rule"] == rule
    # the group counts each rule as a change
    assert user.get(f"/security-groups/{gid}").json()["security_group"][
        "revision_number"] == len(cases)


def test_duplicates_are_refused(make_user: Any) -> None:
    user = make_user()
    gid = _group(user)["id"]
    first = _rule(user, gid, protocol="tcp", port_range_min=66, port_range_max=67).json()
    rid = first["security_group_rule"]["id"]
    # the same rule, also written another way: by number, with an any-address prefix
    for again in ({"protocol": "tcp", "port_range_min": 66, "port_range_max": 67},
                  {"protocol": "6", "port_range_min": 66, "port_range_max": 67,
                   "remote_ip_prefix": "0.0.0.0/0", "description": "other words"}):
        message = error(_rule(user, gid, **again), 409, "SecurityGroupRuleExists")
        assert message == f"Security group rule already exists. Rule id is {rid}."
    # the egress rules the group was made with count too
    error(_rule(user, gid, direction="egress", ethertype="IPv6"), 409,
          "SecurityGroupRuleExists")
    # one request carrying a rule twice stores nothing
    twice = {"security_group_id": gid, "direction": "ingress", "protocol": "udp"}
    error(user.post("/security-group-rules", {"security_group_rules": [twice, twice]}), 409,
          "DuplicateSecurityGroupRuleInPost")
    assert len(_rules_of(user, gid)) == 3


def test_duplicates_sent_at_once(make_user: Any) -> None:
    user = make_user()
    gid = _group(user)["id"]
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: _rule(user, gid, protocol="tcp", port_range_min=8080,
                                                port_range_max=8080), range(10)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] + [409] * 9, [r.text for r in answers]
    assert all(r.json()["NeutronError"]["type"] == "SecurityGroupRuleExists"
               for r in answers if r.status_code == 409)
    assert len(_rules_of(user, gid)) == 3


def test_fifty_concurrent_creates_in_one_group_all_succeed(cloud: Cloud,
                                                           make_user: Any) -> None:
    user = make_user()
    gid = _group(user)["id"]
    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(lambda p: _rule(user, gid, protocol="tcp", port_range_min=p,
                                                port_range_max=p), range(2000, 2050)))
    assert [r.status_code for r in answers] == [201] * 50, \
        [r.text for r in answers if r.status_code != 201]
    ports = sorted(r["port_range_min"] for r in _rules_of(user, gid) if r["protocol"])
    assert ports == list(range(2000, 2050))
    group = user.get(f"/security-groups/{gid}").json()["security_group"]
    assert group["revision_number"] == 50 and len(group["security_group_rules"]) == 52
    assert cloud.sql("SELECT in_use FROM network_quota_usages WHERE project_id = :p AND "
                     "resource = 'security_group_rule'", p=user.project_id) == [(4 + 2 + 50,)]


def test_bad_rules_are_refused_and_nothing_is_stored(make_user: Any) -> None:
    user = make_user()
    gid = _group(user)["id"]
    before = _rules_of(user, gid)
    bad: list[tuple[dict[str, Any], str, str]] = [
        ({"protocol": "bad_protocol_name"}, "SecurityGroupRuleInvalidProtocol", "protocol"),
        ({"protocol": 256}, "SecurityGroupRuleInvalidProtocol", "protocol"),
        ({"ethertype": "bad_ethertype"}, "SecurityGroupRuleInvalidEtherType", "ethertype"),
        ({"direction": "sideways"}, "HTTPBadRequest", "direction"),
        ({"protocol": "tcp", "port_range_min": -16, "port_range_max": 80},
         "SecurityGroupInvalidPortValue", "Invalid value for port -16"),
        ({"protocol": "tcp", "port_range_min": 80, "port_range_max": 79},
         "SecurityGroupInvalidPortRange", "port_range_min must be <= port_range_max"),
        ({"protocol": "tcp", "port_range_min": 80, "port_range_max": 65536},
         "SecurityGroupInvalidPortValue", "Invalid value for port 65536"),
        ({"protocol": "tcp", "port_range_max": 6}, "SecurityGroupInvalidPortRange",
         "port_range_min must be <= port_range_max"),
        ({"protocol": "icmp", "port_range_min": 1, "port_range_max": 256},
         "SecurityGroupInvalidIcmpValue", "Invalid value for ICMP code"),
        ({"protocol": "icmp", "port_range_max": 6}, "SecurityGroupMissingIcmpType",
         "ICMP type (port-range-min) is missing"),
        ({"port_range_min": 22, "port_range_max": 22}, "SecurityGroupProtocolRequiredWithPorts",
         "Must also specify protocol"),
        ({"protocol": "gre", "port_range_min": 1, "port_range_max": 2},
         "SecurityGroupInvalidProtocolForPort", "Ports cannot be specified for protocol 47"),
        ({"ethertype": "IPv6", "remote_ip_prefix": "10.0.0.0/8"},
         "SecurityGroupRuleParameterConflict", "Conflicting value ethertype IPv6"),
        ({"remote_ip_prefix": "2001:db8::/64"}, "SecurityGroupRuleParameterConflict",
         "Conflicting value ethertype IPv4"),
        ({"remote_ip_prefix": "192.168.1.1/33"}, "InvalidCIDR", "192.168.1.1/33"),
        ({"remote_ip_prefix": "bad_prefix"}, "InvalidCIDR", "bad_prefix"),
        ({"protocol": "ipv6-icmp"}, "SecurityGroupEthertypeConflictWithProtocol",
         "Invalid ethertype IPv4 for protocol ipv6-icmp"),
        ({"remote_ip_prefix": "10.0.0.0/8", "remote_group_id": gid},
         "SecurityGroupMultipleRemoteEntites", "Only one of remote_ip_prefix"),
        ({"colour": "blue"}, "HTTPBadRequest", "Unrecognized attribute(s) 'colour'"),
        ({"id": gid}, "HTTPBadRequest", "Attribute 'id' not allowed in POST"),
    ]
    for attrs, kind, text in bad:
        message = error(_rule(user, gid, **attrs), 400, kind)
        assert text in message, (attrs, message)
    error(user.post("/security-group-rules", {"security_group_rule": {"direction": "egress"}}),
          400, "HTTPBadRequest")
    # unknown groups: the rule's own, or its remote (any string: Neutron looks it up)
    missing = "00000000-0000-0000-0000-000000000000"
    error(_rule(user, missing), 404, "SecurityGroupNotFound")
    for remote in ("bad_group_id", missing):
        error(_rule(user, gid, protocol="tcp", remote_group_id=remote), 404,
              "SecurityGroupNotFound")
    error(_rule(user, gid, remote_address_group_id=missing), 404, "AddressGroupNotFound")
    error(user.get(f"/security-group-rules/{missing}"), 404, "SecurityGroupRuleNotFound")
    error(user.delete(f"/security-group-rules/{missing}"), 404, "SecurityGroupRuleNotFound")
    assert _rules_of(user, gid) == before
    assert user.get(f"/security-groups/{gid}").json()["security_group"][
        "revision_number"] == 0


def test_remote_groups_and_delete(cloud: Cloud, make_user: Any) -> None:
    user = make_user()
    web, db = _group(user), _group(user)
    # db lets in what web's members send; deleting web takes that rule with it
    r = _rule(user, db["id"], protocol="tcp", port_range_min=5432, port_range_max=5432,
              remote_group_id=web["id"])
    assert r.status_code == 201 and r.json()["security_group_rule"]["remote_group_id"] == \
        web["id"]
    rid = r.json()["security_group_rule"]["id"]
    assert user.delete(f"/security-groups/{web['id']}").status_code == 204
    error(user.get(f"/security-group-rules/{rid}"), 404, "SecurityGroupRuleNotFound")
    assert len(_rules_of(user, db["id"])) == 2
    assert cloud.sql("SELECT in_use FROM network_quota_usages WHERE project_id = :p AND "
                     "resource = 'security_group_rule'", p=user.project_id) == [(4 + 2,)]
    # deleting a rule bumps its group's revision
    egress = _rules_of(user, db["id"])[0]
    revision = user.get(f"/security-groups/{db['id']}").json()["security_group"][
        "revision_number"]
    assert user.delete(f"/security-group-rules/{egress['id']}").status_code == 204
    assert user.get(f"/security-groups/{db['id']}").json()["security_group"][
        "revision_number"] == revision + 1


def test_list_filters_and_sdk(make_user: Any) -> None:
    user = make_user()
    gid = _group(user)["id"]
    rule = user.conn.network.create_security_group_rule(
        security_group_id=gid, direction="ingress", protocol="tcp", port_range_min=443,
        port_range_max=443, ether_type="IPv4", remote_ip_prefix="0.0.0.0/0")
    assert rule.protocol == "tcp" and rule.port_range_min == 443
    found = list(user.conn.network.security_group_rules(security_group_id=gid,
                                                        direction="ingress"))
    assert [r.id for r in found] == [rule.id]
    by_protocol = user.get("/security-group-rules", params={"protocol": "tcp"}).json()
    assert [r["id"] for r in by_protocol["security_group_rules"]] == [rule.id]
    defaults = user.get("/security-group-rules", params={"belongs_to_default_sg": "true"})
    assert len(defaults.json()["security_group_rules"]) == 4
    page = user.get("/security-group-rules", params={"limit": 2, "sort_key": "id"}).json()
    assert len(page["security_group_rules"]) == 2 and "security_group_rules_links" in page
    user.conn.network.delete_security_group_rule(rule)
    assert user.conn.network.find_security_group_rule(rule.id) is None


def test_isolation(make_user: Any, admin_neutron: Neutron) -> None:
    alice, bob = make_user(), make_user()
    gid = _group(alice)["id"]
    rid = _rule(alice, gid, protocol="tcp").json()["security_group_rule"]["id"]
    # bob can neither add to alice's group nor use it as a remote, nor see its rules
    error(_rule(bob, gid, protocol="udp"), 404, "SecurityGroupNotFound")
    mine = _group(bob)["id"]
    error(_rule(bob, mine, protocol="udp", remote_group_id=gid), 404, "SecurityGroupNotFound")
    error(bob.get(f"/security-group-rules/{rid}"), 404, "SecurityGroupRuleNotFound")
    error(bob.delete(f"/security-group-rules/{rid}"), 404, "SecurityGroupRuleNotFound")
    assert {r["security_group_id"] for r in
            bob.get("/security-group-rules").json()["security_group_rules"]} <= \
        {g["id"] for g in bob.get("/security-groups").json()["security_groups"]}
    assert rid not in {r["id"] for r in
                       bob.get("/security-group-rules").json()["security_group_rules"]}
    # a reader sees alice's rules but cannot add or delete
    reader = make_user("reader", project_id=alice.project_id)
    assert reader.get(f"/security-group-rules/{rid}").status_code == 200
    error(_rule(reader, gid, protocol="udp"), 403)
    error(reader.delete(f"/security-group-rules/{rid}"), 403)
    # an admin may add a rule to alice's group
    assert _rule(admin_neutron, gid, protocol="udp").status_code == 201
