"""Host filters: each keeps or drops one host for one instance, and says why.

The names are Nova's and appear in ``[scheduler] enabled_filters`` and in the
"No valid host" message. ``run_filters`` applies them in order and records how
many hosts each removed; forced hosts skip every filter except the resource fit
(placement is never bypassed), and ``ignore_hosts`` are dropped first.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from nubo.compute.scheduler import spec_match
from nubo.compute.scheduler.host_props import (
    aggregate_values,
    host_zones,
    image_requirements,
    version_satisfied,
)
from nubo.compute.scheduler.model import FilterOutcome, HostState, RequestSpec
from nubo.core.config import SchedulerSettings
from nubo.core.errors import ConfigError


@dataclass(frozen=True)
class FilterContext:
    """One instance's view of the request while the plan is being built."""

    spec: RequestSpec
    settings: SchedulerSettings
    instance_uuid: str
    resources: Mapping[str, int]
    required_traits: frozenset[str]
    forbidden_traits: frozenset[str]
    group_hosts: Mapping[str, int]   # host -> group members there, this request's included

    @functools.cached_property
    def image_wants(self) -> tuple[str | None, str | None, str | None]:
        return image_requirements(self.spec.image_properties)


class HostFilter:
    name: ClassVar[str]

    def check(self, host: HostState, ctx: FilterContext) -> str | None:
        """None when ``host`` passes, else a short reason."""
        raise NotImplementedError

    def summarize(self, rejected: Sequence[tuple[HostState, str]], ctx: FilterContext) -> str:
        counts = Counter(reason for _, reason in rejected)
        if len(counts) == 1:
            return next(iter(counts))
        return ", ".join(f"{reason}: {n}" for reason, n in counts.most_common())


class ComputeFilter(HostFilter):
    name = "ComputeFilter"

    def check(self, host: HostState, ctx: FilterContext) -> str | None:
        if not host.enabled:
            return "disabled"
        return None if host.up else "down"


class AvailabilityZoneFilter(HostFilter):
    name = "AvailabilityZoneFilter"

    def check(self, host: HostState, ctx: FilterContext) -> str | None:
        wanted = ctx.spec.availability_zone
        if not wanted:
            return None
        zones = host_zones(host, ctx.settings.default_availability_zone)
        return None if wanted in zones else f"not in availability zone {wanted!r}"


class ResourcesFilter(HostFilter):
    """Free capacity per resource class and required/forbidden traits
    (our stand-in for placement's allocation candidates)."""

    name = "ResourcesFilter"

    def check(self, host: HostState, ctx: FilterContext) -> str | None:
        for rc, amount in ctx.resources.items():
            if host.free(rc) < amount:
                return f"not enough {rc}"
        missing = ctx.required_traits - host.traits
        if missing:
            return f"missing required trait {sorted(missing)[0]}"
        present = ctx.forbidden_traits & host.traits
        if present:
            return f"has forbidden trait {sorted(present)[0]}"
        return None

    def summarize(self, rejected: Sequence[tuple[HostState, str]], ctx: FilterContext) -> str:
        counts = Counter(reason for _, reason in rejected)
        parts = []
        for reason, n in counts.most_common():
            text = reason
            if reason.startswith("not enough "):
                rc = reason.removeprefix("not enough ")
                best = max(h.free(rc) for h, r in rejected if r == reason)
                text = f"{reason}: need {ctx.resources[rc]}, best host has {max(best, 0)} free"
            parts.append(text if len(counts) == 1 else f"{text} [{n} host{'s' * (n > 1)}]")
        return "; ".join(parts)


class AggregateMultiTenancyIsolation(HostFilter):
    name = "AggregateMultiTenancyIsolation"

    def check(self, host: HostState, ctx: FilterContext) -> str | None:
        allowed: set[str] = set()
        for agg in host.aggregates:
            for key, value in agg.metadata.items():
                if key.startswith("filter_tenant_id"):
                    allowed.update(v.strip() for v in value.split(","))
        if allowed and ctx.spec.project_id not in allowed:
            return "isolated to other projects"
        return None


class AggregateInstanceExtraSpecsFilter(HostFilter):
    name = "AggregateInstanceExtraSpecsFilter"
    scope = "aggregate_instance_extra_specs"

    def check(self, host: HostState, ctx: FilterContext) -> str | None:
        for key, requirement in ctx.spec.flavor.extra_specs.items():
            scope, sep, rest = key.partition(":")
            if sep and scope != self.scope:
                continue
            name = rest if sep else key
            values = aggregate_values(host, name)
            if not any(spec_match.matches(v, requirement) for v in values):
                return f"aggregate metadata does not match {name}={requirement}"
        return None


