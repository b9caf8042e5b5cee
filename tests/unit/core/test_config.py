from __future__ import annotations

from pathlib import Path

import pytest

from nubo.core.config import load_settings
from nubo.core.errors import ConfigError


def test_defaults() -> None:
    s = load_settings(environ={})
    assert s.api.port == 8780
    assert s.database_url.startswith("sqlite:///")
    assert s.identity.token_expiration == 3600


def test_file_then_environment_then_overrides(tmp_path: Path) -> None:
    f = tmp_path / "nubo.toml"
    f.write_text('[api]\nport = 9000\nhost = "0.0.0.0"\n[identity]\ntoken_expiration = 60\n')
    s = load_settings(f, environ={"NUBO_API__PORT": "9100", "NUBO_CORE__ENABLED_SERVICES":
                                  "identity, compute"})
    assert s.api.port == 9100 and s.api.host == "0.0.0.0"
    assert s.identity.token_expiration == 60
    assert s.core.enabled_services == ["identity", "compute"]
    s = load_settings(f, environ={}, overrides={"api": {"port": 1}})
    assert s.api.port == 1


@pytest.mark.parametrize("text", ["[api]\nprot = 1\n", "[nope]\nx = 1\n", "[api]\nport = 'x'\n",
                                  "api = 3\n", "[api\n"])
def test_bad_files_are_refused(tmp_path: Path, text: str) -> None:
    f = tmp_path / "nubo.toml"
    f.write_text(text)
    with pytest.raises(ConfigError):
        load_settings(f, environ={})


def test_unknown_environment_key_is_refused() -> None:
    with pytest.raises(ConfigError):
        load_settings(environ={"NUBO_IDENTITY__TOKEN_EXPIRY": "5"})


def test_bool_and_dict_values(tmp_path: Path) -> None:
    f = tmp_path / "nubo.toml"
    f.write_text('[identity.domain_ldap.d1]\nurl = "ldap://x"\n')
    s = load_settings(f, environ={"NUBO_AUDIT__ENABLED": "no"})
    assert s.audit.enabled is False
    assert s.identity.domain_ldap == {"d1": {"url": "ldap://x"}}


def test_dict_values_from_the_environment_are_json() -> None:
    s = load_settings(environ={"NUBO_COMPUTE__FAKE_DELAYS": '{"spawn": 0.5}',
                               "NUBO_COMPUTE__FAKE_FAIL_SPAWN_ON_HOSTS": "h1,h2"})
    assert s.compute.fake_delays == {"spawn": 0.5}
    assert s.compute.fake_fail_spawn_on_hosts == ["h1", "h2"]
    with pytest.raises(ConfigError, match="fake_delays"):
        load_settings(environ={"NUBO_COMPUTE__FAKE_DELAYS": "spawn=1"})


def test_choices_are_checked() -> None:
    s = load_settings(environ={"NUBO_COMPUTE__INSTANCE_USAGE_AUDIT_PERIOD": "day"})
    assert s.compute.instance_usage_audit_period == "day"
    with pytest.raises(ConfigError, match="hour, day, month, year"):
        load_settings(environ={"NUBO_COMPUTE__INSTANCE_USAGE_AUDIT_PERIOD": "week"})
