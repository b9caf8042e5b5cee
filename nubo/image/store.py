"""The filesystem store: image data as files under ``<state_dir>/images/``.

Active data lives at ``<dir>/<image id>``; data staged for an interoperable import
at ``<dir>/staging/<image id>``. Incoming data is written to a temporary file in
the same directory, hashed as it arrives, and only renamed into place once it is
complete and accepted, so a reader never sees half an image.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from nubo.core.config import Settings

CHUNK = 1024 * 1024
FLUSH_AT = 1024 * 1024


@dataclass(frozen=True)
class Written:
    """A complete temporary file and what was learnt while writing it."""

    path: Path
    size: int
    md5: str
    sha512: str


class TooLarge(Exception):
    """The data passed the size the caller allowed."""


@dataclass(frozen=True)
class FileStore:
    root: Path

    @classmethod
    def from_settings(cls, settings: Settings) -> FileStore:
        configured = settings.image.store_dir
        return cls(Path(configured).expanduser() if configured
                   else settings.state_path / "images")

    def path(self, image_id: str) -> Path:
        return self.root / image_id

    def staged(self, image_id: str) -> Path:
        return self.root / "staging" / image_id

    def has_data(self, image_id: str) -> bool:
        return self.path(image_id).is_file()

    async def write(self, image_id: str, chunks: AsyncIterator[bytes], *,
                    limit: int | None = None, staging: bool = False) -> Written:
        """Write ``chunks`` to a temporary file beside the final place, hashing them.

        Raises TooLarge (and leaves nothing behind) once more than ``limit`` bytes came.
        """
        final = self.staged(image_id) if staging else self.path(image_id)
        await asyncio.to_thread(final.parent.mkdir, parents=True, exist_ok=True)
        tmp = final.with_name(f".{image_id}.{uuid.uuid4().hex}.part")
        md5, sha512 = hashlib.md5(usedforsecurity=False), hashlib.sha512()
        size = 0
        fh = await asyncio.to_thread(tmp.open, "wb")
        try:
            pending: list[bytes] = []
            pending_size = 0
            async for chunk in chunks:
                size += len(chunk)
                if limit is not None and size > limit:
                    raise TooLarge(size)
                pending.append(chunk)
                pending_size += len(chunk)
                if pending_size >= FLUSH_AT:
                    await asyncio.to_thread(_write, fh.write, pending, md5, sha512)
                    pending, pending_size = [], 0
            await asyncio.to_thread(_write, fh.write, pending, md5, sha512)
            await asyncio.to_thread(fh.close)
        except BaseException:
            fh.close()
            await asyncio.to_thread(tmp.unlink, missing_ok=True)
            raise
        return Written(tmp, size, md5.hexdigest(), sha512.hexdigest())

    async def commit(self, written: Path, image_id: str, *, staging: bool = False) -> None:
        final = self.staged(image_id) if staging else self.path(image_id)
        await asyncio.to_thread(os.replace, written, final)

    async def discard(self, path: Path) -> None:
        await asyncio.to_thread(path.unlink, missing_ok=True)

    async def delete(self, image_id: str) -> None:
        """Remove an image's data and any staged data (nothing there is fine)."""
        for path in (self.path(image_id), self.staged(image_id)):
            await asyncio.to_thread(path.unlink, missing_ok=True)

    async def read(self, image_id: str, start: int = 0,
                   end: int | None = None) -> AsyncIterator[bytes]:
        """Stream bytes ``start`` to ``end`` (inclusive) of an image's data."""
        fh = await asyncio.to_thread(self.path(image_id).open, "rb")
        try:
            await asyncio.to_thread(fh.seek, start)
            left = None if end is None else end - start + 1
            while left is None or left > 0:
                want = CHUNK if left is None else min(CHUNK, left)
                chunk = await asyncio.to_thread(fh.read, want)
                if not chunk:
                    break
                if left is not None:
                    left -= len(chunk)
                yield chunk
        finally:
            await asyncio.to_thread(fh.close)


def _write(write: Callable[[bytes], int], chunks: list[bytes], *hashes: hashlib._Hash) -> None:
    for chunk in chunks:
        write(chunk)
        for h in hashes:
            h.update(chunk)
