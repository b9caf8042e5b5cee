"""2.81 aggregate image caching fills the libvirt hosts' base-image caches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cloud import Cloud
from tests.e2e.compute.conftest import poll


def test_precached_images_land_in_each_hosts_cache(lv_cloud: Cloud, conn: Any,
                                                   tmp_path: Path) -> None:
    data = tmp_path / "ones.raw"
    data.write_bytes(b"\1" * (512 * 1024))
    image = conn.image.create_image(name="nb-lv-precache", filename=str(data),
                                    disk_format="raw", container_format="bare", wait=True)
    (host,) = [s.host for s in conn.compute.services(binary="nova-compute")]
    aggregate = conn.compute.create_aggregate(name="nb-lv-cache")
    try:
        conn.compute.add_host_to_aggregate(aggregate, host)
        base = lv_cloud.state_dir / "instances" / host / "_base"
        assert not (base / image.id).exists()
        conn.compute.aggregate_precache_images(aggregate, [image.id])
        poll(lambda: (base / f"{image.id}.json").exists(), what="the image in the cache")
        assert (base / image.id).read_bytes() == data.read_bytes()
    finally:
        conn.compute.remove_host_from_aggregate(aggregate, host)
        conn.compute.delete_aggregate(aggregate)
        conn.image.delete_image(image)
