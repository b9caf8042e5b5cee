"""Which domains read LDAP, and with which options.

Two sources, as Keystone has: ``[identity.domain_ldap.<domain id>]`` tables in
``nubo.toml`` (read at start), and, when ``[identity]
domain_configurations_from_database`` is on, the domain configurations set through
``/v3/domains/{id}/config`` whose ``identity.driver`` is ``ldap`` (options from their
``ldap`` group). The latter are kept in each process and reloaded after every change
(in the changing process before it answers, in the others through the bus), so they
take effect without a restart. A domain in both takes the file's table.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from nubo.core.errors import ConfigError, ValidationError
from nubo.core.runtime import Runtime
from nubo.identity import tables as t

STATE = "identity.backends.from_database"
TOPIC = "identity.domain_config.changed"
log = logging.getLogger(__name__)


def tables(rt: Runtime) -> Mapping[str, Mapping[str, Any]]:
    """domain id -> LDAP options, for every LDAP domain."""
    api: dict[str, dict[str, Any]] = rt.state.get(STATE) or {}
    if not api:
        return rt.settings.identity.domain_ldap
    return {**api, **rt.settings.identity.domain_ldap}


def configured(rt: Runtime) -> bool:
    """Whether any domain reads LDAP (Keystone's domain-specific drivers in use)."""
    return bool(rt.settings.identity.domain_ldap or rt.state.get(STATE))


def ldap_table(config: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
    """The LDAP options of a domain configuration, None unless its driver is ldap.
    Keystone options nubo's directory reader has no use for (pools, debug) are left
    out, as are nulls (the default then applies)."""
    driver = (config.get("identity") or {}).get("driver")
    if not isinstance(driver, str) or driver.lower() != "ldap":
        return None
    from nubo.identity.backends.ldap import LdapOptions

    known = {f.name for f in dataclasses.fields(LdapOptions)}
    return {k: v for k, v in (config.get("ldap") or {}).items()
            if k in known and v is not None}


def check(rt: Runtime, domain_id: str, config: Mapping[str, Mapping[str, Any]]) -> None:
    """400 for a domain configuration that would make a broken LDAP domain."""
    if not rt.settings.identity.domain_configurations_from_database:
        return
    table = ldap_table(config)
    if table is None:
        return
    from nubo.identity.backends.ldap import LdapOptions

    try:
        LdapOptions.from_table(domain_id, table)
    except ConfigError as e:
        raise ValidationError(f"Invalid domain specific configuration: {e}.") from None


async def load(rt: Runtime) -> None:
    """(Re)read the LDAP domains configured through the domain-config API."""
    if not rt.settings.identity.domain_configurations_from_database:
        return
    from nubo.identity.backends.ldap import LdapOptions

    dc = t.domain_config.c
    configs: dict[str, dict[str, dict[str, Any]]] = {}
    async with rt.db.read() as conn:
        for r in await conn.execute(select(dc.domain_id, dc.group, dc.option, dc.value)
                                    .where(dc.group.in_(("identity", "ldap")))):
            configs.setdefault(r.domain_id, {}).setdefault(r.group, {})[r.option] = r.value
    found: dict[str, dict[str, Any]] = {}
    for domain_id, config in configs.items():
        table = ldap_table(config)
        if table is None:
            continue
        try:
            LdapOptions.from_table(domain_id, table)
        except ConfigError as e:
            log.warning("domain %s: LDAP configuration ignored: %s", domain_id, e)
            continue
        found[domain_id] = table
    rt.state[STATE] = found


async def on_message(rt: Runtime, _env: Any) -> None:
    await load(rt)
