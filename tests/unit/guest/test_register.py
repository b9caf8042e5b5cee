"""What the image service is given: three images, Nova's AKI/ARI convention."""

from __future__ import annotations

from pathlib import Path

from nubo.guest import build, register

IMAGE = build.GuestImage(Path("/cache/0123456789abcdef"), "0123456789abcdef",
                         "6.1.0-56-amd64", "pvh", "console=ttyS0", {})


def test_the_disk_image_points_at_its_kernel_and_ramdisk() -> None:
    bodies = register.bodies(IMAGE)
    disk, kernel, ramdisk = bodies["disk"], bodies["kernel"], bodies["ramdisk"]
    assert disk["name"] == "nubo-guest"
    assert (disk["disk_format"], disk["container_format"]) == ("qcow2", "bare")
    assert (kernel["disk_format"], kernel["container_format"]) == ("aki", "aki")
    assert (ramdisk["disk_format"], ramdisk["container_format"]) == ("ari", "ari")
    assert disk["kernel_id"] == kernel["id"] and disk["ramdisk_id"] == ramdisk["id"]
    assert disk["os_command_line"] == "console=ttyS0"
    assert disk["hw_rng_model"] == "virtio" and disk["hw_disk_bus"] == "virtio"
    assert all(b["visibility"] == "public" for b in bodies.values())
    assert all(b["nubo_guest_build"] == IMAGE.key for b in bodies.values())


def test_custom_properties_are_strings_as_glance_wants() -> None:
    base = {"id", "name", "visibility", "tags", "disk_format", "container_format",
            "min_ram", "min_disk"}
    for body in register.bodies(IMAGE).values():
        assert all(isinstance(v, str) for k, v in body.items() if k not in base)


def test_ids_follow_the_build() -> None:
    assert register.image_id(IMAGE.key, "disk") == register.image_id(IMAGE.key, "disk")
    assert register.image_id(IMAGE.key, "disk") != register.image_id(IMAGE.key, "kernel")
    assert register.image_id(IMAGE.key, "disk") != register.image_id("fedcba9876543210",
                                                                      "disk")


def test_each_role_is_uploaded_from_its_file() -> None:
    files = register.files(IMAGE)
    assert files["kernel"] == IMAGE.kernel and files["ramdisk"] == IMAGE.ramdisk
    assert files["disk"] == IMAGE.disk
