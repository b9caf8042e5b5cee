"""The LDAP identity back end: users and groups of one domain read from a
directory, read-only, as Keystone's ``ldap`` identity driver does.

Options carry Keystone's ``[ldap]`` names and defaults (inetOrgPerson users,
groupOfNames groups). Passwords are checked by a simple bind as the user's DN.
Every blocking ldap3 call runs in a thread, on a pooled connection
(``ldap_pool``); ldap3's exceptions become ``nubo.core.errors`` here and go no
further.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import ldap3
from ldap3.core import exceptions as lex
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import safe_dn

from nubo.core.errors import ConfigError, ServiceUnavailable, Unauthorized
from nubo.identity.backends.ldap_pool import ConnectionPool, PoolOptions
from nubo.identity.backends.mapping import GROUP, USER, public_id

T = TypeVar("T")
TRUE = frozenset({"true", "1", "yes", "on"})


@dataclass(frozen=True)
class LdapOptions:
    """Keystone's ``[ldap]`` options (the ones a read-only identity driver reads)."""

    url: str = "ldap://localhost"
    user: str = ""
    password: str = ""
    suffix: str = "cn=example,cn=com"
    query_scope: str = "one"
    page_size: int = 0
    alias_dereferencing: str = "default"
    connection_timeout: int = -1
    use_tls: bool = False
    tls_cacertfile: str = ""
    tls_req_cert: str = "demand"
    user_tree_dn: str = ""
    user_filter: str = ""
    user_objectclass: str = "inetOrgPerson"
    user_id_attribute: str = "cn"
    user_name_attribute: str = "sn"
    user_description_attribute: str = "description"
    user_mail_attribute: str = "mail"
    user_pass_attribute: str = "userPassword"
    user_enabled_attribute: str = "enabled"
    user_enabled_invert: bool = False
    user_enabled_mask: int = 0
    user_enabled_default: str = "True"
    user_default_project_id_attribute: str = ""
    group_tree_dn: str = ""
    group_filter: str = ""
    group_objectclass: str = "groupOfNames"
    group_id_attribute: str = "cn"
    group_name_attribute: str = "ou"
    group_member_attribute: str = "member"
    group_desc_attribute: str = "description"
    group_members_are_ids: bool = False
    # connection pools (``ldap_pool``); pool_connection_timeout is accepted for
    # compatibility: connection_timeout applies to every connection
    use_pool: bool = True
    pool_size: int = 10
    pool_retry_max: int = 3
    pool_retry_delay: float = 0.1
    pool_connection_timeout: int = -1
    pool_connection_lifetime: int = 600
    use_auth_pool: bool = True
    auth_pool_size: int = 100
    auth_pool_connection_lifetime: int = 60

    @classmethod
    def from_table(cls, domain_id: str, table: Mapping[str, Any]) -> LdapOptions:
        """Options from a ``[identity.domain_ldap.<domain id>]`` table; unknown keys
        and wrongly typed values are configuration errors."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = set(table) - set(fields)
        if unknown:
            raise ConfigError(f"unknown LDAP option(s) {sorted(unknown)} for domain {domain_id}")
        values: dict[str, Any] = {}
        for key, raw in table.items():
            values[key] = _typed(raw, type(getattr(cls, key)), f"{domain_id}.{key}")
        opts = cls(**values)
        if opts.query_scope not in ("one", "sub"):
            raise ConfigError(f"LDAP option query_scope for domain {domain_id} must be one or sub")
        if min(opts.pool_size, opts.auth_pool_size) < 1 or opts.pool_retry_max < 0:
            raise ConfigError(f"LDAP pool sizes for domain {domain_id} must be at least 1 "
                              "and pool_retry_max at least 0")
        return opts

    def pools(self) -> tuple[PoolOptions, PoolOptions]:
        """The searches' pool and the password checks' pool."""
        searches = PoolOptions(self.use_pool, self.pool_size, self.pool_connection_lifetime,
                               self.pool_retry_max, self.pool_retry_delay)
        return searches, dataclasses.replace(
            searches, enabled=self.use_auth_pool, size=self.auth_pool_size,
            lifetime=self.auth_pool_connection_lifetime)

    @property
    def users_dn(self) -> str:
        return self.user_tree_dn or f"ou=Users,{self.suffix}"

    @property
    def groups_dn(self) -> str:
        return self.group_tree_dn or f"ou=UserGroups,{self.suffix}"


def _typed(raw: Any, kind: type, key: str) -> Any:
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in (*TRUE, "false", "0", "no", "off"):
            return raw.lower() in TRUE
    elif kind is int:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
            return int(raw)
    elif kind is float:
        if isinstance(raw, (int, float, str)) and not isinstance(raw, bool):
            try:
                return float(raw)
            except ValueError:
                pass
    elif isinstance(raw, (str, int)) and not isinstance(raw, bool):
        return str(raw)
    raise ConfigError(f"LDAP option {key}: {raw!r} is not a valid {kind.__name__}")


def _wrap(ldap_filter: str) -> str:
    f = ldap_filter.strip()
    return f if not f or f.startswith("(") else f"({f})"


def _first(attrs: Mapping[str, Any], name: str) -> str | None:
    value = attrs.get(name.lower())
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return None if value is None else str(value)


def _all(attrs: Mapping[str, Any], name: str) -> list[str]:
    value = attrs.get(name.lower())
    if value is None:
        return []
    values = value if isinstance(value, (list, tuple)) else [value]
    return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in values]


def normal_dn(dn: str) -> str:
    try:
        return str(safe_dn(dn)).lower()
    except lex.LDAPException:
        return dn.lower()


Entry = tuple[str, dict[str, Any]]  # (dn, attributes with lower-cased names)


class LdapIdentity:
    """Users and groups of one domain, read from one directory."""

    def __init__(self, domain_id: str, options: LdapOptions, *, map_ids: bool = True) -> None:
        self.domain_id = domain_id
        self.opts = options
        # False: public ids are the directory's own (Keystone's backward-compatible ids)
        self.map_ids = map_ids
        urls = [u.strip() for u in options.url.split(",") if u.strip()]
        tls = None
        if options.use_tls or any(u.startswith("ldaps://") for u in urls):
            tls = ldap3.Tls(
                validate=ssl.CERT_NONE if options.tls_req_cert == "never" else ssl.CERT_REQUIRED,
                ca_certs_file=options.tls_cacertfile or None)
        timeout = options.connection_timeout if options.connection_timeout > 0 else None
        servers = [ldap3.Server(u, get_info=ldap3.NONE, tls=tls, connect_timeout=timeout)
                   for u in urls]
        # several urls: tried in order, one round (Keystone's comma-separated url)
        self._servers: ldap3.Server | ldap3.ServerPool = servers[0] if len(servers) == 1 else (
            ldap3.ServerPool(servers, ldap3.FIRST, active=1, exhaust=False))
        searches, binds = options.pools()
        self._search_pool = ConnectionPool(self._service_connection, searches)
        self._auth_pool = ConnectionPool(self._unbound_connection, binds)

    def close(self) -> None:
        """Close the pooled connections (the domain's options changed or it is gone)."""
        self._search_pool.close()
        self._auth_pool.close()

    # ------------------------------------------------------------ rows

    def public(self, local_id: str, kind: str) -> str:
        return public_id(self.domain_id, local_id, kind) if self.map_ids else local_id

    def user_row(self, entry: Entry) -> dict[str, Any]:
        """A user as a row shaped like the SQL ``user`` table, plus its DN and local id."""
        dn, attrs = entry
        o = self.opts
        local = _first(attrs, o.user_id_attribute) or dn
        extra: dict[str, Any] = {}
        mail = _first(attrs, o.user_mail_attribute)
        if mail:
            extra["email"] = mail
        default_project = (_first(attrs, o.user_default_project_id_attribute)
                           if o.user_default_project_id_attribute else None)
        return {
            "id": self.public(local, USER), "domain_id": self.domain_id,
            "name": _first(attrs, o.user_name_attribute) or local, "enabled": self._enabled(attrs),
            "default_project_id": default_project,
            "description": _first(attrs, o.user_description_attribute), "options": {},
            "extra": extra, "created_at": None, "last_active_at": None,
            "failed_auth_count": 0, "failed_auth_at": None, "local_id": local, "dn": dn,
        }

    def _enabled(self, attrs: Mapping[str, Any]) -> bool:
        o = self.opts
        value = _first(attrs, o.user_enabled_attribute) or o.user_enabled_default
        if o.user_enabled_mask:
            try:
                return (int(value) & o.user_enabled_mask) != o.user_enabled_mask
            except ValueError:
                return False
        enabled = value.strip().lower() in TRUE
        return not enabled if o.user_enabled_invert else enabled

    def group_row(self, entry: Entry) -> dict[str, Any]:
        dn, attrs = entry
        o = self.opts
        local = _first(attrs, o.group_id_attribute) or dn
        return {
            "id": self.public(local, GROUP), "domain_id": self.domain_id,
            "name": _first(attrs, o.group_name_attribute) or local,
            "description": _first(attrs, o.group_desc_attribute) or "", "extra": {},
            "local_id": local, "dn": dn, "members": _all(attrs, o.group_member_attribute),
        }

    # ------------------------------------------------------------ users

    def _user_filter(self, *terms: str) -> str:
        o = self.opts
        return f"(&(objectClass={o.user_objectclass}){_wrap(o.user_filter)}{''.join(terms)})"

    def _group_filter(self, *terms: str) -> str:
        o = self.opts
        return f"(&(objectClass={o.group_objectclass}){_wrap(o.group_filter)}{''.join(terms)})"

    async def get_user(self, local_id: str) -> dict[str, Any] | None:
        found = await self._search(self.opts.users_dn, self._user_filter(
            _eq(self.opts.user_id_attribute, local_id)), self._user_attrs())
        return self.user_row(found[0]) if found else None

    async def find_user(self, name: str) -> dict[str, Any] | None:
        """The user with this name (the name attribute), as password auth names it."""
        found = await self._search(self.opts.users_dn, self._user_filter(
            _eq(self.opts.user_name_attribute, name)), self._user_attrs())
        return self.user_row(found[0]) if found else None

    async def list_users(self, filters: Mapping[str, str]) -> list[dict[str, Any]]:
        terms = _name_terms(self.opts.user_name_attribute, filters)
        found = await self._search(self.opts.users_dn, self._user_filter(*terms),
                                   self._user_attrs())
        return [self.user_row(e) for e in found]

    async def authenticate(self, user: Mapping[str, Any], password: str) -> None:
        """A simple bind as the user's DN; Unauthorized when it fails."""
        if not password:
            raise Unauthorized("The request you have made requires authentication.")
        try:
            await asyncio.to_thread(self._bind_as, user["dn"], password)
        except (lex.LDAPBindError, lex.LDAPInvalidCredentialsResult):
            raise Unauthorized("The request you have made requires authentication.") from None
        except lex.LDAPException as e:
            raise self._unavailable(e) from None

    def _user_attrs(self) -> list[str]:
        o = self.opts
        names = [o.user_id_attribute, o.user_name_attribute, o.user_mail_attribute,
                 o.user_description_attribute, o.user_enabled_attribute,
                 o.user_default_project_id_attribute]
        return sorted({n for n in names if n})

    # ------------------------------------------------------------ groups

    async def get_group(self, local_id: str) -> dict[str, Any] | None:
        found = await self._search(self.opts.groups_dn, self._group_filter(
            _eq(self.opts.group_id_attribute, local_id)), self._group_attrs())
        return self.group_row(found[0]) if found else None

    async def list_groups(self, filters: Mapping[str, str]) -> list[dict[str, Any]]:
        terms = _name_terms(self.opts.group_name_attribute, filters)
        found = await self._search(self.opts.groups_dn, self._group_filter(*terms),
                                   self._group_attrs())
        return [self.group_row(e) for e in found]

    async def groups_for_user(self, user: Mapping[str, Any]) -> list[dict[str, Any]]:
        o = self.opts
        member = user["local_id"] if o.group_members_are_ids else user["dn"]
        found = await self._search(o.groups_dn, self._group_filter(
            _eq(o.group_member_attribute, member)), self._group_attrs())
        return [self.group_row(e) for e in found]

    async def users_in_group(self, group: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Members listed in the group entry, matched against the user tree in one
        search (Keystone's dummy member and entries outside the tree drop out)."""
        by_id = self.opts.group_members_are_ids
        members = {m if by_id else normal_dn(m) for m in group["members"]}
        return [u for u in await self.list_users({})
                if (u["local_id"] if by_id else normal_dn(u["dn"])) in members]

    def _group_attrs(self) -> list[str]:
        o = self.opts
        return sorted({o.group_id_attribute, o.group_name_attribute, o.group_desc_attribute,
                       o.group_member_attribute})

    # ------------------------------------------------------------ ldap3, in threads

    async def _search(self, base: str, ldap_filter: str, attrs: list[str]) -> list[Entry]:
        return await self._call(lambda: self._search_sync(base, ldap_filter, attrs))

    async def _call(self, fn: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(fn)
        except lex.LDAPException as e:
            raise self._unavailable(e) from None

    def _unavailable(self, e: Exception) -> ServiceUnavailable:
        return ServiceUnavailable(f"The LDAP server of domain {self.domain_id} cannot be used: "
                                  f"{type(e).__name__}: {e}")

    def _new_connection(self, **kwargs: Any) -> ldap3.Connection:
        timeout = self.opts.connection_timeout if self.opts.connection_timeout > 0 else None
        return ldap3.Connection(self._servers, read_only=True, raise_exceptions=True,
                                receive_timeout=timeout, **kwargs)

    def _service_connection(self) -> ldap3.Connection:
        """Bound as the service account (or anonymously), for searches."""
        o = self.opts
        bind = ldap3.AUTO_BIND_TLS_BEFORE_BIND if o.use_tls else ldap3.AUTO_BIND_NO_TLS
        return self._new_connection(user=o.user or None, password=o.password or None,
                                    auto_bind=bind)

    def _unbound_connection(self) -> ldap3.Connection:
        """Open (with StartTLS when asked) and not bound: each use binds as a user."""
        conn = self._new_connection(auto_bind=ldap3.AUTO_BIND_NONE)
        conn.open()
        if self.opts.use_tls:
            conn.start_tls()
        return conn

    def _bind_as(self, dn: str, password: str) -> None:
        self._auth_pool.run(lambda conn: conn.rebind(user=dn, password=password))

    def _search_sync(self, base: str, ldap_filter: str, attrs: list[str]) -> list[Entry]:
        o = self.opts
        scope = ldap3.LEVEL if o.query_scope == "one" else ldap3.SUBTREE
        deref = {"never": ldap3.DEREF_NEVER, "searching": ldap3.DEREF_SEARCH,
                 "always": ldap3.DEREF_ALWAYS, "finding": ldap3.DEREF_BASE}.get(
                     o.alias_dereferencing, ldap3.DEREF_NEVER)

        def search(conn: ldap3.Connection) -> list[Any]:
            if o.page_size > 0:
                return list(conn.extend.standard.paged_search(
                    base, ldap_filter, scope, deref, attributes=attrs,
                    paged_size=o.page_size, generator=True))
            conn.search(base, ldap_filter, scope, deref, attributes=attrs)
            return list(conn.response or [])

        try:
            response = self._search_pool.run(search)
        except lex.LDAPNoSuchObjectResult:
            return []
        return [(r["dn"], {k.lower(): v for k, v in r["attributes"].items()})
                for r in response if r.get("type") == "searchResEntry"]


def _eq(attr: str, value: str) -> str:
    return f"({attr}={escape_filter_chars(value)})"


def _name_terms(attr: str, filters: Mapping[str, str]) -> list[str]:
    """Keystone's name filters as LDAP terms (LDAP matching is case-insensitive)."""
    terms = []
    if "name" in filters:
        terms.append(_eq(attr, filters["name"]))
    for op, (before, after) in {"contains": ("*", "*"), "startswith": ("", "*"),
                                "endswith": ("*", ""), "equals": ("", "")}.items():
        for key in (f"name__{op}", f"name__i{op}"):
            if key in filters:
                terms.append(f"({attr}={before}{escape_filter_chars(filters[key])}{after})")
    return terms
