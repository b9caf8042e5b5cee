"""Default policy rules of the image API, named as Glance names them.

Glance's secure-RBAC defaults, adapted to nubo's roles (admin implies manager
implies member implies reader). Handlers pass Glance's flat image target:

* ``project_id`` / ``owner``: the image's owner (for ``add_image``, the owner the
  new image would get; for ``get_images``, the caller's project);
* ``visibility``: the image's visibility;
* ``member_id``: the caller's project when it is a member of the image, else "";
  for member rules, the member the request names.
"""

from __future__ import annotations

ADMIN = "role:admin"
OWNER_MEMBER = "role:admin or (role:member and project_id:%(project_id)s)"
OWNER_READER = "role:admin or (role:reader and project_id:%(project_id)s)"
VISIBLE_READER = (
    "role:admin or (role:reader and (project_id:%(project_id)s or project_id:%(member_id)s"
    " or 'community':%(visibility)s or 'public':%(visibility)s"
    " or 'shared':%(visibility)s))")
MEMBER_READER = ("role:admin or (role:reader and (project_id:%(project_id)s"
                 " or project_id:%(member_id)s))")

DEFAULTS: dict[str, str] = {
    "context_is_admin": "role:admin",
    "default": "role:admin",
    "add_image": OWNER_MEMBER,
    "get_image": VISIBLE_READER,
    "get_images": OWNER_READER,
    "modify_image": OWNER_MEMBER,
    "delete_image": OWNER_MEMBER,
    "publicize_image": ADMIN,
    "communitize_image": OWNER_MEMBER,
    "download_image": VISIBLE_READER,
    "upload_image": OWNER_MEMBER,
    "deactivate": OWNER_MEMBER,
    "reactivate": OWNER_MEMBER,
    "copy_image": ADMIN,
    "add_member": OWNER_MEMBER,
    "delete_member": OWNER_MEMBER,
    "get_member": MEMBER_READER,
    "get_members": MEMBER_READER,
    "modify_member": "role:admin or (role:member and project_id:%(member_id)s)",
    "get_task": ADMIN,
    "get_tasks": ADMIN,
    "add_task": ADMIN,
    "modify_task": ADMIN,
    "tasks_api_access": ADMIN,
    "stores_info_detail": ADMIN,
}
