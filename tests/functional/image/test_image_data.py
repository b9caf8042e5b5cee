"""Image data: upload, download, format inspection, deactivation, import, streaming."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from tests.cloud import Cloud
from tests.functional.image.conftest import Caller, qemu_img


def _store_files(cloud: Cloud) -> set[str]:
    root = cloud.state_dir / "images"
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists(
        ) else set()


def test_upload_then_download_with_hashes(alice: Caller, tmp_path: Path) -> None:
    disk = qemu_img(tmp_path, "d.qcow2", "qcow2", "16M").read_bytes()
    image_id = alice.create(disk_format="qcow2")["id"]
    r = alice.upload(image_id, disk)
    assert r.status_code == 204, r.text
    image = alice.show(image_id)
    assert image["status"] == "active"
    assert image["size"] == len(disk)
    assert image["virtual_size"] == 16 * 1024 * 1024
    assert image["checksum"] == hashlib.md5(disk).hexdigest()
    assert image["os_hash_algo"] == "sha512"
    assert image["os_hash_value"] == hashlib.sha512(disk).hexdigest()
    r = alice.call("GET", f"/images/{image_id}/file")
    assert r.status_code == 200
    assert r.content == disk
    assert r.headers["Content-MD5"] == image["checksum"]
    r = alice.call("GET", f"/images/{image_id}/file", headers={"Range": "bytes=4-9"})
    assert r.status_code == 206
    assert r.content == disk[4:10]
    assert r.headers["Content-Range"] == f"bytes 4-9/{len(disk)}"
    r = alice.call("GET", f"/images/{image_id}/file",
                   headers={"Range": f"bytes={len(disk) + 5}-"})
    assert r.status_code == 416
    # a second upload to an active image conflicts
    assert alice.upload(image_id, disk).status_code == 409


def test_download_of_image_without_data_is_204(alice: Caller) -> None:
    image_id = alice.create()["id"]
    assert alice.call("GET", f"/images/{image_id}/file").status_code == 204


def test_qcow2_with_backing_file_is_refused(alice: Caller, cloud: Cloud,
                                            tmp_path: Path) -> None:
    base = qemu_img(tmp_path, "base.qcow2", "qcow2")
    overlay = qemu_img(tmp_path, "overlay.qcow2", "qcow2", "1M", "-b", str(base), "-F",
                       "qcow2")
    image_id = alice.create(disk_format="qcow2")["id"]
    before = _store_files(cloud)
    r = alice.upload(image_id, overlay.read_bytes())
    assert r.status_code == 400, r.text
    assert "backing file" in r.json()["message"]
    image = alice.show(image_id)
    assert image["status"] == "queued" and image["size"] is None
    assert _store_files(cloud) == before


def test_declared_format_must_match_the_data(alice: Caller, tmp_path: Path) -> None:
    qcow2 = qemu_img(tmp_path, "d.qcow2", "qcow2").read_bytes()
    image_id = alice.create(disk_format="raw")["id"]
    r = alice.upload(image_id, qcow2)
    assert r.status_code == 400
    assert "does not match disk_format" in r.json()["message"]
    assert alice.show(image_id)["status"] == "queued"
    vmdk_id = alice.create(disk_format="vmdk")["id"]
    assert alice.upload(vmdk_id, os.urandom(4096)).status_code == 400
    # the image can still take good data afterwards
    assert alice.upload(image_id, os.urandom(4096)).status_code == 204


def test_upload_needs_formats_and_octet_stream(alice: Caller) -> None:
    r = alice.call("POST", "/images", {"name": "bare"})
    image_id = r.json()["id"]
    assert alice.upload(image_id, b"x" * 10).status_code == 400
    image_id = alice.create()["id"]
    r = alice.call("PUT", f"/images/{image_id}/file", data=b"x",
                   headers={"Content-Type": "text/plain"})
    assert r.status_code == 415


def test_deactivated_image_download_is_403_for_non_admins(alice: Caller, admin: Caller
                                                          ) -> None:
    image_id = alice.create()["id"]
    assert alice.call("POST", f"/images/{image_id}/actions/deactivate").status_code == 403
    alice.upload(image_id, b"\0" * 1024)
    assert alice.call("POST", f"/images/{image_id}/actions/deactivate").status_code == 204
    assert alice.show(image_id)["status"] == "deactivated"
    assert alice.call("GET", f"/images/{image_id}/file").status_code == 403
    assert admin.call("GET", f"/images/{image_id}/file").status_code == 200
    assert alice.call("POST", f"/images/{image_id}/actions/reactivate").status_code == 204
    assert alice.call("GET", f"/images/{image_id}/file").content == b"\0" * 1024


def _wait_status(caller: Caller, image_id: str, status: str) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        image = caller.show(image_id)
        if image["status"] == status:
            return image
        time.sleep(0.05)
    raise AssertionError(f"image {image_id} stayed {image['status']}")


def test_glance_direct_import(alice: Caller, tmp_path: Path) -> None:
    disk = qemu_img(tmp_path, "d.qcow2", "qcow2").read_bytes()
    image_id = alice.create(disk_format="qcow2")["id"]
    body = {"method": {"name": "glance-direct"}}
    assert alice.call("POST", f"/images/{image_id}/import", body).status_code == 409
    r = alice.call("PUT", f"/images/{image_id}/stage", data=disk,
                   headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 204, r.text
    assert alice.show(image_id)["status"] == "uploading"
    bad = {"method": {"name": "web-download", "uri": "http://example.com/x"}}
    assert alice.call("POST", f"/images/{image_id}/import", bad).status_code == 400
    assert alice.call("POST", f"/images/{image_id}/import", body).status_code == 202
    image = _wait_status(alice, image_id, "active")
    assert image["checksum"] == hashlib.md5(disk).hexdigest()
    assert alice.call("GET", f"/images/{image_id}/file").content == disk


def test_failed_import_goes_back_to_queued(alice: Caller, cloud: Cloud) -> None:
    image_id = alice.create(disk_format="qcow2")["id"]
    alice.call("PUT", f"/images/{image_id}/stage", data=b"not qcow2" * 100,
               headers={"Content-Type": "application/octet-stream"})
    r = alice.call("POST", f"/images/{image_id}/import", {"method": {"name": "glance-direct"}})
    assert r.status_code == 202
    _wait_status(alice, image_id, "queued")
    assert not any(image_id in f for f in _store_files(cloud))


def _vm_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_large_upload_and_download_stream(alice: Caller, cloud: Cloud) -> None:
    """200 MiB through the API: the cloud's peak RSS grows far less than that."""
    assert cloud.proc is not None
    size, chunk = 200 * 1024 * 1024, os.urandom(1024 * 1024)

    def body() -> Iterator[bytes]:
        for _ in range(size // len(chunk)):
            yield chunk

    image_id = alice.create()["id"]
    # reset the peak to the current RSS, so earlier peaks cannot hide this one
    Path(f"/proc/{cloud.proc.pid}/clear_refs").write_text("5")
    before = _vm_hwm_kib(cloud.proc.pid)
    r = alice.upload(image_id, body())
    assert r.status_code == 204, r.text
    assert alice.show(image_id)["size"] == size
    with alice.call("GET", f"/images/{image_id}/file", stream=True) as r:
        got = sum(len(c) for c in r.iter_content(1024 * 1024))
    assert got == size
    grown_mib = (_vm_hwm_kib(cloud.proc.pid) - before) / 1024
    assert grown_mib < 64, f"peak RSS grew by {grown_mib:.0f} MiB"
    assert alice.call("DELETE", f"/images/{image_id}").status_code == 204
    assert not (cloud.state_dir / "images" / image_id).exists()
