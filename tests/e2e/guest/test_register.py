"""``nubo up`` with ``[compute] guest_image = "always"`` registers the guest as the
cloud's default image: public, kernel_id/ramdisk_id as Nova's AKI/ARI convention,
the data of the build; again after a restart without duplicates, older builds
hidden."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nubo.guest import build
from tests.cloud import Cloud, free_port
from tests.conftest import test_env as cloud_env
from tests.databases import database


@pytest.fixture(scope="module")
def cloud(guest_image: build.GuestImage) -> Iterator[Cloud]:
    with tempfile.TemporaryDirectory(prefix="nubo-test-guest-") as tmp:
        env = {**cloud_env(), "NUBO_COMPUTE__GUEST_IMAGE": "always",
               "NUBO_COMPUTE__GUEST_IMAGE_CACHE": str(guest_image.directory.parent)}
        with database("sqlite", tmp) as url:
            c = Cloud(Path(tmp) / "state", free_port(), url, env=env)
            try:
                c.start()
                yield c
            finally:
                c.stop()


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def guest_images(conn: Any) -> dict[str, Any]:
    return {i.name: i for i in conn.image.images(tag="nubo-guest")}


def test_the_default_image_boots_its_kernel_and_ramdisk(cloud: Cloud,
                                                        guest_image: build.GuestImage) -> None:
    demo = cloud.connect("nubo")  # a project member sees the public images
    found = guest_images(demo)
    assert set(found) == {"nubo-guest", "nubo-guest-kernel", "nubo-guest-ramdisk"}
    disk, kernel, ramdisk = (found[n] for n in ("nubo-guest", "nubo-guest-kernel",
                                                "nubo-guest-ramdisk"))
    assert all(i.visibility == "public" and i.status == "active" for i in found.values())
    assert (disk.disk_format, disk.container_format) == ("qcow2", "bare")
    assert (kernel.disk_format, ramdisk.disk_format) == ("aki", "ari")
    assert disk.kernel_id == kernel.id and disk.ramdisk_id == ramdisk.id
    assert disk.os_command_line == guest_image.command_line
    assert disk.hw_rng_model == "virtio"
    assert disk.checksum == md5(guest_image.disk)
    assert kernel.checksum == md5(guest_image.kernel)
    assert ramdisk.checksum == md5(guest_image.ramdisk)
    assert disk.min_ram == 128


def test_a_restart_keeps_the_images_and_hides_older_builds(cloud: Cloud) -> None:
    admin = cloud.connect()
    before = {n: i.id for n, i in guest_images(admin).items()}
    older = admin.image.create_image(name="nubo-guest", disk_format="qcow2",
                                     container_format="bare", visibility="public",
                                     tags=["nubo-guest"], allow_duplicates=True,
                                     nubo_guest_build="0000000000000000")
    cloud.stop()
    cloud.start()
    admin = cloud.connect()
    after = {i.id for i in admin.image.images(tag="nubo-guest")}
    assert after == set(before.values())  # the same three, the older one hidden
    assert admin.image.get_image(older.id).is_hidden is True
