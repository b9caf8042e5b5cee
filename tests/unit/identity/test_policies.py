"""The identity default policy: it loads, and it decides as Keystone's defaults do.

Keystone's own decisions (oslo.policy with scope_types enforced) were compared with
these rules over every rule and a grid of callers and targets; the table below pins
the representative ones, plus nubo's one departure (a domain-scoped admin is confined
to its domain).
"""

from __future__ import annotations

from typing import Any

import pytest

from nubo.core.auth.context import RequestContext
from nubo.core.auth.policy import PolicyEngine
from nubo.identity.policies import DEFAULTS

ADMIN_ROLES = ("admin", "manager", "member", "reader")  # with bootstrap's implied roles
MANAGER_ROLES = ("manager", "member", "reader")
MEMBER_ROLES = ("member", "reader")
READER_ROLES = ("reader",)


def _project(user: str, roles: tuple[str, ...], project: str = "P", domain: str = "D") -> Any:
    return RequestContext(user_id=user, user_domain_id=domain, project_id=project,
                          project_domain_id=domain, roles=roles)


def _domain(user: str, roles: tuple[str, ...], domain: str = "D") -> Any:
    return RequestContext(user_id=user, user_domain_id=domain, domain_id=domain, roles=roles)


def _system(user: str, roles: tuple[str, ...]) -> Any:
    return RequestContext(user_id=user, user_domain_id="default", system_scope="all",
                          roles=roles)


CALLERS: dict[str, RequestContext] = {
    # Tempest's admin: the admin role on the "admin" project.
    "project_admin": _project("admin", ADMIN_ROLES, "admin", "default"),
    "project_member": _project("alice", MEMBER_ROLES),
    "project_reader": _project("alice", READER_ROLES),
    "project_manager": _project("alice", MANAGER_ROLES),
    "project_service": _project("nova", ("service",), "service", "default"),
    "system_admin": _system("root", ADMIN_ROLES),
    "system_reader": _system("auditor", READER_ROLES),
    "domain_admin": _domain("dadmin", ADMIN_ROLES),
    "domain_manager": _domain("dmanager", MANAGER_ROLES),
    "domain_reader": _domain("dreader", READER_ROLES),
    "domain_member_alice": _domain("alice", MEMBER_ROLES),
    "unscoped_alice": RequestContext(user_id="alice", user_domain_id="D"),
}


def _user(uid: str, domain: str) -> dict[str, Any]:
    return {"target": {"user": {"id": uid, "domain_id": domain}}, "user_id": uid}


def _grant(role: str, role_domain: str | None = None, user_domain: str = "D",
           project_domain: str = "D") -> dict[str, Any]:
    return {"target": {"user": {"id": "bob", "domain_id": user_domain},
                       "project": {"id": "P2", "domain_id": project_domain},
                       "role": {"id": f"{role}-id", "name": role, "domain_id": role_domain}}}


def _app_cred(owner: str) -> dict[str, Any]:
    # Handlers put the stored credential's owner in the flat user_id.
    return {"user_id": owner, "target": {"user": {"id": owner}}}


TOKEN_OF_ALICE = {"target": {"token": {"user_id": "alice"}}}
TOKEN_OF_BOB = {"target": {"token": {"user_id": "bob"}}}
PROJECT_P = {"target": {"project": {"id": "P", "domain_id": "D"}, "domain_id": "D"}}
PROJECT_Q = {"target": {"project": {"id": "Q", "domain_id": "E"}, "domain_id": "E"}}

