"""The compute driver interface: what an agent asks a hypervisor to do.

Drivers translate their back end's errors into ``DriverError`` (or a subclass)
at this boundary. Every method is idempotent where the operation allows it:
destroying a domain that is not there succeeds.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from nubo.compute.diagnostics import Reading
from nubo.compute.states import PowerState
from nubo.core.errors import NuboError

Instance = Mapping[str, Any]


class DriverError(NuboError):
    """The hypervisor refused or failed an operation."""


class SpawnFailed(DriverError):
    """A guest could not be started: the build is rescheduled to another host."""


class DomainNotFound(DriverError):
    status = 404


@dataclass(frozen=True)
class DomainInfo:
    uuid: str
    power_state: PowerState
    vcpus: int
    memory_mb: int


@dataclass(frozen=True)
class HostResources:
    vcpus: int
    memory_mb: int
    local_gb: int
    hypervisor_type: str
    hypervisor_version: int
    cpu_info: str = "{}"
    host_ip: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"vcpus": self.vcpus, "memory_mb": self.memory_mb, "local_gb": self.local_gb,
                "hypervisor_type": self.hypervisor_type,
                "hypervisor_version": self.hypervisor_version, "cpu_info": self.cpu_info,
                "host_ip": self.host_ip}


class ComputeDriver(abc.ABC):
    """One hypervisor host."""

    @abc.abstractmethod
    async def start(self) -> None:
        """Connect / load state; called once before any other method."""

    @abc.abstractmethod
    def host_resources(self) -> HostResources: ...

    @abc.abstractmethod
    async def list_instances(self) -> list[str]:
        """The uuids of the domains this host has."""

    @abc.abstractmethod
    async def get_info(self, uuid: str) -> DomainInfo:
        """DomainNotFound when the host has no such domain."""

    @abc.abstractmethod
    async def spawn(self, instance: Instance) -> None:
        """Create and start the guest; SpawnFailed when it cannot."""

    @abc.abstractmethod
    async def destroy(self, uuid: str) -> None:
        """Stop and remove the guest and its disks (no error if absent)."""

    @abc.abstractmethod
    async def power_off(self, uuid: str) -> None: ...

    @abc.abstractmethod
    async def power_on(self, uuid: str) -> None: ...

    @abc.abstractmethod
    async def reboot(self, uuid: str, *, hard: bool = False) -> None: ...

    @abc.abstractmethod
    async def pause(self, uuid: str) -> None: ...

    @abc.abstractmethod
    async def unpause(self, uuid: str) -> None: ...

    @abc.abstractmethod
    async def suspend(self, uuid: str) -> None: ...

    @abc.abstractmethod
    async def resume(self, uuid: str) -> None: ...

    @abc.abstractmethod
    async def snapshot(self, uuid: str) -> bytes:
        """The guest's root disk as image data."""

    async def snapshot_data(self, uuid: str) -> tuple[str, AsyncIterator[bytes]]:
        """The guest's root disk as image data, streamed: its disk format and bytes
        (by default the bytes of ``snapshot``, as raw)."""
        data = await self.snapshot(uuid)

        async def chunks() -> AsyncIterator[bytes]:
            yield data

        return "raw", chunks()

    @abc.abstractmethod
    async def get_console_output(self, uuid: str) -> str: ...

    @abc.abstractmethod
    async def get_diagnostics(self, uuid: str) -> Reading:
        """What the hypervisor knows of the guest's state and counters."""

    async def cache_images(self, image_ids: list[str]) -> None:
        """Fetch images into the host's image cache ahead of use (2.81 aggregate
        image caching); a driver without a cache has nothing to do."""
        return None

    # networking: a guest's ports (``instance["network_info"]`` at spawn: one VIF per
    # port, see nubo.compute.network_info)
    def waits_for_vif_plugged(self) -> bool:
        """Whether a spawn waits for networking's ``network-vif-plugged`` events of
        the guest's ports (libvirt does: the guest starts once its taps are wired)."""
        return True

    async def attach_interface(self, instance: Instance, vif: Mapping[str, Any]) -> None:
        raise DriverError("this driver cannot attach interfaces")

    async def detach_interface(self, instance: Instance, vif: Mapping[str, Any]) -> None:
        raise DriverError("this driver cannot detach interfaces")

    # hooks the server actions fill in (resize, migrate, rescue)
    async def migrate_disk_and_power_off(self, uuid: str, dest_host: str) -> None:
        raise DriverError("this driver cannot migrate")

    async def finish_migration(self, instance: Instance) -> None:
        raise DriverError("this driver cannot migrate")

    async def finish_revert_migration(self, instance: Instance) -> None:
        raise DriverError("this driver cannot migrate")

    async def confirm_migration(self, uuid: str) -> None:
        """Source of a confirmed move that stayed on this host: drop what it kept
        for a revert (a move to another host destroys the source's guest instead)."""
        return None

    async def rescue(self, instance: Instance, rescue_image: str | None) -> None:
        raise DriverError("this driver cannot rescue")

    async def unrescue(self, uuid: str) -> None:
        raise DriverError("this driver cannot rescue")

    async def set_admin_password(self, uuid: str, password: str) -> None:
        raise DriverError("this driver cannot set an admin password")

    async def trigger_crash_dump(self, uuid: str) -> None:
        raise DriverError("this driver cannot trigger a crash dump")

    async def live_migrate(self, uuid: str, dest_host: str) -> dict[str, Any]:
        """Send the running guest to ``dest_host``; what the destination needs to
        take it over (``post_live_migration_at_destination``)."""
        raise DriverError("this driver cannot live-migrate")

    async def post_live_migration_at_destination(self, instance: Instance,
                                                 state: Mapping[str, Any]) -> None:
        raise DriverError("this driver cannot live-migrate")
