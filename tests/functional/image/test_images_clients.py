"""The real clients: openstacksdk and the ``openstack image`` CLI."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.cloud import Cloud
from tests.functional.image.conftest import Caller, qemu_img, unique


def test_sdk_image_lifecycle(cloud: Cloud, admin_conn: Any, tmp_path: Path) -> None:
    disk = qemu_img(tmp_path, "d.qcow2", "qcow2", "8M").read_bytes()
    image = admin_conn.image.create_image(name=unique("sdk"), disk_format="qcow2",
                                          container_format="bare", data=disk,
                                          visibility="private", validate_checksum=False)
    image = admin_conn.image.get_image(image.id)
    assert image.status == "active"
    assert image.virtual_size == 8 * 1024 * 1024
    assert admin_conn.image.download_image(image).content == disk
    admin_conn.image.update_image(image, name="renamed", my_key="v")
    image = admin_conn.image.get_image(image.id)
    assert image.name == "renamed"
    assert image.properties["my_key"] == "v"
    admin_conn.image.add_tag(image, "t1")
    assert admin_conn.image.get_image(image.id).tags == ["t1"]
    admin_conn.image.remove_tag(image, "t1")
    admin_conn.image.deactivate_image(image)
    assert admin_conn.image.get_image(image.id).status == "deactivated"
    admin_conn.image.reactivate_image(image)
    admin_conn.image.delete_image(image)
    assert admin_conn.image.find_image(image.id) is None


def test_sdk_members(admin_conn: Any) -> None:
    project = admin_conn.identity.create_project(name=unique("p"), domain_id="default")
    image = admin_conn.image.create_image(name=unique("m"), disk_format="raw",
                                          container_format="bare", visibility="shared",
                                          allow_duplicates=True)
    member = admin_conn.image.add_member(image, member_id=project.id)
    assert member.status == "pending"
    assert [m.member_id for m in admin_conn.image.members(image)] == [project.id]
    admin_conn.image.remove_member(member, image)
    assert list(admin_conn.image.members(image)) == []
    admin_conn.image.delete_image(image)


def test_cli_image_commands(cloud: Cloud, admin: Caller, tmp_path: Path) -> None:
    disk = qemu_img(tmp_path, "d.qcow2", "qcow2", "4M")
    name = unique("cli")
    made = cloud.cli_json("image", "create", "--disk-format", "qcow2", "--container-format",
                          "bare", "--file", str(disk), "--property", "os_distro=nubo", name)
    assert made["status"] == "active"
    assert name in [i["Name"] for i in cloud.cli_json("image", "list")]
    cloud.cli("image", "set", "--property", "colour=green", "--min-ram", "64", name)
    shown = cloud.cli_json("image", "show", name)
    assert shown["properties"]["colour"] == "green"
    assert shown["properties"]["os_distro"] == "nubo"
    assert shown["min_ram"] == 64
    out = tmp_path / "saved"
    cloud.cli("image", "save", "--file", str(out), name)
    assert out.read_bytes() == disk.read_bytes()
    cloud.cli("image", "delete", name)
    assert admin.call("GET", f"/images/{made['id']}").status_code == 404


def test_cli_image_create_with_import(cloud: Cloud, admin: Caller, tmp_path: Path) -> None:
    """``--import`` stages the data and imports it with glance-direct."""
    disk = qemu_img(tmp_path, "d.qcow2", "qcow2", "4M")
    name = unique("imp")
    cloud.cli("image", "create", "--import", "--disk-format", "qcow2", "--container-format",
              "bare", "--file", str(disk), name)
    found = admin.call("GET", f"/images?name={name}").json()["images"]
    deadline = time.monotonic() + 30
    while (shown := admin.show(found[0]["id"]))["status"] != "active":
        assert time.monotonic() < deadline, shown["status"]
        time.sleep(0.05)
    assert shown["virtual_size"] == 4 * 1024 * 1024
    assert admin.call("DELETE", f"/images/{shown['id']}").status_code == 204
