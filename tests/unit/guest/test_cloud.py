"""Whether a cloud builds and registers the guest image ([compute] guest_image)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nubo.core.config import Settings, load_settings
from nubo.core.errors import ConfigError
from nubo.guest import cloud


def settings(**compute: str) -> Settings:
    return load_settings(None, overrides={"compute": compute})


@pytest.mark.parametrize(("mode", "driver", "wanted"), [
    ("auto", "fake", False), ("auto", "libvirt", True), ("always", "fake", True),
    ("never", "libvirt", False),
])
def test_modes(mode: str, driver: str, wanted: bool) -> None:
    assert cloud.wanted(settings(guest_image=mode, driver=driver)) is wanted


def test_an_unknown_mode_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="guest_image must be one of auto, always, never"):
        cloud.wanted(settings(guest_image="sometimes"))


def test_no_image_service_no_guest_image() -> None:
    s = load_settings(None, overrides={"compute": {"guest_image": "always"},
                                       "core": {"enabled_services": ["identity"]}})
    assert cloud.wanted(s) is False


def test_the_cache_directory_is_configurable() -> None:
    assert cloud.cache_dir(settings(guest_image_cache="/srv/guest")) == Path("/srv/guest")
    assert cloud.cache_dir(settings()).parts[-2:] == ("nubo", "guest-image")
