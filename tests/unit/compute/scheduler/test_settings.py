from __future__ import annotations

from pathlib import Path

import pytest

from nubo.core.config import load_settings
from nubo.core.errors import ConfigError


def test_defaults_follow_nova() -> None:
    s = load_settings(environ={}).scheduler
    assert s.enabled_filters[:3] == ["ComputeFilter", "AvailabilityZoneFilter", "ResourcesFilter"]
    assert (s.ram_weight_multiplier, s.cpu_weight_multiplier, s.disk_weight_multiplier) == (
        1.0, 0.0, 1.0)
    assert (s.soft_affinity_weight_multiplier, s.soft_anti_affinity_weight_multiplier) == (
        1.0, 1.0)
    assert (s.host_subset_size, s.shuffle_best_same_weighed_hosts, s.max_attempts) == (
        1, False, 3)
    assert s.default_availability_zone == "nova"


def test_file_and_environment(tmp_path: Path) -> None:
    f = tmp_path / "nubo.toml"
    f.write_text('[scheduler]\nram_weight_multiplier = -1\nenabled_filters = ["ComputeFilter"]\n')
    s = load_settings(f, environ={"NUBO_SCHEDULER__MAX_ATTEMPTS": "5",
                                  "NUBO_SCHEDULER__SHUFFLE_BEST_SAME_WEIGHED_HOSTS": "yes"})
    assert s.scheduler.ram_weight_multiplier == -1.0
    assert s.scheduler.enabled_filters == ["ComputeFilter"]
    assert s.scheduler.max_attempts == 5 and s.scheduler.shuffle_best_same_weighed_hosts
    s = load_settings(environ={"NUBO_SCHEDULER__ENABLED_FILTERS": "ComputeFilter, SameHostFilter"})
    assert s.scheduler.enabled_filters == ["ComputeFilter", "SameHostFilter"]


def test_unknown_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="ram_weight"):
        load_settings(environ={"NUBO_SCHEDULER__RAM_WEIGHT": "1"})
