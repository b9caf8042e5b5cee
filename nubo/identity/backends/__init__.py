"""Where a domain's users and groups live.

SQL is the default and lives in ``nubo.identity.service.users`` / ``groups``. A
domain listed in ``[identity.domain_ldap]``, or configured with the ``ldap`` driver
through the domain-config API (see ``domain_tables.py``), reads its users and groups
from a directory instead (read-only, as Keystone's LDAP driver). Role assignments
stay in SQL for every domain.

The service modules keep their SQL path as it was and ask this module only when
SQL has no answer: an id that is not a SQL user may be a public id recorded in
``id_mapping`` for an LDAP domain. When no LDAP domain is configured every
function here returns at once without touching the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from nubo.core.config import Settings
from nubo.core.errors import Forbidden, NuboError, Unauthorized
from nubo.core.runtime import Runtime
from nubo.identity.backends import domain_tables, mapping
from nubo.identity.backends.mapping import GROUP, USER
from nubo.identity.service import resource
from nubo.identity.service.filters import parse_bool

Row = dict[str, Any]
STATE = "identity.backends"


class IdentityBackend(Protocol):
    """A domain's read-only source of users and groups. Rows are shaped like the
    SQL ``user`` and ``group`` tables (public ids included) plus ``local_id``."""

    domain_id: str
    map_ids: bool

    def close(self) -> None: ...
    async def get_user(self, local_id: str) -> Row | None: ...
    async def find_user(self, name: str) -> Row | None: ...
    async def list_users(self, filters: Mapping[str, str]) -> list[Row]: ...
    async def authenticate(self, user: Mapping[str, Any], password: str) -> None: ...
    async def get_group(self, local_id: str) -> Row | None: ...
    async def list_groups(self, filters: Mapping[str, str]) -> list[Row]: ...
    async def groups_for_user(self, user: Mapping[str, Any]) -> list[Row]: ...
    async def users_in_group(self, group: Mapping[str, Any]) -> list[Row]: ...


def validate(settings: Settings) -> None:
    """Check every domain's LDAP options at start-up (ConfigError when wrong)."""
    if not settings.identity.domain_ldap:
        return
    from nubo.identity.backends.ldap import LdapOptions

    for domain_id, table in settings.identity.domain_ldap.items():
        LdapOptions.from_table(domain_id, table)


def for_domain(rt: Runtime, domain_id: str | None) -> IdentityBackend | None:
    """The external back end of a domain, or None when the domain is in SQL."""
    tables = domain_tables.tables(rt)
    if not domain_id or domain_id not in tables:
        return None
    # domain id -> (the options it was built from, the back end)
    built: dict[str, tuple[Mapping[str, Any], IdentityBackend]] = rt.state.setdefault(STATE, {})
    table = tables[domain_id]
    if domain_id not in built or built[domain_id][0] != table:
        from nubo.identity.backends.ldap import LdapIdentity, LdapOptions

        if domain_id in built:
            built[domain_id][1].close()
        built[domain_id] = (dict(table), LdapIdentity(
            domain_id, LdapOptions.from_table(domain_id, table),
            map_ids=not _keeps_directory_ids(rt, domain_id)))
    return built[domain_id][1]


def _keeps_directory_ids(rt: Runtime, domain_id: str) -> bool:
    """Keystone's backward-compatible ids: an LDAP default domain's users and groups
    keep their directory ids as public ids."""
    return domain_id == resource.DEFAULT_DOMAIN and rt.settings.identity.backward_compatible_ids


def configured(rt: Runtime) -> bool:
    """Whether any domain reads a directory."""
    return domain_tables.configured(rt)


def read_only(domain_id: str) -> Forbidden:
    return Forbidden(f"LDAP does not support write operations: the identity back end of "
                     f"domain {domain_id} is read-only.")


def refuse_domain_write(rt: Runtime, domain_id: str | None) -> None:
    """Creating a user or group in an LDAP domain is refused."""
    backend = for_domain(rt, domain_id)
    if backend is not None:
        raise read_only(backend.domain_id)


async def _owner(rt: Runtime, conn: Any, public_id: str, kind: str
                 ) -> tuple[IdentityBackend, str] | None:
    if not configured(rt):
        return None
    found = await mapping.resolve(conn, public_id)
    if found is None:
        return await _unrecorded(rt, public_id, kind)
    if found[2] != kind:
        return None
    backend = for_domain(rt, found[0])
    return (backend, found[1]) if backend is not None else None


async def _unrecorded(rt: Runtime, public_id: str, kind: str
                      ) -> tuple[IdentityBackend, str] | None:
    """An id not seen before may still be a directory id of an LDAP default domain
    that keeps them (Keystone finds those without a mapping too)."""
    backend = for_domain(rt, resource.DEFAULT_DOMAIN)
    if backend is None or backend.map_ids:
        return None
    get = backend.get_user if kind == USER else backend.get_group
    return (backend, public_id) if await get(public_id) is not None else None


async def refuse_write(rt: Runtime, conn: Any, public_id: str, kind: str) -> None:
    """Raise the read-only 403 when the id is an LDAP user or group."""
    owner = await _owner(rt, conn, public_id, kind)
    if owner is not None:
        raise read_only(owner[0].domain_id)


