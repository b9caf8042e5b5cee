"""Default policy of the identity service: Keystone v3's rules, as Keystone ships them.

``DEFAULTS`` maps every ``identity:*`` rule Keystone defines (2024.2 and later: the
system/domain/project "secure RBAC" defaults with the domain *manager* persona) to its
check string, plus the base rules those refer to. Operators' Keystone ``policy.yaml``
overrides therefore keep working.

How Keystone's rules were carried over
--------------------------------------
* Credentials. Keystone's ``token.domain.id`` is our ``domain_id`` (set only for a
  domain-scoped token) and ``token.project.domain.id`` is ``project_domain_id``.
* Scope. Keystone declares ``scope_types`` per rule and, since 2024.2, always enforces
  them (oslo.policy ``enforce_scope``, now not even configurable): a token whose scope
  is not listed gets 403 whatever the check string says. An unscoped token counts as
  project-scoped there. Our engine has no scope_types, so the scope is folded in:

  - ``['system', 'domain', 'project']`` or none: nothing to add.
  - ``['system', 'project']``: domain-scoped tokens are refused, written
    ``(...) and not rule:domain_scoped``.
  - ``['project']``: system- and domain-scoped tokens are refused, written
    ``(...) and not system_scope:all and not rule:domain_scoped``.

  Our engine cannot test that a credential is *unset* (a None credential never
  matches), so the base rule ``domain_scoped`` is ``scope:domain``, on the ``scope``
  credential (``RequestContext.scope``: project, domain, system or unscoped).
* ``admin_required`` is the admin role on a project or the system, not on a domain.
  This is nubo's one deliberate departure from Keystone, where the admin role is global
  in every scope (a domain-scoped admin passes ``admin_required`` for any domain). Here
  a domain-scoped admin is confined to its domain: it acts through the domain *manager*
  persona (bootstrap makes admin imply manager imply member imply reader), so it may
  manage users, groups and projects of its own domain and grant manager, member and
  reader there. To close the escalation this would otherwise leave, the grant rules
  drop Keystone's "admin of the actor's and target's domain grants any role" clause
  (dead code in Keystone, where that admin already passes ``admin_required``). A
  project-scoped admin (Tempest's admin) passes ``admin_required`` everywhere, as in
  Keystone; override ``admin_required`` with ``role:admin or is_admin:1`` to get
  Keystone's behaviour back (and restore the grant clause if wanted).
* ``None:%(target.x)s`` (Keystone's "the target's x is None") works here as there:
  the target must carry the key, with the value None.

Targets handlers must pass
--------------------------
Nested dicts (``{"target": {"user": {...}}}``) or flat dotted keys both work. Entities
are the stored records (as the API renders them). "Flat ``user_id``" means a top-level
``user_id`` key, Keystone's path argument; never take it from the request body or query.

* tokens (validate/check/revoke): ``target.token.user_id`` = the *subject* token's user.
* users: ``get/update/delete_user``: ``target.user`` (``id``, ``domain_id``);
  ``create_user``: ``target.user`` = the request body's user with ``domain_id``
  defaulted *before* the check; ``list_users``: ``target.domain_id`` = the caller's
  ``domain_id`` for a domain-scoped token (then filter the result to that domain, as
  Keystone does), absent otherwise; ``list_user_projects``: ``target.user``;
  ``list_groups_for_user``: ``target.user`` and flat ``user_id``.
* groups: ``target.group`` (``domain_id``); membership rules also ``target.user``;
  ``create_group``: the body's group; ``list_groups``: ``target.group.domain_id`` = the
  caller's ``domain_id`` when domain-scoped (and filter).
* projects and project tags: ``target.project`` (``id``, ``domain_id``);
  ``create_project``: the body's project with ``domain_id`` defaulted;
  ``list_projects``: ``target.domain_id`` as for ``list_users``.
* domains: ``get_domain``: ``target.domain.id``; ``list_domains``:
  ``target.domain.id`` = the caller's ``domain_id`` when domain-scoped (and filter).
* roles: ``get_role``: ``target.role`` (``name``); ``*_domain_role``: ``target.role``.
* grants (``check/list/create/revoke_grant``): ``target.user`` or ``target.group`` (with
  ``domain_id``), ``target.project`` (``domain_id``) or ``target.domain`` (``id``), and
  for all but list ``target.role`` with ``name`` and ``domain_id`` (None for a global
  role: the key must be present).
* role assignments: ``list_role_assignments``: ``target.domain_id`` = the caller's
  ``domain_id`` when domain-scoped (then filter to assignments on that domain and its
  projects); ``list_role_assignments_for_tree``: ``target.project`` and
  ``target.domain_id`` = that project's ``domain_id``.
* credentials (``/v3/credentials``): ``target.credential`` (``user_id``); for a list,
  ``target.credential.user_id`` = the caller unless system-scoped, then check each
  credential with ``get_credential``; create: the body; update: stored merged with body.
* EC2 credentials: ``ec2_list_credentials``: flat ``user_id`` (path);
  ``ec2_create_credential``: ``target.credential.user_id`` = path user;
  ``ec2_get/delete_credential``: ``target.credential`` = the stored credential.
* application credentials: flat ``user_id``; for get and delete it must be the
  *stored credential's* ``user_id``, not the path's (else anyone naming their own id in
  the path passes ``owner``). Access rules: ``target.user.id`` = path user.
* trusts: ``create_trust``: ``target.trust`` = the body's trust; get/delete/roles:
  ``target.trust`` = the stored trust (``trustor_user_id``, ``trustee_user_id``);
  ``list_trusts_for_trustor/trustee``: ``target.trust.trustor_user_id`` /
  ``trustee_user_id`` from the query.
* limits: ``get_limit``: ``target.limit`` with ``project_id``, and ``project`` (the
  project record) or ``domain`` (the domain record).
* everything else (catalog, regions, endpoint groups, OS-EP-FILTER, policies and
  OS-ENDPOINT-POLICY, federation, OAuth1, domain configs, implied roles, system
  grants, registered limits, revocation events, auth): no target keys.

Departures and approximations
-----------------------------
* Keystone's ``list_roles`` admits a manager whose token is domain-scoped, written
  ``not domain_id:None``, which would always pass here: it is ``rule:domain_scoped``.
* The domain-admin confinement described above.
* No ``identity:change_password``: Keystone has no such rule; the endpoint is
  unenforced and authenticates with the original password. ``update_user`` of oneself
  stays admin/manager only, as in Keystone.
"""

