"""The segmentation id a new segment gets, from the operator's ranges and what is taken.

Like Neutron, a free id is chosen at random (``rng``) so that concurrent creates
rarely choose the same one; the database's unique constraint on allocations settles
those that do, and the loser chooses again with the id it lost added to ``Allocated``.
Without ``rng`` the lowest free id is chosen (deterministic, for tests).

A fully specified provider segment may take an id outside the project ranges (an
admin's choice), as long as no other network holds it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence, Set

from nubo.core.errors import Conflict, ServiceUnavailable
from nubo.network.provider import Allocated, IdRange, NetworkType, ProviderConfig, Segment


def free_id(ranges: Sequence[IdRange], used: Set[int],
            rng: random.Random | None = None) -> int | None:
    """A free id of ``ranges`` (lowest, or random with ``rng``), or None if all are used."""
    total = sum(high - low + 1 for low, high in ranges)
    if total <= 0:
        return None
    start = rng.randrange(total) if rng is not None else 0
    return next((ident for ident in _ids_from(ranges, start) if ident not in used), None)


def _ids_from(ranges: Sequence[IdRange], start: int) -> Iterator[int]:
    """Every id of ``ranges``, beginning with the ``start``-th and wrapping around."""
    index, offset = 0, start
    while offset >= ranges[index][1] - ranges[index][0] + 1:
        offset -= ranges[index][1] - ranges[index][0] + 1
        index += 1
    low, high = ranges[index]
    yield from range(low + offset, high + 1)
    for other_low, other_high in (*ranges[index + 1:], *ranges[:index]):
        yield from range(other_low, other_high + 1)
    yield from range(low, low + offset)


def free_vlan(vlan_ranges: Mapping[str, Sequence[IdRange]], used: Set[tuple[str, int]],
              physical_network: str | None = None,
              rng: random.Random | None = None) -> tuple[str, int] | None:
    """A free ``(physical network, VLAN)``: on ``physical_network``, or on the first
    physical network (in configured order) that has one."""
    names = [physical_network] if physical_network is not None else list(vlan_ranges)
    for name in names:
        taken = {vlan for physnet, vlan in used if physnet == name}
        vlan = free_id(vlan_ranges.get(name, ()), taken, rng)
        if vlan is not None:
            return name, vlan
    return None


def reserve_segment(segment: Segment, config: ProviderConfig, allocated: Allocated,
                    rng: random.Random | None = None) -> Segment:
    """The provider segment to store: a partial one completed with a free id, a full
    one checked free. Validate it first (``provider.validate_segment``)."""
    kind, physnet, seg_id = segment.network_type, segment.physical_network, segment.segmentation_id
    if kind == NetworkType.FLAT and physnet in allocated.flat:
        raise Conflict(f"Unable to create the flat network. Physical network {physnet} "
                       "is in use.", type="FlatNetworkInUse")
    if kind == NetworkType.VLAN:
        if seg_id is None:
            found = free_vlan(config.vlan_ranges, allocated.vlan, physnet, rng)
            if found is None:
                raise no_network_available()
            return Segment(kind, *found)
        if (physnet, seg_id) in allocated.vlan:
            raise Conflict(f"Unable to create the network. The VLAN {seg_id} on physical "
                           f"network {physnet} is in use.", type="VlanIdInUse")
    if kind == NetworkType.VXLAN:
        if seg_id is None:
            completed = _vxlan_segment(config, allocated, rng)
            if completed is None:
                raise no_network_available()
            return completed
        if seg_id in allocated.vxlan:
            raise Conflict(f"Unable to create the network. The tunnel ID {seg_id} is in use.",
                           type="TunnelIdInUse")
    return segment


def project_segment(config: ProviderConfig, allocated: Allocated,
                    rng: random.Random | None = None) -> Segment:
    """The segment of a network created without provider attributes: the first
    project network type (``tenant_network_types``, in order) with a free id."""
    for kind in config.tenant_network_types:
        if kind == NetworkType.VXLAN:
            segment = _vxlan_segment(config, allocated, rng)
        elif kind == NetworkType.VLAN:
            found = free_vlan(config.vlan_ranges, allocated.vlan, None, rng)
            segment = Segment(NetworkType.VLAN, *found) if found else None
        elif kind == NetworkType.LOCAL:
            segment = Segment(NetworkType.LOCAL)
        else:  # flat networks are never a project's
            segment = None
        if segment is not None:
            return segment
    raise no_network_available()


def _vxlan_segment(config: ProviderConfig, allocated: Allocated,
                   rng: random.Random | None) -> Segment | None:
    vni = free_id(config.vni_ranges, allocated.vxlan, rng)
    return Segment(NetworkType.VXLAN, None, vni) if vni is not None else None


def no_network_available() -> ServiceUnavailable:
    return ServiceUnavailable("Unable to create the network. No project network is "
                              "available for allocation.", type="NoNetworkAvailable")
