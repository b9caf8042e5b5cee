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

# metadata definitions: admins write; anyone reads public namespaces, readers their own
METADEF_READ = ("role:admin or 'public':%(visibility)s"
                " or (role:reader and project_id:%(project_id)s)")
DEFAULTS.update({
    "metadef_default": METADEF_READ,
    "metadef_admin": ADMIN,
    **{f"get_metadef_{noun}": "rule:metadef_default" for noun in (
        "namespace", "namespaces", "object", "objects", "property", "properties", "tag",
        "tags", "resource_type")},
    "list_metadef_resource_types": "rule:metadef_default",
    **{rule: "rule:metadef_admin" for rule in (
        "add_metadef_namespace", "modify_metadef_namespace", "delete_metadef_namespace",
        "add_metadef_object", "modify_metadef_object", "delete_metadef_object",
        "add_metadef_property", "modify_metadef_property", "remove_metadef_property",
        "add_metadef_tag", "add_metadef_tags", "modify_metadef_tag", "delete_metadef_tag",
        "delete_metadef_tags", "add_metadef_resource_type_association",
        "remove_metadef_resource_type_association")},
})
