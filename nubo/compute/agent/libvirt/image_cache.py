"""The host's cache of base images: ``<instances>/_base/<image id>``.

An image is fetched from the image service once per host (streamed to a
temporary file, its checksum verified, its format checked against the declared
``disk_format`` the way the image service checks uploads), and kept in a format
a qcow2 overlay can sit on: raw and qcow2 as they are, anything else converted
to qcow2. Kernels and ramdisks (``aki``/``ari``) are kept as they are. Guests'
disks are overlays over these files; the cache key is the image id (an image's
data never changes once active). ``<id>.json`` beside the file records its
format and virtual size, and is written last: a file without it is incomplete.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nubo.compute.agent.driver import DriverError
from nubo.compute.agent.libvirt import disks
from nubo.core.errors import NuboError

log = logging.getLogger(__name__)

OVERLAY_BASES = frozenset({"raw", "qcow2"})
AS_IS = frozenset({"aki", "ari", "raw", "qcow2"})

# image id -> (its Glance record, its data)
Fetch = Callable[[str], Awaitable[tuple[Mapping[str, Any], AsyncIterator[bytes]]]]


@dataclass(frozen=True)
class CachedImage:
    path: Path
    format: str               # raw or qcow2 (what an overlay names as its backing)
    virtual_size: int


def hasher_of(image: Mapping[str, Any]) -> tuple[Any, str] | None:
    """The hash object and expected hex digest that verify ``image``'s data:
    ``os_hash_algo``/``os_hash_value`` when set, else the md5 ``checksum``."""
    algo, value = image.get("os_hash_algo"), image.get("os_hash_value")
    if algo and value:
        try:
            return hashlib.new(str(algo)), str(value)
        except ValueError:
            pass
    if image.get("checksum"):
        return hashlib.md5(usedforsecurity=False), str(image["checksum"])
    return None


def target_format(disk_format: str) -> str | None:
    """None: keep the data as it is; else the format to convert it to."""
    return None if disk_format in AS_IS else "qcow2"


class ImageCache:
    def __init__(self, base_dir: Path, fetch: Fetch) -> None:
        self.base_dir = base_dir
        self._fetch = fetch
        self._locks: dict[str, asyncio.Lock] = {}

    def _record(self, image_id: str) -> Path:
        return self.base_dir / f"{image_id}.json"

    def cached(self, image_id: str) -> CachedImage | None:
        try:
            data = json.loads(self._record(image_id).read_text())
        except (FileNotFoundError, ValueError):
            return None
        path = self.base_dir / image_id
        if not path.exists():
            return None
        return CachedImage(path, str(data["format"]), int(data["virtual_size"]))

    async def ensure(self, image_id: str) -> CachedImage:
        """The cached copy of the image, fetched first when the host has none."""
        lock = self._locks.setdefault(image_id, asyncio.Lock())
        async with lock:
            found = await asyncio.to_thread(self.cached, image_id)
            if found is not None:
                return found
            return await self._fill(image_id)

    async def _fill(self, image_id: str) -> CachedImage:
        await asyncio.to_thread(self.base_dir.mkdir, parents=True, exist_ok=True)
        part = self.base_dir / f".{image_id}.part"
        try:
            image, chunks = await self._fetch(image_id)
            await _download(chunks, part, hasher_of(image), image_id)
            disk_format = str(image.get("disk_format") or "raw")
            found = await self._prepare(part, disk_format)
            final = self.base_dir / image_id
            await asyncio.to_thread(os.replace, found.path, final)
            record = {"format": found.format, "virtual_size": found.virtual_size,
                      "disk_format": disk_format}
            await asyncio.to_thread(self._record(image_id).write_text, json.dumps(record))
        except NuboError as e:
            raise DriverError(f"Image {image_id} could not be cached: {e.message}") from None
        finally:
            for leftover in (part, part.with_suffix(".converted")):
                leftover.unlink(missing_ok=True)
        log.info("cached image %s in %s (%s)", image_id, self.base_dir, found.format)
        return CachedImage(final, found.format, found.virtual_size)

    async def _prepare(self, part: Path, disk_format: str) -> CachedImage:
        """Check the downloaded data is what the image says; convert it if needed."""
        from nubo.image import inspect

        checked = await inspect.inspect(part, disk_format)
        size = checked.virtual_size or (await asyncio.to_thread(part.stat)).st_size
        fmt = target_format(disk_format)
        if fmt is None:
            return CachedImage(part, checked.format if checked.format in OVERLAY_BASES
                               else "raw", size)
        converted = part.with_suffix(".converted")
        await disks.run("qemu-img", "convert", "-q", "-f", checked.format, "-O", fmt,
                        str(part), str(converted))
        return CachedImage(converted, fmt, size)

    def image_ids(self) -> list[str]:
        """The images this host has cached."""
        if not self.base_dir.exists():
            return []
        return sorted(p.stem for p in self.base_dir.glob("*.json"))


async def _download(chunks: AsyncIterator[bytes], path: Path,
                    verify: tuple[Any, str] | None, image_id: str) -> None:
    fh = await asyncio.to_thread(path.open, "wb")
    try:
        async for chunk in chunks:
            if verify is not None:
                verify[0].update(chunk)
            await asyncio.to_thread(fh.write, chunk)
    finally:
        await asyncio.to_thread(fh.close)
    if verify is not None and verify[0].hexdigest() != verify[1]:
        raise DriverError(f"the data of image {image_id} does not match its checksum")
