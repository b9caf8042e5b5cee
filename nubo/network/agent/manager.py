"""NetworkAgent: the networking worker of one host.

On start it registers one ``/v2.0/agents`` row per role it plays on the host (Linux
bridge on every host; DHCP, L3 and metadata on the network node), reconciles
everything the network service wants on the host against its driver's inventory,
then listens to the networking events (``events.PATTERNS``) and sends heartbeats.

Events only say which objects changed; each is narrowed to a ``Scope``
(``events.scope_of``); scopes arriving while a sync runs, or within ``[network]
agent_sync_gap`` of the last sync's start, are merged and synced together; and a
message is acknowledged once the sync that covers it is done, so a failed sync
makes the bus deliver its messages again. A sync loads the desired
state of its scope through the network service (``service.host_state``), plans the
difference (``reconcile.plan``), applies it through the driver and reports port
and floating-IP statuses (``service.port_status``). After a failed sync the bus
delivers its messages again, and the next heartbeat period syncs everything (as
Neutron's agents do a full sync after an error). The agent never writes the
database itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Collection

from nubo.core.bus.base import Envelope, Subscription
from nubo.core.errors import NuboError
from nubo.core.runtime import Runtime
from nubo.network.agent import events
from nubo.network.agent.driver import DriverError, Inventory, NetworkDriver
from nubo.network.agent.reconcile import ACTIVE, Desired, Plan, Scope, plan
from nubo.network.agent.roles import Role
from nubo.network.service import agents, dhcp_ports, host_state, port_status

log = logging.getLogger(__name__)


class NetworkAgent:
    def __init__(self, rt: Runtime, host: str, driver: NetworkDriver,
                 roles: Collection[Role]) -> None:
        self.rt = rt
        self.host = host
        self.driver = driver
        self.roles = frozenset(roles)
        # what the driver had after the last sync: narrows events without asking it
        self.known = Inventory()
        # the groups whose rules the host's firewall has, and those it takes members from
        self.groups: frozenset[str] = frozenset()
        self.remote_groups: frozenset[str] = frozenset()
        self.agent_ids: dict[Role, str] = {}
        self._pending = Scope()
        self._waiting: list[asyncio.Future[None]] = []
        self._wake = asyncio.Event()
        # a sync failed: everything is synced again at the next heartbeat
        self._resync = False
        self._last_sync = float("-inf")     # when the last sync started (loop time)
        self._tasks: list[asyncio.Task[None]] = []
        self._subscriptions: list[Subscription] = []

    # ------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        self.driver.listen(self._devices_changed)
        await self.driver.start()
        self.known = await self.driver.inventory()
        await self.register()
        try:
            await self.sync(Scope.everything())
        except Exception:       # the next heartbeat period tries again
            log.exception("network agent %s: reconcile on start failed", self.host)
            self._resync = True
        self._tasks = [asyncio.create_task(self._work(), name=f"net-agent-{self.host}"),
                       asyncio.create_task(self._beat(), name=f"net-heartbeat-{self.host}")]
        queue = f"network-agent-{self.host.replace('.', '_')}"
        for pattern, roles in events.PATTERNS.items():
            if roles & self.roles:
                noun = pattern.split(".")[1]
                self._subscriptions.append(await self.rt.bus.consume(
                    pattern, self.on_message, queue=f"{queue}-{noun}"))

    async def stop(self) -> None:
        for sub in self._subscriptions:
            await sub.cancel()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for waiter in self._waiting:
            waiter.cancel()
        await self.driver.stop()

    async def register(self) -> None:
        for role in sorted(self.roles, key=lambda r: r.name):
            kind = role.value
            self.agent_ids[role] = await agents.register_agent(
                self.rt, host=self.host, agent_type=kind.agent_type, binary=kind.binary,
                topic=kind.topic, configurations=self.configurations(role),
                availability_zone="nova" if kind.zoned else None)

    def configurations(self, role: Role) -> dict[str, object]:
        """What ``/v2.0/agents`` shows of the role's work on this host."""
        k = self.known
        counts: dict[Role, dict[str, object]] = {
            Role.L2: {"devices": len(k.ports), "networks": len(k.networks),
                      "tunnel_types": ["vxlan"], "l2_population": False},
            Role.DHCP: {"networks": len(k.dhcp), "dhcp_lease_duration": 86400,
                        "notifies_port_ready": True},
            Role.L3: {"routers": len(k.routers), "agent_mode": "legacy",
                      "floating_ips": sum(len(r.floating_ip_ids) for r in k.routers.values())},
            Role.METADATA: {"metadata_proxy_socket": "", "nova_metadata_host": "",
                            "log_agent_heartbeats": False},
        }
        return {**counts[role], **self.driver.configurations()}

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.rt.settings.network.agent_report_interval)
            try:
                for role, agent_id in list(self.agent_ids.items()):
                    if not await agents.heartbeat(self.rt, agent_id, self.configurations(role)):
                        await self.register()      # deleted by an admin: come back
                        break
            except Exception:
                log.exception("heartbeat of network agent %s failed", self.host)
            if self._resync:
                self._resync = False
                self._pending = self._pending.merge(Scope.everything())
                self._wake.set()

    # ---------------------------------------------------------------- events

    async def on_message(self, env: Envelope) -> None:
        scope = await events.scope_of(self, env.topic, env.payload)
        if not scope.is_empty():
            await self.request(scope)

    def _devices_changed(self, port_ids: frozenset[str]) -> None:
        """The driver saw ports' devices come or go: sync them (their status)."""
        async def sync() -> None:
            with contextlib.suppress(Exception):     # a failed sync is retried anyway
                await self.request(Scope(ports=port_ids))

        task = asyncio.create_task(sync())
        self._tasks.append(task)
        task.add_done_callback(self._tasks.remove)

    async def request(self, scope: Scope) -> None:
        """Sync ``scope`` with whatever else is pending; returns once done, raises
        if that sync failed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending = self._pending.merge(scope)
        self._waiting.append(done)
        self._wake.set()
        await done

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            # a burst of events is synced together: one sync per gap at most
            wait = self._last_sync + self.rt.settings.network.agent_sync_gap - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._last_sync = loop.time()
            self._wake.clear()
            scope, waiting = self._pending, self._waiting
            self._pending, self._waiting = Scope(), []
            try:
                await self.sync(scope)
            except Exception as e:
                log.warning("network agent %s: sync failed: %r", self.host, e)
                self._resync = True
                for waiter in waiting:
                    if not waiter.done():
                        waiter.set_exception(e)
                continue
            for waiter in waiting:
                if not waiter.done():
                    waiter.set_result(None)

    # ------------------------------------------------------------------ sync

    async def sync(self, scope: Scope) -> Plan:
        """Bring ``scope`` on the host to what the network service wants; the plan
        applied. Raises ``DriverError`` after applying the rest if some of it
        failed (ports that could not be plugged are reported ERROR instead)."""
        actual = await self.driver.inventory()
        desired, scope = await host_state.load(self.rt, self.host, self.roles, scope, actual)
        todo = plan(desired, actual, scope)
        if todo.changes():
            log.info("network agent %s: %d changes", self.host, todo.changes())
        failed_ports, errors = await self._apply(todo)
        if self.driver.needs_dhcp_port and scope.dhcp is None and Role.DHCP in self.roles:
            await dhcp_ports.release(self.rt, await dhcp_ports.unneeded(self.rt))
        self.known = await self.driver.inventory()
        if desired.firewall is not None:
            self.groups = frozenset(g.id for g in desired.firewall.groups)
            self.remote_groups = desired.firewall.remote_groups()
        await self._report(todo, failed_ports, desired)
        if errors:
            raise errors[0]
        return todo

    async def _apply(self, p: Plan) -> tuple[set[str], list[DriverError]]:
        """Apply ``p`` in dependency order, going on past failures; the ports that
        could not be plugged, and the other failures."""
        d = self.driver
        errors: list[DriverError] = []

        async def attempt(what: str, call: Awaitable[None], *, keep: bool = True) -> bool:
            try:
                await call
            except DriverError as e:
                log.warning("network agent %s: %s failed: %s", self.host, what, e.message)
                if keep:
                    errors.append(e)
                return False
            return True

        for rid in p.remove_routers:
            await attempt(f"remove router {rid}", d.remove_router(rid))
        removed = [nid for nid in p.remove_dhcp
                   if await attempt(f"remove DHCP of {nid}", d.remove_dhcp(nid))]
        if d.needs_dhcp_port:
            await dhcp_ports.release(self.rt, removed)
        for pid in p.unplug_ports:
            await attempt(f"unplug {pid}", d.unplug_port(pid))
        for nid in p.remove_networks:
            await attempt(f"remove network {nid}", d.remove_network(nid))
        broken = {n.id for n in p.ensure_networks
                  if not await attempt(f"ensure network {n.id}", d.ensure_network(n))}
        if p.firewall is not None:
            await attempt("firewall sync", d.sync_firewall(p.firewall))
        failed = {port.id for port in p.plug_ports
                  if port.network_id in broken
                  or not await attempt(f"plug {port.id}", d.plug_port(port), keep=False)}
        # routers before DHCP: a router's metadata proxy serves before the leases of
        # its subnets stop routing metadata through the DHCP port
        for router in p.ensure_routers:
            await attempt(f"router {router.id}", d.ensure_router(router))
        for dhcp in p.ensure_dhcp:
            if d.needs_dhcp_port:
                try:
                    dhcp = await dhcp_ports.ensure(self.rt, self.host, dhcp)
                except NuboError as e:      # no address left for it, say
                    log.warning("network agent %s: DHCP port of %s: %s", self.host,
                                dhcp.network_id, e.message)
                    errors.append(DriverError(f"DHCP port of {dhcp.network_id}: {e.message}"))
                    continue
            await attempt(f"DHCP of {dhcp.network_id}", d.ensure_dhcp(dhcp))
        return failed, errors

    async def _report(self, p: Plan, failed: set[str], desired: Desired) -> None:
        rt = self.rt
        # ports whose devices are not there (yet) are not up
        unwired = {i for i, placed in self.known.ports.items() if not placed.wired}
        down = [*p.ports_down, *(i for i in sorted(unwired & set(desired.ports))
                                 if desired.port_status.get(i) == ACTIVE)]
        for status, changed in (
                ("ERROR", await port_status.ports_failed(rt, self.host, sorted(failed))),
                ("ACTIVE", await port_status.ports_up(rt, self.host, [
                    i for i in p.ports_up if i not in failed and i not in unwired])),
                ("DOWN", await port_status.ports_down(rt, self.host, down))):
            if changed:
                log.info("network agent %s: ports %s %s", self.host, status,
                         " ".join(changed))
        await port_status.router_ports_up(rt, p.router_ports_up)
        await port_status.floating_ips(rt, p.floating_ips_active, p.floating_ips_down)