CASES: list[tuple[str, str, dict[str, Any], bool]] = [
    # Users: creating is for admins (project or system scope) and domain managers.
    ("identity:create_user", "project_admin", _user("new", "E"), True),
    ("identity:create_user", "system_admin", _user("new", "E"), True),
    ("identity:create_user", "project_member", _user("new", "D"), False),
    ("identity:create_user", "project_manager", _user("new", "D"), False),
    ("identity:create_user", "system_reader", _user("new", "D"), False),
    ("identity:create_user", "domain_manager", _user("new", "D"), True),
    ("identity:create_user", "domain_manager", _user("new", "E"), False),
    ("identity:create_user", "domain_admin", _user("new", "D"), True),
    ("identity:create_user", "domain_admin", _user("new", "E"), False),
    ("identity:delete_user", "domain_admin", _user("bob", "E"), False),
    ("identity:update_user", "domain_manager", _user("bob", "D"), True),
    # Listing: system readers see all; a domain reader only its own domain.
    ("identity:list_users", "system_reader", {}, True),
    ("identity:list_users", "project_admin", {}, True),
    ("identity:list_users", "project_member", {}, False),
    ("identity:list_users", "domain_reader", {"target": {"domain_id": "D"}}, True),
    ("identity:list_users", "domain_reader", {"target": {"domain_id": "E"}}, False),
    ("identity:list_users", "domain_reader", {}, False),
    ("identity:get_user", "domain_reader", _user("bob", "D"), True),
    ("identity:get_user", "domain_reader", _user("bob", "E"), False),
    # Oneself: get, yes; update through PATCH /users, no (that is admin work).
    ("identity:get_user", "project_member", _user("alice", "D"), True),
    ("identity:get_user", "unscoped_alice", _user("alice", "D"), True),
    ("identity:get_user", "project_member", _user("bob", "D"), False),
    ("identity:update_user", "project_member", _user("alice", "D"), False),
    ("identity:list_user_projects", "unscoped_alice", _user("alice", "D"), True),
    ("identity:list_user_projects", "project_member", _user("bob", "D"), False),
    ("identity:list_groups_for_user", "project_member", _user("alice", "D"), True),
    # Tokens: the subject itself, admins, system readers; validate also services.
    ("identity:validate_token", "project_member", TOKEN_OF_ALICE, True),
    ("identity:validate_token", "unscoped_alice", TOKEN_OF_ALICE, True),
    ("identity:validate_token", "project_member", TOKEN_OF_BOB, False),
    ("identity:validate_token", "project_service", TOKEN_OF_BOB, True),
    ("identity:validate_token", "system_reader", TOKEN_OF_BOB, True),
    ("identity:validate_token", "project_admin", TOKEN_OF_BOB, True),
    ("identity:check_token", "project_service", TOKEN_OF_BOB, False),
    ("identity:check_token", "domain_member_alice", TOKEN_OF_ALICE, True),
    ("identity:revoke_token", "project_member", TOKEN_OF_ALICE, True),
    ("identity:revoke_token", "system_reader", TOKEN_OF_BOB, False),
    ("identity:revoke_token", "project_admin", TOKEN_OF_BOB, True),
    # Role assignments: no project-level clause at all, not even for one's own project.
    ("identity:list_role_assignments", "project_member", PROJECT_Q, False),
    ("identity:list_role_assignments", "project_member", PROJECT_P, False),
    ("identity:list_role_assignments", "project_manager", PROJECT_P, False),
    ("identity:list_role_assignments", "project_admin", PROJECT_Q, True),
    ("identity:list_role_assignments", "system_reader", {}, True),
    ("identity:list_role_assignments", "domain_reader", {"target": {"domain_id": "D"}}, True),
    ("identity:list_role_assignments", "domain_reader", {"target": {"domain_id": "E"}}, False),
    ("identity:list_role_assignments_for_tree", "project_member", PROJECT_P, False),
    ("identity:list_role_assignments_for_tree", "domain_reader", PROJECT_P, True),
    ("identity:list_role_assignments_for_tree", "domain_reader", PROJECT_Q, False),
    # Application credentials: the owner (flat user_id), admins, system readers.
    ("identity:get_application_credential", "project_member", _app_cred("alice"), True),
    ("identity:get_application_credential", "project_member", _app_cred("bob"), False),
    ("identity:get_application_credential", "system_reader", _app_cred("bob"), True),
    ("identity:get_application_credential", "project_admin", _app_cred("bob"), True),
    ("identity:get_application_credential", "domain_member_alice", _app_cred("alice"), False),
    ("identity:list_application_credentials", "project_member", _app_cred("alice"), True),
    ("identity:list_application_credentials", "project_member", _app_cred("bob"), False),
    ("identity:delete_application_credential", "project_member", _app_cred("alice"), True),
    ("identity:delete_application_credential", "system_reader", _app_cred("bob"), False),
    ("identity:delete_application_credential", "system_admin", _app_cred("bob"), True),
    ("identity:create_application_credential", "project_member", _app_cred("alice"), True),
    ("identity:create_application_credential", "project_member", _app_cred("bob"), False),
    ("identity:create_application_credential", "project_admin", _app_cred("bob"), False),
    ("identity:create_application_credential", "domain_member_alice", _app_cred("alice"), False),
    ("identity:get_access_rule", "project_member", _app_cred("alice"), True),
    ("identity:get_access_rule", "project_admin", _app_cred("bob"), False),
    ("identity:delete_access_rule", "system_admin", _app_cred("bob"), True),
    # Grants: a domain manager grants at most manager within its domain; a domain admin
    # is no more than a manager there; global admins grant anything.
    ("identity:create_grant", "project_admin", _grant("admin"), True),
    ("identity:create_grant", "domain_manager", _grant("member"), True),
    ("identity:create_grant", "domain_manager", _grant("manager"), True),
    ("identity:create_grant", "domain_manager", _grant("admin"), False),
    ("identity:create_grant", "domain_manager", _grant("member", project_domain="E"), False),
    ("identity:create_grant", "domain_manager", _grant("member", user_domain="E"), False),
    ("identity:create_grant", "domain_admin", _grant("member"), True),
    ("identity:create_grant", "domain_admin", _grant("admin"), False),
    ("identity:revoke_grant", "project_member", _grant("member"), False),
    ("identity:check_grant", "domain_reader", _grant("member"), True),
    ("identity:check_grant", "domain_reader", _grant("member", role_domain="D"), True),
    ("identity:check_grant", "domain_reader", _grant("member", role_domain="E"), False),
    ("identity:list_grants", "domain_reader", _grant("member", project_domain="E"), False),
    # Roles.
    ("identity:list_roles", "domain_manager", {}, True),
    ("identity:list_roles", "project_manager", {}, False),
    ("identity:list_roles", "project_member", {}, False),
    ("identity:get_role", "project_manager", {"target": {"role": {"name": "member"}}}, True),
    ("identity:get_role", "project_manager", {"target": {"role": {"name": "admin"}}}, False),
    ("identity:create_role", "system_admin", {}, True),
    ("identity:create_role", "domain_admin", {}, False),
    # Projects and domains.
    ("identity:get_project", "project_member", PROJECT_P, True),
    ("identity:get_project", "project_member", PROJECT_Q, False),
    ("identity:get_project", "domain_reader", PROJECT_P, True),
    ("identity:create_project", "domain_manager", PROJECT_P, True),
    ("identity:create_project", "domain_manager", PROJECT_Q, False),
    ("identity:update_project_tags", "project_member", PROJECT_P, False),
    ("identity:get_project_tag", "project_reader", PROJECT_P, True),
    ("identity:get_domain", "project_member", {"target": {"domain": {"id": "D"}}}, True),
    ("identity:get_domain", "project_member", {"target": {"domain": {"id": "E"}}}, False),
    ("identity:get_domain", "domain_reader", {"target": {"domain": {"id": "D"}}}, True),
    ("identity:list_domains", "domain_reader", {"target": {"domain": {"id": "D"}}}, True),
    ("identity:list_domains", "project_member", {}, False),
    ("identity:create_domain", "project_admin", {}, True),
    ("identity:create_domain", "domain_admin", {}, False),
    # Scope folded into system/project-only rules: domain tokens are refused.
    ("identity:create_service", "project_admin", {}, True),
    ("identity:create_service", "system_admin", {}, True),
    ("identity:create_service", "domain_admin", {}, False),
    ("identity:list_endpoints", "system_reader", {}, True),
    ("identity:list_endpoints", "project_reader", {}, False),
    ("identity:list_revoke_events", "project_service", {}, True),
    ("identity:get_region", "unscoped_alice", {}, True),
    ("identity:list_registered_limits", "project_reader", {}, True),
    # Project-only rules refuse system tokens too.
    ("identity:list_access_tokens", "project_admin", {}, True),
    ("identity:list_access_tokens", "system_admin", {}, False),
    (
        "identity:create_trust",
        "project_member",
        {"target": {"trust": {"trustor_user_id": "alice"}}},
        True,
    ),
    (
        "identity:create_trust",
        "project_member",
        {"target": {"trust": {"trustor_user_id": "bob"}}},
        False,
    ),
    ("identity:create_trust", "system_admin", {"target": {"trust": {"trustor_user_id": "root"}}},
     False),
    # Trusts, credentials, limits: owner-style target keys.
    ("identity:get_trust", "project_member",
     {"target": {"trust": {"trustor_user_id": "bob", "trustee_user_id": "alice"}}}, True),
    ("identity:get_trust", "project_member",
     {"target": {"trust": {"trustor_user_id": "bob", "trustee_user_id": "carol"}}}, False),
    ("identity:delete_trust", "project_member",
     {"target": {"trust": {"trustor_user_id": "bob", "trustee_user_id": "alice"}}}, False),
    ("identity:get_credential", "project_member",
     {"target": {"credential": {"user_id": "alice"}}}, True),
    ("identity:get_credential", "project_member",
     {"target": {"credential": {"user_id": "bob"}}}, False),
    ("identity:ec2_create_credential", "project_reader",
     {"target": {"credential": {"user_id": "alice"}}}, False),
    ("identity:ec2_create_credential", "project_member",
     {"target": {"credential": {"user_id": "alice"}}}, True),
    ("identity:ec2_list_credentials", "project_member", {"user_id": "alice"}, True),
    ("identity:get_limit", "project_reader",
     {"target": {"limit": {"project_id": "P", "project": {"domain_id": "D"}}}}, True),
    ("identity:get_limit", "project_reader",
     {"target": {"limit": {"project_id": "Q", "project": {"domain_id": "E"}}}}, False),
    ("identity:get_limit", "domain_reader",
     {"target": {"limit": {"project_id": "Q", "project": {"domain_id": "D"}}}}, True),
    # Auth discovery is open to any token.
    ("identity:get_auth_catalog", "unscoped_alice", {}, True),
    ("identity:get_auth_projects", "unscoped_alice", {}, True),
]


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine(DEFAULTS)


