"""Address groups: create, add and remove addresses (normalised as Neutron stores
them), rules that match them, and isolation between projects."""

from __future__ import annotations

from typing import Any

from tests.functional.network.neutron import error, unique


def test_address_group_lifecycle(make_user: Any) -> None:
    user = make_user()
    r = user.post("/address-groups", {"address_group": {
        "name": unique("ag"), "description": "hosts", "addresses": ["10.0.0.1/24"]}})
    assert r.status_code == 201, r.text
    group = r.json()["address_group"]
    assert group["addresses"] == ["10.0.0.0/24"] and group["project_id"] == user.project_id
    assert "shared" not in group and group["revision_number"] == 0
    path = f"/address-groups/{group['id']}"
    r = user.put(f"{path}/add_addresses",
                 {"addresses": ["192.168.100.7/24", "2001:db8::1/64", "10.0.2.100/32"]})
    assert r.status_code == 200, r.text
    assert r.json()["address_group"]["addresses"] == [
        "10.0.0.0/24", "10.0.2.100/32", "192.168.100.0/24", "2001:db8::/64"]
    message = error(user.put(f"{path}/add_addresses", {"addresses": ["10.0.0.0/24"]}), 400,
                    "AddressesAlreadyExist")
    assert message == f"Addresses ['10.0.0.0/24'] already exist in the address group " \
                      f"{group['id']}."
    error(user.put(f"{path}/remove_addresses", {"addresses": ["172.16.0.0/12"]}), 404,
          "AddressesNotFound")
    error(user.put(f"{path}/add_addresses", {"addresses": ["10.0.0.300/24"]}), 400)
    error(user.put(f"{path}/add_addresses", {"addresses": "10.0.0.0/24"}), 400)
    r = user.put(f"{path}/remove_addresses", {"addresses": ["10.0.0.0/24", "2001:db8::/64"]})
    assert r.json()["address_group"]["addresses"] == ["10.0.2.100/32", "192.168.100.0/24"]
    r = user.put(path, {"address_group": {"name": "renamed"}})
    assert r.status_code == 200 and r.json()["address_group"]["name"] == "renamed"
    error(user.put(path, {"address_group": {"addresses": []}}), 400)
    listed = user.get("/address-groups", params={"name": "renamed"}).json()["address_groups"]
    assert [g["id"] for g in listed] == [group["id"]]

    # a rule may match the group; the group cannot go while it does
    sg = user.post("/security-groups", {"security_group": {"name": unique("sg")}}
                   ).json()["security_group"]
    rule = user.post("/security-group-rules", {"security_group_rule": {
        "security_group_id": sg["id"], "direction": "ingress",
        "remote_address_group_id": group["id"]}})
    assert rule.status_code == 201, rule.text
    assert rule.json()["security_group_rule"]["remote_address_group_id"] == group["id"]
    error(user.delete(path), 409, "AddressGroupInUse")
    user.delete(f"/security-group-rules/{rule.json()['security_group_rule']['id']}")
    assert user.delete(path).status_code == 204
    error(user.get(path), 404, "AddressGroupNotFound")


def test_bad_address_groups_store_nothing(make_user: Any) -> None:
    user = make_user()
    for body in ({"addresses": ["10.0.0.0"]}, {"addresses": ["10.0.0.0/24", "10.0.0.0/24"]},
                 {"addresses": "10.0.0.0/24"}, {"name": "x" * 256}, {"colour": "blue"}):
        error(user.post("/address-groups", {"address_group": body}), 400)
    assert user.get("/address-groups").json()["address_groups"] == []


def test_isolation(make_user: Any) -> None:
    alice, bob = make_user(), make_user()
    group = alice.post("/address-groups", {"address_group": {"name": unique("ag")}}
                       ).json()["address_group"]
    path = f"/address-groups/{group['id']}"
    error(bob.get(path), 404, "AddressGroupNotFound")
    error(bob.put(f"{path}/add_addresses", {"addresses": ["10.0.0.0/8"]}), 404)
    error(bob.delete(path), 404)
    assert bob.get("/address-groups").json()["address_groups"] == []
    sg = bob.post("/security-groups", {"security_group": {"name": unique("sg")}}
                  ).json()["security_group"]
    error(bob.post("/security-group-rules", {"security_group_rule": {
        "security_group_id": sg["id"], "direction": "ingress",
        "remote_address_group_id": group["id"]}}), 404, "AddressGroupNotFound")
    reader = make_user("reader", project_id=alice.project_id)
    assert reader.get(path).status_code == 200
    error(reader.put(f"{path}/add_addresses", {"addresses": ["10.0.0.0/8"]}), 403)
    error(reader.post("/address-groups", {"address_group": {"name": "x"}}), 403)
