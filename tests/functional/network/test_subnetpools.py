"""Subnet pools and address scopes through openstacksdk, the `openstack` CLI and raw
HTTP: carving subnets (by length, by CIDR, by gateway), bounds, quotas, default pools,
prefix operations, address scopes and their overlap rule, isolation, bad input, and
concurrent carving from one pool."""

from __future__ import annotations

import ipaddress
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.cloud import Cloud
from tests.functional.network.neutron import Neutron, error, unique


def made(resp: Any, key: str) -> dict[str, Any]:
    assert resp.status_code == 201, resp.text
    return dict(resp.json()[key])


def pool(user: Neutron, prefixes: list[str], **attrs: Any) -> dict[str, Any]:
    body = {"name": unique("pool"), "prefixes": prefixes, **attrs}
    return made(user.post("/subnetpools", {"subnetpool": body}), "subnetpool")


def network(user: Neutron) -> dict[str, Any]:
    return made(user.post("/networks", {"network": {"name": unique("net")}}), "network")


def from_pool(user: Neutron, net: dict[str, Any], pool_id: str, ip_version: int = 4,
              **attrs: Any) -> Any:
    body = {"network_id": net["id"], "ip_version": ip_version, "subnetpool_id": pool_id,
            **attrs}
    return user.post("/subnets", {"subnet": body})


def test_sdk_pool_lifecycle_and_carving(make_user: Any) -> None:
    user = make_user()
    conn = user.conn
    sp = conn.network.create_subnet_pool(name=unique("pool"), prefixes=[
        "10.40.0.0/24", "10.40.1.0/24", "10.41.0.0/16"], default_prefixlen=26,
        max_prefixlen=28, description="mine")
    assert sp.prefixes == ["10.40.0.0/23", "10.41.0.0/16"]         # merged
    assert (sp.minimum_prefix_length, sp.default_prefix_length,
            sp.maximum_prefix_length) == (8, 26, 28)
    assert sp.ip_version == 4 and sp.is_shared is False and sp.is_default is False
    assert sp.project_id == user.project_id and sp.revision_number == 0
    net = conn.network.create_network(name=unique("net"))
    first = conn.network.create_subnet(network_id=net.id, ip_version=4, subnetpool_id=sp.id)
    assert first.cidr == "10.40.0.0/26" and first.gateway_ip == "10.40.0.1"
    assert first.subnet_pool_id == sp.id
    assert first.allocation_pools == [{"start": "10.40.0.2", "end": "10.40.0.62"}]
    second = conn.network.create_subnet(network_id=net.id, ip_version=4, subnetpool_id=sp.id,
                                        prefixlen=28)
    assert second.cidr == "10.40.0.64/28"                           # best fit
    given = conn.network.create_subnet(network_id=net.id, ip_version=4, subnetpool_id=sp.id,
                                       cidr="10.41.7.0/24")
    assert given.cidr == "10.41.7.0/24" and given.gateway_ip == "10.41.7.1"
    by_gateway = from_pool(user, net, sp.id, gateway_ip="10.41.9.1", prefixlen=24)
    assert made(by_gateway, "subnet")["cidr"] == "10.41.9.0/24"
    no_gateway = made(from_pool(user, net, sp.id, gateway_ip=None), "subnet")
    assert no_gateway["gateway_ip"] is None
    updated = conn.network.update_subnet_pool(sp, name="renamed", minimum_prefix_length=20)
    assert updated.name == "renamed" and updated.minimum_prefix_length == 20
    assert updated.revision_number == 1
    error(user.delete(f"/subnetpools/{sp.id}"), 400, "SubnetPoolDeleteError")
    conn.network.delete_network(net)                       # its subnets go with it
    conn.network.delete_subnet_pool(sp)
    assert conn.network.find_subnet_pool(sp.id) is None


