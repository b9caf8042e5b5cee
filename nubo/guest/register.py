"""The guest in the image service: three public images, as Nova's AKI/ARI
convention has them.

- ``nubo-guest-kernel`` (aki): the kernel, an ELF vmlinux QEMU boots through PVH;
- ``nubo-guest-ramdisk`` (ari): the initramfs, the whole guest;
- ``nubo-guest`` (qcow2): a bootable disk with the same kernel (as a bzImage) and
  initramfs behind syslinux, carrying ``kernel_id`` and ``ramdisk_id``. A driver
  that honours them boots the kernel and ramdisk directly (fastest under TCG) with
  ``os_command_line``; one that does not boots the disk, to the same guest.

Image ids are derived from the build's key, so registering is idempotent: a
process that starts again finds its images; a new build adds new ones and hides
(``os_hidden``) the older ``nubo-guest`` images, which stay usable for servers
that were booted from them.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nubo.core.auth.context import RequestContext
from nubo.core.errors import NotFound
from nubo.core.runtime import Runtime
from nubo.guest.build import GuestImage

log = logging.getLogger(__name__)

NAMESPACE = uuid.UUID("6f1b8f0e-5c43-4d0c-9a51-2f0d8e7c6a10")
NAME = "nubo-guest"
TAG = "nubo-guest"
BUILD_PROPERTY = "nubo_guest_build"
CHUNK = 1 << 20


@dataclass(frozen=True)
class Registered:
    disk_id: str
    kernel_id: str
    ramdisk_id: str


def image_id(key: str, role: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{key}/{role}"))


def bodies(image: GuestImage) -> dict[str, dict[str, Any]]:
    """The create bodies of the three images, by role (kernel, ramdisk, disk)."""
    common = {"visibility": "public", "tags": [TAG], BUILD_PROPERTY: image.key}
    kernel_id, ramdisk_id = image_id(image.key, "kernel"), image_id(image.key, "ramdisk")
    return {
        "kernel": {**common, "id": kernel_id, "name": f"{NAME}-kernel",
                   "disk_format": "aki", "container_format": "aki",
                   "nubo_guest_kernel_format": image.kernel_format,
                   "os_kernel_release": image.kernel_release},
        "ramdisk": {**common, "id": ramdisk_id, "name": f"{NAME}-ramdisk",
                    "disk_format": "ari", "container_format": "ari"},
        "disk": {**common, "id": image_id(image.key, "disk"), "name": NAME,
                 "disk_format": "qcow2", "container_format": "bare",
                 "min_ram": 128, "min_disk": 1,
                 "kernel_id": kernel_id, "ramdisk_id": ramdisk_id,
                 "os_command_line": image.command_line, "os_type": "linux",
                 "hw_disk_bus": "virtio", "hw_vif_model": "virtio",
                 "hw_rng_model": "virtio"},
    }


def files(image: GuestImage) -> dict[str, Path]:
    return {"kernel": image.kernel, "ramdisk": image.ramdisk, "disk": image.disk}


def service_context(project_id: str) -> RequestContext:
    """An admin of the project that owns the images (admin, for ``public``)."""
    return RequestContext(user_id="nubo-guest", user_name="nubo-guest", project_id=project_id,
                          roles=("admin", "member", "reader"))


async def admin_project_id(rt: Runtime, name: str = "admin") -> str:
    """The bootstrap admin project, owner of the cloud's public images."""
    from nubo.identity.service import resource

    found = await resource.list_projects(rt, {"name": name, "domain_id": "default"})
    if not found:
        raise NotFound(f"project {name} does not exist")
    return str(found[0]["id"])


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as f:
        while chunk := await asyncio.to_thread(f.read, CHUNK):
            yield chunk


async def _ensure(rt: Runtime, ctx: RequestContext, body: dict[str, Any], path: Path) -> None:
    """The image active with the file's data: made, or left as it is when it is."""
    from nubo.image.service import data, images

    try:
        found = await images.get_image(rt, ctx, body["id"])
    except NotFound:
        found = None
    if found is not None and found["status"] == "active":
        return
    if found is not None:  # a registration that died half-way
        await images.delete_image(rt, ctx, body["id"])
    size = (await asyncio.to_thread(path.stat)).st_size
    await images.create_image(rt, ctx, body)
    await data.upload_image(rt, ctx, body["id"], _chunks(path), size=size)
    log.info("registered %s (%s) from %s", body["name"], body["id"], path)


async def _hide_older(rt: Runtime, ctx: RequestContext, current: set[str]) -> None:
    from nubo.image.service import images

    for found in await images.list_images(rt, ctx, {"tag": TAG}):
        if found["id"] not in current:
            await images.update_image(rt, ctx, found["id"], [("replace", "os_hidden", True)])


async def register(rt: Runtime, image: GuestImage, *, owner: str) -> Registered:
    """The build's three images in the image service, public, owned by ``owner``."""
    ctx = service_context(owner)
    made = bodies(image)
    for role in ("kernel", "ramdisk", "disk"):
        await _ensure(rt, ctx, made[role], files(image)[role])
    await _hide_older(rt, ctx, {b["id"] for b in made.values()})
    return Registered(made["disk"]["id"], made["kernel"]["id"], made["ramdisk"]["id"])
