"""The network driver interface: what a host's network agent asks its data plane to do.

The agent works out *what* must change (``agent.reconcile``); a driver only knows *how*.
The kernel drivers of the data-plane issue (Linux bridge + VXLAN/VLAN, dnsmasq in
``qdhcp-`` namespaces, ``qrouter-`` namespaces with NAT, nftables/iptables firewall, the
metadata proxy) implement this interface; ``fake.FakeDriver`` records instead.

Rules every driver follows:

- Every method is idempotent: ensuring what exists already re-applies it (the state
  may have changed); removing what is absent succeeds.
- Errors of the back end are translated into ``DriverError`` at this boundary.
- ``inventory`` tells what the host really has, with the digest
  (``state.digest_of``) of the state last applied to each object when the driver
  knows it (``None`` otherwise: the agent then applies it again). A driver keeps
  those digests wherever it likes (the fake keeps everything in a file).
- Ordering is the agent's job: networks before the ports, DHCP and routers on them;
  removals in the opposite order.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field

from nubo.core.errors import NuboError
from nubo.network.agent.state import Dhcp, Firewall, Network, Port, Router


class DriverError(NuboError):
    """The data plane refused or failed an operation."""


@dataclass(frozen=True)
class PlacedPort:
    """A port the host has plugged: its network and the digest applied. ``wired``
    is False while the port's device is missing (its guest has not made its tap
    yet, or it is gone): the port is then not up, as with Neutron's agents."""

    network_id: str
    digest: str | None
    wired: bool = True


@dataclass(frozen=True)
class PlacedRouter:
    """A router the host has: the digest applied, its networks and floating IPs."""

    digest: str | None
    network_ids: tuple[str, ...] = ()
    floating_ip_ids: tuple[str, ...] = ()


@dataclass
class Inventory:
    """What a host has, by id, with the digest of what was applied to each."""

    networks: dict[str, str | None] = field(default_factory=dict)
    ports: dict[str, PlacedPort] = field(default_factory=dict)
    dhcp: dict[str, str | None] = field(default_factory=dict)
    routers: dict[str, PlacedRouter] = field(default_factory=dict)
    # digest of the firewall input last synced; None when never synced
    firewall: str | None = None


class NetworkDriver(abc.ABC):
    """One host's data plane."""

    @abc.abstractmethod
    async def start(self) -> None:
        """Load state, check the host's tools; called once before anything else."""

    async def stop(self) -> None:
        """Release what ``start`` took (background tasks); the data plane stays."""
        return None

    @abc.abstractmethod
    async def inventory(self) -> Inventory:
        """What exists on the host (for reconcile)."""

    def configurations(self) -> dict[str, object]:
        """Extra ``configurations`` this host's agents show in ``/v2.0/agents``."""
        return {}

    # a DHCP server needs an address on its network: the agent makes the network's
    # ``network:dhcp`` port through the network service before ``ensure_dhcp``
    needs_dhcp_port = False

    # set by the agent: drivers call it with port ids when the devices of plugged
    # ports appear or go (the agent then syncs those ports)
    devices_changed: Callable[[frozenset[str]], None] | None = None

    def listen(self, changed: Callable[[frozenset[str]], None]) -> None:
        self.devices_changed = changed

    # ------------------------------------------------------------------ L2
    @abc.abstractmethod
    async def ensure_network(self, network: Network) -> None:
        """The network's bridge, joined to its segment (VXLAN device, VLAN
        sub-interface or the flat physical interface), with its MTU."""

    @abc.abstractmethod
    async def remove_network(self, network_id: str) -> None:
        """Remove the bridge and its segment device."""

    @abc.abstractmethod
    async def plug_port(self, port: Port) -> None:
        """The port's tap on its network's bridge (created by the hypervisor or
        here), its MTU, admin state, anti-spoofing and security-group chains."""

    @abc.abstractmethod
    async def unplug_port(self, port_id: str) -> None:
        """Remove the port's tap and its firewall chains."""

    @abc.abstractmethod
    async def sync_firewall(self, firewall: Firewall) -> None:
        """Replace the host's security-group rules and remote-group address sets
        with ``firewall``'s."""

    # ---------------------------------------------------------------- DHCP
    @abc.abstractmethod
    async def ensure_dhcp(self, dhcp: Dhcp) -> None:
        """DHCP for the network (dnsmasq in ``qdhcp-<network>``): its subnets, options
        and host reservations."""

    @abc.abstractmethod
    async def remove_dhcp(self, network_id: str) -> None: ...

    # ------------------------------------------------------------------ L3
    @abc.abstractmethod
    async def ensure_router(self, router: Router) -> None:
        """The router's namespace, interfaces, gateway, SNAT, floating-IP DNAT,
        port forwardings and routes."""

    @abc.abstractmethod
    async def remove_router(self, router_id: str) -> None: ...
