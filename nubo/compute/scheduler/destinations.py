"""select_destinations: a snapshot and a request in, one Selection per instance out.

Instances are placed one after another on a private working copy of the
snapshot: each pick consumes the instance's resources and group membership, so
a multi-create never double-books a host and (anti-)affinity holds within the
request. Alternates are re-checked against the final working copy, so every
alternate still fits once all of this request's instances are placed.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping, Sequence

from nubo.compute.scheduler.filters import (
    FilterContext,
    HostFilter,
    enabled_filters,
    run_filters,
)
from nubo.compute.scheduler.model import (
    HostState,
    NoValidHost,
    RequestSpec,
    Selection,
    resources_of,
    traits_of,
)
from nubo.compute.scheduler.weighers import order_candidates, weigh_hosts
from nubo.core.config import SchedulerSettings

HostKey = tuple[str, str]


@dataclasses.dataclass(frozen=True)
class _Pick:
    instance_uuid: str
    host: HostKey
    ranked: tuple[HostKey, ...]   # the other candidates, best first


def select_destinations(hosts: Sequence[HostState], spec: RequestSpec,
                        settings: SchedulerSettings, *,
                        rng: random.Random | None = None) -> list[Selection]:
    """One Selection per ``spec.instance_uuids`` entry, in that order.

    Raises NoValidHost (its message and ``report`` say which filter removed
    how many hosts) when an instance cannot be placed.
    """
    rng = rng or random.Random()
    filters = enabled_filters(settings)
    original = {h.key(): h for h in hosts}
    working = dict(original)
    group_hosts = dict(spec.group.member_hosts) if spec.group else {}
    resources = resources_of(spec.flavor)
    picks: list[_Pick] = []
    for index, uuid in enumerate(spec.instance_uuids):
        ctx = _context(spec, settings, uuid, resources, group_hosts)
        result = run_filters(list(working.values()), ctx, filters)
        if not result.passed:
            raise NoValidHost(len(hosts), result.report, uuid, _detail(index, spec, hosts))
        ranked = order_candidates(weigh_hosts(result.passed, ctx), settings, rng)
        chosen = ranked[0].host
        working[chosen.key()] = consume(chosen, uuid, resources)
        if spec.group is not None:
            group_hosts[chosen.host] = group_hosts.get(chosen.host, 0) + 1
        picks.append(_Pick(uuid, chosen.key(), tuple(w.host.key() for w in ranked[1:])))
    return [
        Selection(p.instance_uuid, original[p.host],
                  _alternates(p, working, group_hosts, spec, settings, filters, original))
        for p in picks
    ]


def consume(host: HostState, instance_uuid: str, resources: Mapping[str, int]) -> HostState:
    """``host`` with one more instance using ``resources``."""
    used = dict(host.used)
    for rc, amount in resources.items():
        used[rc] = used.get(rc, 0) + amount
    return dataclasses.replace(
        host, used=used, num_instances=host.num_instances + 1,
        instance_uuids=host.instance_uuids | {instance_uuid})


def _context(spec: RequestSpec, settings: SchedulerSettings, uuid: str,
             resources: Mapping[str, int], group_hosts: Mapping[str, int]) -> FilterContext:
    required, forbidden = traits_of(spec.flavor, spec.image_properties)
    return FilterContext(spec, settings, uuid, resources, required, forbidden, dict(group_hosts))


def _alternates(pick: _Pick, working: Mapping[HostKey, HostState],
                group_hosts: Mapping[str, int], spec: RequestSpec,
                settings: SchedulerSettings, filters: Sequence[HostFilter],
                original: Mapping[HostKey, HostState]) -> tuple[HostState, ...]:
    """Up to max_attempts - 1 other hosts, best first, that would still take
    this instance if it moved there from its chosen host."""
    wanted = max(0, settings.max_attempts - 1)
    if not wanted or not pick.ranked:
        return ()
    moved = dict(group_hosts)
    if spec.group is not None:
        moved[pick.host[0]] = moved.get(pick.host[0], 0) - 1
    ctx = _context(spec, settings, pick.instance_uuid, resources_of(spec.flavor), moved)
    out: list[HostState] = []
    for key in pick.ranked:
        if run_filters([working[key]], ctx, filters).passed:
            out.append(original[key])
            if len(out) == wanted:
                break
    return tuple(out)


def _detail(index: int, spec: RequestSpec, hosts: Sequence[HostState]) -> str:
    if not hosts:
        return "No compute host is registered, enabled and reporting."
    if index:
        return (f"Placed {index} of {len(spec.instance_uuids)} instances of this request "
                "before the hosts ran out.")
    return ""
