"""The names of the kernel objects the Linux bridge driver makes, as Neutron's
Linux bridge, DHCP and L3 agents name them, and the tag it leaves on each.

Devices: ``brq`` + the first 11 characters of the network id (bridge), ``tap`` +
the first 11 of the port id (a port's tap, and the bridge end of the DHCP port's
and router legs' veth pairs), ``ns-`` (the DHCP port inside its namespace),
``qr-`` / ``qg-`` (a router's interface / gateway inside its namespace),
``vxlan-<vni>``, ``<interface>.<vid>``. Namespaces: ``qdhcp-<network id>``,
``qrouter-<router id>``.

The tag is the device's ``ifalias`` (the namespace's ``lo`` for a namespace):
``nubo:<owner>:<kind>:<id>:<digest>``. The owner is the cloud's (one per state
directory), so that two clouds on one machine never take each other's objects
for orphans; the digest is that of the state last applied (``state.digest_of``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

IFNAMSIZ = 15
ID_CHARS = 11
BRIDGE, TAP, DHCP_NS_DEV, ROUTER_IF, ROUTER_GW = "brq", "tap", "ns-", "qr-", "qg-"
DHCP_NS, ROUTER_NS = "qdhcp-", "qrouter-"
TAG_PREFIX = "nubo"


def bridge(network_id: str) -> str:
    return BRIDGE + network_id[:ID_CHARS]


def tap(port_id: str) -> str:
    return TAP + port_id[:ID_CHARS]


def dhcp_device(port_id: str) -> str:
    return DHCP_NS_DEV + port_id[:ID_CHARS]


def router_interface(port_id: str) -> str:
    return ROUTER_IF + port_id[:ID_CHARS]


def router_gateway(port_id: str) -> str:
    return ROUTER_GW + port_id[:ID_CHARS]


def vxlan(vni: int) -> str:
    return f"vxlan-{vni}"


def vlan(interface: str, vid: int) -> str:
    """``<interface>.<vid>``; when that is longer than a device name may be, the
    interface part is shortened and made unique with a hash (as Neutron does)."""
    name = f"{interface}.{vid}"
    if len(name) <= IFNAMSIZ:
        return name
    digest = hashlib.sha1(interface.encode()).hexdigest()[:4]
    keep = IFNAMSIZ - len(str(vid)) - 1 - len(digest)
    return f"{interface[:keep]}{digest}.{vid}"


def dhcp_namespace(network_id: str) -> str:
    return DHCP_NS + network_id


def router_namespace(router_id: str) -> str:
    return ROUTER_NS + router_id


@dataclass(frozen=True)
class Tag:
    """What a device's alias says: who made it, for what, and what was applied."""

    owner: str
    kind: str
    id: str
    digest: str | None = None

    def render(self) -> str:
        return ":".join((TAG_PREFIX, self.owner, self.kind, self.id, self.digest or "-"))

    @classmethod
    def parse(cls, alias: str | None) -> Tag | None:
        parts = (alias or "").split(":")
        if len(parts) != 5 or parts[0] != TAG_PREFIX:
            return None
        return cls(parts[1], parts[2], parts[3], None if parts[4] == "-" else parts[4])
