"""Domain-specific configuration (``/v3/domains/{id}/config``): the ``identity``
and ``ldap`` options a domain overrides, e.g. to put its users in LDAP.

Only Keystone's whitelisted options and its sensitive ones (the LDAP bind
password) are accepted; sensitive options are stored but never shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select

from nubo.core.errors import NotFound, ValidationError
from nubo.core.runtime import Runtime
from nubo.identity import tables as t
from nubo.identity.backends import domain_tables
from nubo.identity.service import cache, resource

DC = t.domain_config
WHITELISTED: dict[str, tuple[str, ...]] = {
    "identity": ("driver", "list_limit"),
    "ldap": (
        "url", "user", "suffix", "query_scope", "page_size", "alias_dereferencing",
        "debug_level", "chase_referrals", "user_tree_dn", "user_filter", "user_objectclass",
        "user_id_attribute", "user_name_attribute", "user_mail_attribute",
        "user_description_attribute", "user_pass_attribute", "user_enabled_attribute",
        "user_enabled_invert", "user_enabled_mask", "user_enabled_default",
        "user_attribute_ignore", "user_default_project_id_attribute",
        "user_enabled_emulation", "user_enabled_emulation_dn",
        "user_enabled_emulation_use_group_config", "user_additional_attribute_mapping",
        "group_tree_dn", "group_filter", "group_objectclass", "group_id_attribute",
        "group_name_attribute", "group_members_are_ids", "group_member_attribute",
        "group_desc_attribute", "group_attribute_ignore", "group_additional_attribute_mapping",
        "tls_cacertfile", "tls_cacertdir", "use_tls", "tls_req_cert", "use_pool", "pool_size",
        "pool_retry_max", "pool_retry_delay", "pool_connection_timeout",
        "pool_connection_lifetime", "use_auth_pool", "auth_pool_size",
        "auth_pool_connection_lifetime",
    ),
}
SENSITIVE: dict[str, tuple[str, ...]] = {"identity": (), "ldap": ("password",)}

# Keystone's defaults for the whitelisted options (``/v3/domains/config/default``).
DEFAULTS: dict[str, dict[str, Any]] = {
    "identity": {"driver": "sql", "list_limit": None},
    "ldap": {
        "url": "ldap://localhost", "user": None, "suffix": "cn=example,cn=com",
        "query_scope": "one", "page_size": 0, "alias_dereferencing": "default",
        "debug_level": None, "chase_referrals": None, "user_tree_dn": None,
        "user_filter": None, "user_objectclass": "inetOrgPerson", "user_id_attribute": "cn",
        "user_name_attribute": "sn", "user_mail_attribute": "mail",
        "user_description_attribute": "description", "user_pass_attribute": "userPassword",
        "user_enabled_attribute": "enabled", "user_enabled_invert": False,
        "user_enabled_mask": 0, "user_enabled_default": "True",
        "user_attribute_ignore": ["default_project_id"],
        "user_default_project_id_attribute": None, "user_enabled_emulation": False,
        "user_enabled_emulation_dn": None, "user_enabled_emulation_use_group_config": False,
        "user_additional_attribute_mapping": [], "group_tree_dn": None, "group_filter": None,
        "group_objectclass": "groupOfNames", "group_id_attribute": "cn",
        "group_name_attribute": "ou", "group_members_are_ids": False,
        "group_member_attribute": "member", "group_desc_attribute": "description",
        "group_attribute_ignore": [], "group_additional_attribute_mapping": [],
        "tls_cacertfile": None, "tls_cacertdir": None, "use_tls": False,
        "tls_req_cert": "demand", "use_pool": True, "pool_size": 10, "pool_retry_max": 3,
        "pool_retry_delay": 0.1, "pool_connection_timeout": -1,
        "pool_connection_lifetime": 600, "use_auth_pool": True, "auth_pool_size": 100,
        "auth_pool_connection_lifetime": 60,
    },
}


def _invalid(reason: str) -> ValidationError:
    return ValidationError(f"Invalid domain specific configuration: {reason}.")


def check_group_and_option(group: str | None, option: str | None) -> None:
    if group and group not in WHITELISTED:
        raise _invalid(f"Group {group} is not supported for domain specific configurations")
    if group and option and option not in WHITELISTED[group] + SENSITIVE[group]:
        raise _invalid(f"Option {option} in group {group} is not supported for domain "
                       f"specific configurations")


def _check_config(config: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(config, Mapping) or not config:
        raise _invalid("the config must be a non-empty object of groups")
    for group, options in config.items():
        if not isinstance(options, Mapping) or not options:
            raise _invalid(f"group {group} must be a non-empty object of options")
        for option in options:
            check_group_and_option(group, option)
    return {g: dict(o) for g, o in config.items()}


async def _domain(conn: Any, domain_id: str) -> None:
    row = await resource.get_row(conn, domain_id)
    if row is None or not row["is_domain"]:
        raise NotFound(f"Could not find domain: {domain_id}.")


async def _stored(conn: Any, domain_id: str) -> dict[str, dict[str, Any]]:
    """The whole config, sensitive options included (for the identity back ends)."""
    out: dict[str, dict[str, Any]] = {}
    for r in await conn.execute(select(DC).where(DC.c.domain_id == domain_id)):
        out.setdefault(r.group, {})[r.option] = r.value
    return out


async def config_with_sensitive(rt: Runtime, domain_id: str) -> dict[str, dict[str, Any]]:
    async with rt.db.read() as conn:
        return await _stored(conn, domain_id)


def _visible(config: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {g: {o: v for o, v in opts.items() if o not in SENSITIVE.get(g, ())}
           for g, opts in config.items()}
    return {g: opts for g, opts in out.items() if opts}


async def _write(tx: Any, domain_id: str, config: Mapping[str, Mapping[str, Any]]) -> None:
    for group, options in config.items():
        for option, value in options.items():
            await tx.execute(delete(DC).where(DC.c.domain_id == domain_id, DC.c.group == group,
                                              DC.c.option == option))
            await tx.execute(insert(DC).values(
                domain_id=domain_id, group=group, option=option, value=value,
                sensitive=option in SENSITIVE.get(group, ())))


async def create_config(rt: Runtime, domain_id: str, config: Any
                        ) -> tuple[dict[str, dict[str, Any]], bool]:
    """Replace the domain's config; also returns whether one existed before."""
    checked = _check_config(config)
    domain_tables.check(rt, domain_id, checked)
    async with rt.db.transaction() as tx:
        await _domain(tx.conn, domain_id)
        existed = bool(await _stored(tx.conn, domain_id))
        await tx.execute(delete(DC).where(DC.c.domain_id == domain_id))
        await _write(tx, domain_id, checked)
        _changed(tx, rt)
    await domain_tables.load(rt)
    return _visible(checked), existed


