"""What the libvirt driver does with a guest's disk beyond booting it: snapshots,
resize and cold migration between hosts, rescue.

Moves follow Nova's libvirt driver. The source powers the guest off, keeps its
files as ``<uuid>_resize`` (for a revert) and copies the disk into the
destination host's instance directory — hosts of one machine share the
filesystem, so the copy is a file copy. The destination caches the image,
points the overlay at its own copy of the base, grows it to the new flavor and
defines the guest. Confirming drops ``<uuid>_resize``; reverting puts it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import uuid as uuidlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nubo.compute.agent.driver import DomainNotFound, DriverError, Instance
from nubo.compute.agent.libvirt import disks, guest, power
from nubo.compute.states import PowerState

if TYPE_CHECKING:
    from nubo.compute.agent.libvirt.driver import LibvirtDriver

CHUNK = 1024 * 1024


# ---------------------------------------------------------------- snapshots


async def snapshot_stream(d: LibvirtDriver, uuid: str) -> tuple[str, AsyncIterator[bytes]]:
    """The guest's disk as one standalone qcow2 image, streamed (and then removed).

    A running or paused guest is saved to disk (managed save) while the disk is
    copied and restored after, so the copy is consistent ("cold" snapshot)."""
    out = d.paths.dir(uuid) / f"snapshot-{uuidlib.uuid4().hex}.qcow2"
    async with d.lock(uuid):
        state = await power.state_of(d.conn, uuid)
        active = state in (PowerState.RUNNING, PowerState.PAUSED)
        if active:
            await d.conn.on_domain(uuid, lambda dom: dom.managedSave(0))
        try:
            await disks.convert(d.paths.disk(uuid), out)
        except DriverError:
            out.unlink(missing_ok=True)
            raise
        finally:
            if active:
                await power.start(d.conn, uuid)
    return "qcow2", _stream(out)


async def _stream(path: Path) -> AsyncIterator[bytes]:
    fh = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(fh.read, CHUNK):
            yield chunk
    finally:
        await asyncio.to_thread(fh.close)
        await asyncio.to_thread(path.unlink, True)


async def snapshot_bytes(d: LibvirtDriver, uuid: str) -> bytes:
    _fmt, chunks = await snapshot_stream(d, uuid)
    return b"".join([chunk async for chunk in chunks])


# ------------------------------------------------------------- resize / migrate


def _copy_disk(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.copying")
    shutil.copyfile(src, tmp)
    tmp.replace(dest)


def _keep_for_revert(paths: guest.InstancePaths, uuid: str) -> None:
    """``<uuid>`` becomes ``<uuid>_resize`` (already done when a retry finds it)."""
    kept = paths.resize_dir(uuid)
    if not kept.exists():
        paths.dir(uuid).rename(kept)


async def migrate_disk_and_power_off(d: LibvirtDriver, uuid: str, dest_host: str) -> None:
    from nubo.compute.agent.libvirt.driver import instances_root

    await power.clean_stop(d.conn, uuid, await d.shutdown_timeout(uuid))
    await asyncio.to_thread(_keep_for_revert, d.paths, uuid)
    dest = guest.InstancePaths(instances_root(d.rt) / dest_host)
    await asyncio.to_thread(_copy_disk, d.paths.resize_dir(uuid) / "disk", dest.disk(uuid))


async def finish_migration(d: LibvirtDriver, instance: Instance) -> None:
    """Destination: the disk that arrived, on this host's base, grown to the new
    flavor; the guest defined (and started unless it was stopped)."""
    uuid = str(instance["uuid"])
    disk = d.paths.disk(uuid)
    if not disk.exists():
        raise DriverError(f"the disk of {uuid} did not arrive on {d.host}")
    root, base_of = await d.bases(instance)
    found = await disks.info(disk)
    backing = found.get("full-backing-filename") or found.get("backing-filename")
    if backing != str(root.path):
        await disks.rebase(disk, root.path, root.format)
    await d.prepare_disk(instance, root)
    spec = await d.build_spec(instance, base_of)
    await d.define(spec, start=bool(instance.get("power_on", True)))


def _restore_kept(paths: guest.InstancePaths, uuid: str) -> None:
    kept = paths.resize_dir(uuid)
    if kept.exists():
        shutil.rmtree(paths.dir(uuid), ignore_errors=True)
        kept.rename(paths.dir(uuid))


async def finish_revert_migration(d: LibvirtDriver, instance: Instance) -> None:
    """Source: the kept files back in place, the guest defined with the old flavor."""
    uuid = str(instance["uuid"])
    with contextlib.suppress(DomainNotFound):
        await power.hard_stop(d.conn, uuid)
    await asyncio.to_thread(_restore_kept, d.paths, uuid)
    _root, base_of = await d.bases(instance)
    spec = await d.build_spec(instance, base_of)
    await d.define(spec, start=bool(instance.get("power_on", True)))


# ------------------------------------------------------------------- rescue


async def _rescue_kernel(d: LibvirtDriver, instance: Instance, image_id: str
                         ) -> guest.KernelBoot | None:
    """Direct kernel boot of the rescue image, when it names a kernel."""
    if image_id == instance.get("image_ref"):
        props: dict[str, Any] = dict(instance.get("system_metadata") or {})
    else:
        record = await d.image_record(image_id)
        props = {f"image_{k}": v for k, v in record.items() if v is not None}
    files = {}
    for key in ("kernel_id", "ramdisk_id"):
        ref = props.get(f"image_{key}")
        if ref:
            files[str(ref)] = (await d.cache.ensure(str(ref))).path
    return guest.kernel_boot({"system_metadata": props}, files)


async def rescue(d: LibvirtDriver, instance: Instance, rescue_image: str | None) -> None:
    """Boot from a fresh disk of ``rescue_image`` (default: the server's image), the
    server's own disk attached second; the normal definition kept to come back."""
    uuid = str(instance["uuid"])
    image_id = rescue_image or str(instance.get("image_ref") or "")
    if not image_id:
        raise DriverError("a server booted from a volume needs a rescue image")
    base = await d.cache.ensure(image_id)
    kernel = await _rescue_kernel(d, instance, image_id)
    saved = d.paths.unrescue_xml(uuid)
    if not saved.exists():
        lv = _lv()
        xml = await d.conn.on_domain(uuid, lambda dom: dom.XMLDesc(
            lv.VIR_DOMAIN_XML_INACTIVE | lv.VIR_DOMAIN_XML_SECURE))
        await asyncio.to_thread(saved.write_text, xml)
    await power.hard_stop(d.conn, uuid)
    rescue_disk = d.paths.rescue_disk(uuid)
    rescue_disk.unlink(missing_ok=True)
    await disks.create_overlay(base.path, base.format, rescue_disk)
    _root, base_of = await d.bases(instance)
    spec = await d.build_spec(instance, base_of)
    await d.define(guest.rescue_spec(spec, rescue_disk, kernel))


async def unrescue(d: LibvirtDriver, uuid: str) -> None:
    saved = d.paths.unrescue_xml(uuid)
    if not saved.exists():
        raise DriverError(f"{uuid} is not rescued on {d.host}")
    xml = await asyncio.to_thread(saved.read_text)
    await power.hard_stop(d.conn, uuid)

    def restore(conn: Any) -> None:
        dom = conn.defineXML(xml)
        if not dom.isActive():
            dom.create()

    await d.conn.call(restore)
    d.paths.rescue_disk(uuid).unlink(missing_ok=True)
    saved.unlink(missing_ok=True)


def _lv() -> Any:
    from nubo.compute.agent.libvirt.connection import constants

    return constants()
