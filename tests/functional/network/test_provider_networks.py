"""Provider networks (flat, vlan, vxlan, several segments) and the segments API:
what admins may ask for, the type drivers' refusals, MTUs, segmentation ids never
given twice (also under concurrent creates), and that members may do none of it.

The test cloud's ranges are the defaults: VXLAN 1-65535, any VLAN on ``public``,
flat networks on any physical network.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.cloud import Cloud
from tests.functional.network.neutron import Neutron, error, unique


@pytest.fixture
def nets(admin_neutron: Neutron) -> Iterator[list[str]]:
    """Network ids to delete after the test."""
    made: list[str] = []
    yield made
    for net_id in made:
        admin_neutron.delete(f"/networks/{net_id}")


def _create(admin: Neutron, nets: list[str], **attrs: Any) -> Any:
    r = admin.post("/networks", {"network": {"name": unique("prov"), **attrs}})
    if r.status_code == 201:
        nets.append(r.json()["network"]["id"])
    return r


def _vlan() -> int:
    return random.randint(100, 4000)


def _named(admin: Neutron, name: str) -> list[Any]:
    return list(admin.get("/networks", params={"name": name}).json()["networks"])


def test_cli_vlan_network_and_its_id_taken_once(cloud: Cloud, admin_neutron: Neutron,
                                                 nets: list[str]) -> None:
    vlan = _vlan()
    made = cloud.cli_json("network", "create", unique("cli-vlan"), "--provider-network-type",
                          "vlan", "--provider-physical-network", "public",
                          "--provider-segment", str(vlan))
    nets.append(made["id"])
    assert made["provider:network_type"] == "vlan"
    assert made["provider:physical_network"] == "public"
    assert made["provider:segmentation_id"] == vlan
    assert made["mtu"] == 1500                      # VLAN: the physical MTU
    name = unique("again")
    r = admin_neutron.post("/networks", {"network": {
        "name": name, "provider:network_type": "vlan",
        "provider:physical_network": "public", "provider:segmentation_id": vlan}})
    assert error(r, 409, "VlanIdInUse") == (
        f"Unable to create the network. The VLAN {vlan} on physical network public is in use.")
    assert _named(admin_neutron, name) == []
    # the id is free again once its network is gone
    cloud.cli("network", "delete", made["id"])
    assert _create(admin_neutron, nets, **{
        "provider:network_type": "vlan", "provider:physical_network": "public",
        "provider:segmentation_id": vlan}).status_code == 201


def test_sdk_flat_vxlan_and_partial_vlan(admin_conn: Any, admin_neutron: Neutron,
                                         nets: list[str]) -> None:
    physnet = unique("phys")
    flat = admin_conn.network.create_network(name=unique("flat"), provider_network_type="flat",
                                             provider_physical_network=physnet)
    nets.append(flat.id)
    assert (flat.provider_network_type, flat.provider_physical_network,
            flat.provider_segmentation_id, flat.mtu) == ("flat", physnet, None, 1500)
    # a physical network carries one flat network
    r = _create(admin_neutron, nets, **{"provider:network_type": "flat",
                                        "provider:physical_network": physnet})
    assert error(r, 409, "FlatNetworkInUse") == (
        f"Unable to create the flat network. Physical network {physnet} is in use.")
    vni = random.randint(70000, 16000000)           # outside the project range: an admin's
    vx = admin_conn.network.create_network(name=unique("vx"), provider_network_type="vxlan",
                                           provider_segmentation_id=vni)
    nets.append(vx.id)
    assert (vx.provider_segmentation_id, vx.mtu) == (vni, 1450)
    r = _create(admin_neutron, nets, **{"provider:network_type": "vxlan",
                                        "provider:segmentation_id": vni})
    assert error(r, 409, "TunnelIdInUse") == (
        f"Unable to create the network. The tunnel ID {vni} is in use.")
    partial = admin_conn.network.create_network(name=unique("vlan"),
                                                provider_network_type="vlan")
    nets.append(partial.id)
    assert partial.provider_physical_network == "public"
    assert 1 <= partial.provider_segmentation_id <= 4094
    # filters on provider attributes
    found = admin_neutron.get("/networks", params={"provider:network_type": "flat",
                                                   "provider:physical_network": physnet})
    assert [n["id"] for n in found.json()["networks"]] == [flat.id]


def test_multi_segment_network(admin_neutron: Neutron, nets: list[str]) -> None:
    vlan = _vlan()
    r = _create(admin_neutron, nets, segments=[
        {"provider:network_type": "vxlan"},
        {"provider:network_type": "vlan", "provider:physical_network": "public",
         "provider:segmentation_id": vlan}])
    assert r.status_code == 201, r.text
    net = r.json()["network"]
    assert "provider:network_type" not in net
    kinds = [(s["provider:network_type"], s["provider:physical_network"])
             for s in net["segments"]]
    assert kinds == [("vxlan", None), ("vlan", "public")]
    assert net["segments"][1]["provider:segmentation_id"] == vlan
    assert net["mtu"] == 1450                       # the least of its segments'
    listed = admin_neutron.get("/segments", params={"network_id": net["id"]}).json()
    assert [s["network_type"] for s in sorted(listed["segments"],
                                              key=lambda s: s["network_type"])] == [
        "vlan", "vxlan"]
    error(_create(admin_neutron, nets, segments=[
        {"provider:network_type": "vlan", "provider:physical_network": "public",
         "provider:segmentation_id": vlan}]), 409, "VlanIdInUse")


def test_members_cannot_create_or_see_provider_networks(make_user: Any,
                                                        admin_neutron: Neutron,
                                                        nets: list[str]) -> None:
    user = make_user()
    name = unique("nope")
    for attrs in ({"provider:network_type": "vlan", "provider:physical_network": "public"},
                  {"provider:network_type": "vxlan"},
                  {"segments": [{"provider:network_type": "vxlan"}]},
                  {"router:external": True}):
        error(user.post("/networks", {"network": {"name": name, **attrs}}), 403)
    assert _named(admin_neutron, name) == []
    net = user.post("/networks", {"network": {"name": name}}).json()["network"]
    assert "provider:network_type" not in net and "segments" not in net
    error(user.put(f"/networks/{net['id']}", {"network": {
        "provider:segmentation_id": 5}}), 403)
    # the admin sees the project network's VXLAN segment
    seen = admin_neutron.get(f"/networks/{net['id']}").json()["network"]
    assert seen["provider:network_type"] == "vxlan"
    assert user.delete(f"/networks/{net['id']}").status_code == 204


@pytest.mark.parametrize(("attrs", "kind", "message"), [
    ({"provider:network_type": "gre"}, "InvalidInput",
     "Invalid input for operation: network_type value 'gre' not supported."),
    ({"provider:network_type": "vlan", "provider:physical_network": "public",
      "provider:segmentation_id": 5000}, "InvalidInput",
     "Invalid input for operation: segmentation_id out of range (1 through 4094)."),
    ({"provider:network_type": "vlan", "provider:physical_network": "elsewhere"},
     "InvalidInput",
     "Invalid input for operation: physical_network 'elsewhere' unknown for VLAN provider "
     "network."),
    ({"provider:network_type": "flat"}, "InvalidInput",
     "Invalid input for operation: physical_network required for flat provider network."),
    ({"provider:network_type": "vxlan", "provider:physical_network": "public"},
     "InvalidInput",
     "Invalid input for operation: provider:physical_network specified for vxlan network."),
    ({"provider:network_type": "vxlan", "segments": [{"provider:network_type": "vxlan"}]},
     "SegmentsSetInConjunctionWithProviders", None),
    ({"provider:network_type": "vxlan", "mtu": 1500}, "InvalidInput",
     "Invalid input for operation: Requested MTU is too big, maximum is 1450."),
    ({"provider:segmentation_id": "many", "provider:network_type": "vxlan"}, "InvalidInput",
     None),
    ({"segments": "vxlan"}, "HTTPBadRequest", None),
])
def test_bad_provider_input(admin_neutron: Neutron, nets: list[str], attrs: dict[str, Any],
                            kind: str, message: str | None) -> None:
    name = unique("bad")
    got = error(_create(admin_neutron, nets, name=name, **attrs), 400, kind)
    if message is not None:
        assert got == message
    assert _named(admin_neutron, name) == []


def test_update_provider_attributes(admin_neutron: Neutron, nets: list[str]) -> None:
    first, second = random.sample(range(100, 4000), 2)
    net = _create(admin_neutron, nets, **{
        "provider:network_type": "vlan", "provider:physical_network": "public",
        "provider:segmentation_id": first}).json()["network"]
    path = f"/networks/{net['id']}"
    r = admin_neutron.put(path, {"network": {"provider:segmentation_id": second}})
    assert r.status_code == 200, r.text
    assert r.json()["network"]["provider:segmentation_id"] == second
    # the old id is free, the new one taken
    assert _create(admin_neutron, nets, **{
        "provider:network_type": "vlan", "provider:physical_network": "public",
        "provider:segmentation_id": first}).status_code == 201
    error(_create(admin_neutron, nets, **{
        "provider:network_type": "vlan", "provider:physical_network": "public",
        "provider:segmentation_id": second}), 409, "VlanIdInUse")
    error(admin_neutron.put(path, {"network": {"provider:segmentation_id": first}}), 409,
          "VlanIdInUse")
    error(admin_neutron.put(path, {"network": {"provider:network_type": "vxlan"}}), 400,
          "InvalidInput")
    vx = _create(admin_neutron, nets).json()["network"]
    error(admin_neutron.put(f"/networks/{vx['id']}", {"network": {
        "provider:segmentation_id": 77}}), 400, "InvalidInput")
    assert admin_neutron.get(path).json()["network"]["provider:segmentation_id"] == second


def test_segments_api(admin_conn: Any, admin_neutron: Neutron, make_user: Any,
                      nets: list[str]) -> None:
    net = _create(admin_neutron, nets).json()["network"]
    vlan = _vlan()
    seg = admin_conn.network.create_segment(network_id=net["id"], network_type="vlan",
                                            physical_network="public",
                                            segmentation_id=vlan, name="second")
    assert (seg.network_type, seg.physical_network, seg.segmentation_id, seg.name) == (
        "vlan", "public", vlan, "second")
    raw = admin_neutron.get(f"/segments/{seg.id}").json()["segment"]
    assert raw["revision_number"] == 0 and raw["created_at"].endswith("Z")
    shown = admin_neutron.get(f"/networks/{net['id']}").json()["network"]
    assert len(shown["segments"]) == 2
    updated = admin_conn.network.update_segment(seg, name="renamed", description="d")
    assert (updated.name, updated.description) == ("renamed", "d")
    error(admin_neutron.put(f"/segments/{seg.id}", {"segment": {"segmentation_id": 9}}), 400)
    error(admin_neutron.post("/segments", {"segment": {
        "network_id": net["id"], "network_type": "vlan", "physical_network": "public",
        "segmentation_id": vlan}}), 409, "VlanIdInUse")
    error(admin_neutron.post("/segments", {"segment": {
        "network_id": "00000000-0000-0000-0000-000000000000", "network_type": "vxlan"}}),
        404, "NetworkNotFound")
    error(admin_neutron.post("/segments", {"segment": {"network_id": net["id"]}}), 400)
    # members neither see nor make segments
    user = make_user()
    assert user.get("/segments").json()["segments"] == []
    error(user.get(f"/segments/{seg.id}"), 404, "SegmentNotFound")
    error(user.post("/segments", {"segment": {"network_id": net["id"],
                                              "network_type": "vxlan"}}), 403)
    error(user.delete(f"/segments/{seg.id}"), 404)
    admin_conn.network.delete_segment(seg)
    error(admin_neutron.get(f"/segments/{seg.id}"), 404, "SegmentNotFound")
    # its VLAN is free again
    assert _create(admin_neutron, nets, **{
        "provider:network_type": "vlan", "provider:physical_network": "public",
        "provider:segmentation_id": vlan}).status_code == 201


def test_concurrent_creates_never_share_an_id(admin_neutron: Neutron, make_user: Any,
                                              nets: list[str]) -> None:
    projects = [make_user().project_id for _ in range(3)]
    vlan = _vlan()

    def same_vlan(i: int) -> Any:
        return admin_neutron.post("/networks", {"network": {
            "name": unique("race"), "project_id": projects[i % 3],
            "provider:network_type": "vlan", "provider:physical_network": "public",
            "provider:segmentation_id": vlan}})

    def project_net(i: int) -> Any:
        return admin_neutron.post("/networks", {"network": {
            "name": unique("race"), "project_id": projects[i % 3]}})

    with ThreadPoolExecutor(30) as pool:
        same = list(pool.map(same_vlan, range(30)))
        free = list(pool.map(project_net, range(30)))
    won = [r for r in same if r.status_code == 201]
    assert len(won) == 1, [r.text for r in same if r.status_code != 409]
    for r in same:
        if r.status_code != 201:
            error(r, 409, "VlanIdInUse")
    assert all(r.status_code == 201 for r in free), [r.text for r in free]
    nets.extend(r.json()["network"]["id"] for r in [*won, *free])
    vnis = [r.json()["network"]["provider:segmentation_id"] for r in free]
    assert len(set(vnis)) == 30


def test_segment_tags_go_with_the_network(cloud: Cloud, admin_neutron: Neutron) -> None:
    net = admin_neutron.post("/networks", {"network": {"name": unique("tagged")}}).json()[
        "network"]
    seg = admin_neutron.get("/segments", params={"network_id": net["id"]}).json()[
        "segments"][0]
    tag = unique("blue")
    assert admin_neutron.put(f"/segments/{seg['id']}/tags/{tag}", None).status_code == 201
    found = admin_neutron.get("/segments", params={"tags": tag}).json()["segments"]
    assert [s["id"] for s in found] == [seg["id"]]
    assert admin_neutron.get(f"/segments/{seg['id']}").json()["segment"]["tags"] == [tag]
    assert admin_neutron.delete(f"/networks/{net['id']}").status_code == 204
    assert cloud.sql("SELECT count(*) FROM network_tags WHERE tag = :tag", tag=tag) == [(0,)]
    error(admin_neutron.get(f"/segments/{seg['id']}"), 404, "SegmentNotFound")
