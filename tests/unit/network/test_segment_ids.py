"""Choosing segmentation ids: free ids of ranges, provider reservations, project networks."""

from __future__ import annotations

import random

import pytest

from nubo.core.errors import Conflict, ServiceUnavailable
from nubo.network.provider import Allocated, ProviderConfig, Segment
from nubo.network.segment_ids import free_id, free_vlan, project_segment, reserve_segment

CONFIG = ProviderConfig(
    vni_ranges=((1, 3), (10, 11)),
    vlan_ranges={"physnet1": ((100, 101),), "physnet2": ((1, 4094),)},
)


def test_lowest_free_id() -> None:
    assert free_id(((1, 3), (10, 11)), set()) == 1
    assert free_id(((1, 3), (10, 11)), {1, 2, 3}) == 10
    assert free_id(((1, 3), (10, 11)), {1, 2, 3, 10, 11}) is None
    assert free_id((), set()) is None


def test_random_free_id_covers_every_free_id_and_only_those() -> None:
    ranges, used = ((1, 3), (10, 11)), {2, 10}
    rng = random.Random(7)
    seen = {free_id(ranges, used, rng) for _ in range(200)}
    assert seen == {1, 3, 11}


def test_random_choice_wraps_around() -> None:
    ranges = ((1, 5),)
    rng = random.Random(1)
    for _ in range(50):
        assert free_id(ranges, {1, 2, 3, 5}, rng) == 4
    assert free_id(ranges, {1, 2, 3, 4, 5}, rng) is None


def test_large_range_is_not_materialised() -> None:
    ranges = ((1, 2**24 - 1),)
    assert free_id(ranges, set(range(1, 1001)), random.Random(3)) is not None
    assert free_id(ranges, set(range(1, 1001))) == 1001


def test_free_vlan() -> None:
    used = {("physnet1", 100)}
    assert free_vlan(CONFIG.vlan_ranges, used, "physnet1") == ("physnet1", 101)
    assert free_vlan(CONFIG.vlan_ranges, used | {("physnet1", 101)}, "physnet1") is None
    assert free_vlan(CONFIG.vlan_ranges, used | {("physnet1", 101)}) == ("physnet2", 1)
    assert free_vlan(CONFIG.vlan_ranges, set(), "unknown") is None


def test_full_segments_are_kept_when_free() -> None:
    for segment in (Segment("vlan", "physnet1", 3000), Segment("vxlan", None, 500),
                    Segment("flat", "ext"), Segment("local")):
        assert reserve_segment(segment, CONFIG, Allocated()) == segment


def test_partial_segments_get_a_free_id() -> None:
    taken = Allocated(vxlan={1}, vlan={("physnet1", 100)})
    assert reserve_segment(Segment("vxlan"), CONFIG, taken) == Segment("vxlan", None, 2)
    assert reserve_segment(Segment("vlan", "physnet1"), CONFIG, taken) == Segment(
        "vlan", "physnet1", 101)
    assert reserve_segment(Segment("vlan"), CONFIG, taken) == Segment("vlan", "physnet1", 101)


@pytest.mark.parametrize(("segment", "allocated", "kind", "message"), [
    (Segment("vlan", "physnet1", 100), Allocated(vlan={("physnet1", 100)}), "VlanIdInUse",
     "Unable to create the network. The VLAN 100 on physical network physnet1 is in use."),
    (Segment("vxlan", None, 3), Allocated(vxlan={3}), "TunnelIdInUse",
     "Unable to create the network. The tunnel ID 3 is in use."),
    (Segment("flat", "ext"), Allocated(flat={"ext"}), "FlatNetworkInUse",
     "Unable to create the flat network. Physical network ext is in use."),
])
def test_taken_ids(segment: Segment, allocated: Allocated, kind: str, message: str) -> None:
    with pytest.raises(Conflict) as caught:
        reserve_segment(segment, CONFIG, allocated)
    assert (caught.value.status, caught.value.details["type"], caught.value.message) == (
        409, kind, message)


def test_same_vlan_on_another_physical_network_is_free() -> None:
    segment = Segment("vlan", "physnet2", 100)
    assert reserve_segment(segment, CONFIG, Allocated(vlan={("physnet1", 100)})) == segment


def test_exhausted_ranges() -> None:
    full = Allocated(vxlan={1, 2, 3, 10, 11}, vlan={("physnet1", 100), ("physnet1", 101)})
    for segment in (Segment("vxlan"), Segment("vlan", "physnet1")):
        with pytest.raises(ServiceUnavailable) as caught:
            reserve_segment(segment, CONFIG, full)
        assert (caught.value.status, caught.value.details["type"], caught.value.message) == (
            503, "NoNetworkAvailable",
            "Unable to create the network. No project network is available for allocation.")


def test_project_segment_follows_the_type_order() -> None:
    assert project_segment(CONFIG, Allocated()) == Segment("vxlan", None, 1)
    full_vxlan = Allocated(vxlan={1, 2, 3, 10, 11})
    with pytest.raises(ServiceUnavailable):
        project_segment(CONFIG, full_vxlan)
    vxlan_then_vlan = ProviderConfig(vni_ranges=CONFIG.vni_ranges,
                                     vlan_ranges={"physnet1": ((100, 100),)},
                                     tenant_network_types=("vxlan", "vlan"))
    assert project_segment(vxlan_then_vlan, full_vxlan) == Segment("vlan", "physnet1", 100)
    flat_then_local = ProviderConfig(tenant_network_types=("flat", "local"))
    assert project_segment(flat_then_local, Allocated()) == Segment("local")
    with pytest.raises(ServiceUnavailable):
        project_segment(ProviderConfig(tenant_network_types=("flat",)), Allocated())


def test_random_project_vni_stays_in_range() -> None:
    rng = random.Random(11)
    vnis = {project_segment(CONFIG, Allocated(vxlan={2}), rng).segmentation_id
            for _ in range(100)}
    assert vnis == {1, 3, 10, 11}