from __future__ import annotations

__all__ = ["DEFAULTS"]


def _system_or_project(check: str) -> str:
    """scope_types ['system', 'project']: a domain-scoped token is refused."""
    return f"({check}) and not rule:domain_scoped"


def _project_only(check: str) -> str:
    """scope_types ['project']: system- and domain-scoped tokens are refused."""
    return f"({check}) and not system_scope:all and not rule:domain_scoped"


ADMIN = "rule:admin_required"
SYSTEM_READER = "(role:reader and system_scope:all)"
ADMIN_OR_SYSTEM_READER = f"{ADMIN} or {SYSTEM_READER}"

# The shapes shared by whole families of system/project-only rules.
SP_ADMIN = _system_or_project(ADMIN)
SP_READ = _system_or_project(ADMIN_OR_SYSTEM_READER)
SP_SERVICE_OR_ADMIN = _system_or_project("rule:service_or_admin")

CREDENTIAL_OWNER = "user_id:%(target.credential.user_id)s"
TRUSTOR = "user_id:%(target.trust.trustor_user_id)s"
TRUSTEE = "user_id:%(target.trust.trustee_user_id)s"
PROJECT_DOMAIN = "domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s"
PROJECT_READER = (
    f"{ADMIN} or {SYSTEM_READER} or (role:reader and {PROJECT_DOMAIN})"
    " or project_id:%(target.project.id)s"
)
PROJECT_MANAGER = f"{ADMIN} or (role:manager and {PROJECT_DOMAIN})"
USER_MANAGER = f"{ADMIN} or (role:manager and domain_id:%(target.user.domain_id)s)"
GROUP_READER = f"{ADMIN} or {SYSTEM_READER} or (role:reader and domain_id:%(target.group.domain_id)s)"
GROUP_MANAGER = f"{ADMIN} or (role:manager and domain_id:%(target.group.domain_id)s)"
MEMBERSHIP_DOMAINS = "domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s"
DOMAIN_READER_OF_TARGET = "(role:reader and domain_id:%(target.domain_id)s)"


def _grant_domains(role: str) -> str:
    """``role`` held on the domain of the actor (user or group) and of the grant's target."""
    return " or ".join(
        f"(role:{role} and domain_id:%(target.{actor}.domain_id)s and domain_id:%({scope})s)"
        for actor in ("user", "group")
        for scope in ("target.project.domain_id", "target.domain.id")
    )