@pytest.mark.parametrize(("rule", "caller", "target", "allowed"), CASES,
                         ids=[f"{r.split(':')[-1]}-{c}-{n}" for n, (r, c, _, _) in
                              enumerate(CASES)])
def test_decision(engine: PolicyEngine, rule: str, caller: str, target: dict[str, Any],
                  allowed: bool) -> None:
    assert engine.enforce(rule, target, CALLERS[caller].to_policy_values()) is allowed


def test_every_rule_compiles_and_references_exist(engine: PolicyEngine) -> None:
    assert dict(engine.rules) == DEFAULTS
    for name, expression in DEFAULTS.items():
        for word in expression.replace("(", " ").replace(")", " ").split():
            if word.startswith("rule:"):
                assert word[5:] in DEFAULTS, (name, word)


def test_keystone_rule_names() -> None:
    # Keystone's admin_or_owner is not among them: networking's rule of that name
    # (Neutron's) would replace it in the shared engine
    base = {"admin_required", "service_role", "service_or_admin", "owner", "token_subject",
            "admin_or_token_subject", "service_admin_or_token_subject",
            "domain_managed_target_role", "domain_scoped"}
    assert base <= DEFAULTS.keys()
    assert {n for n in DEFAULTS if not n.startswith("identity:")} == base
    # Keystone 2024.2+ defines 194 identity:* rules.
    assert sum(n.startswith("identity:") for n in DEFAULTS) == 194
    # Keystone has no policy for a user changing its own password: the endpoint is
    # unenforced and authenticated by the original password.
    assert "identity:change_password" not in DEFAULTS


