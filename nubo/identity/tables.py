"""Identity tables. Only ``nubo.identity`` reads or writes these.

Domains are rows of ``project`` with ``is_domain`` set, as in Keystone, so a
project created with ``is_domain: true`` is a domain too. A domain's own
``domain_id`` holds the ROOT_DOMAIN sentinel (never shown in the API).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from nubo.core.db.base import AutoId, Id, Name, UTCDateTime, metadata

ROOT_DOMAIN = "<<keystone.domain.root>>"
NULL_DOMAIN = "<<null>>"

project = Table(
    "project",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("name", Name(64), nullable=False),
    Column("domain_id", Id(), nullable=False),
    Column("parent_id", Id(), ForeignKey("project.id"), nullable=True),
    Column("is_domain", Boolean, nullable=False, default=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("description", Text, nullable=False, default=""),
    Column("options", JSON, nullable=False, default=dict),
    Column("extra", JSON, nullable=False, default=dict),
    UniqueConstraint("domain_id", "name"),
)

project_tag = Table(
    "project_tag",
    metadata,
    Column("project_id", Id(), ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    Column("name", Name(255), primary_key=True),
)

user = Table(
    "user",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("domain_id", Id(), ForeignKey("project.id"), nullable=False),
    Column("name", Name(255), nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("default_project_id", Id(), nullable=True),
    Column("description", Text, nullable=True),
    Column("options", JSON, nullable=False, default=dict),
    Column("extra", JSON, nullable=False, default=dict),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_active_at", UTCDateTime, nullable=True),
    Column("failed_auth_count", Integer, nullable=False, default=0),
    Column("failed_auth_at", UTCDateTime, nullable=True),
    UniqueConstraint("domain_id", "name"),
)

# Newest row per user is the current password; older rows are the history
# that unique_last_password_count checks against.
password = Table(
    "password",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("user_id", Id(), ForeignKey("user.id", ondelete="CASCADE"), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("self_service", Boolean, nullable=False, default=False),
    Index("ix_password_user_id", "user_id"),
)

group = Table(
    "group",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("domain_id", Id(), ForeignKey("project.id"), nullable=False),
    Column("name", Name(64), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("extra", JSON, nullable=False, default=dict),
    UniqueConstraint("domain_id", "name"),
)

# user_id is not a foreign key: LDAP users live outside this database.
user_group_membership = Table(
    "user_group_membership",
    metadata,
    Column("user_id", Id(), primary_key=True),
    Column("group_id", Id(), ForeignKey("group.id", ondelete="CASCADE"), primary_key=True),
)

role = Table(
    "role",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("name", Name(255), nullable=False),
    Column("domain_id", Id(), nullable=False, default=NULL_DOMAIN),
    Column("description", Text, nullable=True),
    Column("options", JSON, nullable=False, default=dict),
    Column("extra", JSON, nullable=False, default=dict),
    UniqueConstraint("name", "domain_id"),
)

implied_role = Table(
    "implied_role",
    metadata,
    Column("prior_role_id", Id(), ForeignKey("role.id", ondelete="CASCADE"), primary_key=True),
    Column("implied_role_id", Id(), ForeignKey("role.id", ondelete="CASCADE"), primary_key=True),
)

# type: UserProject, GroupProject, UserDomain, GroupDomain, UserSystem, GroupSystem.
# target_id is a project or domain id, or "system".
assignment = Table(
    "assignment",
    metadata,
    Column("type", String(16), primary_key=True),
    Column("actor_id", Id(), primary_key=True),
    Column("target_id", Id(), primary_key=True),
    Column("role_id", Id(), ForeignKey("role.id", ondelete="CASCADE"), primary_key=True),
    Column("inherited", Boolean, primary_key=True, default=False),
    Index("ix_assignment_actor_id", "actor_id"),
    Index("ix_assignment_target_id", "target_id"),
)

credential = Table(
    "credential",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("user_id", Id(), nullable=False),
    Column("project_id", Id(), nullable=True),
    Column("type", String(255), nullable=False),
    Column("encrypted_blob", Text, nullable=False),
    Column("key_hash", String(64), nullable=False),
    Column("extra", JSON, nullable=False, default=dict),
    Index("ix_credential_user_id", "user_id"),
)

application_credential = Table(
    "application_credential",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("name", Name(255), nullable=False),
    Column("secret_hash", String(255), nullable=False),
    Column("description", Text, nullable=True),
    Column("user_id", Id(), nullable=False),
    Column("project_id", Id(), nullable=True),
    Column("system", String(64), nullable=True),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("unrestricted", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("user_id", "name"),
)

application_credential_role = Table(
    "application_credential_role",
    metadata,
    Column("application_credential_id", Id(),
           ForeignKey("application_credential.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", Id(), primary_key=True),
)

access_rule = Table(
    "access_rule",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("user_id", Id(), nullable=False),
    Column("service", String(64), nullable=False),
    Column("path", String(128), nullable=False),
    Column("method", String(16), nullable=False),
    UniqueConstraint("user_id", "service", "path", "method"),
)

application_credential_access_rule = Table(
    "application_credential_access_rule",
    metadata,
    Column("application_credential_id", Id(),
           ForeignKey("application_credential.id", ondelete="CASCADE"), primary_key=True),
    Column("access_rule_id", Id(), ForeignKey("access_rule.id", ondelete="CASCADE"),
           primary_key=True),
)

region = Table(
    "region",
    metadata,
    Column("id", Name(255), primary_key=True),
    Column("description", Text, nullable=False, default=""),
    Column("parent_region_id", Name(255), nullable=True),
    Column("extra", JSON, nullable=False, default=dict),
)

service = Table(
    "service",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("type", String(255), nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("extra", JSON, nullable=False, default=dict),
)

endpoint = Table(
    "endpoint",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("service_id", Id(), ForeignKey("service.id"), nullable=False),
    Column("region_id", Name(255), nullable=True),
    Column("interface", String(8), nullable=False),
    Column("url", Text, nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("extra", JSON, nullable=False, default=dict),
)

endpoint_group = Table(
    "endpoint_group",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("name", Name(255), nullable=False),
    Column("description", Text, nullable=True),
    Column("filters", JSON, nullable=False, default=dict),
)

project_endpoint = Table(
    "project_endpoint",
    metadata,
    Column("endpoint_id", Id(), primary_key=True),
    Column("project_id", Id(), primary_key=True),
)

project_endpoint_group = Table(
    "project_endpoint_group",
    metadata,
    Column("endpoint_group_id", Id(), ForeignKey("endpoint_group.id", ondelete="CASCADE"),
           primary_key=True),
    Column("project_id", Id(), primary_key=True),
)

# The legacy /v3/policies blobs and their OS-ENDPOINT-POLICY associations.
policy = Table(
    "policy",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("type", String(255), nullable=False),
    Column("blob", Text, nullable=False),
    Column("extra", JSON, nullable=False, default=dict),
)

policy_association = Table(
    "policy_association",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("policy_id", Id(), ForeignKey("policy.id", ondelete="CASCADE"), nullable=False),
    Column("endpoint_id", Id(), nullable=True),
    Column("service_id", Id(), nullable=True),
    Column("region_id", Name(255), nullable=True),
    UniqueConstraint("endpoint_id", "service_id", "region_id"),
)

registered_limit = Table(
    "registered_limit",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("service_id", Id(), nullable=False),
    Column("region_id", Name(255), nullable=True),
    Column("resource_name", String(255), nullable=False),
    Column("default_limit", Integer, nullable=False),
    Column("description", Text, nullable=True),
)

limit = Table(
    "limit",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("project_id", Id(), nullable=True),
    Column("domain_id", Id(), nullable=True),
    Column("service_id", Id(), nullable=False),
    Column("region_id", Name(255), nullable=True),
    Column("resource_name", String(255), nullable=False),
    Column("resource_limit", Integer, nullable=False),
    Column("description", Text, nullable=True),
)

# A token is valid unless a revocation event matches it and it was issued
# before the event; events expire with the longest token lifetime.
revocation_event = Table(
    "revocation_event",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("user_id", Id(), nullable=True),
    Column("project_id", Id(), nullable=True),
    Column("domain_id", Id(), nullable=True),
    Column("role_id", Id(), nullable=True),
    Column("trust_id", Id(), nullable=True),
    Column("app_cred_id", Id(), nullable=True),
    Column("audit_id", String(32), nullable=True),
    Column("audit_chain_id", String(32), nullable=True),
    Column("issued_before", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=False),
    Index("ix_revocation_event_revoked_at", "revoked_at"),
)

trust = Table(
    "trust",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("trustor_user_id", Id(), nullable=False),
    Column("trustee_user_id", Id(), nullable=False),
    Column("project_id", Id(), nullable=True),
    Column("impersonation", Boolean, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("remaining_uses", Integer, nullable=True),
    Column("redelegated_trust_id", Id(), nullable=True),
    Column("redelegation_count", Integer, nullable=True),
    Column("deleted_at", UTCDateTime, nullable=True),
    Column("extra", JSON, nullable=False, default=dict),
)

trust_role = Table(
    "trust_role",
    metadata,
    Column("trust_id", Id(), ForeignKey("trust.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", Id(), primary_key=True),
)

# Users and groups of LDAP-backed domains get stable public ids here.
id_mapping = Table(
    "id_mapping",
    metadata,
    Column("public_id", Id(), primary_key=True),
    Column("domain_id", Id(), nullable=False),
    Column("local_id", String(255), nullable=False),
    Column("entity_type", String(8), nullable=False),
    UniqueConstraint("domain_id", "local_id", "entity_type"),
)

domain_config = Table(
    "domain_config",
    metadata,
    Column("domain_id", Id(), ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    Column("group", String(255), primary_key=True),
    Column("option", String(255), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("sensitive", Boolean, nullable=False, default=False),
)

consumer = Table(
    "consumer",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("description", Text, nullable=True),
    Column("secret", String(64), nullable=False),
    Column("extra", JSON, nullable=False, default=dict),
)

# One row: a counter every transaction that revokes tokens or changes what a token
# grants bumps before it commits. API processes of a multi-process cloud read it
# before trusting their caches (``nubo.identity.service.changes``).
identity_change = Table(
    "identity_change",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("counter", Integer, nullable=False),
)
