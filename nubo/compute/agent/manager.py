"""ComputeAgent: the worker of one hypervisor host.

On start it registers its service and compute node, publishes its inventory to
placement, reconciles what the database says the host should run against what
the driver has, then consumes its queue (``compute.agent-<host>.<op>``) and
sends a heartbeat every ``report_interval``. It reports every outcome through
the conductor's functions and never writes the database itself. Questions that
want an answer (console output) come on its call topic (``agent_calls``).

Operations are looked up by name in ``OPERATIONS``; the server actions register
theirs there (``register("pause", handler)``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from nubo.compute import agent_calls, clients, conductor
from nubo.compute.agent import events
from nubo.compute.agent.driver import ComputeDriver, DriverError
from nubo.compute.service import aggregates, hosts
from nubo.compute.service.external_events import events_topic
from nubo.compute.service.servers import agent_topic
from nubo.compute.states import TaskState, VmState
from nubo.core.bus.base import Envelope, Subscription
from nubo.core.errors import NuboError
from nubo.core.runtime import Runtime

log = logging.getLogger(__name__)

Operation = Callable[["ComputeAgent", dict[str, Any], Mapping[str, Any]], Awaitable[None]]
OPERATIONS: dict[str, Operation] = {}
# operations that read only the instance's own columns (no metadata, tags, fault)
BARE_OPERATIONS: set[str] = set()
# operations that run one at a time per server, in the order they came: a detach
# must not overtake the attach it undoes (Nova locks interface changes per server)
SERIAL_OPERATIONS: set[str] = set()
# operations on the host itself rather than on one instance (image caching)
HostOperation = Callable[["ComputeAgent", Mapping[str, Any]], Awaitable[None]]
HOST_OPERATIONS: dict[str, HostOperation] = {}
DRIVER_TRAITS = frozenset({"COMPUTE_NODE"})


def register(name: str, op: Operation, *, extras: bool = True, serial: bool = False
             ) -> None:
    """Make ``op`` run for messages on ``compute.agent-<host>.<name>``; without
    ``extras`` it gets the instance's columns only (one query instead of six);
    ``serial``: one at a time per server with the other serial operations, in the
    order the messages came."""
    OPERATIONS[name] = op
    if not extras:
        BARE_OPERATIONS.add(name)
    if serial:
        SERIAL_OPERATIONS.add(name)


class ComputeAgent:
    def __init__(self, rt: Runtime, host: str, driver: ComputeDriver) -> None:
        self.rt = rt
        self.host = host
        self.driver = driver
        self.service: dict[str, Any] = {}
        self.node: dict[str, Any] = {}
        self.events = events.InstanceEvents()
        self._subscription: Subscription | None = None
        self._event_subscription: Subscription | None = None
        self._call_subscription: Subscription | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._power_sync: asyncio.Task[None] | None = None
        self._usage_audit: asyncio.Task[None] | None = None
        # per server: its serial operations' lock and how many hold or wait for it
        self._serial: dict[str, tuple[asyncio.Lock, int]] = {}

    async def start(self) -> None:
        await self.driver.start()
        await self.register()
        from nubo.compute import reconcile

        await reconcile.agent_start(self)
        self._subscription = await self.rt.bus.consume(
            agent_topic(self.host, "*"), self.on_message,
            queue=f"compute-agent-{self.host.replace('.', '_')}")
        # events on a queue of their own: a spawn waiting for one must not hold it up
        self._event_subscription = await self.rt.bus.consume(
            events_topic(self.host), self.on_event,
            queue=f"compute-events-{self.host.replace('.', '_')}")
        # questions that want an answer now (console output): no queue, nothing kept
        self._call_subscription = await self.rt.bus.subscribe(
            agent_calls.call_topic(self.host), lambda env: agent_calls.serve(self, env))
        self._heartbeat = asyncio.create_task(self._beat(), name=f"heartbeat-{self.host}")
        from nubo.compute.agent import power_sync

        self._power_sync = asyncio.create_task(power_sync.run_periodically(self),
                                               name=f"power-sync-{self.host}")
        if self.rt.settings.compute.instance_usage_audit:
            from nubo.compute import usage_audit

            self._usage_audit = asyncio.create_task(usage_audit.run_periodically(self),
                                                    name=f"usage-audit-{self.host}")

    async def register(self) -> None:
        """Service, compute node and resource provider of this host (idempotent)."""
        self.service = await hosts.register_service(self.rt, self.host)
        resources = self.driver.host_resources().as_dict()
        self.node = await hosts.register_node(self.rt, self.service, self.host, resources)
        # keep the traits an operator gave the provider; add the driver's
        traits = await clients.provider_traits(self.rt, self.node["uuid"]) | DRIVER_TRAITS
        await clients.ensure_provider(self.rt, uuid=self.node["uuid"], name=self.host,
                                      inventories=self.inventories(resources), traits=traits)

    async def stop(self) -> None:
        for task in (self._heartbeat, self._power_sync, self._usage_audit):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for subscription in (self._subscription, self._event_subscription,
                             self._call_subscription):
            if subscription is not None:
                await subscription.cancel()

    def inventories(self, resources: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        s = self.rt.settings.compute
        rows = {
            "VCPU": (resources["vcpus"], s.reserved_host_cpus, s.cpu_allocation_ratio),
            "MEMORY_MB": (resources["memory_mb"], s.reserved_host_memory_mb,
                          s.ram_allocation_ratio),
            "DISK_GB": (resources["local_gb"], -(-s.reserved_host_disk_mb // 1024),
                        s.disk_allocation_ratio),
        }
        return {rc: {"total": total, "reserved": reserved, "allocation_ratio": ratio,
                     "min_unit": 1, "max_unit": total, "step_size": 1}
                for rc, (total, reserved, ratio) in rows.items()}

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.rt.settings.compute.report_interval)
            try:
                if not await hosts.heartbeat(self.rt, self.service["id"]):
                    await self.register()       # deleted by an admin: come back
            except Exception:
                log.exception("heartbeat of %s failed", self.host)

    async def on_message(self, env: Envelope) -> None:
        op = env.topic.rsplit(".", 1)[-1]
        host_op = HOST_OPERATIONS.get(op)
        if host_op is not None:
            await host_op(self, env.payload)
            return
        handler = OPERATIONS.get(op)
        if handler is None:
            log.error("compute agent %s: unknown operation %s", self.host, op)
            return
        uuid = str(env.payload.get("instance_uuid", ""))
        if op not in SERIAL_OPERATIONS:
            await self._run(handler, op, uuid, env.payload)
            return
        # taken before anything is awaited: the messages' tasks start in the order
        # the messages came, and the lock serves its waiters in the order they came
        lock, users = self._serial.get(uuid) or (asyncio.Lock(), 0)
        self._serial[uuid] = lock, users + 1
        try:
            async with lock:
                await self._run(handler, op, uuid, env.payload)
        finally:
            lock, users = self._serial[uuid]
            if users == 1:
                del self._serial[uuid]
            else:
                self._serial[uuid] = lock, users - 1

    async def _run(self, handler: Operation, op: str, uuid: str,
                   payload: Mapping[str, Any]) -> None:
        instance = await conductor.get_instance(self.rt, uuid,
                                                extras=op not in BARE_OPERATIONS)
        if instance is None:
            return
        await handler(self, instance, payload)

    async def on_event(self, env: Envelope) -> None:
        event = env.payload.get("event")
        if isinstance(event, dict):
            await events.on_event(self, str(env.payload.get("instance_uuid", "")), event)


# ------------------------------------------------------------ operations


async def spawn(agent: ComputeAgent, instance: dict[str, Any],
                payload: Mapping[str, Any]) -> None:
    uuid = instance["uuid"]
    if (instance["deleted"] or instance["host"] != agent.host
            or instance["vm_state"] != VmState.BUILDING.value
            or instance["task_state"] != TaskState.SPAWNING.value):
        return
    if uuid not in await agent.driver.list_instances():
        log.info("building %s on %s", uuid, agent.host)
        network = await vifs.allocate(agent, instance)
        if network is None:
            return
        try:
            if not await vifs.spawn_guest(agent, instance, network):
                return
        except DriverError as e:
            log.warning("spawn of %s on %s failed: %s", uuid, agent.host, e.message)
            await conductor.build_failed(agent.rt, uuid, agent.host, e.message)
            return
    info = await agent.driver.get_info(uuid)
    await conductor.build_succeeded(agent.rt, uuid, agent.host, power_state=info.power_state)
    fresh = await conductor.get_instance(agent.rt, uuid, extras=False)
    if fresh is not None and (fresh["deleted"] or fresh["task_state"] ==
                              TaskState.DELETING.value):
        # deleted while spawning: the delete's destroy may have run before the spawn
        await destroy(agent, fresh, payload)


async def destroy(agent: ComputeAgent, instance: dict[str, Any],
                  payload: Mapping[str, Any]) -> None:
    agent.events.clear(instance["uuid"])
    await agent.driver.destroy(instance["uuid"])
    await conductor.delete_finished(agent.rt, instance["uuid"])


async def cache_images(agent: ComputeAgent, payload: Mapping[str, Any]) -> None:
    """2.81 aggregate image caching: fetch each image into the driver's cache."""
    for image_id in [str(i) for i in payload.get("image_ids") or []]:
        try:
            await agent.driver.cache_images([image_id])
        except NuboError as e:
            log.warning("image %s not cached on %s: %s", image_id, agent.host, e.message)


register("spawn", spawn)
register("destroy", destroy, extras=False)
HOST_OPERATIONS[aggregates.CACHE_IMAGES_OP] = cache_images

# the server actions' operations (stop, start, reboot, ...: nubo/compute/agent/actions.py)
from nubo.compute.agent import actions as _server_actions  # noqa: E402
from nubo.compute.agent import vifs  # noqa: E402

_server_actions.register_all()
vifs.register_all()
