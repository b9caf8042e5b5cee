"""Host weighers: rank the hosts that passed the filters, best first.

Each weigher gives every host a raw value, which is normalised to [0, 1] across
the candidate hosts (all equal -> all 0, as Nova does), multiplied by the
weigher's multiplier and summed. A multiplier from an aggregate's metadata
(``ram_weight_multiplier`` ...) overrides the setting for its hosts (the lowest
wins when several aggregates set it). Positive RAM/CPU/disk multipliers spread
instances over hosts; negative ones pack them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from nubo.compute.scheduler.filters import FilterContext
from nubo.compute.scheduler.host_props import aggregate_values
from nubo.compute.scheduler.model import DISK_GB, MEMORY_MB, VCPU, HostState
from nubo.core.config import SchedulerSettings


class HostWeigher:
    name: ClassVar[str]
    multiplier_name: ClassVar[str]

    def raw(self, host: HostState, ctx: FilterContext) -> float:
        raise NotImplementedError

    def applies(self, ctx: FilterContext) -> bool:
        return True

    def multiplier(self, host: HostState, settings: SchedulerSettings) -> float:
        default = float(getattr(settings, self.multiplier_name))
        if not any(self.multiplier_name in agg.metadata for agg in host.aggregates):
            return default
        values = []
        for value in aggregate_values(host, self.multiplier_name):
            try:
                values.append(float(value))
            except ValueError:
                continue
        return min(values) if values else default


class RAMWeigher(HostWeigher):
    name, multiplier_name = "RAMWeigher", "ram_weight_multiplier"

    def raw(self, host: HostState, ctx: FilterContext) -> float:
        return host.free(MEMORY_MB)


class CPUWeigher(HostWeigher):
    name, multiplier_name = "CPUWeigher", "cpu_weight_multiplier"

    def raw(self, host: HostState, ctx: FilterContext) -> float:
        return host.free(VCPU)


class DiskWeigher(HostWeigher):
    name, multiplier_name = "DiskWeigher", "disk_weight_multiplier"

    def raw(self, host: HostState, ctx: FilterContext) -> float:
        return host.free(DISK_GB)


class NumInstancesWeigher(HostWeigher):
    name, multiplier_name = "NumInstancesWeigher", "num_instances_weight_multiplier"

    def raw(self, host: HostState, ctx: FilterContext) -> float:
        return host.num_instances


class ServerGroupSoftAffinityWeigher(HostWeigher):
    """More group members on a host: better (soft-affinity groups only)."""

    name, multiplier_name = "ServerGroupSoftAffinityWeigher", "soft_affinity_weight_multiplier"
    policy = "soft-affinity"
    sign = 1.0

    def applies(self, ctx: FilterContext) -> bool:
        return ctx.spec.group is not None and ctx.spec.group.policy == self.policy

    def raw(self, host: HostState, ctx: FilterContext) -> float:
        return self.sign * ctx.group_hosts.get(host.host, 0)


class ServerGroupSoftAntiAffinityWeigher(ServerGroupSoftAffinityWeigher):
    """More group members on a host: worse (soft-anti-affinity groups only)."""

    name = "ServerGroupSoftAntiAffinityWeigher"
    multiplier_name = "soft_anti_affinity_weight_multiplier"
    policy = "soft-anti-affinity"
    sign = -1.0


WEIGHERS: tuple[HostWeigher, ...] = (
    RAMWeigher(), CPUWeigher(), DiskWeigher(), NumInstancesWeigher(),
    ServerGroupSoftAffinityWeigher(), ServerGroupSoftAntiAffinityWeigher(),
)


def normalize(values: Sequence[float]) -> list[float]:
    if not values:
        return []
    low, high = min(values), max(values)
    if low == high:
        return [0.0] * len(values)
    return [(v - low) / (high - low) for v in values]


@dataclass(frozen=True)
class WeighedHost:
    host: HostState
    weight: float


def weigh_hosts(hosts: Sequence[HostState], ctx: FilterContext) -> list[WeighedHost]:
    """``hosts`` with their total weight, best first (ties keep snapshot order)."""
    totals = [0.0] * len(hosts)
    if len(hosts) < 2:
        return [WeighedHost(h, 0.0) for h in hosts]
    for weigher in WEIGHERS:
        if not weigher.applies(ctx):
            continue
        multipliers = [weigher.multiplier(h, ctx.settings) for h in hosts]
        if not any(multipliers):
            continue
        normalised = normalize([weigher.raw(h, ctx) for h in hosts])
        for i, (m, w) in enumerate(zip(multipliers, normalised, strict=True)):
            totals[i] += m * w
    weighed = [WeighedHost(h, t) for h, t in zip(hosts, totals, strict=True)]
    return sorted(weighed, key=lambda w: -w.weight)


def order_candidates(weighed: list[WeighedHost], settings: SchedulerSettings,
                     rng: random.Random) -> list[WeighedHost]:
    """Nova's last step: optionally shuffle the equally best, then pick one at
    random among the best ``host_subset_size`` and put it first."""
    if not weighed:
        return weighed
    ordered = list(weighed)
    if settings.shuffle_best_same_weighed_hosts:
        best = [w for w in ordered if w.weight == ordered[0].weight]
        rng.shuffle(best)
        ordered = best + ordered[len(best):]
    size = min(len(ordered), max(1, settings.host_subset_size))
    chosen = ordered.pop(0 if size == 1 else rng.randrange(size))
    return [chosen, *ordered]