def test_carving_refusals(make_user: Any) -> None:
    user = make_user()
    sp = pool(user, ["10.42.0.0/24"], min_prefixlen=25, max_prefixlen=27)
    net = network(user)
    before = len(user.get("/subnets", params={"network_id": net["id"]}).json()["subnets"])
    error(from_pool(user, net, sp["id"], prefixlen=24), 400, "MinPrefixSubnetAllocationError")
    error(from_pool(user, net, sp["id"], prefixlen=29), 400, "MaxPrefixSubnetAllocationError")
    error(from_pool(user, net, sp["id"], cidr="10.43.0.0/26"), 400, "SubnetAllocationError")
    error(from_pool(user, net, sp["id"], ip_version=6), 400, "BadRequest")
    error(from_pool(user, net, sp["id"], allocation_pools=[
        {"start": "10.42.0.2", "end": "10.42.0.9"}]), 400, "BadRequest")
    error(from_pool(user, net, sp["id"], use_default_subnetpool=True), 400, "BadRequest")
    error(from_pool(user, net, sp["id"], cidr="10.42.0.0/26", prefixlen=26), 400)
    error(from_pool(user, net, sp["id"], prefixlen=-1), 400)
    assert len(user.get("/subnets", params={"network_id": net["id"]}).json()["subnets"]) \
        == before
    # a network's subnets of one version come from one pool
    made(from_pool(user, net, sp["id"]), "subnet")
    made(from_pool(user, net, sp["id"]), "subnet")
    error(from_pool(user, net, sp["id"]), 409, "SubnetAllocationError")   # full
    error(user.post("/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                            "cidr": "10.99.0.0/24"}}),
          400, "NetworkSubnetPoolAffinityError")
    error(user.delete(f"/subnetpools/{sp['id']}"), 400, "SubnetPoolDeleteError")


def test_default_quota(make_user: Any) -> None:
    user = make_user()
    sp = pool(user, ["10.44.0.0/16"], default_quota=300)        # in addresses (/32s)
    net = network(user)
    made(from_pool(user, net, sp["id"], prefixlen=24), "subnet")
    error(from_pool(user, net, sp["id"], prefixlen=25), 409, "SubnetPoolQuotaExceeded")
    made(from_pool(user, net, sp["id"], prefixlen=27), "subnet")


def test_default_pools(make_user: Any, admin_neutron: Neutron) -> None:
    user = make_user()
    net = network(user)
    error(user.post("/subnets", {"subnet": {"network_id": net["id"], "ip_version": 6,
                                            "use_default_subnetpool": True}}), 400, "BadRequest")
    error(user.post("/subnetpools", {"subnetpool": {"name": "d", "prefixes": ["10.45.0.0/16"],
                                                    "is_default": True}}), 403)
    default = pool(admin_neutron, ["2001:db8:4500::/48"], is_default=True, shared=True,
                   default_prefixlen=64)
    try:
        error(admin_neutron.post("/subnetpools", {"subnetpool": {
            "name": "d2", "prefixes": ["2001:db8:4600::/48"], "is_default": True}}), 400,
            "InvalidInput")
        got = made(user.post("/subnets", {"subnet": {
            "network_id": net["id"], "ip_version": 6, "use_default_subnetpool": True,
            "ipv6_ra_mode": "slaac", "ipv6_address_mode": "slaac"}}), "subnet")
        assert got["subnetpool_id"] == default["id"] and got["cidr"].endswith("/64")
        assert got["gateway_ip"] == str(ipaddress.ip_network(got["cidr"])[1])
        seen = user.get(f"/subnetpools/{default['id']}").json()["subnetpool"]
        assert seen["shared"] is True and seen["is_default"] is True
        error(user.put(f"/subnetpools/{default['id']}", {"subnetpool": {"name": "x"}}), 403)
        assert user.delete(f"/networks/{net['id']}").status_code == 204
    finally:
        assert admin_neutron.delete(f"/subnetpools/{default['id']}").status_code == 204


def test_prefix_operations(make_user: Any) -> None:
    user = make_user()
    sp = pool(user, ["10.46.0.0/24"])
    path = f"/subnetpools/{sp['id']}"
    r = user.put(f"{path}/add_prefixes", {"prefixes": ["10.46.1.0/24", "10.47.0.0/24"]})
    assert r.status_code == 200 and r.json() == {"prefixes": ["10.46.0.0/23", "10.47.0.0/24"]}
    net = network(user)
    made(from_pool(user, net, sp["id"], cidr="10.47.0.0/25"), "subnet")
    error(user.put(f"{path}/remove_prefixes", {"prefixes": ["10.47.0.0/24"]}), 400,
          "IllegalSubnetPoolPrefixUpdate")
    r = user.put(f"{path}/remove_prefixes", {"prefixes": ["10.46.1.0/24"]})
    assert r.json() == {"prefixes": ["10.46.0.0/24", "10.47.0.0/24"]}
    error(user.put(f"{path}/add_prefixes", {"prefixes": []}), 400)
    error(user.put(f"{path}/add_prefixes", {"prefixes": ["2001:db8::/64"]}), 400,
          "PrefixVersionMismatch")
    # prefixes given in an update must keep every current address
    error(user.put(path, {"subnetpool": {"prefixes": ["10.46.0.0/24"]}}), 400,
          "IllegalSubnetPoolPrefixUpdate")
    r = user.put(path, {"subnetpool": {"prefixes": ["10.46.0.0/16", "10.47.0.0/24"]}})
    assert r.json()["subnetpool"]["prefixes"] == ["10.46.0.0/16", "10.47.0.0/24"]
    sdk = user.conn.network.get_subnet_pool(sp["id"])
    assert sdk.prefixes == ["10.46.0.0/16", "10.47.0.0/24"]


def test_pool_bad_input_and_isolation(make_user: Any) -> None:
    alice, bob = make_user(), make_user()
    sp = pool(alice, ["10.48.0.0/16"])
    for bad in ({"name": "x"}, {"prefixes": ["10.0.0.0/8"]},
                {"name": "x", "prefixes": []}, {"name": "x", "prefixes": ["nope"]},
                {"name": "x", "prefixes": ["10.0.0.0/8", "2001:db8::/32"]},
                {"name": "x", "prefixes": ["10.0.0.0/8"], "min_prefixlen": 24,
                 "max_prefixlen": 16},
                {"name": "x", "prefixes": ["10.0.0.0/8"], "max_prefixlen": 33},
                {"name": "x", "prefixes": ["10.0.0.0/8"], "default_quota": -1},
                {"name": "x", "prefixes": ["10.0.0.0/8"], "shared": True},
                {"name": "x", "prefixes": ["10.0.0.0/8"], "ip_version": 4},
                {"name": "", "prefixes": ["10.0.0.0/8"]}):
        assert alice.post("/subnetpools", {"subnetpool": bad}).status_code in (400, 403)
    mine = alice.get("/subnetpools", params={"project_id": alice.project_id})
    assert [p["id"] for p in mine.json()["subnetpools"]] == [sp["id"]]
    error(alice.put(f"/subnetpools/{sp['id']}", {"subnetpool": {"shared": True}}), 400)
    error(bob.get(f"/subnetpools/{sp['id']}"), 404, "SubnetPoolNotFound")
    error(bob.put(f"/subnetpools/{sp['id']}", {"subnetpool": {"name": "x"}}), 404)
    error(bob.put(f"/subnetpools/{sp['id']}/add_prefixes", {"prefixes": ["10.49.0.0/24"]}),
          404)
    assert sp["id"] not in {p["id"] for p in bob.get("/subnetpools").json()["subnetpools"]}
    net = network(bob)
    error(from_pool(bob, net, sp["id"]), 404, "SubnetPoolNotFound")
    reader = make_user("reader", project_id=alice.project_id)
    assert reader.get(f"/subnetpools/{sp['id']}").status_code == 200
    error(reader.delete(f"/subnetpools/{sp['id']}"), 403)
    error(reader.post("/subnetpools", {"subnetpool": {"name": "r", "prefixes": ["10.0.0.0/8"]}}),
          403)


def test_address_scopes(make_user: Any, admin_neutron: Neutron) -> None:
    user = make_user()
    conn = user.conn
    scope = conn.network.create_address_scope(name=unique("scope"), ip_version=4)
    assert scope.ip_version == 4 and scope.is_shared is False
    raw = user.get(f"/address-scopes/{scope.id}").json()["address_scope"]
    assert set(raw) == {"id", "name", "project_id", "tenant_id", "ip_version", "shared"}
    a = pool(user, ["10.50.0.0/16"], address_scope_id=scope.id)
    assert a["address_scope_id"] == scope.id
    error(user.post("/subnetpools", {"subnetpool": {
        "name": "b", "prefixes": ["10.50.128.0/20"], "address_scope_id": scope.id}}), 409,
        "AddressScopePrefixConflict")
    error(user.post("/subnetpools", {"subnetpool": {
        "name": "c", "prefixes": ["2001:db8::/48"], "address_scope_id": scope.id}}), 400,
        "IllegalSubnetPoolIpVersionAssociationToAddressScope")
    b = pool(user, ["10.51.0.0/16"])
    error(user.put(f"/subnetpools/{b['id']}", {"subnetpool": {
        "prefixes": ["10.51.0.0/16", "10.50.5.0/24"], "address_scope_id": scope.id}}), 409,
        "AddressScopePrefixConflict")
    r = user.put(f"/subnetpools/{b['id']}", {"subnetpool": {"address_scope_id": scope.id}})
    assert r.status_code == 200 and r.json()["subnetpool"]["address_scope_id"] == scope.id
    error(user.put(f"/subnetpools/{a['id']}/add_prefixes", {"prefixes": ["10.51.1.0/24"]}),
          409, "AddressScopePrefixConflict")
    # a network takes the scope of the pools its subnets come from
    net = network(user)
    made(from_pool(user, net, a["id"], prefixlen=24), "subnet")
    shown = conn.network.get_network(net["id"])
    assert shown.ipv4_address_scope_id == scope.id and shown.ipv6_address_scope_id is None
    made(from_pool(user, net, b["id"], prefixlen=24), "subnet")      # same scope: allowed
    error(user.post("/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                            "cidr": "10.52.0.0/24"}}),
          400, "NetworkAddressScopeAffinityError")
    error(user.delete(f"/address-scopes/{scope.id}"), 409, "AddressScopeInUse")
    # sharing is for admins, and a shared scope stays shared
    error(user.put(f"/address-scopes/{scope.id}", {"address_scope": {"shared": True}}), 403)
    error(user.post("/address-scopes", {"address_scope": {"name": "s", "ip_version": 4,
                                                          "shared": True}}), 403)
    error(user.post("/address-scopes", {"address_scope": {"name": "s", "ip_version": 5}}), 400)
    error(user.post("/address-scopes", {"address_scope": {"name": "s"}}), 400)
    shared = made(admin_neutron.post("/address-scopes", {"address_scope": {
        "name": unique("scope"), "ip_version": 6, "shared": True}}), "address_scope")
    try:
        other = make_user()
        assert other.get(f"/address-scopes/{shared['id']}").json()["address_scope"]["shared"]
        error(other.get(f"/address-scopes/{scope.id}"), 404, "AddressScopeNotFound")
        error(admin_neutron.put(f"/address-scopes/{shared['id']}",
                                {"address_scope": {"shared": False}}),
              400, "AddressScopeUpdateError")
        joined = pool(other, ["2001:db8:5200::/48"], address_scope_id=shared["id"])
        # a pool in a shared scope it does not own cannot be changed by its project
        error(other.put(f"/subnetpools/{joined['id']}", {"subnetpool": {"name": "n"}}), 400,
              "IllegalSubnetPoolUpdate")
        assert other.delete(f"/subnetpools/{joined['id']}").status_code == 204
    finally:
        assert admin_neutron.delete(f"/address-scopes/{shared['id']}").status_code == 204
    assert user.delete(f"/networks/{net['id']}").status_code == 204
    for p in (a, b):
        assert user.delete(f"/subnetpools/{p['id']}").status_code == 204
    conn.network.delete_address_scope(scope)
    assert conn.network.find_address_scope(scope.id) is None


def test_cli_pools_and_scopes(cloud: Cloud) -> None:
    scope = cloud.cli_json("address", "scope", "create", unique("cli-scope"),
                           "--ip-version", "4")
    sp = cloud.cli_json("subnet", "pool", "create", unique("cli-pool"), "--pool-prefix",
                        "10.53.0.0/16", "--default-prefix-length", "24", "--address-scope",
                        scope["id"])
    net = cloud.cli_json("network", "create", unique("cli-net"))
    try:
        assert sp["address_scope_id"] == scope["id"] and sp["prefixes"] == ["10.53.0.0/16"]
        sub = cloud.cli_json("subnet", "create", unique("cli-sub"), "--network", net["id"],
                             "--subnet-pool", sp["id"], "--prefix-length", "26")
        assert sub["cidr"] == "10.53.0.0/26" and sub["subnetpool_id"] == sp["id"]
        cloud.cli("subnet", "pool", "set", sp["id"], "--pool-prefix", "10.54.0.0/24")
        shown = cloud.cli_json("subnet", "pool", "show", sp["id"])
        assert shown["prefixes"] == ["10.53.0.0/16", "10.54.0.0/24"]
        listed = cloud.cli_json("address", "scope", "list")
        assert scope["id"] in {s["ID"] for s in listed}
    finally:
        cloud.cli("network", "delete", net["id"])
        cloud.cli("subnet", "pool", "delete", sp["id"])
        cloud.cli("address", "scope", "delete", scope["id"])


def test_concurrent_carving_from_one_pool(make_user: Any) -> None:
    user = make_user()
    sp = pool(user, ["10.55.0.0/24"], default_prefixlen=28)
    nets = [network(user) for _ in range(4)]

    def carve(i: int) -> Any:
        return from_pool(user, nets[i % 4], sp["id"])

    with ThreadPoolExecutor(max_workers=10) as ex:
        replies = list(ex.map(carve, range(20)))
    codes = sorted(r.status_code for r in replies)
    assert codes == [201] * 16 + [409] * 4, [r.text for r in replies if r.status_code != 201]
    cidrs = [ipaddress.ip_network(r.json()["subnet"]["cidr"]) for r in replies
             if r.status_code == 201]
    assert len(set(cidrs)) == 16
    assert all(not a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1:])


def test_concurrent_overlapping_subnets_in_one_network(make_user: Any) -> None:
    user = make_user()
    net = network(user)

    def create(i: int) -> Any:
        return user.post("/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                 "cidr": f"10.56.{i % 2}.0/{23 + i % 2}"}})

    with ThreadPoolExecutor(max_workers=10) as ex:
        replies = list(ex.map(create, range(10)))
    assert sum(r.status_code == 201 for r in replies) == 1, [r.text for r in replies]
    assert all(r.status_code in (201, 400) for r in replies)
    assert len(user.get("/subnets", params={"network_id": net["id"]}).json()["subnets"]) == 1


def test_pools_and_scopes_shared_through_rbac(make_user: Any, admin_neutron: Neutron) -> None:
    alice, bob = make_user(), make_user()
    sp = pool(alice, ["10.57.0.0/16"])
    grant = made(alice.post("/rbac-policies", {"rbac_policy": {
        "object_type": "subnetpool", "object_id": sp["id"], "action": "access_as_shared",
        "target_tenant": bob.project_id}}), "rbac_policy")
    assert bob.get(f"/subnetpools/{sp['id']}").json()["subnetpool"]["shared"] is True
    assert alice.get(f"/subnetpools/{sp['id']}").json()["subnetpool"]["shared"] is False
    net = network(bob)
    carved = made(from_pool(bob, net, sp["id"], prefixlen=24), "subnet")
    assert carved["project_id"] == bob.project_id
    error(alice.delete(f"/rbac-policies/{grant['id']}"), 409, "RbacPolicyInUse")
    assert bob.delete(f"/networks/{net['id']}").status_code == 204
    assert alice.delete(f"/rbac-policies/{grant['id']}").status_code == 204
    error(bob.get(f"/subnetpools/{sp['id']}"), 404, "SubnetPoolNotFound")
    # the shared flag is a grant to everyone, listed with the others, gone with its object
    for path, key, body in (
            ("/subnetpools", "subnetpool", {"name": unique("p"), "prefixes": ["10.58.0.0/16"],
                                            "shared": True}),
            ("/address-scopes", "address_scope", {"name": unique("s"), "ip_version": 4,
                                                  "shared": True})):
        obj = made(admin_neutron.post(path, {key: body}), key)
        policies = admin_neutron.get("/rbac-policies", params={"object_id": obj["id"]})
        assert [(p["target_tenant"], p["action"]) for p in policies.json()["rbac_policies"]] \
            == [("*", "access_as_shared")]
        assert bob.get(f"{path}/{obj['id']}").json()[key]["shared"] is True
        listed = bob.get(path, params={"shared": "true"}).json()[key + "s"]
        assert obj["id"] in {o["id"] for o in listed}
        assert admin_neutron.delete(f"{path}/{obj['id']}").status_code == 204
        assert admin_neutron.get("/rbac-policies", params={"object_id": obj["id"]}) \
            .json()["rbac_policies"] == []


def test_pool_and_scope_quotas(make_user: Any, admin_neutron: Neutron) -> None:
    user = make_user()
    r = admin_neutron.put(f"/quotas/{user.project_id}",
                          {"quota": {"subnetpool": 1, "address_scope": 1}})
    assert r.status_code == 200, r.text
    first = pool(user, ["10.59.0.0/16"])
    error(user.post("/subnetpools", {"subnetpool": {"name": "x", "prefixes": ["10.60.0.0/16"]}}),
          409, "OverQuota")
    scope = made(user.post("/address-scopes", {"address_scope": {"name": "s", "ip_version": 4}}),
                 "address_scope")
    error(user.post("/address-scopes", {"address_scope": {"name": "t", "ip_version": 4}}), 409,
          "OverQuota")
    assert user.delete(f"/subnetpools/{first['id']}").status_code == 204
    assert user.delete(f"/address-scopes/{scope['id']}").status_code == 204
    pool(user, ["10.60.0.0/16"])
    made(user.post("/address-scopes", {"address_scope": {"name": "t", "ip_version": 4}}),
         "address_scope")
