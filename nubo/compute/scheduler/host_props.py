"""Reading a host's aggregates and an image's properties the way Nova does:
aggregate metadata values are comma-separated sets, image architecture /
hypervisor type / vm mode have legacy names and aliases, and
``img_hv_requested_version`` is a list of version predicates (">=6.0, <7")."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from nubo.compute.scheduler.model import HostState

_ARCH_ALIASES = {"i386": "i686", "i486": "i686", "i586": "i686", "x86_32": "i686",
                 "amd64": "x86_64", "x64": "x86_64"}
_HV_ALIASES = {"xapi": "xen"}
_VM_MODE_ALIASES = {"pv": "xen", "hv": "hvm", "baremetal": "hvm"}


def aggregate_values(host: HostState, key: str) -> set[str]:
    """Every value of metadata ``key`` over the host's aggregates."""
    values: set[str] = set()
    for agg in host.aggregates:
        raw = agg.metadata.get(key)
        if raw is not None:
            values.update(v.strip() for v in str(raw).split(","))
    return values


def host_zones(host: HostState, default_zone: str) -> set[str]:
    """The availability zones a host is in: its aggregates' ``availability_zone``
    metadata, else the snapshot's zone, else the configured default."""
    return aggregate_values(host, "availability_zone") or {host.availability_zone or default_zone}


def _canonical(props: Mapping[str, Any], names: tuple[str, ...],
               aliases: Mapping[str, str]) -> str | None:
    for name in names:
        value = props.get(name)
        if value:
            text = str(value).lower()
            return aliases.get(text, text)
    return None


def image_requirements(props: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(architecture, hypervisor type, vm mode) the image asks for, canonical."""
    return (
        _canonical(props, ("hw_architecture", "architecture"), _ARCH_ALIASES),
        _canonical(props, ("img_hv_type", "hypervisor_type"), _HV_ALIASES),
        _canonical(props, ("hw_vm_mode", "vm_mode"), _VM_MODE_ALIASES),
    )


def version_to_int(text: str) -> int:
    """"6.2.0" -> 6002000 (Nova's encoding of hypervisor versions)."""
    parts = [int(p) for p in text.strip().split(".")]
    number = 0
    for part in [*parts, 0, 0][:3]:
        number = number * 1000 + part
    return number


_PREDICATE = re.compile(r"^\s*(>=|<=|==|!=|>|<)?\s*(\d+(?:\.\d+){0,2})\s*$")


def version_satisfied(hypervisor_version: int, required: object) -> bool:
    """True when the host's version meets every comma-separated predicate, or
    when either side is unknown (Nova lets the host pass then)."""
    if not hypervisor_version or not required:
        return True
    for clause in str(required).split(","):
        match = _PREDICATE.match(clause)
        if match is None:
            return False
        op, wanted = match.group(1) or "==", version_to_int(match.group(2))
        ok = {">=": hypervisor_version >= wanted, "<=": hypervisor_version <= wanted,
              "==": hypervisor_version == wanted, "!=": hypervisor_version != wanted,
              ">": hypervisor_version > wanted, "<": hypervisor_version < wanted}[op]
        if not ok:
            return False
    return True
