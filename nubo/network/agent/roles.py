"""The kinds of work a network agent does on its host, each shown in ``/v2.0/agents``
as the Neutron agent that does it there (same type, binary and topic names)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True)
class AgentKind:
    agent_type: str
    binary: str
    topic: str
    # Neutron gives an availability zone to the agents that schedule resources
    zoned: bool


class Role(enum.Enum):
    # bridges, taps, anti-spoofing and security groups of the ports bound to the host
    L2 = AgentKind("Linux bridge agent", "neutron-linuxbridge-agent", "N/A", False)
    # DHCP for every network with a DHCP-enabled subnet
    DHCP = AgentKind("DHCP agent", "neutron-dhcp-agent", "dhcp_agent", True)
    # routers, SNAT, floating IPs and port forwardings
    L3 = AgentKind("L3 agent", "neutron-l3-agent", "l3_agent", True)
    # the metadata proxy guests reach at 169.254.169.254
    METADATA = AgentKind("Metadata agent", "neutron-metadata-agent", "N/A", False)


COMPUTE_ROLES = frozenset({Role.L2})
NETWORK_NODE_ROLES = frozenset(Role)
