"""The owner tag of a state directory (nubo.core.owner)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from nubo.core.owner import owner_of


def test_made_once_and_kept(tmp_path: Path) -> None:
    first = owner_of(tmp_path / "state")
    assert len(first) == 8 and int(first, 16) >= 0
    assert owner_of(tmp_path / "state") == first
    assert (tmp_path / "state" / "owner").read_text().strip() == first
    assert owner_of(tmp_path / "other") != first


def test_the_linux_bridge_drivers_old_tag_is_carried_over(tmp_path: Path) -> None:
    (tmp_path / "linuxbridge").mkdir()
    (tmp_path / "linuxbridge" / "owner").write_text("0a1b2c3d\n")
    assert owner_of(tmp_path) == "0a1b2c3d"
    assert (tmp_path / "owner").read_text().strip() == "0a1b2c3d"


def test_concurrent_first_uses_agree(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        tags = set(pool.map(lambda _: owner_of(tmp_path), range(32)))
    assert len(tags) == 1
    assert not [p for p in tmp_path.iterdir() if p.name != "owner"]
