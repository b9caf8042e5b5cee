"""The compute scheduler: a pure function from a snapshot of hosts and a request
to a plan (one host plus alternates per instance). No database, bus or I/O here;
the conductor builds the snapshot and claims the plan in placement."""

from __future__ import annotations

from nubo.compute.scheduler.destinations import select_destinations
from nubo.compute.scheduler.model import (
    FilterOutcome,
    FlavorSpec,
    GroupSpec,
    HostAggregate,
    HostState,
    NoValidHost,
    RequestSpec,
    Selection,
    resources_of,
    traits_of,
)

__all__ = [
    "FilterOutcome", "FlavorSpec", "GroupSpec", "HostAggregate", "HostState", "NoValidHost",
    "RequestSpec", "Selection", "resources_of", "select_destinations", "traits_of",
]
