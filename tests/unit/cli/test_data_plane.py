"""`nubo up --data-plane`: the choice between the real and the fake data plane."""

from __future__ import annotations

from pathlib import Path

import pytest

from nubo.cli import data_plane
from nubo.core.config import load_settings
from nubo.core.errors import ConfigError


def test_auto_is_real_where_nothing_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data_plane, "missing", lambda: None)
    assert data_plane.choose("auto") == ("real", None)
    assert data_plane.choose("real") == ("real", None)


def test_auto_falls_back_to_fake_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data_plane, "missing", lambda: "needs root (…)")
    assert data_plane.choose("auto") == ("fake", "needs root (…)")
    with pytest.raises(ConfigError, match="cannot run here: needs root"):
        data_plane.choose("real")


def test_fake_asks_nothing_of_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    def probe() -> str:
        raise AssertionError("probed")

    monkeypatch.setattr(data_plane, "missing", probe)
    assert data_plane.choose("fake") == ("fake", None)


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ConfigError, match="auto, real, fake"):
        data_plane.choose("kvm")


def test_apply_sets_both_drivers(tmp_path: Path) -> None:
    s = load_settings(environ={"NUBO_COMPUTE__DRIVER": "fake"})
    data_plane.apply(s, "real")
    assert (s.compute.driver, s.network.agent_driver) == ("libvirt", "linuxbridge")
    assert data_plane.is_real(s)
    data_plane.apply(s, "fake")
    assert (s.compute.driver, s.network.agent_driver) == ("fake", "fake")
    assert not data_plane.is_real(s)


def test_the_choice_is_kept_per_state_dir(tmp_path: Path) -> None:
    s = load_settings(overrides={"core": {"state_dir": str(tmp_path / "a")}}, environ={})
    assert data_plane.recorded(s) is None
    data_plane.record(s, "real")
    assert data_plane.recorded(s) == "real"
    other = load_settings(overrides={"core": {"state_dir": str(tmp_path / "b")}}, environ={})
    assert data_plane.recorded(other) is None


def test_missing_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data_plane.os, "geteuid", lambda: 1000)
    assert "needs root" in str(data_plane.missing())
    monkeypatch.setattr(data_plane.os, "geteuid", lambda: 0)
    monkeypatch.setattr(data_plane.shutil, "which",
                        lambda tool: None if tool == "dnsmasq" else f"/usr/bin/{tool}")
    assert data_plane.missing() == ("needs dnsmasq (apt-get install dnsmasq-base; "
                                    "`make up` installs it)")
