"""The guest image in a cloud: whether ``nubo up`` builds and registers it
(``[compute] guest_image``), and doing so.

``auto`` does it only when the compute driver boots real guests (libvirt), so a
cloud on the fake driver, and every test cloud, starts as fast as before.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from nubo.core.config import Settings
from nubo.core.errors import ConfigError
from nubo.core.runtime import Runtime
from nubo.guest import build, register

log = logging.getLogger(__name__)
MODES = ("auto", "always", "never")


def wanted(settings: Settings) -> bool:
    """Whether this cloud builds the guest image and registers it."""
    mode = settings.compute.guest_image
    if mode not in MODES:
        raise ConfigError(f"[compute] guest_image must be one of {', '.join(MODES)}, "
                          f"not {mode!r}")
    if "image" not in settings.core.enabled_services:
        return False
    return mode == "always" or (mode == "auto" and settings.compute.driver == "libvirt")


def cache_dir(settings: Settings) -> Path:
    configured = settings.compute.guest_image_cache
    return Path(configured).expanduser() if configured else build.default_cache_dir()


async def install(rt: Runtime) -> register.Registered | None:
    """Build (unless cached) and register the guest image, when the cloud wants it.
    A failure is logged, not raised: the cloud serves without its default image."""
    if not wanted(rt.settings):
        return None
    try:
        image = await asyncio.to_thread(build.build, cache_dir(rt.settings))
        owner = await register.admin_project_id(rt)
        found = await register.register(rt, image, owner=owner)
    except Exception:
        log.exception("the guest image could not be built or registered")
        return None
    log.info("default image %s (kernel %s, ramdisk %s) from guest build %s",
             found.disk_id, found.kernel_id, found.ramdisk_id, image.key)
    return found
