"""The rule templates new security groups get (``/v2.0/default-security-group-rules``):
Neutron's built-in ones, admin-only changes, duplicates, and what new groups get."""

from __future__ import annotations

from typing import Any

from tests.functional.network.neutron import Neutron, error, unique

PATH = "/default-security-group-rules"


def _templates(client: Neutron, **params: Any) -> list[dict[str, Any]]:
    r = client.get(PATH, params=params)
    assert r.status_code == 200, r.text
    return list(r.json()["default_security_group_rules"])


def test_builtin_templates(make_user: Any) -> None:
    user = make_user()
    builtin = {(t["direction"], t["ethertype"], t["remote_group_id"], t["used_in_default_sg"],
                t["used_in_non_default_sg"]) for t in _templates(user)}
    assert {("egress", "IPv4", None, True, True), ("egress", "IPv6", None, True, True),
            ("ingress", "IPv4", "PARENT", True, False),
            ("ingress", "IPv6", "PARENT", True, False)} <= builtin
    ingress = _templates(user, direction="ingress", remote_group_id="PARENT")
    assert len(ingress) == 2
    shown = user.get(f"{PATH}/{ingress[0]['id']}").json()["default_security_group_rule"]
    assert shown == ingress[0] and shown["description"].startswith("Legacy default SG rule")
    error(user.get(f"{PATH}/00000000-0000-0000-0000-000000000000"), 404,
          "DefaultSecurityGroupRuleNotFound")


def test_admin_adds_a_template_new_groups_get(make_user: Any, admin_neutron: Neutron) -> None:
    user = make_user()
    body = {"direction": "ingress", "protocol": "tcp", "port_range_min": 22,
            "port_range_max": 22, "remote_ip_prefix": "10.0.0.0/8", "description": "ssh"}
    error(user.post(PATH, {"default_security_group_rule": body}), 403)
    r = admin_neutron.post(PATH, {"default_security_group_rule": body})
    assert r.status_code == 201, r.text
    template = r.json()["default_security_group_rule"]
    try:
        assert template["used_in_default_sg"] is False
        assert template["used_in_non_default_sg"] is True
        assert template["ethertype"] == "IPv4" and template["description"] == "ssh"
        # the same rule for the same kind of group is a duplicate
        message = error(admin_neutron.post(PATH, {"default_security_group_rule": body}), 409,
                        "DefaultSecurityGroupRuleExists")
        assert template["id"] in message
        # a new group gets it (without the template's description); a default group not
        group = user.post("/security-groups", {"security_group": {"name": unique("sg")}}
                          ).json()["security_group"]
        ssh = [r for r in group["security_group_rules"] if r["protocol"] == "tcp"]
        assert [(r["port_range_min"], r["remote_ip_prefix"], r["description"])
                for r in ssh] == [(22, "10.0.0.0/8", "")]
        default = next(g for g in user.get("/security-groups").json()["security_groups"]
                       if g["name"] == "default")
        assert not any(r["protocol"] for r in default["security_group_rules"])
        error(user.delete(f"{PATH}/{template['id']}"), 403)
    finally:
        assert admin_neutron.delete(f"{PATH}/{template['id']}").status_code == 204
    error(admin_neutron.delete(f"{PATH}/{template['id']}"), 404,
          "DefaultSecurityGroupRuleNotFound")
    later = user.post("/security-groups", {"security_group": {"name": unique("sg")}}
                      ).json()["security_group"]
    assert not any(r["protocol"] for r in later["security_group_rules"])


def test_bad_templates(admin_neutron: Neutron) -> None:
    before = _templates(admin_neutron)
    for body in ({"direction": "ingress", "remote_group_id": "not-a-uuid"},
                 {"direction": "ingress", "protocol": "tcp", "port_range_min": 5,
                  "port_range_max": 1},
                 {"direction": "ingress", "used_in_default_sg": "perhaps"},
                 {"protocol": "tcp"}):
        error(admin_neutron.post(PATH, {"default_security_group_rule": body}), 400)
    assert _templates(admin_neutron) == before
