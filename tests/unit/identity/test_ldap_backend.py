"""The LDAP identity back end against a real slapd (tests/ldap_server.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nubo.core.errors import ConfigError, ServiceUnavailable, Unauthorized
from nubo.identity.backends.ldap import LdapIdentity, LdapOptions
from nubo.identity.backends.mapping import public_id
from tests.cloud import free_port
from tests.ldap_server import LdapServer, options, user_dn

pytestmark = pytest.mark.ldap
DOMAIN = "d0main"


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture
def backend(ldap_server: LdapServer) -> LdapIdentity:
    return LdapIdentity(DOMAIN, LdapOptions.from_table(DOMAIN, options(ldap_server.url)))


def test_public_ids_are_keystones_sha256() -> None:
    import hashlib

    expected = hashlib.sha256(b"d0main" + b"user" + b"u-alice").hexdigest()
    assert public_id(DOMAIN, "u-alice", "user") == expected
    assert public_id(DOMAIN, "u-alice", "group") != expected


def test_options_have_keystones_defaults_and_refuse_unknown_keys() -> None:
    opts = LdapOptions.from_table(DOMAIN, {"suffix": "dc=x", "page_size": "50",
                                           "use_tls": "false"})
    assert (opts.user_objectclass, opts.user_id_attribute, opts.user_name_attribute) == (
        "inetOrgPerson", "cn", "sn")
    assert (opts.group_objectclass, opts.group_name_attribute) == ("groupOfNames", "ou")
    assert opts.users_dn == "ou=Users,dc=x" and opts.groups_dn == "ou=UserGroups,dc=x"
    assert opts.page_size == 50 and opts.use_tls is False
    with pytest.raises(ConfigError, match="user_id_atribute"):
        LdapOptions.from_table(DOMAIN, {"user_id_atribute": "uid"})
    with pytest.raises(ConfigError, match="page_size"):
        LdapOptions.from_table(DOMAIN, {"page_size": "many"})


def test_list_users_maps_attributes(backend: LdapIdentity) -> None:
    users = {u["name"]: u for u in run(backend.list_users({}))}
    assert set(users) == {"alice", "bob", "carol"}
    alice = users["alice"]
    assert alice["id"] == public_id(DOMAIN, "u-alice", "user")
    assert alice["domain_id"] == DOMAIN and alice["enabled"] is True
    assert alice["extra"] == {"email": "alice@nubo.test"}
    assert alice["description"] == "LDAP user alice"
    assert alice["dn"].lower() == user_dn("u-alice").lower()
    assert users["carol"]["enabled"] is False
    assert users["carol"]["extra"] == {}


def test_name_filters_become_ldap_filters(backend: LdapIdentity) -> None:
    assert [u["name"] for u in run(backend.list_users({"name": "bob"}))] == ["bob"]
    assert {u["name"] for u in run(backend.list_users({"name__startswith": "ca"}))} == {"carol"}
    assert {u["name"] for u in run(backend.list_users({"name__contains": "o"}))} == {
        "bob", "carol"}
    assert run(backend.list_users({"name": "nobody*)(cn=*"})) == []


def test_get_and_find_user(backend: LdapIdentity) -> None:
    assert run(backend.get_user("u-bob"))["name"] == "bob"
    assert run(backend.find_user("alice"))["local_id"] == "u-alice"
    assert run(backend.get_user("u-nobody")) is None


def test_authenticate_is_a_bind(backend: LdapIdentity) -> None:
    alice = run(backend.find_user("alice"))
    run(backend.authenticate(alice, "alice-pw-1"))
    with pytest.raises(Unauthorized):
        run(backend.authenticate(alice, "wrong"))
    with pytest.raises(Unauthorized):
        run(backend.authenticate(alice, ""))


def test_groups_and_membership(backend: LdapIdentity) -> None:
    groups = {g["name"]: g for g in run(backend.list_groups({}))}
    assert set(groups) == {"developers", "operators"}
    devs = groups["developers"]
    assert devs["id"] == public_id(DOMAIN, "g-devs", "group")
    assert devs["description"] == "People who write code"
    assert {u["name"] for u in run(backend.users_in_group(devs))} == {"alice", "bob"}
    bob = run(backend.find_user("bob"))
    assert {g["name"] for g in run(backend.groups_for_user(bob))} == {"developers", "operators"}
    carol = run(backend.find_user("carol"))
    assert run(backend.groups_for_user(carol)) == []


def test_paged_search_and_subtree_scope(ldap_server: LdapServer) -> None:
    opts = LdapOptions.from_table(DOMAIN, {**options(ldap_server.url), "page_size": 1,
                                           "query_scope": "sub",
                                           "user_tree_dn": "dc=nubo,dc=test"})
    users = run(LdapIdentity(DOMAIN, opts).list_users({}))
    assert {u["name"] for u in users} == {"alice", "bob", "carol"}


def test_user_filter_narrows_the_search(ldap_server: LdapServer) -> None:
    opts = LdapOptions.from_table(DOMAIN, {**options(ldap_server.url),
                                           "user_filter": "(mail=*)"})
    assert {u["name"] for u in run(LdapIdentity(DOMAIN, opts).list_users({}))} == {
        "alice", "bob"}


def test_errors_are_translated(ldap_server: LdapServer) -> None:
    down = LdapIdentity(DOMAIN, LdapOptions.from_table(DOMAIN, {
        **options(f"ldap://127.0.0.1:{free_port()}"), "connection_timeout": 2}))
    with pytest.raises(ServiceUnavailable, match=DOMAIN):
        run(down.list_users({}))
    wrong = LdapIdentity(DOMAIN, LdapOptions.from_table(DOMAIN, {
        **options(ldap_server.url), "password": "not-it"}))
    with pytest.raises(ServiceUnavailable):
        run(wrong.list_users({}))
    missing_tree = LdapIdentity(DOMAIN, LdapOptions.from_table(DOMAIN, {
        **options(ldap_server.url), "user_tree_dn": "ou=Nobody,dc=nubo,dc=test"}))
    assert run(missing_tree.list_users({})) == []