class ImagePropertiesFilter(HostFilter):
    name = "ImagePropertiesFilter"

    def check(self, host: HostState, ctx: FilterContext) -> str | None:
        wanted = ctx.image_wants
        if not any(wanted):
            return None
        for supported in host.supported_instances:
            have = tuple(s.lower() for s in supported)
            if all(w is None or w == h for w, h in zip(wanted, have, strict=True)):
                props = ctx.spec.image_properties
                required = (props.get("img_hv_requested_version")
                            or props.get("hypervisor_version_requires"))   # legacy name
                if version_satisfied(host.hypervisor_version, required):
                    return None
                return "hypervisor version does not satisfy the image"
        return "does not support the image's architecture, hypervisor type or vm mode"


class ServerGroupAffinityFilter(HostFilter):
    name = "ServerGroupAffinityFilter"

    def check(self, host: HostState, ctx: FilterContext) -> str | None:
        group = ctx.spec.group
        if group is None or group.policy != "affinity":
            return None
        occupied = [h for h, n in ctx.group_hosts.items() if n > 0]
        if not occupied or host.host in occupied:
            return None
        return f"server group {group.uuid} (affinity) is on another host"


class ServerGroupAntiAffinityFilter(HostFilter):
    name = "ServerGroupAntiAffinityFilter"

    def check(self, host: HostState, ctx: FilterContext) -> str | None:
        group = ctx.spec.group
        if group is None or group.policy != "anti-affinity":
            return None
        if ctx.instance_uuid in host.instance_uuids:
            return None   # a move may stay where it is
        limit = int(group.rules.get("max_server_per_host", 1) or 1)
        if ctx.group_hosts.get(host.host, 0) < limit:
            return None
        return (f"server group {group.uuid} (anti-affinity) already has "
                f"max_server_per_host={limit} there")


def _hinted_uuids(hints: Mapping[str, Any], key: str) -> list[str]:
    value = hints.get(key)
    if not value:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _hosts_instance(host: HostState, uuid: str, ctx: FilterContext) -> bool:
    return uuid in host.instance_uuids or ctx.spec.hosts_of_instances.get(uuid) == host.host


class SameHostFilter(HostFilter):
    name = "SameHostFilter"

    def check(self, host: HostState, ctx: FilterContext) -> str | None:
        wanted = _hinted_uuids(ctx.spec.hints, "same_host")
        if not wanted or any(_hosts_instance(host, u, ctx) for u in wanted):
            return None
        return "does not host any same_host instance"


class DifferentHostFilter(HostFilter):
    name = "DifferentHostFilter"

    def check(self, host: HostState, ctx: FilterContext) -> str | None:
        avoided = _hinted_uuids(ctx.spec.hints, "different_host")
        if any(_hosts_instance(host, u, ctx) for u in avoided):
            return "hosts a different_host instance"
        return None


FILTERS: dict[str, HostFilter] = {f.name: f for f in (
    ComputeFilter(), AvailabilityZoneFilter(), ResourcesFilter(),
    AggregateMultiTenancyIsolation(), AggregateInstanceExtraSpecsFilter(),
    ImagePropertiesFilter(), ServerGroupAffinityFilter(), ServerGroupAntiAffinityFilter(),
    SameHostFilter(), DifferentHostFilter(),
)}


def enabled_filters(settings: SchedulerSettings) -> list[HostFilter]:
    unknown = [n for n in settings.enabled_filters if n not in FILTERS]
    if unknown:
        raise ConfigError(f"[scheduler] enabled_filters: unknown filter(s) {unknown}; "
                          f"known: {sorted(FILTERS)}")
    return [FILTERS[n] for n in settings.enabled_filters]


@dataclass(frozen=True)
class FilterResult:
    passed: list[HostState]
    report: tuple[FilterOutcome, ...]
    considered: int


def run_filters(hosts: Sequence[HostState], ctx: FilterContext,
                filters: Sequence[HostFilter]) -> FilterResult:
    """Apply ``filters`` in order; stop early once no host is left."""
    spec = ctx.spec
    report: list[FilterOutcome] = []
    remaining = list(hosts)
    if spec.ignore_hosts:
        kept = [h for h in remaining if h.host not in spec.ignore_hosts]
        report.append(FilterOutcome("ignore_hosts", len(remaining) - len(kept),
                                    "already tried for this build"))
        remaining = kept
    if spec.force_host or spec.force_node:
        kept = [h for h in remaining
                if (not spec.force_host or h.host == spec.force_host)
                and (not spec.force_node or h.node == spec.force_node)]
        report.append(FilterOutcome("force_host", len(remaining) - len(kept),
                                    "not the forced host or node"))
        remaining = kept
        filters = [f for f in filters if isinstance(f, ResourcesFilter)]
    for host_filter in filters:
        if not remaining:
            break
        kept, rejected = [], []
        for host in remaining:
            reason = host_filter.check(host, ctx)
            if reason is None:
                kept.append(host)
            else:
                rejected.append((host, reason))
        summary = host_filter.summarize(rejected, ctx) if rejected else ""
        report.append(FilterOutcome(host_filter.name, len(rejected), summary))
        remaining = kept
    return FilterResult(remaining, tuple(report), len(hosts))
