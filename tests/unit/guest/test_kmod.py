"""Kernel modules in load order: dependencies first, built-ins left out."""

from __future__ import annotations

import pytest

from nubo.guest import kmod

DEPS = {
    "virtio_net": ["virtio_ring", "virtio", "net_failover"],
    "net_failover": ["failover"],
    "virtio_pci": ["virtio_ring", "virtio"],
    "virtio": [], "virtio_ring": [], "failover": [],
    "sd_mod": ["scsi_mod", "t10_pi"], "scsi_mod": [], "t10_pi": ["crc_t10dif"],
    "crc_t10dif": [],
}


def test_each_module_comes_after_what_it_depends_on() -> None:
    order = kmod.load_order(["virtio_pci", "virtio_net"], DEPS.__getitem__)
    assert order == ["virtio_ring", "virtio", "virtio_pci", "failover", "net_failover",
                     "virtio_net"]


def test_builtin_modules_are_not_loaded() -> None:
    order = kmod.load_order(["sd_mod"], DEPS.__getitem__, builtin={"scsi_mod", "crc_t10dif"})
    assert order == ["t10_pi", "sd_mod"]


def test_dashes_and_underscores_are_one_name() -> None:
    assert kmod.load_order(["t10-pi"], DEPS.__getitem__) == ["crc_t10dif", "t10_pi"]


def test_a_dependency_cycle_is_refused() -> None:
    cyclic = {"a": ["b"], "b": ["a"]}
    with pytest.raises(kmod.MissingModule, match="circular"):
        kmod.load_order(["a"], cyclic.__getitem__)


def test_the_wanted_list_covers_network_disks_config_drive_and_power_button() -> None:
    for name in ("virtio_net", "virtio_blk", "virtio_rng", "sr_mod", "ata_piix", "ahci",
                 "isofs", "vfat", "button", "evdev"):
        assert name in kmod.WANTED
