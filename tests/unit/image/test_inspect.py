"""The format decision on qemu-img's report."""

from __future__ import annotations

import pytest

from nubo.image.inspect import InspectionFailed, check


def test_matching_formats_pass_with_virtual_size() -> None:
    assert check("qcow2", {"format": "qcow2", "virtual-size": 1024}).virtual_size == 1024
    assert check("raw", {"format": "raw", "virtual-size": 5}).format == "raw"
    assert check("vhd", {"format": "vpc"}).format == "vpc"
    assert check("iso", {"format": "raw"}).format == "raw"
    assert check("ploop", {"format": "parallels"}).virtual_size is None


@pytest.mark.parametrize(("declared", "detected"), [
    ("raw", "qcow2"), ("qcow2", "raw"), ("vmdk", "raw"), ("vhdx", "vpc"), ("aki", "qcow2")])
def test_mismatch_is_refused(declared: str, detected: str) -> None:
    with pytest.raises(InspectionFailed, match="does not match"):
        check(declared, {"format": detected})


def test_backing_file_and_data_file_are_refused() -> None:
    with pytest.raises(InspectionFailed, match="backing file"):
        check("qcow2", {"format": "qcow2", "backing-filename": "/etc/shadow"})
    with pytest.raises(InspectionFailed, match="external data file"):
        check("qcow2", {"format": "qcow2",
                        "format-specific": {"type": "qcow2", "data": {"data-file": "/x"}}})