def test_tempest_admin_passes_every_admin_rule(engine: PolicyEngine) -> None:
    """A project-scoped admin may do all Keystone lets it, with no target at all.

    The exceptions are owner-only in Keystone too: an admin cannot create application
    credentials or trusts for others, nor read others' access rules.
    """
    creds = CALLERS["project_admin"].to_policy_values()
    refused = {r for r in DEFAULTS if r.startswith("identity:") and not engine.enforce(r, {}, creds)}
    assert refused == {
        "identity:create_application_credential",
        "identity:create_trust",
        "identity:get_access_rule",
        "identity:list_access_rules",
        "identity:delete_access_rule",
    }


def test_project_member_passes_no_admin_only_rule(engine: PolicyEngine) -> None:
    creds = CALLERS["project_member"].to_policy_values()
    allowed = {r for r in DEFAULTS if r.startswith("identity:") and engine.enforce(r, {}, creds)}
    open_rules = {r for r, expression in DEFAULTS.items() if expression == ""}
    assert allowed == open_rules


def test_keystone_domain_admin_is_one_override_away(engine: PolicyEngine) -> None:
    """Overriding admin_required with Keystone's string makes a domain admin global again."""
    keystone = PolicyEngine({**DEFAULTS, "admin_required": "role:admin or is_admin:1"})
    creds = CALLERS["domain_admin"].to_policy_values()
    assert not engine.enforce("identity:create_user", _user("new", "E"), creds)
    assert keystone.enforce("identity:create_user", _user("new", "E"), creds)
    # Scope still folds in: system/project-only rules refuse the domain token.
    assert not keystone.enforce("identity:create_service", {}, creds)