def _changed(tx: Any, rt: Runtime) -> None:
    """Every process reloads its LDAP domains (this one before answering, see
    ``domain_tables.load``) and forgets the tokens it validated."""
    tx.publish(domain_tables.TOPIC, {})
    cache.changed(tx, rt)


async def get_config(rt: Runtime, domain_id: str, group: str | None = None,
                     option: str | None = None) -> dict[str, Any]:
    check_group_and_option(group, option)
    async with rt.db.read() as conn:
        await _domain(conn, domain_id)
        config = _visible(await _stored(conn, domain_id))
    if group is None:
        if not config:
            raise NotFound(f"Could not find domain config for domain {domain_id}.")
        return config
    if group not in config:
        raise NotFound(f"Could not find group {group} in the config of domain {domain_id}.")
    if option is None:
        return {group: config[group]}
    if option not in config[group]:
        raise NotFound(f"Could not find option {option} in group {group} in the config of "
                       f"domain {domain_id}.")
    return {option: config[group][option]}


async def update_config(rt: Runtime, domain_id: str, config: Any, group: str | None = None,
                        option: str | None = None) -> dict[str, dict[str, Any]]:
    check_group_and_option(group, option)
    if group and option:
        config = {group: config}
    checked = _check_config(config)
    if group and (list(checked) != [group] or (option and list(checked[group]) != [option])):
        raise _invalid(f"the update of {group}{'/' + option if option else ''} must hold "
                       f"that, and only that, {'option' if option else 'group'}")
    async with rt.db.transaction() as tx:
        await _domain(tx.conn, domain_id)
        current = await _stored(tx.conn, domain_id)
        if group and (group not in current or (option and option not in current[group])):
            raise NotFound(f"Could not find {'option ' + option + ' in ' if option else ''}"
                           f"group {group} in the config of domain {domain_id}.")
        merged = {g: dict(o) for g, o in current.items()}
        for g, o in checked.items():
            merged.setdefault(g, {}).update(o)
        domain_tables.check(rt, domain_id, merged)
        await _write(tx, domain_id, checked)
        _changed(tx, rt)
        out = _visible(await _stored(tx.conn, domain_id))
    await domain_tables.load(rt)
    return out


async def delete_config(rt: Runtime, domain_id: str, group: str | None = None,
                        option: str | None = None) -> None:
    check_group_and_option(group, option)
    async with rt.db.transaction() as tx:
        await _domain(tx.conn, domain_id)
        current = await _stored(tx.conn, domain_id)
        q = delete(DC).where(DC.c.domain_id == domain_id)
        if not current:
            raise NotFound(f"Could not find domain config for domain {domain_id}.")
        if group:
            if group not in current or (option and option not in current[group]):
                raise NotFound(f"Could not find {'option ' + option + ' in ' if option else ''}"
                               f"group {group} in the config of domain {domain_id}.")
            q = q.where(DC.c.group == group)
            if option:
                q = q.where(DC.c.option == option)
        await tx.execute(q)
        _changed(tx, rt)
    await domain_tables.load(rt)


def default_config(group: str | None = None, option: str | None = None) -> dict[str, Any]:
    if option and group and option in SENSITIVE.get(group, ()):
        raise _invalid(f"Reading the default for option {option} of group {group} is not "
                       f"allowed")
    check_group_and_option(group, option)
    if group is None:
        return {g: dict(o) for g, o in DEFAULTS.items()}
    if option is None:
        return {group: dict(DEFAULTS[group])}
    return {option: DEFAULTS[group][option]}
