"""What the scheduler reads and what it returns: a snapshot in, a plan out.

Everything here is immutable. The conductor builds ``HostState``s from services,
compute nodes, placement's provider summaries, aggregates and instances; the
scheduler never touches the database, the bus or the network.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nubo.core.errors import BadRequest

VCPU = "VCPU"
PCPU = "PCPU"
MEMORY_MB = "MEMORY_MB"
DISK_GB = "DISK_GB"


@dataclass(frozen=True)
class HostAggregate:
    uuid: str
    name: str
    metadata: Mapping[str, str]


@dataclass(frozen=True)
class HostState:
    host: str
    node: str
    provider_uuid: str
    enabled: bool                      # service not disabled
    up: bool                           # heartbeat fresh and not forced_down
    availability_zone: str
    aggregates: tuple[HostAggregate, ...]
    capacity: Mapping[str, int]        # rc -> (total - reserved) * allocation_ratio
    used: Mapping[str, int]            # rc -> used
    num_instances: int
    instance_uuids: frozenset[str]
    traits: frozenset[str]
    hypervisor_type: str               # "fake", "QEMU", "KVM"
    supported_instances: tuple[tuple[str, str, str], ...]  # (arch, hv_type, vm_mode)
    hypervisor_version: int = 0        # Nova's integer form: 6.2.0 -> 6002000; 0 unknown

    def key(self) -> tuple[str, str]:
        return (self.host, self.node)

    def free(self, rc: str) -> int:
        return self.capacity.get(rc, 0) - self.used.get(rc, 0)


@dataclass(frozen=True)
class FlavorSpec:
    vcpus: int
    memory_mb: int
    root_gb: int                       # 0 for a server booted from volume
    ephemeral_gb: int
    swap_mb: int
    extra_specs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GroupSpec:
    uuid: str
    policy: str                        # affinity, anti-affinity, soft-affinity, soft-anti-affinity
    rules: Mapping[str, int]           # max_server_per_host
    member_hosts: Mapping[str, int]    # host -> members already there


@dataclass(frozen=True)
class RequestSpec:
    instance_uuids: tuple[str, ...]
    project_id: str
    user_id: str
    flavor: FlavorSpec
    image_properties: Mapping[str, Any] = field(default_factory=dict)
    availability_zone: str | None = None
    hints: Mapping[str, Any] = field(default_factory=dict)   # same_host, different_host, group
    group: GroupSpec | None = None
    ignore_hosts: frozenset[str] = frozenset()  # hosts that already failed this build
    force_host: str | None = None
    force_node: str | None = None
    hosts_of_instances: Mapping[str, str] = field(default_factory=dict)  # uuid -> host


@dataclass(frozen=True)
class Selection:
    instance_uuid: str
    host: HostState
    alternates: tuple[HostState, ...]


@dataclass(frozen=True)
class FilterOutcome:
    """How many hosts one filter removed, and why (for the fault message)."""

    name: str
    removed: int
    reason: str = ""

    def describe(self) -> str:
        text = f"{self.name} removed {self.removed}"
        return f"{text} ({self.reason})" if self.removed and self.reason else text


class NoValidHost(BadRequest):
    """No host passed the filters; the message names each filter and its toll."""

    title = "No valid host was found."

    def __init__(self, total_hosts: int, report: tuple[FilterOutcome, ...],
                 instance_uuid: str | None = None, detail: str = "") -> None:
        self.total_hosts = total_hosts
        self.report = report
        self.instance_uuid = instance_uuid
        parts = ", ".join(o.describe() for o in report)
        noun = "host" if total_hosts == 1 else "hosts"
        message = f"No valid host was found. {total_hosts} {noun}"
        message += f": {parts}" if parts else ""
        if detail:
            message += f". {detail}"
        super().__init__(message)


def resources_of(flavor: FlavorSpec) -> dict[str, int]:
    """The resource classes and amounts one instance of ``flavor`` consumes.

    ``resources[N]:RC=amount`` extra specs override the flavor's own VCPU,
    MEMORY_MB and DISK_GB (a class named in any group replaces the flavor-derived
    amount; PCPU replaces VCPU) and add custom classes; zero amounts are dropped.
    """
    explicit: dict[str, int] = {}
    for key, value in flavor.extra_specs.items():
        prefix, _, rc = key.partition(":")
        if not rc or not _is_group_prefix(prefix, "resources"):
            continue
        try:
            amount = int(value)
        except ValueError:
            amount = -1
        if amount < 0:
            raise BadRequest(f"Invalid flavor extra spec {key}={value!r}: "
                             "not a non-negative integer")
        explicit[rc] = explicit.get(rc, 0) + amount
    out = dict(explicit)
    if VCPU not in explicit and PCPU not in explicit:
        out[VCPU] = flavor.vcpus
    if MEMORY_MB not in explicit:
        out[MEMORY_MB] = flavor.memory_mb
    if DISK_GB not in explicit:
        out[DISK_GB] = flavor.root_gb + flavor.ephemeral_gb + math.ceil(flavor.swap_mb / 1024)
    return {rc: amount for rc, amount in out.items() if amount}


def traits_of(flavor: FlavorSpec,
              image_properties: Mapping[str, Any]) -> tuple[frozenset[str], frozenset[str]]:
    """(required, forbidden) traits from ``trait[N]:NAME=required|forbidden``
    flavor extra specs and ``trait:NAME=required`` image properties."""
    required: set[str] = set()
    forbidden: set[str] = set()
    sources = [flavor.extra_specs, {k: str(v) for k, v in image_properties.items()}]
    for source in sources:
        for key, value in source.items():
            prefix, _, name = key.partition(":")
            if not name or not _is_group_prefix(prefix, "trait"):
                continue
            if value == "required":
                required.add(name)
            elif value == "forbidden" and source is flavor.extra_specs:
                forbidden.add(name)
    return frozenset(required), frozenset(forbidden)


def _is_group_prefix(prefix: str, word: str) -> bool:
    """``resources``, ``resources1``, ``resources_gpu`` (Nova's request groups)."""
    if not prefix.startswith(word):
        return False
    suffix = prefix[len(word):]
    return suffix == "" or suffix.isdigit() or (
        suffix.startswith("_") and suffix[1:].replace("_", "").replace("-", "").isalnum())