async def user_row(rt: Runtime, conn: Any, user_id: str) -> Row | None:
    owner = await _owner(rt, conn, user_id, USER)
    return await owner[0].get_user(owner[1]) if owner else None


async def group_row(rt: Runtime, conn: Any, group_id: str) -> Row | None:
    owner = await _owner(rt, conn, group_id, GROUP)
    return await owner[0].get_group(owner[1]) if owner else None


async def remember(rt: Runtime, rows: Iterable[Row], kind: str) -> None:
    """Record the public ids of rows read from a directory, so they resolve later."""
    by_domain: dict[str, list[tuple[str, str, str]]] = {}
    for r in rows:
        by_domain.setdefault(r["domain_id"], []).append((r["id"], r["local_id"], kind))
    if not by_domain:
        return
    async with rt.db.transaction() as tx:
        for domain_id, entities in by_domain.items():
            await mapping.record(tx, domain_id, entities)


def _select(rows: list[Row], filters: Mapping[str, str]) -> list[Row]:
    """The filters the directory search does not apply itself."""
    if "enabled" in filters:
        want = parse_bool("enabled", filters["enabled"])
        rows = [r for r in rows if r.get("enabled", True) == want]
    if "id" in filters:
        rows = [r for r in rows if r["id"] == filters["id"]]
    return rows


async def list_users(rt: Runtime, filters: Mapping[str, str]) -> list[Row] | None:
    """Users of the LDAP domain named by the domain_id filter; None for SQL."""
    backend = for_domain(rt, filters.get("domain_id"))
    if backend is None:
        return None
    rows = _select(await backend.list_users(filters), filters)
    await remember(rt, rows, USER)
    return rows


async def list_groups(rt: Runtime, filters: Mapping[str, str]) -> list[Row] | None:
    backend = for_domain(rt, filters.get("domain_id"))
    if backend is None:
        return None
    rows = _select(await backend.list_groups(filters), filters)
    await remember(rt, rows, GROUP)
    return rows


async def groups_for_user(rt: Runtime, conn: Any, user_id: str) -> list[Row] | None:
    """The directory groups of an LDAP user; None when the id is not one."""
    owner = await _owner(rt, conn, user_id, USER)
    if owner is None:
        return None
    backend, local_id = owner
    user = await backend.get_user(local_id)
    rows = await backend.groups_for_user(user) if user is not None else []
    await remember(rt, rows, GROUP)
    return rows


async def users_in_group(rt: Runtime, conn: Any, group_id: str,
                         filters: Mapping[str, str]) -> list[Row] | None:
    """The members of an LDAP group; None when the id is not one."""
    owner = await _owner(rt, conn, group_id, GROUP)
    if owner is None:
        return None
    backend, local_id = owner
    group = await backend.get_group(local_id)
    rows = _select(await backend.users_in_group(group), filters) if group is not None else []
    if "name" in filters:
        rows = [r for r in rows if r["name"] == filters["name"]]
    await remember(rt, rows, USER)
    return rows


async def authenticate(rt: Runtime, ref: Any, password: str) -> Row | None:
    """Password auth of an LDAP user, by public id or by name and domain; None when
    the user is not an LDAP user (SQL then decides)."""
    if not configured(rt) or not isinstance(ref, Mapping):
        return None
    user: Row | None
    if ref.get("id"):
        async with rt.db.read() as conn:
            owner = await _owner(rt, conn, str(ref["id"]), USER)
        if owner is None:
            return None
        backend, user = owner[0], await owner[0].get_user(owner[1])
    else:
        found = await _by_name(rt, ref)
        if found is None or found[1] is None:
            # not in the directory: SQL decides (users an LDAP domain had in SQL
            # before, such as the bootstrap's admin in an LDAP default domain)
            return None
        backend, user = found
    if user is None:
        raise Unauthorized("The request you have made requires authentication.")
    await backend.authenticate(user, password)
    if not user["enabled"]:
        raise Unauthorized(f"The account is disabled for user: {user['id']}.")
    await remember(rt, [user], USER)
    return user


async def find_user(rt: Runtime, ref: Any) -> Row | None:
    """An LDAP user by name and domain (``{"name", "domain": {"id" | "name"}}``), its
    public id recorded; None when the domain is not an LDAP one or has no such user."""
    if not configured(rt) or not isinstance(ref, Mapping):
        return None
    found = await _by_name(rt, ref)
    if found is None or found[1] is None:
        return None
    await remember(rt, [found[1]], USER)
    return found[1]


async def _by_name(rt: Runtime, ref: Mapping[str, Any]
                   ) -> tuple[IdentityBackend, Row | None] | None:
    domain = ref.get("domain")
    if not ref.get("name") or not isinstance(domain, Mapping):
        return None
    domain_id = domain.get("id")
    if not domain_id and domain.get("name"):
        try:
            async with rt.db.read() as conn:
                domain_id = await resource.find_domain_id(conn, domain)
        except NuboError:
            return None  # the SQL path reports it
    backend = for_domain(rt, str(domain_id) if domain_id else None)
    if backend is None:
        return None
    return backend, await backend.find_user(str(ref["name"]))
