"""The boot disk's MBR and syslinux configuration."""

from __future__ import annotations

import struct

import pytest

from nubo.guest import disk


def test_mbr_has_the_boot_code_one_active_partition_and_the_signature() -> None:
    record = disk.mbr(b"\xfa" * 100, 2048, 129024)
    assert len(record) == 512
    assert record[:100] == b"\xfa" * 100 and record[100:440] == b"\0" * 340
    entry = record[446:462]
    assert entry[0] == 0x80                     # active
    assert entry[4] == disk.FAT16_LBA
    assert struct.unpack("<II", entry[8:16]) == (2048, 129024)
    assert record[462:510] == b"\0" * 48        # the other three entries are empty
    assert record[510:] == b"\x55\xaa"


def test_mbr_boot_code_must_fit() -> None:
    with pytest.raises(disk.DiskError, match="at most 440"):
        disk.mbr(b"\0" * 441, 2048, 10)


def test_syslinux_boots_the_kernel_and_initramfs_with_the_command_line() -> None:
    cfg = disk.syslinux_cfg("console=ttyS0 quiet")
    assert "LINUX /vmlinuz" in cfg
    assert "INITRD /initrd.img" in cfg
    assert "APPEND console=ttyS0 quiet" in cfg
    assert "TIMEOUT 0" in cfg and "PROMPT 0" in cfg
