"""Default policy rules of the compute API, named as Nova names them."""

from __future__ import annotations

DEFAULTS: dict[str, str] = {
    "context_is_admin": "role:admin",
    "admin_api": "is_admin:True or role:admin",
    "project_member_api": "role:member and project_id:%(project_id)s",
    "project_reader_api": "role:reader and project_id:%(project_id)s",
    "project_member_or_admin": "rule:project_member_api or rule:context_is_admin",
    "project_reader_or_admin": "rule:project_reader_api or rule:context_is_admin",
}
