"""FakeDriver: an in-memory hypervisor for tests and the all-in-one.

Its domains are kept in ``<state_dir>/fake-hosts/<host>/<uuid>.json`` (one file
per domain, so an operation rewrites only its own), and a fake host survives a
restart of the process as a real hypervisor would. Operations take
``[compute] fake_delays`` seconds each; spawns fail on purpose on the hosts in
``fake_fail_spawn_on_hosts``, for flavors (extra spec) or images (property)
carrying ``fake:fail_spawn=true``, and on the hosts such a flavor or image
names in ``fake:fail_spawn_on_hosts=host1,host2``.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nubo.compute.agent.driver import (
    ComputeDriver,
    DomainInfo,
    DomainNotFound,
    DriverError,
    HostResources,
    Instance,
    SpawnFailed,
)
from nubo.compute.diagnostics import Disk, Nic, Reading
from nubo.compute.states import PowerState
from nubo.core.config import ComputeSettings

FAIL_SPAWN = "fake:fail_spawn"
# a comma-separated list of hosts on which spawns of this flavor / image fail
FAIL_SPAWN_ON = "fake:fail_spawn_on_hosts"


class FakeDriver(ComputeDriver):
    def __init__(self, host: str, settings: ComputeSettings, state_dir: Path) -> None:
        self.host = host
        self.settings = settings
        self.path = state_dir / "fake-hosts" / host
        self.domains: dict[str, dict[str, Any]] = {}
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        self.domains = await asyncio.to_thread(self._load)

    def _load(self) -> dict[str, dict[str, Any]]:
        self.path.mkdir(parents=True, exist_ok=True)
        found = {}
        for file in self.path.glob("*.json"):
            try:
                found[file.stem] = json.loads(file.read_text())
            except (OSError, ValueError):   # a write cut short: the domain never was
                file.unlink(missing_ok=True)
        return found

    def domain_file(self, uuid: str) -> Path:
        return self.path / f"{uuid}.json"

    async def _save(self, uuid: str) -> None:
        """Write (or remove) one domain's file, in place: a few hundred bytes cost
        less than a thread's hand-off (in benchmarks the fake hypervisor shares the
        control plane's process)."""
        file = self.domain_file(uuid)
        domain = self.domains.get(uuid)
        if domain is None:
            file.unlink(missing_ok=True)
            return
        tmp = file.with_suffix(".tmp")
        tmp.write_text(json.dumps(domain))
        os.replace(tmp, file)

    async def _delay(self, op: str) -> None:
        seconds = float(self.settings.fake_delays.get(op, 0))
        if seconds > 0:
            await asyncio.sleep(seconds)

    def host_resources(self) -> HostResources:
        s = self.settings
        return HostResources(vcpus=s.fake_vcpus, memory_mb=s.fake_memory_mb,
                             local_gb=s.fake_disk_gb, hypervisor_type="fake",
                             hypervisor_version=1000,
                             cpu_info=json.dumps({"arch": "x86_64", "model": "fake",
                                                  "vendor": "nubo"}),
                             host_ip="127.0.0.1")

    async def list_instances(self) -> list[str]:
        return sorted(self.domains)

    def _domain(self, uuid: str) -> dict[str, Any]:
        try:
            return self.domains[uuid]
        except KeyError:
            raise DomainNotFound(f"no domain {uuid} on fake host {self.host}") from None

    async def get_info(self, uuid: str) -> DomainInfo:
        d = self._domain(uuid)
        return DomainInfo(uuid, PowerState(d["power_state"]), d["vcpus"], d["memory_mb"])

    def _should_fail(self, instance: Instance) -> bool:
        if self.host in self.settings.fake_fail_spawn_on_hosts:
            return True
        specs = (instance.get("flavor") or {}).get("extra_specs") or {}
        sysmeta = instance.get("system_metadata") or {}
        for source, prefix in ((specs, ""), (sysmeta, "image_")):
            if str(source.get(f"{prefix}{FAIL_SPAWN}", "")).lower() == "true":
                return True
            hosts = str(source.get(f"{prefix}{FAIL_SPAWN_ON}", ""))
            if self.host in {h.strip() for h in hosts.split(",")}:
                return True
        return False

    async def spawn(self, instance: Instance) -> None:
        await self._delay("spawn")
        if self._should_fail(instance):
            raise SpawnFailed(f"fake host {self.host} was told to fail spawning")
        flavor = instance["flavor"]
        async with self._lock:
            self.domains[instance["uuid"]] = {
                "name": instance.get("display_name"), "power_state": int(PowerState.RUNNING),
                "vcpus": int(flavor["vcpus"]), "memory_mb": int(flavor["ram"]),
                "image_ref": instance.get("image_ref"),
                "interfaces": [_interface(v) for v in instance.get("network_info") or []],
                "console": self._boot_log(instance),
            }
            await self._save(instance["uuid"])

    def waits_for_vif_plugged(self) -> bool:
        return self.settings.fake_wait_for_vif_plugged

    async def attach_interface(self, instance: Instance, vif: Mapping[str, Any]) -> None:
        await self._delay("attach_interface")
        async with self._lock:
            d = self._domain(instance["uuid"])
            d["interfaces"] = [*(i for i in d.get("interfaces", []) if i["id"] != vif["id"]),
                               _interface(vif)]
            await self._save(instance["uuid"])

    async def detach_interface(self, instance: Instance, vif: Mapping[str, Any]) -> None:
        await self._delay("detach_interface")
        async with self._lock:
            d = self._domain(instance["uuid"])
            d["interfaces"] = [i for i in d.get("interfaces", []) if i["id"] != vif["id"]]
            await self._save(instance["uuid"])

    async def destroy(self, uuid: str) -> None:
        await self._delay("destroy")
        async with self._lock:
            if self.domains.pop(uuid, None) is not None:
                await self._save(uuid)

    async def _set_power(self, uuid: str, op: str, state: PowerState,
                         allowed_from: tuple[PowerState, ...] | None = None) -> None:
        await self._delay(op)
        async with self._lock:
            d = self._domain(uuid)
            if allowed_from is not None and PowerState(d["power_state"]) not in allowed_from:
                raise DriverError(f"cannot {op} a domain that is "
                                  f"{PowerState(d['power_state']).name.lower()}")
            d["power_state"] = int(state)
            d.setdefault("console", []).append(f"{op}")
            await self._save(uuid)

    async def power_off(self, uuid: str) -> None:
        await self._set_power(uuid, "power_off", PowerState.SHUTDOWN)

    async def power_on(self, uuid: str) -> None:
        await self._set_power(uuid, "power_on", PowerState.RUNNING)

    async def reboot(self, uuid: str, *, hard: bool = False) -> None:
        await self._set_power(uuid, "reboot", PowerState.RUNNING)

    async def pause(self, uuid: str) -> None:
        await self._set_power(uuid, "pause", PowerState.PAUSED, (PowerState.RUNNING,))

    async def unpause(self, uuid: str) -> None:
        await self._set_power(uuid, "unpause", PowerState.RUNNING, (PowerState.PAUSED,))

    async def suspend(self, uuid: str) -> None:
        await self._set_power(uuid, "suspend", PowerState.SUSPENDED, (PowerState.RUNNING,))

    async def resume(self, uuid: str) -> None:
        await self._set_power(uuid, "resume", PowerState.RUNNING, (PowerState.SUSPENDED,))

    async def snapshot(self, uuid: str) -> bytes:
        await self._delay("snapshot")
        d = self._domain(uuid)
        return f"fake disk of {uuid} ({d.get('image_ref')})".encode()

    # resize and cold migration: the source keeps its (powered off) domain until
    # the move is confirmed or reverted, as a real hypervisor keeps its disk
    async def migrate_disk_and_power_off(self, uuid: str, dest_host: str) -> None:
        await self._set_power(uuid, "migrate_disk_and_power_off", PowerState.SHUTDOWN)

    async def finish_migration(self, instance: Instance) -> None:
        await self._delay("finish_migration")
        await self._put_domain(instance)

    async def finish_revert_migration(self, instance: Instance) -> None:
        await self._delay("finish_revert_migration")
        await self._put_domain(instance)

    def _boot_log(self, instance: Instance) -> list[str]:
        """A fake guest's console from power-on to its login prompt."""
        flavor = instance.get("flavor") or {}
        return [f"fake console of {instance['uuid']}",
                f"fake host {self.host}: booting {instance.get('display_name')} with "
                f"{flavor.get('vcpus')} vCPU and {flavor.get('ram')} MiB",
                "Starting fake guest services: done.",
                "login:"]

    async def _put_domain(self, instance: Instance) -> None:
        """(Re)define ``instance``'s domain with its flavor; running unless the
        instance says ``power_on`` False."""
        flavor = instance["flavor"]
        running = instance.get("power_on", True)
        async with self._lock:
            old = self.domains.get(instance["uuid"], {})
            self.domains[instance["uuid"]] = {
                "name": instance.get("display_name"),
                "power_state": int(PowerState.RUNNING if running else PowerState.SHUTDOWN),
                "vcpus": int(flavor["vcpus"]), "memory_mb": int(flavor["ram"]),
                "image_ref": instance.get("image_ref"),
                "interfaces": old.get("interfaces", [_interface(v) for v in
                                                     instance.get("network_info") or []]),
                "console": [*old["console"][:-1], *self._boot_log(instance)[1:]]
                if old.get("console") else self._boot_log(instance),
            }
            await self._save(instance["uuid"])

    async def rescue(self, instance: Instance, rescue_image: str | None) -> None:
        await self._set_power(instance["uuid"], "rescue", PowerState.RUNNING)

    async def unrescue(self, uuid: str) -> None:
        await self._set_power(uuid, "unrescue", PowerState.RUNNING)

    async def set_admin_password(self, uuid: str, password: str) -> None:
        d = self._domain(uuid)
        if PowerState(d["power_state"]) != PowerState.RUNNING:
            raise DriverError("cannot set the password of a guest that is not running")
        await self._set_power(uuid, "set_admin_password", PowerState.RUNNING)

    async def trigger_crash_dump(self, uuid: str) -> None:
        d = self._domain(uuid)
        await self._set_power(uuid, "crash_dump (NMI)", PowerState(d["power_state"]))

    async def live_migrate(self, uuid: str, dest_host: str) -> dict[str, Any]:
        await self._delay("live_migration")
        async with self._lock:
            d = self.domains.pop(uuid, None)
            if d is None:
                raise DomainNotFound(f"no domain {uuid} on fake host {self.host}")
            await self._save(uuid)
        return dict(d)

    async def post_live_migration_at_destination(self, instance: Instance,
                                                 state: Mapping[str, Any]) -> None:
        async with self._lock:
            self.domains[instance["uuid"]] = dict(state)
            await self._save(instance["uuid"])

    async def get_console_output(self, uuid: str) -> str:
        return "\n".join(self._domain(uuid).get("console", [])) + "\n"

    async def get_diagnostics(self, uuid: str) -> Reading:
        """A fake guest's reading: its size, its ports and one disk, no traffic."""
        d = self._domain(uuid)
        return Reading(
            state=PowerState(d["power_state"]), driver="libvirt", hypervisor="fake",
            num_cpus=d["vcpus"], memory_max_mib=d["memory_mb"], memory_used_mib=d["memory_mb"],
            cpu_times_ns=[0] * d["vcpus"],
            nics=[Nic(mac=i.get("mac"), device=i.get("devname") or f"tap{i['id'][:11]}",
                      rx_octets=0, rx_packets=0, rx_errors=0, rx_drop=0, tx_octets=0,
                      tx_packets=0, tx_errors=0, tx_drop=0)
                  for i in d.get("interfaces", [])],
            disks=[Disk("vda", 0, 0, 0, 0, 0)],
        )


def _interface(vif: Mapping[str, Any]) -> dict[str, Any]:
    """What a fake domain keeps of a plugged port: its id, tap device and MAC."""
    return {"id": vif["id"], "devname": vif.get("devname"), "mac": vif.get("address")}