# The role granted is global or belongs to the caller's domain.
GRANTABLE_ROLE = "(domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s)"
# Keystone also lets an admin of those domains grant any role there; see the module
# docstring for why that clause is left out.
GRANT_CHANGE = f"{ADMIN} or (({_grant_domains('manager')}) and rule:domain_managed_target_role)"


DEFAULTS: dict[str, str] = {
    # --- base rules ----------------------------------------------------------------
    # nubo: a domain-scoped admin administers its own domain only (through the manager
    # role it implies), not the whole cloud as in Keystone.
    # Keystone: role:admin or is_admin:1, in any scope (see the module docstring).
    "admin_required": "(role:admin or is_admin:1) and not rule:domain_scoped",
    "service_role": "role:service",
    "service_or_admin": "rule:admin_required or rule:service_role",
    "owner": "user_id:%(user_id)s",
    # Keystone's base rule admin_or_owner is left out: every service's rules share one
    # engine, and networking's admin_or_owner (Neutron's) means something else
    "token_subject": "user_id:%(target.token.user_id)s",
    "admin_or_token_subject": "rule:admin_required or rule:token_subject",
    "service_admin_or_token_subject": "rule:service_or_admin or rule:token_subject",
    # Roles a domain manager may grant, revoke and see (nothing above manager).
    "domain_managed_target_role": (
        "'manager':%(target.role.name)s or 'member':%(target.role.name)s"
        " or 'reader':%(target.role.name)s"
    ),
    # nubo only: the caller's token is domain-scoped (folds Keystone's scope_types).
    "domain_scoped": "scope:domain",
    # --- auth (no scope_types) -------------------------------------------------------
    "identity:get_auth_catalog": "",
    "identity:get_auth_projects": "",
    "identity:get_auth_domains": "",
    "identity:get_auth_system": "",
    # --- tokens: target.token.user_id ---------------------------------------------------
    "identity:check_token": f"{ADMIN_OR_SYSTEM_READER} or rule:token_subject",
    "identity:validate_token": (
        f"{ADMIN_OR_SYSTEM_READER} or rule:service_role or rule:token_subject"
    ),
    "identity:revoke_token": f"{ADMIN} or rule:token_subject",
    "identity:revocation_list": SP_SERVICE_OR_ADMIN,
    "identity:list_revoke_events": SP_SERVICE_OR_ADMIN,
    "identity:s3tokens_validate": "rule:service_or_admin",
    "identity:ec2tokens_validate": "rule:service_or_admin",
    # --- users: target.user / target.domain_id ------------------------------------------
    "identity:get_user": (
        f"{ADMIN} or {SYSTEM_READER} or (role:reader and domain_id:%(target.user.domain_id)s)"
        " or user_id:%(target.user.id)s"
    ),
    "identity:list_users": f"{ADMIN} or {SYSTEM_READER} or {DOMAIN_READER_OF_TARGET}",
    "identity:create_user": USER_MANAGER,
    "identity:update_user": USER_MANAGER,
    "identity:delete_user": USER_MANAGER,
    # OS-FEDERATION /v3/OS-FEDERATION/projects and /domains (no scope_types).
    "identity:list_projects_for_user": "",
    "identity:list_domains_for_user": "",
    # --- groups: target.group, target.user ---------------------------------------------
    "identity:get_group": GROUP_READER,
    "identity:list_groups": GROUP_READER,
    "identity:list_groups_for_user": (
        f"{ADMIN} or {SYSTEM_READER} or (role:reader and domain_id:%(target.user.domain_id)s)"
        " or user_id:%(user_id)s"
    ),
    "identity:create_group": GROUP_MANAGER,
    "identity:update_group": GROUP_MANAGER,
    "identity:delete_group": GROUP_MANAGER,
    "identity:list_users_in_group": GROUP_READER,
    "identity:check_user_in_group": (
        f"{ADMIN} or {SYSTEM_READER} or (role:reader and {MEMBERSHIP_DOMAINS})"
    ),
    "identity:add_user_to_group": f"{ADMIN} or (role:manager and {MEMBERSHIP_DOMAINS})",
    "identity:remove_user_from_group": f"{ADMIN} or (role:manager and {MEMBERSHIP_DOMAINS})",
    # --- projects and project tags: target.project / target.domain_id -------------------
    "identity:get_project": PROJECT_READER,
    "identity:list_projects": f"{ADMIN} or {SYSTEM_READER} or {DOMAIN_READER_OF_TARGET}",
    "identity:list_user_projects": (
        f"{ADMIN} or {SYSTEM_READER} or (role:reader and domain_id:%(target.user.domain_id)s)"
        " or user_id:%(target.user.id)s"
    ),
    "identity:create_project": PROJECT_MANAGER,
    "identity:update_project": PROJECT_MANAGER,
    "identity:delete_project": PROJECT_MANAGER,
    "identity:list_project_tags": PROJECT_READER,
    "identity:get_project_tag": PROJECT_READER,
    "identity:update_project_tags": PROJECT_MANAGER,
    "identity:create_project_tag": PROJECT_MANAGER,
    "identity:delete_project_tags": PROJECT_MANAGER,
    "identity:delete_project_tag": PROJECT_MANAGER,
    # --- domains: target.domain.id ---------------------------------------------------
    "identity:get_domain": (
        f"{ADMIN_OR_SYSTEM_READER} or domain_id:%(target.domain.id)s"
        " or project_domain_id:%(target.domain.id)s"
    ),
    "identity:list_domains": (
        f"{ADMIN_OR_SYSTEM_READER} or (role:reader and domain_id:%(target.domain.id)s)"
    ),
    "identity:create_domain": SP_ADMIN,
    "identity:update_domain": SP_ADMIN,
    "identity:delete_domain": SP_ADMIN,
    # --- domain configs (no target) ------------------------------------------------------
    "identity:create_domain_config": SP_ADMIN,
    "identity:get_domain_config": SP_READ,
    "identity:get_domain_config_default": SP_READ,
    "identity:update_domain_config": SP_ADMIN,
    "identity:delete_domain_config": SP_ADMIN,
    "identity:get_security_compliance_domain_config": "",
    # --- roles: target.role (name, domain_id) -----------------------------------------
    "identity:get_role": f"{ADMIN_OR_SYSTEM_READER} or (role:manager and rule:domain_managed_target_role)",
    "identity:list_roles": f"{ADMIN_OR_SYSTEM_READER} or (role:manager and rule:domain_scoped)",
    "identity:create_role": SP_ADMIN,
    "identity:update_role": SP_ADMIN,
    "identity:delete_role": SP_ADMIN,
    "identity:get_domain_role": SP_READ,
    "identity:list_domain_roles": SP_READ,
    "identity:create_domain_role": SP_ADMIN,
    "identity:update_domain_role": SP_ADMIN,
    "identity:delete_domain_role": SP_ADMIN,
    # --- implied roles (no target) -------------------------------------------------------
    "identity:get_implied_role": SP_READ,
    "identity:list_implied_roles": SP_READ,
    "identity:list_role_inference_rules": SP_READ,
    "identity:check_implied_role": SP_READ,
    "identity:create_implied_role": SP_ADMIN,
    "identity:delete_implied_role": SP_ADMIN,
    # --- grants: target.user|group, target.project|domain, target.role -------------------
    "identity:check_grant": (
        f"{ADMIN} or {SYSTEM_READER} or (({_grant_domains('reader')}) and {GRANTABLE_ROLE})"
    ),
    "identity:list_grants": f"{ADMIN} or {SYSTEM_READER} or {_grant_domains('reader')}",
    "identity:create_grant": GRANT_CHANGE,
    "identity:revoke_grant": GRANT_CHANGE,
    # --- system role assignments (no target) ----------------------------------------------
    "identity:list_system_grants_for_user": SP_READ,
    "identity:check_system_grant_for_user": SP_READ,
    "identity:create_system_grant_for_user": SP_ADMIN,
    "identity:revoke_system_grant_for_user": SP_ADMIN,
    "identity:list_system_grants_for_group": SP_READ,
    "identity:check_system_grant_for_group": SP_READ,
    "identity:create_system_grant_for_group": SP_ADMIN,
    "identity:revoke_system_grant_for_group": SP_ADMIN,
    # --- role assignments: target.domain_id (and target.project for the tree) ----------
    "identity:list_role_assignments": f"{ADMIN} or {SYSTEM_READER} or {DOMAIN_READER_OF_TARGET}",
    "identity:list_role_assignments_for_tree": (
        f"{ADMIN} or {SYSTEM_READER} or {DOMAIN_READER_OF_TARGET}"
    ),
    # --- credentials: target.credential.user_id -------------------------------------------
    "identity:get_credential": f"{ADMIN} or {SYSTEM_READER} or {CREDENTIAL_OWNER}",
    "identity:list_credentials": f"{ADMIN} or {SYSTEM_READER} or {CREDENTIAL_OWNER}",
    "identity:create_credential": f"{ADMIN} or {CREDENTIAL_OWNER}",
    "identity:update_credential": f"{ADMIN} or {CREDENTIAL_OWNER}",
    "identity:delete_credential": f"{ADMIN} or {CREDENTIAL_OWNER}",
    # --- EC2 credentials: target.credential.user_id, flat user_id for the list ---------
    "identity:ec2_get_credential": _system_or_project(
        f"{ADMIN} or {SYSTEM_READER} or {CREDENTIAL_OWNER}"
    ),
    "identity:ec2_list_credentials": _system_or_project(
        f"{ADMIN} or {SYSTEM_READER} or rule:owner"
    ),
    "identity:ec2_create_credential": _system_or_project(
        f"{ADMIN} or (role:member and {CREDENTIAL_OWNER})"
    ),
    "identity:ec2_delete_credential": _system_or_project(
        f"{ADMIN} or (role:member and {CREDENTIAL_OWNER})"
    ),
    # --- application credentials: flat user_id (the stored credential's owner) ---------
    "identity:get_application_credential": _system_or_project(
        f"{ADMIN} or {SYSTEM_READER} or rule:owner"
    ),
    "identity:list_application_credentials": _system_or_project(
        f"{ADMIN} or {SYSTEM_READER} or rule:owner"
    ),
    "identity:create_application_credential": _project_only("user_id:%(user_id)s"),
    "identity:delete_application_credential": _system_or_project(
        "rule:admin_required or rule:owner"
    ),
    # --- access rules: target.user.id -------------------------------------------------
    "identity:get_access_rule": _system_or_project(
        f"{SYSTEM_READER} or user_id:%(target.user.id)s"
    ),
    "identity:list_access_rules": _system_or_project(
        f"{SYSTEM_READER} or user_id:%(target.user.id)s"
    ),
    "identity:delete_access_rule": _system_or_project(
        "(role:admin and system_scope:all) or user_id:%(target.user.id)s"
    ),
    # --- trusts: target.trust ---------------------------------------------------------
    "identity:create_trust": _project_only(TRUSTOR),
    "identity:list_trusts": SP_READ,
    "identity:list_trusts_for_trustor": _system_or_project(
        f"{ADMIN} or {SYSTEM_READER} or {TRUSTOR}"
    ),
    "identity:list_trusts_for_trustee": _system_or_project(
        f"{ADMIN} or {SYSTEM_READER} or {TRUSTEE}"
    ),
    "identity:get_trust": _system_or_project(
        f"{ADMIN} or {SYSTEM_READER} or {TRUSTOR} or {TRUSTEE}"
    ),
    "identity:list_roles_for_trust": _system_or_project(
        f"{ADMIN} or {SYSTEM_READER} or {TRUSTOR} or {TRUSTEE}"
    ),
    "identity:get_role_for_trust": _system_or_project(
        f"{ADMIN} or {SYSTEM_READER} or {TRUSTOR} or {TRUSTEE}"
    ),
    "identity:delete_trust": _system_or_project(f"{ADMIN} or {TRUSTOR}"),
    # --- OAuth1 consumers (no target) -----------------------------------------------------
    "identity:get_consumer": SP_READ,
    "identity:list_consumers": SP_READ,
    "identity:create_consumer": SP_ADMIN,
    "identity:update_consumer": SP_ADMIN,
    "identity:delete_consumer": SP_ADMIN,
    # --- OAuth1 request/access tokens: project scope only -----------------------------------
    "identity:authorize_request_token": _project_only(ADMIN),
    "identity:get_access_token": _project_only(ADMIN),
    "identity:get_access_token_role": _project_only(ADMIN),
    "identity:list_access_tokens": _project_only(ADMIN),
    "identity:list_access_token_roles": _project_only(ADMIN),
    "identity:delete_access_token": _project_only(ADMIN),
    # --- catalog: regions, services, endpoints (no target) -------------------------------
    "identity:get_region": "",
    "identity:list_regions": "",
    "identity:create_region": SP_ADMIN,
    "identity:update_region": SP_ADMIN,
    "identity:delete_region": SP_ADMIN,
    "identity:get_service": SP_READ,
    "identity:list_services": SP_READ,
    "identity:create_service": SP_ADMIN,
    "identity:update_service": SP_ADMIN,
    "identity:delete_service": SP_ADMIN,
    "identity:get_endpoint": SP_READ,
    "identity:list_endpoints": SP_READ,
    "identity:create_endpoint": SP_ADMIN,
    "identity:update_endpoint": SP_ADMIN,
    "identity:delete_endpoint": SP_ADMIN,
    # --- OS-EP-FILTER endpoint groups and project endpoints (no target) ------------------
    "identity:create_endpoint_group": SP_ADMIN,
    "identity:list_endpoint_groups": SP_READ,
    "identity:get_endpoint_group": SP_READ,
    "identity:update_endpoint_group": SP_ADMIN,
    "identity:delete_endpoint_group": SP_ADMIN,
    "identity:list_projects_associated_with_endpoint_group": SP_READ,
    "identity:list_endpoints_associated_with_endpoint_group": SP_READ,
    "identity:get_endpoint_group_in_project": SP_READ,
    "identity:list_endpoint_groups_for_project": SP_READ,
    "identity:add_endpoint_group_to_project": SP_ADMIN,
    "identity:remove_endpoint_group_from_project": SP_ADMIN,
    "identity:list_projects_for_endpoint": SP_READ,
    "identity:add_endpoint_to_project": SP_ADMIN,
    "identity:check_endpoint_in_project": SP_READ,
    "identity:list_endpoints_for_project": SP_READ,
    "identity:remove_endpoint_from_project": SP_ADMIN,
    # --- policies and OS-ENDPOINT-POLICY associations (no target) -------------------------
    "identity:get_policy": SP_READ,
    "identity:list_policies": SP_READ,
    "identity:create_policy": SP_ADMIN,
    "identity:update_policy": SP_ADMIN,
    "identity:delete_policy": SP_ADMIN,
    "identity:create_policy_association_for_endpoint": SP_ADMIN,
    "identity:check_policy_association_for_endpoint": SP_READ,
    "identity:delete_policy_association_for_endpoint": SP_ADMIN,
    "identity:create_policy_association_for_service": SP_ADMIN,
    "identity:check_policy_association_for_service": SP_READ,
    "identity:delete_policy_association_for_service": SP_ADMIN,
    "identity:create_policy_association_for_region_and_service": SP_ADMIN,
    "identity:check_policy_association_for_region_and_service": SP_READ,
    "identity:delete_policy_association_for_region_and_service": SP_ADMIN,
    "identity:get_policy_for_endpoint": SP_READ,
    "identity:list_endpoints_for_policy": SP_READ,
    # --- limits: target.limit; registered limits (no target) ---------------------------
    "identity:get_limit_model": "",
    "identity:get_limit": (
        f"{ADMIN_OR_SYSTEM_READER}"
        " or domain_id:%(target.limit.domain.id)s"
        " or domain_id:%(target.limit.project.domain_id)s"
        " or (project_id:%(target.limit.project_id)s and not None:%(target.limit.project_id)s)"
    ),
    "identity:list_limits": "",
    "identity:create_limits": SP_ADMIN,
    "identity:update_limit": SP_ADMIN,
    "identity:delete_limit": SP_ADMIN,
    "identity:get_registered_limit": "",
    "identity:list_registered_limits": "",
    "identity:create_registered_limits": SP_ADMIN,
    "identity:update_registered_limit": SP_ADMIN,
    "identity:delete_registered_limit": SP_ADMIN,
    # --- federation: identity providers, protocols, mappings, service providers --------
    "identity:create_identity_provider": SP_ADMIN,
    "identity:list_identity_providers": SP_READ,
    "identity:get_identity_provider": SP_READ,
    "identity:update_identity_provider": SP_ADMIN,
    "identity:delete_identity_provider": SP_ADMIN,
    "identity:create_protocol": SP_ADMIN,
    "identity:update_protocol": SP_ADMIN,
    "identity:get_protocol": SP_READ,
    "identity:list_protocols": SP_READ,
    "identity:delete_protocol": SP_ADMIN,
    "identity:create_mapping": SP_ADMIN,
    "identity:get_mapping": SP_READ,
    "identity:list_mappings": SP_READ,
    "identity:delete_mapping": SP_ADMIN,
    "identity:update_mapping": SP_ADMIN,
    "identity:create_service_provider": SP_ADMIN,
    "identity:list_service_providers": SP_READ,
    "identity:get_service_provider": SP_READ,
    "identity:update_service_provider": SP_ADMIN,
    "identity:delete_service_provider": SP_ADMIN,
}
