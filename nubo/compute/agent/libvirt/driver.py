"""LibvirtDriver: guests as QEMU domains of the host's libvirtd.

A guest is the domain ``nubo-<uuid>`` with its files in ``<instances>/<uuid>/``:
``disk`` (a qcow2 overlay over the cached base image), ``disk.config`` (the
config drive), ``console.log`` (the serial console, written by virtlogd).
Moves, rescue and snapshots are in ``moves.py``; power actions in ``power.py``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import socket
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from nubo.compute import diagnostics
from nubo.compute.agent.driver import (
    ComputeDriver,
    DomainInfo,
    DomainNotFound,
    DriverError,
    HostResources,
    Instance,
    SpawnFailed,
)
from nubo.compute.agent.libvirt import (
    bridges,
    config_drive,
    daemons,
    disks,
    domain_xml,
    guest,
    power,
)
from nubo.compute.agent.libvirt.connection import Connection
from nubo.compute.agent.libvirt.image_cache import CachedImage, ImageCache
from nubo.core.errors import NuboError
from nubo.core.owner import owner_of
from nubo.core.runtime import Runtime

log = logging.getLogger(__name__)
# os-getConsoleOutput reads at most this much of the end of the log (Nova's limit)
MAX_CONSOLE_BYTES = 100 * 1024


def instances_root(rt: Runtime) -> Path:
    configured = rt.settings.compute.instances_path
    return Path(configured) if configured else rt.settings.state_path / "instances"


def direct_io_supported(directory: Path) -> bool:
    """Whether files there can be opened with O_DIRECT (disk cache mode "none")."""
    directory.mkdir(parents=True, exist_ok=True)
    probe = directory / ".direct-io-probe"
    try:
        fd = os.open(probe, os.O_CREAT | os.O_WRONLY | getattr(os, "O_DIRECT", 0), 0o600)
        os.close(fd)
        return True
    except OSError:
        return False
    finally:
        probe.unlink(missing_ok=True)


class LibvirtDriver(ComputeDriver):
    def __init__(self, rt: Runtime, host: str, *, uri: str | None = None,
                 netns: str | None = None) -> None:
        self.rt = rt
        self.host = host
        self.settings = rt.settings.compute
        self.netns = netns
        # a host that is a network namespace runs libvirtd of its own there
        self.private = (daemons.PrivateDaemons(rt.settings.state_path / "libvirt" / host,
                                               netns) if netns else None)
        self.uri = self.private.uri if self.private else (uri or self.settings.libvirt_uri)
        self.paths = guest.InstancePaths(instances_root(rt) / host)
        self.conn = Connection(self.uri)
        self.cache = ImageCache(self.paths.base_dir, self._fetch)
        self.virt_type = "qemu"
        self.disk_cache = "none"
        self._resources: HostResources | None = None
        # where libvirtd writes each domain's QEMU log (removed with the guest)
        self.qemu_log_dir: Path | None = (
            self.private.qemu_log_dir if self.private else
            daemons.QEMU_LOG_DIR if daemons.socket_of(self.uri) == daemons.SYSTEM_SOCKET
            else None)
        self._locks: dict[str, asyncio.Lock] = {}
        # the state directory's tag, on every domain this driver defines
        self.owner = owner_of(rt.settings.state_path)

    # ------------------------------------------------------------- host

    async def start(self) -> None:
        await asyncio.to_thread(daemons.open_dev_kvm)
        if self.private is not None:
            await self.private.ensure_running()
        else:
            await daemons.ensure_running(self.uri)
        caps = await self.conn.call(lambda c: c.getCapabilities())
        self.virt_type, why = daemons.choose_virt_type(self.settings.virt_type,
                                                       daemons.kvm_facts(caps))
        if why:
            log.warning("compute host %s: virt_type kvm is not usable (%s); guests run "
                        "under QEMU's TCG (virt_type qemu)", self.host, why)
        direct = await asyncio.to_thread(direct_io_supported, self.paths.root)
        self.disk_cache = "none" if direct else "writeback"
        self._resources = await self._probe_resources()
        log.info("compute host %s: libvirt %s, virt_type %s, instances in %s", self.host,
                 self.uri, self.virt_type, self.paths.root)

    async def _probe_resources(self) -> HostResources:
        model, memory_mb, cpus, *_rest = await self.conn.call(lambda c: c.getInfo())
        version = int(await self.conn.call(lambda c: c.getVersion()))
        total = (await asyncio.to_thread(shutil.disk_usage, self.paths.root)).total
        cpu = {"arch": str(model), "model": "qemu64" if self.virt_type == "qemu" else "host",
               "vendor": "nubo", "topology": {"cells": 1, "sockets": 1, "cores": int(cpus),
                                              "threads": 1}}
        return HostResources(vcpus=int(cpus), memory_mb=int(memory_mb),
                             local_gb=total // disks.GIB, hypervisor_type="QEMU",
                             hypervisor_version=version, cpu_info=json.dumps(cpu),
                             host_ip=_host_ip())

    def host_resources(self) -> HostResources:
        if self._resources is None:
            raise DriverError("the libvirt driver was not started")
        return self._resources

    def lock(self, uuid: str) -> asyncio.Lock:
        return self._locks.setdefault(uuid, asyncio.Lock())

    # -------------------------------------------------------- inventory

    async def list_instances(self) -> list[str]:
        def mine(conn: Any) -> list[str]:
            out = []
            for dom in conn.listAllDomains(0):
                if not dom.name().startswith(guest.NAME_PREFIX):
                    continue
                labels = domain_xml.labels_of(dom.XMLDesc(0))
                # another nubo's guests on this libvirtd are not ours, not orphans
                if labels.get("owner") == self.owner and labels.get("host") == self.host:
                    out.append(dom.UUIDString())
            return sorted(out)

        return await self.conn.call(mine)

    async def get_info(self, uuid: str) -> DomainInfo:
        def read(dom: Any) -> DomainInfo:
            state, max_kib, _mem, vcpus, _cpu_time = dom.info()
            return DomainInfo(uuid, power.power_state(int(state),
                                                      bool(dom.hasManagedSaveImage(0))),
                              int(vcpus), int(max_kib) // 1024)

        return await self.conn.on_domain(uuid, read)

    # ------------------------------------------------------------ spawn

    async def image_record(self, image_id: str) -> dict[str, Any]:
        """The image as the image service shows it to compute's service user."""
        from nubo.compute import clients
        from nubo.compute.network_client import admin_context

        try:
            return await clients.show_image(self.rt, admin_context(), image_id)
        except NuboError as e:
            raise DriverError(f"Image {image_id}: {e.message}") from None

    async def _fetch(self, image_id: str) -> tuple[Mapping[str, Any], AsyncIterator[bytes]]:
        from nubo.compute import clients
        from nubo.compute.network_client import admin_context

        image = await self.image_record(image_id)
        if image.get("status") != "active":
            raise DriverError(f"Image {image_id} is {image.get('status')}, not active")
        return image, clients.download_image(self.rt, admin_context(), image_id)

    async def cache_images(self, image_ids: list[str]) -> None:
        for image_id in image_ids:
            await self.cache.ensure(image_id)

    async def bases(self, instance: Instance) -> tuple[CachedImage, dict[str, Path]]:
        """The cached root image and the kernel/ramdisk files of the instance's image."""
        image_ref = str(instance.get("image_ref") or "")
        if not image_ref:
            raise DriverError("the libvirt driver boots servers from images only")
        root = await self.cache.ensure(image_ref)
        extra = {}
        for key in ("kernel_id", "ramdisk_id"):
            image_id = guest.image_property(instance, key)
            if image_id:
                extra[image_id] = (await self.cache.ensure(image_id)).path
        return root, extra

    async def prepare_disk(self, instance: Instance, root: CachedImage) -> None:
        """The instance's overlay, made when missing and grown to the flavor."""
        uuid = str(instance["uuid"])
        disk = self.paths.disk(uuid)
        size = disks.root_size(int((instance.get("flavor") or {}).get("disk") or 0),
                               root.virtual_size)
        if not disk.exists():
            await disks.create_overlay(root.path, root.format, disk, size)
        elif size is not None:
            await disks.grow(disk, size)

    async def build_spec(self, instance: Instance, base_of: Mapping[str, Path]
                         ) -> guest.GuestSpec:
        """The guest's spec, its config drive (re)made when it has one."""
        uuid = str(instance["uuid"])
        wants_drive = guest.wants_config_drive(instance, self.settings.force_config_drive)
        if wants_drive:
            await config_drive.build(instance, self.paths.config_drive(uuid))
        return guest.spec_of(instance, self.paths, virt_type=self.virt_type, host=self.host,
                             owner=self.owner, base_of=base_of, config_drive=wants_drive,
                             disk_cache=self.disk_cache)

    async def define(self, spec: guest.GuestSpec, *, start: bool = True) -> None:
        """(Re)define the domain of ``spec`` and start it unless told not to."""
        for nic in spec.nics:
            await bridges.ensure(nic.bridge, nic.mtu, self.netns)
        xml = domain_xml.render(spec)

        def run(conn: Any) -> None:
            dom = conn.defineXML(xml)
            if start and not dom.isActive():
                dom.create()

        await self.conn.call(run)

    async def spawn(self, instance: Instance) -> None:
        uuid = str(instance["uuid"])
        async with self.lock(uuid):
            try:
                root, base_of = await self.bases(instance)
                await self.prepare_disk(instance, root)
                await self.define(await self.build_spec(instance, base_of))
            except DriverError as e:
                await self._remove(uuid)
                raise SpawnFailed(e.message) from None

    # ---------------------------------------------------------- destroy

    async def destroy(self, uuid: str) -> None:
        async with self.lock(uuid):
            await self._remove(uuid)
        self._locks.pop(uuid, None)

    async def _remove(self, uuid: str) -> None:
        """Stop and undefine the domain, remove its files and the bridges it alone
        used (no error when any of it is already gone)."""
        used: list[str] = []

        def undefine(dom: Any) -> None:
            used.extend(domain_xml.bridges_of(dom.XMLDesc(0)))
            if dom.isActive():
                dom.destroy()
            dom.undefineFlags(power.undefine_flags())

        try:
            await self.conn.on_domain(uuid, undefine)
        except DomainNotFound:
            pass
        for path in (self.paths.dir(uuid), self.paths.resize_dir(uuid)):
            await asyncio.to_thread(shutil.rmtree, path, True)
        if self.qemu_log_dir is not None:
            log_file = self.qemu_log_dir / f"{guest.domain_name(uuid)}.log"
            await asyncio.to_thread(log_file.unlink, True)
        for bridge in used:
            await bridges.remove_if_unused(bridge, self.netns)

    # ------------------------------------------------------------ power

    async def shutdown_timeout(self, uuid: str) -> float:
        """Seconds the guest may take to power off cleanly: its image's
        ``os_shutdown_timeout``, else ``[compute] shutdown_timeout``."""
        labels = domain_xml.labels_of(await self.conn.on_domain(uuid, lambda d: d.XMLDesc(0)))
        own = labels.get("shutdown_timeout", "")
        return float(own) if own.isdigit() else self.settings.shutdown_timeout

    async def power_off(self, uuid: str) -> None:
        await power.clean_stop(self.conn, uuid, await self.shutdown_timeout(uuid))

    async def power_on(self, uuid: str) -> None:
        await power.start(self.conn, uuid)

    async def reboot(self, uuid: str, *, hard: bool = False) -> None:
        await power.reboot(self.conn, uuid, hard=hard,
                           grace=await self.shutdown_timeout(uuid))

    async def pause(self, uuid: str) -> None:
        await power.pause(self.conn, uuid)

    async def unpause(self, uuid: str) -> None:
        await power.unpause(self.conn, uuid)

    async def suspend(self, uuid: str) -> None:
        await power.suspend(self.conn, uuid)

    async def resume(self, uuid: str) -> None:
        await power.resume(self.conn, uuid)

    async def trigger_crash_dump(self, uuid: str) -> None:
        await power.crash_dump(self.conn, uuid)

    # ---------------------------------------------------------- console

    async def get_console_output(self, uuid: str) -> str:
        await self.get_info(uuid)           # DomainNotFound when there is no guest
        return await asyncio.to_thread(_tail, self.paths.console_log(uuid), MAX_CONSOLE_BYTES)

    async def get_diagnostics(self, uuid: str) -> diagnostics.Reading:
        """libvirt's own figures: state, vCPU times, balloon, per-tap and per-disk
        counters (those of a guest that is not running are unknown: None)."""
        virt_type = self.virt_type

        def read(dom: Any) -> diagnostics.Reading:
            xml = dom.XMLDesc(0)
            state, max_kib, mem_kib, vcpus, _cpu_time = dom.info()
            running = bool(dom.isActive())
            reading = diagnostics.Reading(
                state=power.power_state(int(state), bool(dom.hasManagedSaveImage(0))),
                driver="libvirt", hypervisor=virt_type, num_cpus=int(vcpus),
                memory_max_mib=int(max_kib) // 1024,
                memory_used_mib=int(mem_kib) // 1024 if running else None,
                cpu_times_ns=[int(v[2]) for v in dom.vcpus()[0]] if running
                else [None] * int(vcpus))
            for dev, mac in domain_xml.interface_targets(xml):
                nic = diagnostics.Nic(mac=mac, device=dev)
                if running:
                    (nic.rx_octets, nic.rx_packets, nic.rx_errors, nic.rx_drop, nic.tx_octets,
                     nic.tx_packets, nic.tx_errors, nic.tx_drop) = map(
                        int, dom.interfaceStats(dev))
                reading.nics.append(nic)
            for dev in domain_xml.disk_targets(xml):
                disk = diagnostics.Disk(device=dev)
                if running:
                    (disk.read_requests, disk.read_bytes, disk.write_requests,
                     disk.write_bytes, disk.errors) = map(int, dom.blockStats(dev))
                reading.disks.append(disk)
            return reading

        return await self.conn.on_domain(uuid, read)

    # -------------------------------------------------------- interfaces

    async def attach_interface(self, instance: Instance, vif: Mapping[str, Any]) -> None:
        nic = guest.nics_of([vif])[0]
        await bridges.ensure(nic.bridge, nic.mtu, self.netns)
        xml = domain_xml.interface_xml(nic)
        lv = _lv()

        def attach(dom: Any) -> None:
            if domain_xml.interface_of(dom.XMLDesc(0), nic.mac) is not None:
                return
            flags = lv.VIR_DOMAIN_AFFECT_CONFIG
            if dom.isActive():
                flags |= lv.VIR_DOMAIN_AFFECT_LIVE
            dom.attachDeviceFlags(xml, flags)

        await self.conn.on_domain(str(instance["uuid"]), attach)

    async def detach_interface(self, instance: Instance, vif: Mapping[str, Any]) -> None:
        mac = str(vif.get("address") or "")
        lv = _lv()

        def detach(dom: Any) -> None:
            xml = domain_xml.interface_of(dom.XMLDesc(lv.VIR_DOMAIN_XML_INACTIVE), mac)
            live = domain_xml.interface_of(dom.XMLDesc(0), mac) if dom.isActive() else None
            if live is not None:
                dom.detachDeviceFlags(live, lv.VIR_DOMAIN_AFFECT_LIVE)
            if xml is not None:
                dom.detachDeviceFlags(xml, lv.VIR_DOMAIN_AFFECT_CONFIG)

        await self.conn.on_domain(str(instance["uuid"]), detach)

    # ------------------------------------------------- moves, rescue, snapshots

    async def snapshot(self, uuid: str) -> bytes:
        from nubo.compute.agent.libvirt import moves

        return await moves.snapshot_bytes(self, uuid)

    async def snapshot_data(self, uuid: str) -> tuple[str, AsyncIterator[bytes]]:
        from nubo.compute.agent.libvirt import moves

        return await moves.snapshot_stream(self, uuid)

    async def migrate_disk_and_power_off(self, uuid: str, dest_host: str) -> None:
        from nubo.compute.agent.libvirt import moves

        await moves.migrate_disk_and_power_off(self, uuid, dest_host)

    async def finish_migration(self, instance: Instance) -> None:
        from nubo.compute.agent.libvirt import moves

        await moves.finish_migration(self, instance)

    async def finish_revert_migration(self, instance: Instance) -> None:
        from nubo.compute.agent.libvirt import moves

        await moves.finish_revert_migration(self, instance)

    async def confirm_migration(self, uuid: str) -> None:
        await asyncio.to_thread(shutil.rmtree, self.paths.resize_dir(uuid), True)

    async def rescue(self, instance: Instance, rescue_image: str | None) -> None:
        from nubo.compute.agent.libvirt import moves

        await moves.rescue(self, instance, rescue_image)

    async def unrescue(self, uuid: str) -> None:
        from nubo.compute.agent.libvirt import moves

        await moves.unrescue(self, uuid)


def _lv() -> Any:
    from nubo.compute.agent.libvirt.connection import constants

    return constants()


def _tail(path: Path, limit: int) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - limit))
            return fh.read().decode(errors="replace")
    except FileNotFoundError:
        return ""


def _host_ip() -> str | None:
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return None
